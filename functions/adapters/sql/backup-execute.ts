// A data update with prior backup (RELIABILITY.md "Prior backup"): before anything runs, the
// backup is planned from the script's parse tree and the target's catalog (domain/backup); a
// refusal is a FAILED outcome and nothing runs, not even the marker. Then, in ONE transaction with
// the exactly-once marker, statement by statement: the rows the statement will touch are copied
// (and locked) into a backup table, the statement runs, and the rows it changed must be exactly the
// rows copied, or everything rolls back. The backup, the change, the registry rows that describe
// the backup and the marker commit together or not at all.
// PostgreSQL makes the backup tables inside the transaction (its DDL is transactional); MySQL
// makes them just before it (its DDL commits) and drops them again if the transaction fails.
import type { Connection, ResultSetHeader } from 'mysql2/promise';
import type pg from 'pg';
import { backupTableName, type BackupStep, type BackupTableRecord, type PriorBackupRecord, type StatementPlan } from '../../../domain/backup/model.js';
import { planPriorBackup, refusalDetail } from '../../../domain/backup/plan.js';
import { backupRef, backupSchemaDdl, createBackupTable, insertKeysInto, qualify, registryInsert } from '../../../domain/backup/sql.js';
import type { ChangeOutcome, ChangeRequest } from '../../../domain/pipeline/task-run.js';
import { quoteIdent } from '../../../domain/inventory/instances.js';
import { mysqlBackupCatalog, mysqlQueryOn, pgBackupCatalog, pgQuery } from './backup-catalog.js';
import type { SqlChangeExecutor } from './execute.js';
import { CATALOG_RACE, Failed, HISTORY, RunnerCrash, alreadyApplied, codeOf } from './marker.js';

const REGISTRY_COLUMNS = 'backup_table, source, action, statement, seq, key_columns, restore_columns, overriding, row_count, created_at';

function plan(engine: 'POSTGRES' | 'MYSQL', change: ChangeRequest, catalog: Parameters<typeof planPriorBackup>[0]) {
  const bk = change.priorBackup!;
  return planPriorBackup(catalog, {
    engine, statement: change.statement, maxRows: bk.maxRows,
    name: (statement, seq, source) => backupTableName(engine, { project: bk.project, issue: bk.issue, task: bk.task, taskKey: change.taskKey, attempt: change.attempt, statement, seq, source }),
  });
}

const record = (step: BackupStep, statement: number, rows: number): BackupTableRecord => ({
  source: `${step.source.schema}.${step.source.name}`, backup: `sluice_backup.${step.backup}`, rows, action: step.action, statement, key: step.key, restore: step.restore,
  ...(step.overriding ? { overriding: true } : {}),
});

const registryValues = (change: ChangeRequest, r: BackupTableRecord, seq: number): unknown[] => [
  r.backup.slice('sluice_backup.'.length), change.taskKey, change.attempt, r.statement, seq, r.source, r.action, JSON.stringify(r.key), JSON.stringify(r.restore), r.overriding === true, r.rows,
];

/** The backup a committed attempt took, from the registry it committed with (a redelivery after a crash). */
function fromRegistry(rows: Record<string, unknown>[]): PriorBackupRecord | undefined {
  if (rows.length === 0) return undefined;
  const tables = rows.map((r): BackupTableRecord => ({
    source: String(r.source), backup: `sluice_backup.${String(r.backup_table)}`, rows: Number(r.row_count), action: String(r.action) as BackupTableRecord['action'],
    statement: Number(r.statement), key: JSON.parse(String(r.key_columns)) as string[], restore: JSON.parse(String(r.restore_columns)) as string[],
    ...(r.overriding === true || Number(r.overriding) === 1 ? { overriding: true } : {}),
  }));
  const created = rows.map((r) => new Date(r.created_at as string).toISOString()).sort()[0]!;
  return { tables, createTime: created };
}

