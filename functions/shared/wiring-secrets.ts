// The secret store alone (no SQL drivers): what the GitOps functions need for the connector's
// webhook secret and access token, without pg and mysql2 in their bundles. Either store's code
// loads on its first read or write, not on a cold start: most requests touch none, and a deployed
// function never uses the local file store.
import type { SecretStore } from '../../domain/common/ports.js';

/** A store whose implementation is loaded (once) by its first call. */
const deferred = (load: () => Promise<SecretStore>): SecretStore => ({
  put: async (name, value) => (await load()).put(name, value),
  get: async (name) => (await load()).get(name),
  delete: async (name) => (await load()).delete(name),
});

/** One local store per folder in a process: each serializes its read-modify-writes of the one file. */
const localStores = new Map<string, Promise<SecretStore>>();
const localStore = (dir: string): Promise<SecretStore> => {
  let store = localStores.get(dir);
  if (!store) {
    store = import('../adapters/secrets/local-file.js').then(({ LocalFileSecretStore }) => new LocalFileSecretStore(dir));
    localStores.set(dir, store);
  }
  return store;
};

/** SLUICE_SECRETS_DIR: the local encrypted file (npm start); SECRETS_PREFIX: Secrets Manager (deployed). */
export function secretStoreFrom(env: NodeJS.ProcessEnv): SecretStore {
  const dir = env.SLUICE_SECRETS_DIR;
  if (dir) return deferred(() => localStore(dir));
  const prefix = env.SECRETS_PREFIX;
  if (prefix) {
    let store: Promise<SecretStore> | undefined;
    return deferred(() =>
      (store ??= Promise.all([import('@aws-sdk/client-secrets-manager'), import('../adapters/secrets/secrets-manager.js')]).then(
        ([{ SecretsManagerClient }, { SecretsManagerStore }]) => new SecretsManagerStore(new SecretsManagerClient({}), prefix),
      )),
    );
  }
  const fail = async (): Promise<never> => {
    throw new Error('no secret store configured: set SLUICE_SECRETS_DIR (local) or SECRETS_PREFIX (AWS)');
  };
  return { put: fail, get: fail, delete: fail };
}
