// The secret store alone (no SQL drivers): what the GitOps functions need for the connector's
// webhook secret and access token, without pg and mysql2 in their bundles.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretStore } from '../../domain/common/ports.js';
import { LocalFileSecretStore } from '../adapters/secrets/local-file.js';
import { SecretsManagerStore } from '../adapters/secrets/secrets-manager.js';

/** One local store per folder in a process: each serializes its read-modify-writes of the one file. */
const localStores = new Map<string, LocalFileSecretStore>();

/** SLUICE_SECRETS_DIR: the local encrypted file (npm start); SECRETS_PREFIX: Secrets Manager (deployed). */
export function secretStoreFrom(env: NodeJS.ProcessEnv): SecretStore {
  const dir = env.SLUICE_SECRETS_DIR;
  if (dir) {
    if (!localStores.has(dir)) localStores.set(dir, new LocalFileSecretStore(dir));
    return localStores.get(dir)!;
  }
  if (env.SECRETS_PREFIX) return new SecretsManagerStore(new SecretsManagerClient({}), env.SECRETS_PREFIX);
  const fail = async (): Promise<never> => {
    throw new Error('no secret store configured: set SLUICE_SECRETS_DIR (local) or SECRETS_PREFIX (AWS)');
  };
  return { put: fail, get: fail, delete: fail };
}
