// bench/catalog-cost: what issue 13's schema bookkeeping costs the target PostgreSQL server per
// schema update, through the task runner's executor (functions/adapters/sql/execute.ts), without
// DynamoDB or the pipeline around it. Each task is a new connection (a new backend, cold catalog
// caches), as every task of a batch is on PostgreSQL. Contenders, alternating within each round:
//   - without: the change alone (marker table, BEGIN, marker row, statement, COMMIT);
//   - with: the same with the drift check and the recorded schema: the catalog fingerprint in the
//     marker's message, compared with the baseline's (no full read: the baseline is the previous
//     task's after-schema, as in a chain of changes), and after the statement a fingerprint and
//     the full model, read in the transaction.
// The statements alternate ADD COLUMN and DROP COLUMN on one table, so each changes the schema.
// Measured per task: the PostgreSQL server's CPU (postmaster, its live children and the backends
// it reaped: /proc ticks of 10 ms; the server must be on this machine, and other users of it count),
// this process's CPU, and wall time; the bookkeeping's share is taken per round.
//
// --split: instead, where the bookkeeping's server CPU goes, on raw connections (no executor, no
// marker): the statement alone (BEGIN, ALTER, COMMIT); the same with the full model read after it,
// in the transaction; and the same with the fingerprint before and after as well (what the runner
// sends). The second minus the first is what reading the model at all costs a new backend; the
// third minus the second is what the drift check's two fingerprints add to that.
//
//   npx tsx bench/catalog-cost/run.ts [--tasks 40] [--rounds 5] [--tables 1] [--split]
//   PostgreSQL at 127.0.0.1:5432 (postgres, trust), or SLUICE_TEST_PG as the tests.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import pg from 'pg';
import { SqlChangeExecutor } from '../../functions/adapters/sql/execute.js';
import { normalize, schemaChecksum, type DatabaseSchema } from '../../domain/schema/model.js';
import type { ChangeRequest, SchemaCheck } from '../../domain/pipeline/task-run.js';
import type { ConnectionTarget } from '../../domain/inventory/ports.js';
import { parseServer } from '../../test/support/postgres.js';
import { postgresFingerprint, readPostgresSchema } from '../../functions/adapters/sql/schema-postgres.js';
import { postgresCpuMs, stat } from '../support/proc.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} takes a whole number`);
  return v;
};
const TASKS = arg('tasks', 40);
const ROUNDS = arg('rounds', 5);
const TABLES = arg('tables', 1);
const SPLIT = process.argv.includes('--split');
const DB = `sluice_cc_${randomBytes(3).toString('hex')}`;
// SLUICE_TEST_PG as the tests read it.
const target: ConnectionTarget = { engine: 'POSTGRES', ...parseServer(process.env.SLUICE_TEST_PG || 'postgres@127.0.0.1:5432', 'postgres') };
const client = (database: string) => new pg.Client({ host: target.host, port: target.port, user: target.username, password: target.password ?? '', database });

async function admin(sql: string, database = 'postgres'): Promise<void> {
  const c = client(database);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Sample { server: number; node: number; wall: number }

/** `tasks` runs of `work`, one after another: the server's CPU, this process's and wall time, per task. */
async function perTask(postmaster: number, tasks: number, work: () => Promise<void>): Promise<Sample> {
  const server0 = postgresCpuMs(postmaster);
  const node0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < tasks; i++) await work();
  const wall = performance.now() - t0;
  const node = process.cpuUsage(node0);
  return { server: (postgresCpuMs(postmaster) - server0) / tasks, node: (node.user + node.system) / 1000 / tasks, wall: wall / tasks };
}

