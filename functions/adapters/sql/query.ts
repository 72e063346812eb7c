// The SQL editor's read-only queries. Writes are refused by the database server itself:
//  - PostgreSQL: the session starts with default_transaction_read_only=on (a startup option),
//    the statement runs inside BEGIN READ ONLY, and it is sent with the extended query protocol,
//    which takes exactly one statement (so `COMMIT; DELETE ...` is refused as a whole). PostgreSQL
//    refuses `SET TRANSACTION READ WRITE` inside a read-only transaction, and every write a
//    function attempts.
//  - MySQL/MariaDB: SET SESSION TRANSACTION READ ONLY, then START TRANSACTION READ ONLY, with
//    multipleStatements off (a second statement is a syntax error).
// The transaction is always rolled back and the connection closed. A statement timeout applies
// on the server (statement_timeout / max_statement_time) and on the client.
import pg from 'pg';
import type { FieldPacket } from 'mysql2';
import type { ConnectionTarget } from '../../../domain/inventory/ports.js';
import { SqlConnectionError } from '../../../domain/inventory/ports.js';
import { SqlStatementError, type QueryOptions, type QueryResult, type QueryRunner, type ResultColumn } from '../../../domain/sheets/sql-editor.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, describeFailure, scrub, settleWithin, timeoutMessage, withDeadline } from './common.js';
import { DEFAULT_DATABASE } from './postgres.js';
import { pgClient } from './connect-pg.js';

/** Values as JSON can carry them: dates as RFC 3339, bytes as `\x` hex, big integers as text. */
export function jsonValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonValue);
  return v;
}

const shape = (columns: ResultColumn[], all: unknown[][], limit: number, started: number): QueryResult => {
  const rows = all.slice(0, limit).map((r) => r.map(jsonValue));
  return { columns, rows, rowCount: rows.length, truncated: all.length > limit, elapsedMs: Date.now() - started };
};

interface PgError { code?: string; message?: string }

/** Errors the statement itself caused (SQLSTATE classes other than connection and auth). */
const isStatementError = (e: unknown): boolean => {
  const code = (e as PgError).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|28|3D)/.test(code);
};

async function postgresQuery(target: ConnectionTarget, statement: string, o: QueryOptions): Promise<QueryResult> {
  const connectMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const { client, destroy } = pgClient(target, target.database ?? DEFAULT_DATABASE, {
    connectMs,
    statementMs: o.timeoutMs,
    queryMs: o.timeoutMs + 2_000,
    applicationName: 'sluice-sql-editor',
    // Every transaction of this session is read-only unless it says otherwise (and ours does not).
    options: '-c default_transaction_read_only=on',
  });
  const started = Date.now();
  try {
    return await withDeadline(
      (async () => {
        await client.connect();
        await client.query('BEGIN READ ONLY');
        // Takes the transaction's snapshot: PostgreSQL then refuses SET TRANSACTION READ WRITE.
        await client.query('SELECT 1');
        // Extended protocol: one statement only, whatever the text holds.
        const out = await client.query<unknown[]>({ text: statement, rowMode: 'array', queryMode: 'extended' } as pg.QueryArrayConfig);
        const fields = out.fields ?? [];
        const oids = [...new Set(fields.map((f) => f.dataTypeID))];
        const types = new Map<number, string>();
        if (oids.length > 0) {
          const t = await client.query<{ oid: number; name: string }>('SELECT oid::int AS oid, format_type(oid, NULL) AS name FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])', [oids]);
          for (const r of t.rows) types.set(r.oid, r.name);
        }
        await client.query('ROLLBACK');
        const columns = fields.map((f) => ({ name: f.name, type: types.get(f.dataTypeID) ?? String(f.dataTypeID) }));
        return shape(columns, out.rows ?? [], o.limit, started);
      })(),
      connectMs + o.timeoutMs + 3_000,
      destroy,
      timeoutMessage(target, o.timeoutMs),
    );
  } catch (e) {
    if (e instanceof SqlConnectionError) throw e;
    const err = e as PgError;
    if (err.code === '57014' || /query read timeout/i.test(err.message ?? '')) {
      throw new SqlStatementError(`the statement ran longer than the ${o.timeoutMs} ms statement timeout and was canceled`, 'TIMEOUT');
    }
    if (isStatementError(e)) throw new SqlStatementError(scrub(err.message ?? String(e), target.password), 'STATEMENT', err.code);
    throw new SqlConnectionError(describeFailure(e, target, connectMs, o.timeoutMs));
  } finally {
    await settleWithin(client.end(), 1_000);
    destroy();
  }
}

interface MysqlError { code?: string; errno?: number; sqlState?: string; message?: string; fatal?: boolean }

async function mysqlQuery(target: ConnectionTarget, statement: string, o: QueryOptions): Promise<QueryResult> {
  const { loadMysql, withMysqlConnection } = await import('./connect-mysql.js');
  const { Types } = await loadMysql();
  const typeNames = new Map<number, string>(Object.entries(Types as unknown as Record<string, number>).map(([name, id]) => [id, name]));
  const connectMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const started = Date.now();
  try {
    return await withMysqlConnection(
      target,
      {
        connectMs,
        deadlineMs: connectMs + o.timeoutMs + 3_000,
        timeoutMessage: timeoutMessage(target, o.timeoutMs),
        options: {
          ...(target.database === undefined ? {} : { database: target.database }),
          dateStrings: true,
          supportBigNumbers: true,
          bigNumberStrings: true,
        },
      },
      async (opened) => {
        await opened.query('SET SESSION TRANSACTION READ ONLY');
        // Server-side statement timeout: MariaDB (seconds) or MySQL (ms, SELECT only); the other is unknown there.
        await opened.query(`SET SESSION max_statement_time = ${(o.timeoutMs / 1000).toFixed(3)}`).catch(() => undefined);
        await opened.query(`SET SESSION max_execution_time = ${Math.ceil(o.timeoutMs)}`).catch(() => undefined);
        await opened.query('START TRANSACTION READ ONLY');
        const [rows, fields] = await opened.query({ sql: statement, rowsAsArray: true, timeout: o.timeoutMs + 1_000 });
        await opened.query('ROLLBACK');
        const list = Array.isArray(fields) ? (fields as FieldPacket[]) : [];
        const columns = list.map((f) => ({ name: f.name, type: typeNames.get(f.columnType ?? f.type ?? -1) ?? String(f.columnType ?? f.type) }));
        const data = Array.isArray(rows) && list.length > 0 ? (rows as unknown[][]) : [];
        return shape(columns, data, o.limit, started);
      },
    );
  } catch (e) {
    if (e instanceof SqlConnectionError) throw e;
    const err = e as MysqlError;
    if (err.code === 'PROTOCOL_SEQUENCE_TIMEOUT' || err.errno === 1969 || err.errno === 3024) {
      throw new SqlStatementError(`the statement ran longer than the ${o.timeoutMs} ms statement timeout and was canceled`, 'TIMEOUT');
    }
    if (typeof err.errno === 'number' && !err.fatal && err.code !== 'ER_ACCESS_DENIED_ERROR') {
      throw new SqlStatementError(scrub(err.message ?? String(e), target.password), 'STATEMENT', err.code);
    }
    throw new SqlConnectionError(describeFailure(e, target, connectMs, o.timeoutMs));
  }
}

export const queryRunner = (): QueryRunner => ({
  readOnlyQuery: (target, statement, options) => (target.engine === 'POSTGRES' ? postgresQuery(target, statement, options) : mysqlQuery(target, statement, options)),
});