/** What one change has backed up and changed so far; the backup may not outgrow the project's limit. */
class Tally {
  readonly tables: BackupTableRecord[] = [];
  affected = 0;
  private total = 0;
  constructor(private readonly maxRows: number) {}

  copied(rows: number): void {
    this.total += rows;
    if (this.total > this.maxRows) {
      throw new Failed(`prior-backup.unsupported: the backup reached ${this.total.toLocaleString('en-US')} rows, more than the project's priorBackupMaxRows (${this.maxRows.toLocaleString('en-US')}); nothing was changed`);
    }
  }

  outcome(): ChangeOutcome {
    const { tables } = this;
    const detail = tables.length === 0 ? 'applied (prior backup: no rows to back up)' : `applied; prior backup of ${tables.reduce((n, t) => n + t.rows, 0)} row(s) in ${tables.length} table(s)`;
    return { status: 'DONE', affectedRows: this.affected, alreadyApplied: false, detail, priorBackup: { tables, createTime: new Date().toISOString() } };
  }
}

/** The test seam before COMMIT: a throw there is the runner dying (nothing is rolled back by hand). */
async function beforeCommit(exec: SqlChangeExecutor): Promise<void> {
  try {
    await exec.hooks.beforeCommit?.();
  } catch (e) {
    // It keeps the name it died with (Lambda.Unknown, as a dead Lambda reports), so the pipeline sees what it would.
    throw Object.assign(new RunnerCrash((e as Error).message, { cause: e }), { name: (e as Error).name });
  }
}

function countCheck(plan: StatementPlan, changed: number, copied: number): void {
  if (changed === copied) return;
  throw new Failed(
    `statement ${plan.index + 1} (line ${plan.line}) changed ${changed} rows of ${plan.steps[0]!.source.schema}.${plan.steps[0]!.source.name} but ${copied} were backed up (rows that match it were written by someone else meanwhile); nothing was changed, run the task again`,
  );
}

// PostgreSQL ------------------------------------------------------------------------------------

async function pgRegistry(c: pg.Client, taskKey: string): Promise<PriorBackupRecord | undefined> {
  try {
    const { rows } = await c.query(`SELECT ${REGISTRY_COLUMNS} FROM sluice_backup.sluice_backups WHERE task_key = $1 ORDER BY statement, seq`, [taskKey]);
    return fromRegistry(rows as Record<string, unknown>[]);
  } catch (e) {
    if (codeOf(e) === '42P01' || codeOf(e) === '3F000') return undefined;
    throw e;
  }
}

async function pgAlready(c: pg.Client, change: ChangeRequest): Promise<ChangeOutcome | undefined> {
  let attempt: unknown;
  try {
    const { rows } = await c.query<{ attempt: number }>(`SELECT attempt FROM ${HISTORY}.applied WHERE task_key = $1`, [change.taskKey]);
    attempt = rows[0]?.attempt;
  } catch (e) {
    if (codeOf(e) !== '42P01' && codeOf(e) !== '3F000') throw e;
  }
  if (attempt === undefined) return undefined;
  const priorBackup = await pgRegistry(c, change.taskKey);
  return { ...(alreadyApplied(attempt, `${HISTORY}.applied`) as Extract<ChangeOutcome, { status: 'DONE' }>), ...(priorBackup ? { priorBackup } : {}) };
}

/** The backup schema and its registry, outside the transaction: two runners making them at once is not an error. */
async function pgBackupSchema(c: pg.Client): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await c.query(backupSchemaDdl('POSTGRES').join(';\n'));
      return;
    } catch (e) {
      if (attempt >= 3 || !CATALOG_RACE.includes(codeOf(e))) throw e;
    }
  }
}

