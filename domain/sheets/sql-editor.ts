// The SQL editor (API.md "Sheets"): `:run` on a sheet and `:query` on a database run one
// read-only query. The READ_ONLY data source is used when the instance has one; otherwise the
// ADMIN one, inside a read-only transaction. Writes are refused by the database server (see
// functions/adapters/sql/query.ts), never by looking at the text. Who may: sql.query in the
// database's project (sqlEditorUser, projectDeveloper, projectOwner) or a workspace admin/DBA.
import type { Access } from '../access/access.js';
import { parse } from '../common/values.js';
import { getDatabase } from '../inventory/databases.js';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, fieldError } from '../common/errors.js';
import { connectionTarget, type Instance } from '../inventory/instances.js';
import { databaseName } from '../common/names.js';
import { SqlConnectionError, type ConnectionTarget, type SqlDeps } from '../inventory/ports.js';
import { QueryRequest, RunSheetRequest, visibleSheet, type SheetDeps } from './sheets.js';

export const DEFAULT_QUERY_LIMIT = 1_000;
export const MAX_QUERY_LIMIT = 10_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

export interface ResultColumn {
  name: string;
  /** The engine's type name (PostgreSQL: format_type; MySQL: the protocol's type). */
  type: string;
}

export interface QueryResult {
  columns: ResultColumn[];
  /** Rows as arrays, in column order (names may repeat). */
  rows: unknown[][];
  rowCount: number;
  /** More rows than `limit` came back; the rest were dropped. */
  truncated: boolean;
  elapsedMs: number;
}

export interface QueryOptions {
  limit: number;
  timeoutMs: number;
  connectTimeoutMs?: number;
}

export interface QueryRunner {
  /** Runs one statement read-only; SqlStatementError for the statement's own failure. */
  readOnlyQuery(target: ConnectionTarget, statement: string, options: QueryOptions): Promise<QueryResult>;
}

/** The database refused or failed the statement (a write in a read-only transaction, a syntax error, the timeout). */
export class SqlStatementError extends Error {
  override readonly name: string = 'SqlStatementError';
  constructor(
    message: string,
    readonly kind: 'STATEMENT' | 'TIMEOUT',
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface QueryDeps extends SheetDeps, SqlDeps {
  queries: QueryRunner;
  /** SLUICE_QUERY_TIMEOUT_MS, else 30 s. */
  queryTimeoutMs?: number;
}

/** The timeout from the environment (SLUICE_QUERY_TIMEOUT_MS), else 30 s. */
export function queryTimeoutFrom(env: NodeJS.ProcessEnv): number {
  const raw = Number(env.SLUICE_QUERY_TIMEOUT_MS);
  return Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_QUERY_TIMEOUT_MS;
}

const DATABASE_REF = /^instances\/([a-z][a-z0-9-]{1,62})\/databases\/([^/]{1,128})$/;

/** READ_ONLY when the instance has that data source, else ADMIN (then the transaction is read-only). */
async function readOnlyTarget(deps: SqlDeps, instance: Instance, database: string): Promise<ConnectionTarget> {
  const type = instance.dataSources.some((d) => d.type === 'READ_ONLY') ? 'READ_ONLY' : 'ADMIN';
  return { ...(await connectionTarget(deps, instance, type)), database };
}

async function run(deps: QueryDeps, access: Access, instanceId: string, db: string, statement: string, limit: number | undefined) {
  // The database's project decides: 404 when the caller cannot see it, 403 without sql.query.
  const { database, instance } = await getDatabase(deps, access, instanceId, db);
  const project = await deps.projects.get(database.project);
  if (!project) throw new NotFoundError(databaseName(instanceId, db));
  access.require('sql.query', project, databaseName(instanceId, db));
  if (instance.state === 'DELETED') throw new FailedPreconditionError(`instances/${instanceId} is deleted`);
  if (database.syncState !== 'OK') throw new FailedPreconditionError(`${databaseName(instanceId, db)} was not found on its instance at the last sync`);
  try {
    const target = await readOnlyTarget(deps, instance, db);
    return await deps.queries.readOnlyQuery(target, statement, { limit: limit ?? DEFAULT_QUERY_LIMIT, timeoutMs: deps.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS });
  } catch (e) {
    if (e instanceof SqlStatementError) throw new InvalidArgumentError(`statement: ${e.message}`, [{ field: 'statement', description: e.message }]);
    if (e instanceof SqlConnectionError) throw new FailedPreconditionError(`cannot query ${databaseName(instanceId, db)}: ${e.message}`);
    throw e;
  }
}

export async function queryDatabase(deps: QueryDeps, access: Access, instanceId: string, db: string, body: unknown): Promise<QueryResult> {
  const input = parse(QueryRequest, body);
  return run(deps, access, instanceId, db, input.statement, input.limit);
}

/**
 * Runs the sheet's content on its database, or on `database` from the body. `onStatement` hears
 * the statement about to run (the audit log records it), once the caller may see the sheet.
 */
export async function runSheet(deps: QueryDeps, access: Access, project: string, id: number, body: unknown, onStatement?: (statement: string) => void): Promise<QueryResult> {
  const { sheet } = await visibleSheet(deps, access, project, id);
  const input = parse(RunSheetRequest, body ?? {});
  let target = sheet.database;
  if (input.database !== undefined) {
    const m = DATABASE_REF.exec(input.database);
    if (!m) throw fieldError('database', `${JSON.stringify(input.database)} is not a database name like instances/pg-prod/databases/shop`);
    target = { instance: m[1]!, database: m[2]! };
  }
  if (!target) throw fieldError('database', 'required: the sheet names no database');
  if (sheet.content.trim() === '') throw new FailedPreconditionError('the sheet is empty');
  onStatement?.(sheet.content);
  return run(deps, access, target.instance, target.database, sheet.content, input.limit);
}

