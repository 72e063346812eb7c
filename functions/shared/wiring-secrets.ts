// The secret store alone (no SQL drivers): what the GitOps functions need for the connector's
// webhook secret and access token, without pg and mysql2 in their bundles. The Secrets Manager
// client loads on the first secret read or write, not on a cold start: most requests touch none.
import type { SecretStore } from '../../domain/common/ports.js';
import { LocalFileSecretStore } from '../adapters/secrets/local-file.js';

/** One local store per folder in a process: each serializes its read-modify-writes of the one file. */
const localStores = new Map<string, LocalFileSecretStore>();

/** SLUICE_SECRETS_DIR: the local encrypted file (npm start); SECRETS_PREFIX: Secrets Manager (deployed). */
export function secretStoreFrom(env: NodeJS.ProcessEnv): SecretStore {
  const dir = env.SLUICE_SECRETS_DIR;
  if (dir) {
    if (!localStores.has(dir)) localStores.set(dir, new LocalFileSecretStore(dir));
    return localStores.get(dir)!;
  }
  const prefix = env.SECRETS_PREFIX;
  if (prefix) {
    let store: Promise<SecretStore> | undefined;
    const loaded = () =>
      (store ??= Promise.all([import('@aws-sdk/client-secrets-manager'), import('../adapters/secrets/secrets-manager.js')]).then(
        ([{ SecretsManagerClient }, { SecretsManagerStore }]) => new SecretsManagerStore(new SecretsManagerClient({}), prefix),
      ));
    return {
      put: async (name, value) => (await loaded()).put(name, value),
      get: async (name) => (await loaded()).get(name),
      delete: async (name) => (await loaded()).delete(name),
    };
  }
  const fail = async (): Promise<never> => {
    throw new Error('no secret store configured: set SLUICE_SECRETS_DIR (local) or SECRETS_PREFIX (AWS)');
  };
  return { put: fail, get: fail, delete: fail };
}
