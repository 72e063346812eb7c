// Module-scope wiring for the one function that connects to database servers: the secret store
// and the SQL drivers. Only functions/http/instances.ts and functions/workflow/run-task.ts import
// this module, so no other bundle carries the Secrets Manager client, pg or mysql2.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Deps, SecretStore, SqlDeps } from '../../domain/ports.js';
import { LocalFileSecretStore } from '../adapters/secrets/local-file.js';
import { SecretsManagerStore } from '../adapters/secrets/secrets-manager.js';
import { sqlDrivers } from '../adapters/sql/index.js';
import type { Logger } from './logger.js';
import { deps } from './wiring.js';

/** SLUICE_SECRETS_DIR: the local encrypted file (npm start); SECRETS_PREFIX: Secrets Manager (deployed). */
export function secretStoreFrom(env: NodeJS.ProcessEnv): SecretStore {
  if (env.SLUICE_SECRETS_DIR) return new LocalFileSecretStore(env.SLUICE_SECRETS_DIR);
  if (env.SECRETS_PREFIX) return new SecretsManagerStore(new SecretsManagerClient({}), env.SECRETS_PREFIX);
  const fail = async (): Promise<never> => {
    throw new Error('no secret store configured: set SLUICE_SECRETS_DIR (local) or SECRETS_PREFIX (AWS)');
  };
  return { put: fail, get: fail, delete: fail };
}

export const secrets = secretStoreFrom(process.env);
export const sql = sqlDrivers();

/** The repos plus what connecting needs, logging to the request's logger. */
export const sqlDeps = (log?: Logger): Deps & SqlDeps => ({ ...deps, secrets, sql, ...(log ? { log } : {}) });
