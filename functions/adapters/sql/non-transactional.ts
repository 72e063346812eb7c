// PostgreSQL statements the server refuses inside a transaction block (CREATE INDEX CONCURRENTLY,
// VACUUM, CREATE DATABASE, ALTER TYPE … ADD VALUE before 12, …: domain/review/postgres.ts tells
// them from the parse tree). A script holding one runs in segments: each such statement alone,
// outside any transaction; the statements between them together, in one transaction each.
//
// Exactly once (RELIABILITY.md "Statements outside a transaction"):
// - a session advisory lock on the task key serializes two copies of the task on the target;
// - a transactional segment commits its own marker (`<task key>#<segment>`) with its statements;
// - a non-transactional statement cannot: its marker is written right after it succeeds. A runner
//   that dies in between leaves the statement done and unmarked. The retry (attempt > 1) asks the
//   catalog: CREATE INDEX CONCURRENTLY's index exists and is valid → done (an INVALID one, left by a
//   build that died, is dropped and built again); "already exists" / "does not exist" from CREATE
//   or DROP DATABASE, ADD VALUE and DROP INDEX CONCURRENTLY → done by the earlier attempt; VACUUM,
//   REINDEX and the like are repeatable and simply run again;
// - the task's own marker (`<task key>`) is written last: a task found marked runs nothing.
import type pg from 'pg';
import { split, type ScriptStatement } from '../../../domain/review/parse.js';
import type { ChangeOutcome, ChangeRequest } from '../../../domain/pipeline/task-run.js';
import { HISTORY, alreadyApplied, codeOf } from './marker.js';

/** Cheap pre-filter before parsing: a script with none of these words has no statement that needs to run outside a transaction. */
const MAYBE = /\b(concurrently|vacuum|database|tablespace|system|value|subscription|prepared|cluster|discard|reindex)\b/i;

/** Errors that, on a retry, mean the earlier attempt's statement took effect. */
const DONE_BEFORE = new Set(['42P04', '42710', '42704', '3D000', '42P07']);

export interface Segment {
  /** One non-transactional statement, or a run of transactional ones. */
  text: string;
  nonTransactional?: string;
  createsIndex?: ScriptStatement['createsIndex'];
}

/** The script's segments when it holds a statement that must run outside a transaction; undefined when it runs whole, as one transaction. */
export async function segmentsOf(c: pg.Client, statement: string): Promise<Segment[] | undefined> {
  if (!MAYBE.test(statement)) return undefined;
  const version = Math.floor(Number((await c.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]?.server_version_num ?? 0) / 10000);
  const { statements, errors } = await split('POSTGRES', statement, version || undefined);
  if (errors.length > 0 || !statements.some((s) => s.nonTransactional)) return undefined;
  const out: Segment[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length > 0) out.push({ text: run.join(';\n') });
    run = [];
  };
  for (const s of statements) {
    if (!s.nonTransactional) {
      run.push(s.text);
      continue;
    }
    flush();
    out.push({ text: s.text, nonTransactional: s.nonTransactional, ...(s.createsIndex ? { createsIndex: s.createsIndex } : {}) });
  }
  flush();
  return out;
}

const quote = (c: pg.Client, n: { schema?: string; name: string }) => `${n.schema ? `${c.escapeIdentifier(n.schema)}.` : ''}${c.escapeIdentifier(n.name)}`;

async function marked(c: pg.Client, key: string): Promise<number | undefined> {
  return (await c.query<{ attempt: number }>(`SELECT attempt FROM ${HISTORY}.applied WHERE task_key = $1`, [key])).rows[0]?.attempt;
}

async function mark(c: pg.Client, key: string, change: ChangeRequest): Promise<void> {
  await c.query(`INSERT INTO ${HISTORY}.applied (task_key, attempt, checksum) VALUES ($1, $2, $3) ON CONFLICT (task_key) DO NOTHING`, [key, change.attempt, change.checksum]);
}

/** CREATE INDEX CONCURRENTLY on a retry: true when an earlier attempt built the index (valid); an INVALID leftover is dropped. */
async function indexBuiltBefore(c: pg.Client, index: NonNullable<Segment['createsIndex']>): Promise<boolean> {
  const name = quote(c, index);
  const row = (await c.query<{ valid: boolean }>('SELECT i.indisvalid AS valid FROM pg_catalog.pg_index i WHERE i.indexrelid = to_regclass($1)', [name])).rows[0];
  if (!row) return false;
  if (row.valid) return true;
  await c.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  return false;
}

/**
 * Runs the segments in order, each once across attempts (markers per segment, the task's last).
 * `ensureHistory` makes the marker table (outside any transaction).
 */
export async function pgApplySegments(c: pg.Client, change: ChangeRequest, segments: Segment[], ensureHistory: (c: pg.Client) => Promise<void>): Promise<ChangeOutcome> {
  await ensureHistory(c);
  await c.query('SELECT pg_advisory_lock(hashtext($1))', [change.taskKey]);
  try {
    const prior = await marked(c, change.taskKey);
    if (prior !== undefined) return alreadyApplied(prior, `${HISTORY}.applied`);
    let affectedRows = 0;
    const skipped: number[] = [];
    for (const [i, seg] of segments.entries()) {
      const key = `${change.taskKey}#${i + 1}`;
      if ((await marked(c, key)) !== undefined) {
        skipped.push(i + 1);
        continue;
      }
      if (!seg.nonTransactional) {
        await c.query('BEGIN');
        try {
          await mark(c, key, change);
          const out = (await c.query(seg.text)) as pg.QueryResult | pg.QueryResult[];
          await c.query('COMMIT');
          affectedRows += (Array.isArray(out) ? out : [out]).reduce((n, r) => n + (r.command === 'SELECT' ? 0 : (r.rowCount ?? 0)), 0);
        } catch (e) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
        continue;
      }
      const retry = change.attempt > 1;
      if (retry && seg.createsIndex && (await indexBuiltBefore(c, seg.createsIndex))) {
        await mark(c, key, change);
        skipped.push(i + 1);
        continue;
      }
      try {
        await c.query(seg.text);
      } catch (e) {
        if (!(retry && DONE_BEFORE.has(codeOf(e)))) throw e;
        skipped.push(i + 1);
      }
      await mark(c, key, change);
    }
    await mark(c, change.taskKey, change);
    await c.query(`DELETE FROM ${HISTORY}.applied WHERE task_key LIKE $1`, [`${change.taskKey.replace(/[\\%_]/g, '\\$&')}#%`]);
    const outside = segments.filter((s) => s.nonTransactional).map((s) => s.nonTransactional).join(', ');
    return {
      status: 'DONE',
      affectedRows,
      alreadyApplied: false,
      detail: `applied in ${segments.length} step${segments.length === 1 ? '' : 's'} (${outside} outside a transaction)${skipped.length ? `; steps ${skipped.join(', ')} were done by an earlier attempt` : ''}`,
    };
  } finally {
    await c.query('SELECT pg_advisory_unlock(hashtext($1))', [change.taskKey]).catch(() => undefined);
  }
}
