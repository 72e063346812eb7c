// Module-scope wiring for the one function that connects to database servers: the secret store
// and the SQL drivers. Only functions/http/instances.ts and functions/workflow/run-task.ts import
// this module, so no other bundle carries the Secrets Manager client, pg or mysql2.
import type { Deps, SqlDeps } from '../../domain/inventory/ports.js';
import type { QueryRunner } from '../../domain/sheets/sql-editor.js';
import { sqlDrivers } from '../adapters/sql/index.js';
import type { Logger } from './logger.js';
import { deps } from './wiring.js';
import { secretStoreFrom } from './wiring-secrets.js';

export { secretStoreFrom };

export const secrets = secretStoreFrom(process.env);
export const sql = sqlDrivers();

/** The repos plus what connecting needs, logging to the request's logger. */
export const sqlDeps = (log?: Logger): Deps & SqlDeps => ({ ...deps, secrets, sql, ...(log ? { log } : {}) });
/** The SQL editor's read-only runner; it loads (with pg) on the first query, not on a cold start. */
export const queryRunner = (): QueryRunner => ({
  readOnlyQuery: async (target, statement, options) => (await import('../adapters/sql/query.js')).queryRunner().readOnlyQuery(target, statement, options),
});