export async function pgApplyWithBackup(exec: SqlChangeExecutor, c: pg.Client, change: ChangeRequest): Promise<ChangeOutcome> {
  const done = await pgAlready(c, change);
  if (done) return done;
  const planned = await plan('POSTGRES', change, pgBackupCatalog(pgQuery(c)));
  if (!planned.ok) throw new Failed(refusalDetail(planned));
  await pgBackupSchema(c);
  const { marker: marked } = await exec.pgBegin(c, change);
  try {
    if (marked.rowCount === 0) {
      await c.query('ROLLBACK');
      return (await pgAlready(c, change)) ?? alreadyApplied('?', `${HISTORY}.applied`);
    }
    const tally = new Tally(change.priorBackup!.maxRows);
    for (const st of planned.statements) {
      if (st.kind === 'READ') {
        await c.query(st.run);
        continue;
      }
      for (const step of st.steps) await c.query(createBackupTable('POSTGRES', step));
      if (st.kind === 'INSERT') {
        const inserted = (await c.query(st.run)).rowCount ?? 0;
        tally.affected += inserted;
        tally.tables.push(record(st.steps[0]!, st.index, inserted));
        tally.copied(inserted);
        continue;
      }
      const copied: number[] = [];
      for (const step of st.steps) {
        copied.push((await c.query(step.fill!)).rowCount ?? 0);
        tally.copied(copied[copied.length - 1]!);
      }
      const changed = (await c.query(st.run)).rowCount ?? 0;
      countCheck(st, changed, copied[0]!);
      tally.affected += changed;
      st.steps.forEach((step, i) => tally.tables.push(record(step, st.index, copied[i]!)));
    }
    for (const [seq, t] of tally.tables.entries()) await c.query(registryInsert('POSTGRES'), registryValues(change, t, seq));
    await beforeCommit(exec);
    await c.query('COMMIT');
    return tally.outcome();
  } catch (e) {
    // A crash leaves the transaction to the server (the connection is cut, it rolls back).
    if (!(e instanceof RunnerCrash)) await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

// MySQL and MariaDB -----------------------------------------------------------------------------

async function mysqlRegistry(exec: SqlChangeExecutor, c: Connection, taskKey: string): Promise<PriorBackupRecord | undefined> {
  try {
    const [rows] = await exec.query(c, `SELECT ${REGISTRY_COLUMNS} FROM sluice_backup.sluice_backups WHERE task_key = ? ORDER BY statement, seq`, [taskKey]);
    return fromRegistry(rows as Record<string, unknown>[]);
  } catch (e) {
    if (codeOf(e) === 'ER_NO_SUCH_TABLE' || codeOf(e) === 'ER_BAD_DB_ERROR') return undefined;
    throw e;
  }
}

/** The ids AUTO_INCREMENT gave one INSERT: consecutive (step auto_increment_increment) unless the lock mode interleaves them. */
async function autoIds(exec: SqlChangeExecutor, c: Connection, header: ResultSetHeader, plan: StatementPlan): Promise<number[]> {
  const count = header.affectedRows;
  if (count === 0) return [];
  const [[vars]] = (await exec.query(c, 'SELECT @@innodb_autoinc_lock_mode AS mode, @@auto_increment_increment AS inc')) as unknown as [Record<string, unknown>[]];
  if (count > 1 && Number(vars?.mode) === 2) {
    throw new Failed(
      `prior-backup.unsupported: statement ${plan.index + 1} (line ${plan.line}) inserted ${count} rows numbered by AUTO_INCREMENT, and with innodb_autoinc_lock_mode = 2 their ids need not be consecutive, so they cannot be told; nothing was changed (insert one row per statement, or give the ids)`,
    );
  }
  const inc = Number(vars?.inc ?? 1) || 1;
  return Array.from({ length: count }, (_, i) => Number(header.insertId) + i * inc);
}

export async function mysqlApplyWithBackup(exec: SqlChangeExecutor, c: Connection, change: ChangeRequest): Promise<ChangeOutcome> {
  if (!(await exec.mysqlHistory(c))) throw new Failed(`prior backup needs the ${HISTORY} and sluice_backup databases, and the ADMIN user cannot create them; grant it CREATE, or turn prior backup off for this issue`);
  const prior = await exec.mysqlMarker(c, change.taskKey);
  if (prior !== undefined) {
    const priorBackup = await mysqlRegistry(exec, c, change.taskKey);
    return { ...(alreadyApplied(prior, `${HISTORY}.applied`) as Extract<ChangeOutcome, { status: 'DONE' }>), ...(priorBackup ? { priorBackup } : {}) };
  }
  await exec.query(c, `USE ${quoteIdent('MYSQL', change.database)}`);
  await exec.mysqlTimeout(c);
  const planned = await plan('MYSQL', change, mysqlBackupCatalog(mysqlQueryOn(c, exec.statementMs + 5_000)));
  if (!planned.ok) throw new Failed(refusalDetail(planned));
  // DDL commits in MySQL: the tables are made first, empty, and dropped again if the change fails.
  for (const ddl of backupSchemaDdl('MYSQL')) await exec.query(c, ddl);
  const created: string[] = [];
  try {
    for (const st of planned.statements) {
      for (const step of st.steps) {
        await exec.query(c, createBackupTable('MYSQL', step));
        created.push(qualify('MYSQL', backupRef(step.backup)));
      }
    }
    await exec.query(c, 'BEGIN');
    const tally = new Tally(change.priorBackup!.maxRows);
    for (const st of planned.statements) {
      if (st.kind === 'READ') {
        await exec.query(c, st.run);
        continue;
      }
      const copied: number[] = [];
      for (const step of st.steps) {
        if (!step.fill) continue;
        const [out] = await exec.query(c, step.fill);
        copied.push((out as ResultSetHeader).affectedRows);
        tally.copied(copied[copied.length - 1]!);
      }
      const [out] = await exec.query(c, st.run);
      const header = out as ResultSetHeader;
      if (st.kind === 'INSERT' && st.insertKeys?.how === 'AUTO_INCREMENT') {
        const ids = await autoIds(exec, c, header, st);
        const step = st.steps[0]!;
        for (let i = 0; i < ids.length; i += 1000) {
          const chunk = ids.slice(i, i + 1000);
          await exec.query(c, insertKeysInto('MYSQL', step, `VALUES ${chunk.map(() => '(?)').join(', ')}`), chunk);
        }
        copied.push(ids.length);
        tally.copied(ids.length);
      }
      countCheck(st, header.affectedRows, copied[0] ?? 0);
      tally.affected += header.affectedRows;
      st.steps.forEach((step, i) => tally.tables.push(record(step, st.index, copied[i]!)));
    }
    for (const [seq, t] of tally.tables.entries()) await exec.query(c, registryInsert('MYSQL'), registryValues(change, t, seq));
    await exec.query(c, `INSERT INTO ${HISTORY}.applied (task_key, attempt, checksum) VALUES (?, ?, ?)`, [change.taskKey, change.attempt, change.checksum]);
    await beforeCommit(exec);
    await exec.query(c, 'COMMIT');
    return tally.outcome();
  } catch (e) {
    if (e instanceof RunnerCrash) throw e;
    await exec.query(c, 'ROLLBACK').catch(() => undefined);
    for (const t of created) await exec.query(c, `DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
    // Another copy committed first: its backup is the one that counts.
    if (codeOf(e) === 'ER_DUP_ENTRY' && (await exec.mysqlMarker(c, change.taskKey)) !== undefined) {
      const priorBackup = await mysqlRegistry(exec, c, change.taskKey);
      return { ...(alreadyApplied(await exec.mysqlMarker(c, change.taskKey), `${HISTORY}.applied`) as Extract<ChangeOutcome, { status: 'DONE' }>), ...(priorBackup ? { priorBackup } : {}) };
    }
    throw e;
  }
}
