// Runs a task's change on its target, exactly once where the engine allows it (RELIABILITY.md).
//
// PostgreSQL: a marker row in `sluice_history.applied` (in the target database) is inserted first
// and the statement runs after it, in the SAME transaction. The marker's primary key makes a second
// copy wait for the first and then find it: a committed change is never run again.
// MySQL/MariaDB: DDL commits implicitly, so the marker (in a `sluice_history` database) is checked
// before and written after the statement; the crash window between the two is written down.
// A schema update (change.schemaCheck) also reads the catalog on the same connection just before
// the statement (after the marker check, so a change an earlier attempt applied is never taken
// for drift; on PostgreSQL inside the change's transaction, in the marker's own message) and just
// after it: the catalog fingerprint first (one query), the full model only when the fingerprint
// does not show it is a schema already known (domain/pipeline/schema-check.ts).
import type { Connection, ResultSetHeader } from 'mysql2/promise';
import { pgClient } from './connect-pg.js';
import { MysqlSession, withMysqlConnection } from './connect-mysql.js';
import pg from 'pg';
import type { ChangeExecutor, ChangeOutcome, ChangeRequest, ChangeSession } from '../../../domain/pipeline/task-run.js';
import { checkBefore, readAfter, type CatalogReads, type SchemaBefore } from '../../../domain/pipeline/schema-check.js';
import { createDatabaseStatement, quoteIdent } from '../../../domain/inventory/instances.js';
import type { ConnectionTarget } from '../../../domain/inventory/ports.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS, describeFailure, scrub, settleWithin, withDeadline } from './common.js';
import { DEFAULT_DATABASE } from './postgres.js';
import { mysqlApplyWithBackup, pgApplyWithBackup } from './backup-execute.js';
import { CATALOG_RACE, Failed, HISTORY, RunnerCrash, alreadyApplied, codeOf, type Coded } from './marker.js';
import { pgApplySegments, segmentsOf } from './non-transactional.js';

export interface ExecuteOptions {
  connectTimeoutMs?: number;
  /** Each statement's timeout, server side where the engine has one and client side. Default 5 min. */
  statementTimeoutMs?: number;
  /** Where a test makes the runner die inside a change with prior backup (backup-execute.ts). */
  hooks?: ExecutorHooks;
}

export interface ExecutorHooks {
  /** After the backup tables are filled and the statements ran, before COMMIT. A throw is a crash: the connection is cut, nothing is rolled back by hand. */
  beforeCommit?(): Promise<void> | void;
}

export { DEFAULT_STATEMENT_TIMEOUT_MS };


