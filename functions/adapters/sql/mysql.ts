// MySQL and MariaDB through `mysql2`: one short-lived connection per call, always closed.
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { withMysqlConnection } from './connect-mysql.js';
import type { DatabaseSchema } from '../../../domain/schema/model.js';
import type { SchemaReader } from '../../../domain/schema/ports.js';
import { mysqlFingerprint, readMysqlSchema } from './schema-mysql.js';
import type { TableRef } from '../../../domain/inventory/databases.js';
import { SqlConnectionError, type ConnectionResult, type ConnectionTarget, type SqlDriver } from '../../../domain/inventory/ports.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_QUERY_TIMEOUT_MS, describeFailure, readFingerprinted, timeoutMessage, type DriverOptions } from './common.js';

/** `10.11.19-MariaDB-0+deb12u1` → `10.11.19-MariaDB`; `8.0.36` → `8.0.36`. */
export const shortVersion = (v: string): string => /^[\d.]+(?:-MariaDB)?/.exec(v)?.[0] ?? v;

export class MysqlDriver implements SqlDriver, SchemaReader {
  private readonly connectMs: number;
  private readonly queryMs: number;

  constructor(options: DriverOptions = {}) {
    this.connectMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.queryMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  }

  private async withConnection<T>(target: ConnectionTarget, work: (c: Connection) => Promise<T>): Promise<T> {
    try {
      return await withMysqlConnection(
        target,
        {
          connectMs: this.connectMs,
          deadlineMs: this.connectMs + this.queryMs + 1_000,
          timeoutMessage: timeoutMessage(target, this.connectMs + this.queryMs),
          options: target.database === undefined ? {} : { database: target.database },
        },
        work,
      );
    } catch (e) {
      if (e instanceof SqlConnectionError) throw e;
      throw new SqlConnectionError(describeFailure(e, target, this.connectMs, this.queryMs));
    }
  }

  private async rows<R>(c: Connection, sql: string, values: unknown[] = []): Promise<R[]> {
    const [rows] = await c.query<RowDataPacket[]>({ sql, values, timeout: this.queryMs });
    return rows as R[];
  }

  async testConnection(target: ConnectionTarget): Promise<ConnectionResult> {
    try {
      const [row] = await this.withConnection(target, (c) => this.rows<{ v: string }>(c, 'SELECT VERSION() AS v'));
      return { ok: true, engineVersion: shortVersion(row!.v) };
    } catch (e) {
      if (e instanceof SqlConnectionError) return { ok: false, error: e.message };
      throw e;
    }
  }

  async listDatabases(target: ConnectionTarget): Promise<string[]> {
    const rows = await this.withConnection(target, (c) => this.rows<{ name: string }>(c, 'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY 1'));
    return rows.map((r) => r.name);
  }

  /** MySQL has no schemas inside a database: each table's schema is "". */
  async listTables(target: ConnectionTarget, database: string): Promise<TableRef[]> {
    const rows = await this.withConnection(target, (c) =>
      this.rows<{ name: string }>(c, "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1", [database]),
    );
    return rows.map((r) => ({ schema: '', name: r.name }));
  }

  /** The whole schema, in one connection (functions/adapters/sql/schema-mysql.ts). */
  readSchema(target: ConnectionTarget, database: string): Promise<DatabaseSchema> {
    return this.withConnection(target, (c) => readMysqlSchema(c, database, this.queryMs));
  }

  /** The catalog fingerprint, and the whole schema unless the fingerprint is `known` (common.ts). */
  readSchemaFingerprinted(target: ConnectionTarget, database: string, known?: string): Promise<{ fingerprint?: string; model?: DatabaseSchema }> {
    return this.withConnection(target, (c) =>
      readFingerprinted(() => mysqlFingerprint(c, database, this.queryMs), () => readMysqlSchema(c, database, this.queryMs), known),
    );
  }
}