async function main(): Promise<void> {
  await admin(`CREATE DATABASE ${DB}`);
  const stop = async () => admin(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  try {
    const tables = Array.from({ length: TABLES }, (_, i) => `CREATE TABLE t${i} (id int PRIMARY KEY, name text NOT NULL, created timestamptz DEFAULT now())`);
    await admin(['CREATE TABLE accounts (id int PRIMARY KEY, name text)', ...tables].join(';\n'), DB);
    const probe = client(DB);
    await probe.connect();
    const backend = (await probe.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const postmaster = stat(backend)?.ppid;
    await probe.end();
    if (postmaster === undefined) throw new Error('the PostgreSQL server is not on this machine (/proc has no backend of ours): this bench reads its CPU there');

    if (SPLIT) return await split(postmaster);
    const executor = new SqlChangeExecutor({ statementTimeoutMs: 60_000 });
    let n = 0;
    let baseline: SchemaCheck = { allowDrift: false };
    const apply = async (withSchema: boolean): Promise<void> => {
      n++;
      const statement = n % 2 ? 'ALTER TABLE accounts ADD COLUMN plan text' : 'ALTER TABLE accounts DROP COLUMN plan';
      const change: ChangeRequest = {
        taskKey: `bench/catalog-cost/${DB}/${n}`, attempt: 1, checksum: String(n), statement, database: DB, kind: 'DDL',
        ...(withSchema ? { schemaCheck: baseline } : {}),
      };
      const out = await executor.apply(target, change);
      if (out.status !== 'DONE') throw new Error(`task ${n}: ${out.error}`);
      if (withSchema) {
        const after = out.schema?.after;
        if (!after || !('engine' in after)) throw new Error(`task ${n}: no after-schema read`);
        // The runner records the after-schema's checksum and fingerprint: the next task's baseline.
        baseline = { expected: schemaChecksum(normalize(after as DatabaseSchema)), ...(out.schema?.fingerprint ? { fingerprint: out.schema.fingerprint } : {}), allowDrift: false };
      }
    };
    // Each contender's tasks must leave the table as they found it (an even count).
    const tasks = TASKS % 2 ? TASKS + 1 : TASKS;
    const measure = (withSchema: boolean): Promise<Sample> => perTask(postmaster, tasks, () => apply(withSchema));

    // Warm-up (untimed): this process's JIT, the server's shared caches, the first baseline.
    await measure(false);
    await measure(true);
    const load = [loadavg()[0]!];
    const rounds: { without: Sample; with: Sample }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const first = r % 2 === 0;
      const a = await measure(!first);
      const b = await measure(first);
      rounds.push(first ? { without: a, with: b } : { without: b, with: a });
      load.push(loadavg()[0]!);
      process.stderr.write(`round ${r + 1}: server CPU a task ${rounds.at(-1)!.without.server.toFixed(1)} ms without, ${rounds.at(-1)!.with.server.toFixed(1)} ms with\n`);
    }

    const row = (label: string, pick: (s: Sample) => number) => {
      const w = median(rounds.map((x) => pick(x.without)));
      const b = median(rounds.map((x) => pick(x.with)));
      const share = median(rounds.map((x) => (pick(x.with) - pick(x.without)) / pick(x.with)));
      return `| ${label} | ${w.toFixed(1)} | ${b.toFixed(1)} | ${(b - w).toFixed(1)} | ${(share * 100).toFixed(0)}% |`;
    };
    console.log(`PostgreSQL ${target.host}:${target.port}, ${tasks} schema updates a contender, ${ROUNDS} rounds, ${TABLES + 1} tables in the database; load average ${Math.min(...load).toFixed(2)}–${Math.max(...load).toFixed(2)}\n`);
    console.log('| per task (median of rounds), ms | without bookkeeping | with | added | share of "with" (median of per-round shares) |');
    console.log('|---|---:|---:|---:|---:|');
    console.log(row('PostgreSQL server CPU', (s) => s.server));
    console.log(row('this process CPU (executor, pg client, model normalized and checksummed)', (s) => s.node));
    console.log(row('wall', (s) => s.wall));
  } finally {
    await stop();
  }
}

/** --split (see the header): three contenders on raw connections, alternating within each round. */
async function split(postmaster: number): Promise<void> {
  type Kind = 'statement' | 'model' | 'fingerprints';
  const kinds: Kind[] = ['statement', 'model', 'fingerprints'];
  let n = 0;
  const task = async (kind: Kind): Promise<void> => {
    n++;
    const statement = n % 2 ? 'ALTER TABLE accounts ADD COLUMN plan text' : 'ALTER TABLE accounts DROP COLUMN plan';
    const c = client(DB);
    await c.connect();
    try {
      if (kind === 'fingerprints') await postgresFingerprint(c);
      await c.query('BEGIN');
      await c.query(statement);
      if (kind === 'fingerprints') await postgresFingerprint(c);
      if (kind !== 'statement') await readPostgresSchema(c);
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
  };
  const tasks = TASKS % 2 ? TASKS + 1 : TASKS;
  const measure = (kind: Kind): Promise<Sample> => perTask(postmaster, tasks, () => task(kind));
  for (const k of kinds) await measure(k); // warm-up, untimed
  const load = [loadavg()[0]!];
  const rounds: Record<Kind, Sample>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round = {} as Record<Kind, Sample>;
    for (let i = 0; i < kinds.length; i++) {
      const k = kinds[(i + r) % kinds.length]!;
      round[k] = await measure(k);
    }
    rounds.push(round);
    load.push(loadavg()[0]!);
    process.stderr.write(`round ${r + 1}: server CPU a task ${kinds.map((k) => `${k} ${round[k].server.toFixed(1)}`).join(', ')} ms\n`);
  }
  const m = (k: Kind, pick: (s: Sample) => number) => median(rounds.map((x) => pick(x[k])));
  const d = (a: Kind, b: Kind, pick: (s: Sample) => number) => median(rounds.map((x) => pick(x[a]) - pick(x[b])));
  console.log(`PostgreSQL ${target.host}:${target.port}, ${tasks} schema updates a contender, ${ROUNDS} rounds, ${TABLES + 1} tables in the database; load average ${Math.min(...load).toFixed(2)}–${Math.max(...load).toFixed(2)}\n`);
  console.log('| per task (median of rounds), ms | statement alone | + model after | + fingerprints before and after | model read (2nd − 1st) | fingerprints (3rd − 2nd) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [label, pick] of [['PostgreSQL server CPU', (s: Sample) => s.server], ['this process CPU', (s: Sample) => s.node], ['wall', (s: Sample) => s.wall]] as const) {
    console.log(`| ${label} | ${m('statement', pick).toFixed(1)} | ${m('model', pick).toFixed(1)} | ${m('fingerprints', pick).toFixed(1)} | ${d('model', 'statement', pick).toFixed(1)} | ${d('fingerprints', 'model', pick).toFixed(1)} |`);
  }
}

await main();