const PG_HISTORY_DDL = [
  `CREATE SCHEMA IF NOT EXISTS ${HISTORY}`,
  `CREATE TABLE IF NOT EXISTS ${HISTORY}.applied (task_key text PRIMARY KEY, attempt int NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
];

/** The catalog readers, loaded on the first schema update and kept (an import() per task is not free). */
let pgReaderLoad: Promise<typeof import('./schema-postgres.js')> | undefined;
let mysqlReaderLoad: Promise<typeof import('./schema-mysql.js')> | undefined;
const pgReader = () => (pgReaderLoad ??= import('./schema-postgres.js'));
const mysqlReader = () => (mysqlReaderLoad ??= import('./schema-mysql.js'));

const MYSQL_HISTORY_DDL = [
  `CREATE DATABASE IF NOT EXISTS ${HISTORY}`,
  `CREATE TABLE IF NOT EXISTS ${HISTORY}.applied (task_key varchar(255) PRIMARY KEY, attempt int NOT NULL, checksum char(64) NOT NULL, applied_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB`,
];


export class SqlChangeExecutor implements ChangeExecutor {
  private readonly connectMs: number;
  readonly statementMs: number;
  readonly hooks: ExecutorHooks;

  /** `kept`: a batch's session (session()); without it every change has a connection of its own. */
  constructor(
    private readonly options: ExecuteOptions = {},
    private readonly kept?: MysqlSession,
  ) {
    this.connectMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.statementMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    this.hooks = options.hooks ?? {};
  }

  /**
   * For one batch: on MySQL/MariaDB its tasks on one instance share a connection (reset between
   * them: connect-mysql.ts MysqlSession), each task still marked in sluice_history.applied by its
   * own key; PostgreSQL connects per database, so there each task keeps its own connection.
   */
  session(): ChangeSession {
    const kept = new MysqlSession();
    return Object.assign(new SqlChangeExecutor(this.options, kept), { close: () => kept.close() });
  }

  apply(target: ConnectionTarget, change: ChangeRequest): Promise<ChangeOutcome> {
    // Data updates with prior backup: statement by statement, each after its backup (backup-execute.ts).
    if (change.priorBackup && change.kind === 'DML') {
      return target.engine === 'POSTGRES'
        ? this.pg(target, change.database, (c) => pgApplyWithBackup(this, c, change))
        : this.mysql(target, (c) => mysqlApplyWithBackup(this, c, change));
    }
    return target.engine === 'POSTGRES'
      ? this.pg(target, change.database, (c) => this.pgApply(c, change))
      : this.mysql(target, (c) => this.mysqlApply(c, change));
  }

  createDatabase(target: ConnectionTarget, change: ChangeRequest): Promise<ChangeOutcome> {
    return target.engine === 'POSTGRES'
      ? this.pg(target, target.database ?? DEFAULT_DATABASE, (c) => this.pgCreate(c, target, change))
      : this.mysql(target, (c) => this.mysqlCreate(c, change));
  }

  /** Turns whatever went wrong into a FAILED outcome with a message a DBA can act on. */
  private failure(e: unknown, target: ConnectionTarget): ChangeOutcome {
    if (e instanceof RunnerCrash) throw e;
    if (e instanceof Failed) return { status: 'FAILED', error: scrub(e.message, target.password) };
    if (codeOf(e) === '25001') {
      const raw = scrub(String((e as Coded).message), target.password);
      return {
        status: 'FAILED',
        error: `${raw} (Sluice runs such statements outside a transaction when the parser names them; this one it did not recognise: run it as a task of its own, or outside Sluice)`,
      };
    }
    return { status: 'FAILED', error: describeFailure(e, target, this.connectMs, this.statementMs) };
  }

  /**
   * The catalog readers load on the first schema update, not with the executor. `read`: a
   * fingerprint read already (sent with the marker), the answer to the first fingerprint asked.
   */
  private pgCatalog(c: pg.Client, read?: string): CatalogReads {
    const reader = pgReader;
    let first = read;
    return {
      fingerprint: async () => {
        const known = first;
        first = undefined;
        return known ?? (await reader()).postgresFingerprint(c);
      },
      model: async () => (await reader()).readPostgresSchema(c),
    };
  }

  private mysqlCatalog(c: Connection, database: string): CatalogReads {
    const reader = mysqlReader;
    const ms = this.statementMs + 5_000;
    return {
      fingerprint: async () => (await reader()).mysqlFingerprint(c, database, ms),
      model: async () => (await reader()).readMysqlSchema(c, database, ms),
    };
  }

  // PostgreSQL

  private async pg(target: ConnectionTarget, database: string, work: (c: pg.Client) => Promise<ChangeOutcome>): Promise<ChangeOutcome> {
    const { client, destroy } = pgClient(target, database, { connectMs: this.connectMs, statementMs: this.statementMs, queryMs: this.statementMs + 5_000 });
    try {
      return await withDeadline(
        client.connect().then(() => work(client)),
        this.connectMs + this.statementMs + 10_000,
        destroy,
        `timed out after ${Math.round((this.connectMs + this.statementMs) / 1000)} s talking to ${target.host}:${target.port}`,
      );
    } catch (e) {
      return this.failure(e, target);
    } finally {
      await settleWithin(client.end(), 1_000);
      destroy();
    }
  }

  /**
   * For DATABASE_CREATE, which runs outside any transaction; two runners making it at once is not
   * an error. Both statements go in one message (one round trip, one implicit transaction).
   */
  async pgHistory(c: pg.Client): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await c.query(PG_HISTORY_DDL.join(';\n'));
        return;
      } catch (e) {
        if (attempt >= 3 || !CATALOG_RACE.includes(codeOf(e))) throw e;
      }
    }
  }

  /**
   * One message opens the change: the marker table made if missing, BEGIN, the marker (our own
   * values, as literals), and `then` (queries of ours, in the transaction after the marker: a
   * schema update's catalog fingerprint). PostgreSQL runs the statements before BEGIN in the
   * transaction it opens, so on a fresh database the marker table commits with the first change:
   * one round trip and one commit. Two runners making the table at once collide on the catalog:
   * the loser rolls back and sends the message again.
   */
  async pgBegin(c: pg.Client, change: ChangeRequest, then?: string): Promise<{ marker: pg.QueryResult; then?: pg.QueryResult[] }> {
    if (!Number.isInteger(change.attempt)) throw new Failed(`attempt ${String(change.attempt)} is not an integer`);
    const message = [
      ...PG_HISTORY_DDL,
      'BEGIN',
      `INSERT INTO ${HISTORY}.applied (task_key, attempt, checksum) VALUES (${c.escapeLiteral(change.taskKey)}, ${change.attempt}, ${c.escapeLiteral(change.checksum)}) ON CONFLICT (task_key) DO NOTHING RETURNING task_key`,
      ...(then ? [then] : []),
    ].join(';\n');
    for (let attempt = 1; ; attempt++) {
      try {
        const out = (await c.query(message)) as unknown as pg.QueryResult[];
        const marker = PG_HISTORY_DDL.length + 1;
        return { marker: out[marker]!, ...(then ? { then: out.slice(marker + 1) } : {}) };
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        if (attempt >= 3 || !CATALOG_RACE.includes(codeOf(e))) throw e;
      }
    }
  }

  private async pgApply(c: pg.Client, change: ChangeRequest): Promise<ChangeOutcome> {
    // A statement PostgreSQL refuses in a transaction block (from the parse tree): in segments, each such one alone.
    const segments = await segmentsOf(c, change.statement);
    if (segments) return this.pgApplyInSegments(c, change, segments);
    // The marker first: a second copy of this task blocks here until the first ends, then
    // finds its marker (committed) or takes over (rolled back). A schema update's drift check
    // starts in the same message: the fingerprint, read after the marker.
    const reader = change.schemaCheck ? await pgReader() : undefined;
    const { marker: marked, then: fingerprinted } = await this.pgBegin(c, change, reader?.FINGERPRINT_SQL);
    try {
      if (marked.rowCount === 0) {
        await c.query('ROLLBACK');
        const prior = await c.query<{ attempt: number }>(`SELECT attempt FROM ${HISTORY}.applied WHERE task_key = $1`, [change.taskKey]);
        const done = alreadyApplied(prior.rows[0]?.attempt, `${HISTORY}.applied`);
        return change.schemaCheck ? { ...done, schema: await readAfter(this.pgCatalog(c)) } : done;
      }
      let before: SchemaBefore | undefined;
      if (change.schemaCheck) {
        const checked = await checkBefore(this.pgCatalog(c, fingerprinted && reader!.fingerprintOf(fingerprinted)), change.schemaCheck);
        if ('refused' in checked) {
          await c.query('ROLLBACK');
          return checked.refused;
        }
        before = checked.before;
      }
      const out = (await c.query(change.statement)) as pg.QueryResult | pg.QueryResult[];
      // Read inside the transaction: exactly what this change leaves, committed with it.
      const schema = change.schemaCheck ? await readAfter(this.pgCatalog(c), before) : undefined;
      await c.query('COMMIT');
      const results = Array.isArray(out) ? out : [out];
      const affectedRows = results.reduce((n, r) => n + (r.command === 'SELECT' ? 0 : (r.rowCount ?? 0)), 0);
      return { status: 'DONE', affectedRows, alreadyApplied: false, detail: 'applied', ...(schema ? { schema } : {}) };
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /**
   * Statements PostgreSQL refuses in a transaction, in segments (non-transactional.ts). The drift
   * check runs on a first attempt only: a later one may find segments an earlier attempt ran.
   */
  private async pgApplyInSegments(c: pg.Client, change: ChangeRequest, segments: Parameters<typeof pgApplySegments>[2]): Promise<ChangeOutcome> {
    let before: SchemaBefore | undefined;
    if (change.schemaCheck && change.attempt === 1) {
      const checked = await checkBefore(this.pgCatalog(c), change.schemaCheck);
      if ('refused' in checked) return checked.refused;
      before = checked.before;
    }
    const out = await pgApplySegments(c, change, segments, (client) => this.pgHistory(client));
    if (!change.schemaCheck || out.status !== 'DONE') return out;
    return { ...out, schema: await readAfter(this.pgCatalog(c), out.alreadyApplied ? undefined : before) };
  }

  /**
   * CREATE DATABASE cannot run in a transaction: the marker (in the connection's own database,
   * `postgres` by default) is written before it, and an existing database counts as done only
   * when this task's marker is there.
   */
  private async pgCreate(c: pg.Client, target: ConnectionTarget, change: ChangeRequest): Promise<ChangeOutcome> {
    await this.pgHistory(c);
    const where = `${HISTORY}.applied of database ${target.database ?? DEFAULT_DATABASE}`;
    const marked = await c.query(
      `INSERT INTO ${HISTORY}.applied (task_key, attempt, checksum) VALUES ($1, $2, $3) ON CONFLICT (task_key) DO NOTHING RETURNING task_key`,
      [change.taskKey, change.attempt, change.checksum],
    );
    const exists = (await c.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [change.database])).rowCount! > 0;
    const markedBefore = marked.rowCount === 0;
    const unmark = () => c.query(`DELETE FROM ${HISTORY}.applied WHERE task_key = $1`, [change.taskKey]);
    if (markedBefore && exists) {
      const prior = await c.query<{ attempt: number }>(`SELECT attempt FROM ${HISTORY}.applied WHERE task_key = $1`, [change.taskKey]);
      return alreadyApplied(prior.rows[0]?.attempt, where);
    }
    if (exists) {
      await unmark();
      throw new Failed(`database "${change.database}" already exists, and not by this task`);
    }
    try {
      await c.query(createDatabaseStatement('POSTGRES', change.database));
    } catch (e) {
      // 42P04: someone made it just now; done only if our marker was there before.
      if (markedBefore && codeOf(e) === '42P04') return alreadyApplied(change.attempt, where);
      if (!markedBefore) await unmark().catch(() => undefined);
      throw e;
    }
    return { status: 'DONE', alreadyApplied: false, detail: 'database created' };
  }

  // MySQL and MariaDB

  private async mysql(target: ConnectionTarget, work: (c: Connection) => Promise<ChangeOutcome>): Promise<ChangeOutcome> {
    const o = {
      connectMs: this.connectMs,
      deadlineMs: this.connectMs + this.statementMs + 10_000,
      timeoutMessage: `timed out after ${Math.round((this.connectMs + this.statementMs) / 1000)} s talking to ${target.host}:${target.port}`,
      // A change may hold several statements; it is the admin's own script.
      options: { multipleStatements: true },
    };
    try {
      return await (this.kept ? this.kept.run(target, o, work) : withMysqlConnection(target, o, work));
    } catch (e) {
      return this.failure(e, target);
    }
  }

  query(c: Connection, sql: string, values: unknown[] = []) {
    return c.query({ sql, values, timeout: this.statementMs + 5_000 });
  }

  /** True when the marker table is usable; an admin without the rights to make it runs without one. */
  async mysqlHistory(c: Connection): Promise<boolean> {
    try {
      for (const ddl of MYSQL_HISTORY_DDL) await this.query(c, ddl);
      return true;
    } catch {
      return false;
    }
  }

  async mysqlMarker(c: Connection, key: string): Promise<unknown> {
    const [rows] = await this.query(c, `SELECT attempt FROM ${HISTORY}.applied WHERE task_key = ?`, [key]);
    return (rows as { attempt: number }[])[0]?.attempt;
  }

  /** Server-side statement timeout: MariaDB's max_statement_time, else MySQL's max_execution_time (SELECT only). */
  async mysqlTimeout(c: Connection): Promise<void> {
    await this.query(c, 'SET SESSION max_statement_time = ?', [this.statementMs / 1000]).catch(() =>
      this.query(c, 'SET SESSION max_execution_time = ?', [this.statementMs]).catch(() => undefined),
    );
  }

  private async mysqlApply(c: Connection, change: ChangeRequest): Promise<ChangeOutcome> {
    const marker = await this.mysqlHistory(c);
    if (marker) {
      const prior = await this.mysqlMarker(c, change.taskKey);
      if (prior !== undefined) {
        const done = alreadyApplied(prior, `${HISTORY}.applied`);
        return change.schemaCheck ? { ...done, schema: await readAfter(this.mysqlCatalog(c, change.database)) } : done;
      }
    }
    let before: SchemaBefore | undefined;
    if (change.schemaCheck) {
      const checked = await checkBefore(this.mysqlCatalog(c, change.database), change.schemaCheck);
      if ('refused' in checked) return checked.refused;
      before = checked.before;
    }
    await this.query(c, `USE ${quoteIdent('MYSQL', change.database)}`);
    await this.mysqlTimeout(c);
    // DML and the marker commit together (InnoDB); DDL commits itself, then the marker follows.
    await this.query(c, 'BEGIN');
    try {
      const [out] = await this.query(c, change.statement);
      if (marker) await this.query(c, `INSERT INTO ${HISTORY}.applied (task_key, attempt, checksum) VALUES (?, ?, ?)`, [change.taskKey, change.attempt, change.checksum]);
      await this.query(c, 'COMMIT');
      const results = (Array.isArray(out) ? out : [out]) as unknown[];
      const affectedRows = results.reduce<number>((n, r) => n + (typeof (r as ResultSetHeader)?.affectedRows === 'number' ? (r as ResultSetHeader).affectedRows : 0), 0);
      // DDL committed itself: the catalog shows it now.
      const schema = change.schemaCheck ? await readAfter(this.mysqlCatalog(c, change.database), before) : undefined;
      return {
        status: 'DONE', affectedRows, alreadyApplied: false, detail: marker ? 'applied' : `applied (no ${HISTORY} marker: the admin user cannot create it)`,
        ...(schema ? { schema } : {}),
      };
    } catch (e) {
      await this.query(c, 'ROLLBACK').catch(() => undefined);
      // Another copy committed first: ours was rolled back (DML), or ran twice (DDL; see RELIABILITY.md).
      if (codeOf(e) === 'ER_DUP_ENTRY' && marker) return alreadyApplied(await this.mysqlMarker(c, change.taskKey), `${HISTORY}.applied`);
      throw e;
    }
  }

  private async mysqlCreate(c: Connection, change: ChangeRequest): Promise<ChangeOutcome> {
    const marker = await this.mysqlHistory(c);
    const [rows] = await this.query(c, 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [change.database]);
    const exists = (rows as unknown[]).length > 0;
    const prior = marker ? await this.mysqlMarker(c, change.taskKey) : undefined;
    if (exists && prior !== undefined) return alreadyApplied(prior, `${HISTORY}.applied`);
    if (exists) throw new Failed(`database \`${change.database}\` already exists, and not by this task`);
    await this.query(c, createDatabaseStatement('MYSQL', change.database));
    if (marker && prior === undefined) {
      await this.query(c, `INSERT INTO ${HISTORY}.applied (task_key, attempt, checksum) VALUES (?, ?, ?)`, [change.taskKey, change.attempt, change.checksum]);
    }
    return { status: 'DONE', alreadyApplied: false, detail: 'database created' };
  }
}
