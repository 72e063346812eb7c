// PostgreSQL through `pg`: one short-lived connection per call, always closed.
import pg from 'pg';
import type { TableRef } from '../../../domain/inventory/databases.js';
import { SqlConnectionError, type ConnectionResult, type ConnectionTarget, type SqlDriver } from '../../../domain/inventory/ports.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_QUERY_TIMEOUT_MS, describeFailure, readFingerprinted, settleWithin, timeoutMessage, withDeadline, type DriverOptions } from './common.js';
import { pgClient } from './connect-pg.js';
import type { DatabaseSchema } from '../../../domain/schema/model.js';
import type { SchemaReader } from '../../../domain/schema/ports.js';
import { postgresFingerprint, readPostgresSchema } from './schema-postgres.js';

/** The database to connect to when the data source names none. */
export const DEFAULT_DATABASE = 'postgres';

export class PostgresDriver implements SqlDriver, SchemaReader {
  private readonly connectMs: number;
  private readonly queryMs: number;

  constructor(options: DriverOptions = {}) {
    this.connectMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.queryMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  }

  private async withClient<T>(target: ConnectionTarget, database: string | undefined, work: (client: pg.Client) => Promise<T>): Promise<T> {
    const { client, destroy } = pgClient(target, database ?? target.database ?? DEFAULT_DATABASE, {
      connectMs: this.connectMs, statementMs: this.queryMs, queryMs: this.queryMs,
    });
    try {
      return await withDeadline(
        client.connect().then(() => work(client)),
        this.connectMs + this.queryMs + 1_000,
        destroy,
        timeoutMessage(target, this.connectMs + this.queryMs),
      );
    } catch (e) {
      if (e instanceof SqlConnectionError) throw e;
      let message = describeFailure(e, target, this.connectMs, this.queryMs);
      if (target.password === undefined && (e as { code?: string }).code === '28P01') message += ' (no password is set for this data source)';
      throw new SqlConnectionError(message);
    } finally {
      await settleWithin(client.end(), 1_000);
      destroy();
    }
  }

  async testConnection(target: ConnectionTarget): Promise<ConnectionResult> {
    try {
      const version = await this.withClient(target, undefined, async (c) => (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version);
      return { ok: true, engineVersion: version.split(' ')[0]! };
    } catch (e) {
      if (e instanceof SqlConnectionError) return { ok: false, error: e.message };
      throw e;
    }
  }

  listDatabases(target: ConnectionTarget): Promise<string[]> {
    return this.withClient(target, undefined, async (c) => {
      // Templates and databases that refuse connections cannot be managed.
      const out = await c.query<{ datname: string }>('SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname');
      return out.rows.map((r) => r.datname);
    });
  }

  listTables(target: ConnectionTarget, database: string): Promise<TableRef[]> {
    return this.withClient(target, database, async (c) => {
      // Ordinary and partitioned tables, not partitions; no system schemas.
      const out = await c.query<{ schema: string; name: string }>(
        `SELECT n.nspname AS schema, c.relname AS name
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
            AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'sluice_history') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
          ORDER BY 1, 2`,
      );
      return out.rows.map((r) => ({ schema: r.schema, name: r.name }));
    });
  }

  /** The whole schema, in one connection (functions/adapters/sql/schema-postgres.ts). */
  readSchema(target: ConnectionTarget, database: string): Promise<DatabaseSchema> {
    return this.withClient(target, database, (c) => readPostgresSchema(c));
  }

  /** The catalog fingerprint, and the whole schema unless the fingerprint is `known` (common.ts). */
  readSchemaFingerprinted(target: ConnectionTarget, database: string, known?: string): Promise<{ fingerprint?: string; model?: DatabaseSchema }> {
    return this.withClient(target, database, (c) => readFingerprinted(() => postgresFingerprint(c), () => readPostgresSchema(c), known));
  }
}
