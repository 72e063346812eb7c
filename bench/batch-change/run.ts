// bench/batch-change: one ALTER TABLE over N databases (default 1,000) on the local PostgreSQL,
// end to end through Sluice's local runtime, against a plain `pg` script (the floor) and dbmate,
// in the same run. `npm run bench:batch-change -- [--n 1000] [--rounds 3] [--warmup 1] [--concurrency 10]
// [--plan 10000] [--plan-only] [--poll-ms 500] [--warm] [--profile] [--cpu-profile] [--no-dbmate] [--no-probe] [--json]
// [--schema-cost] [--lean]`. See BENCHMARKS.md.
//
//   - Setup (not timed): N databases `sluice_bb_<run>_<i>` with a table `accounts`, an instance
//     registered and synced over HTTP, the databases moved to a project, a database group.
//   - Each round runs every contender once, in a rotating order; before each, every database is
//     reset to fresh (no `plan` column, no sluice_history schema, no schema_migrations table; with
//     --warm both bookkeeping tables are there, without this change's rows), and
//     after each, the column is dropped again, which also checks the ALTER ran in all N.
//   - floor: a `pg` client per database (connect, ALTER, end), `concurrency` at a time.
//   - dbmate: its Go binary (npm package dbmate) `up --no-dump-schema` per database, `concurrency`
//     at a time.
//   - Sluice: POST an issue targeting the group, then GET it every `poll-ms` until every task is
//     DONE. The project's maxParallelTasks is set to `concurrency` where the API has it. Before
//     each Sluice round (not timed) every database is synced and its drift accepted, so its
//     tasks find the baseline they would in use (without it, the reset below is drift to Sluice:
//     each task then also reads the full schema before its statement).
//   - --schema-cost: a fourth contender, Sluice without schema bookkeeping (no drift check, no
//     catalog reads, no recorded schema), and the share (Sluice - that) / Sluice per round.
//   - Planning: the create-issue request for `plan` tasks, against databases registered for a
//     fake instance (items written with the repo code the sync uses; planning never connects).
//   - While each contender runs, the load average and the CPU of work outside the benchmark, every
//     2 s (sampleMachine): what tells a clean run from a disturbed one (BENCHMARKS.md, Method).
// Results go to .bench/batch-change/results.json. Exits 1 only when it cannot measure.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.LOG_LEVEL ??= 'silent';
process.env.AWS_REGION ??= 'local';

import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { pipelineExecutionName } from '../../domain/pipeline/orchestrator.js';
import { ensureTable, startDynamoLocal } from '../../infra/local/dynamo-local.js';
import { generateJwk, keysFromJwk } from '../../infra/local/jwt.js';
import { localPipeline } from '../../infra/local/pipeline.js';
import { startServer } from '../../infra/local/server.js';
import { waitForOperation } from '../../test/support/operations.js';
import { adminQueries, adminQuery, startPostgres, type SqlServer } from '../../test/support/postgres.js';
import { pids, postgresCpuMs, stat, TICK_MS } from '../support/proc.js';

const run = promisify(execFile);
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} takes a number`);
  return v;
};
/** The dbmate the issue's comparison uses (installed on demand: dbmateBinary). */
const DBMATE_VERSION = '2.36.0';
const N = opt('n', 1_000);
const ROUNDS = opt('rounds', 3);
/** Untimed rounds first: the JVM of DynamoDB Local (and V8) warm up, as in a runtime that has been up a while. */
const WARMUP = opt('warmup', 1);
const CONCURRENCY = opt('concurrency', 10);
const PLAN = opt('plan', 10_000);
/** Only the planning measurement: no contender rounds; `warmup` untimed plans first instead (DynamoDB Local's JIT). */
const PLAN_ONLY = flag('plan-only');
const POLL_MS = opt('poll-ms', 500);
const PROFILE = flag('profile');
/** A V8 CPU profile of this process during the timed Sluice rounds: .bench/batch-change/sluice.cpuprofile. */
const CPU_PROFILE = flag('cpu-profile');
/** The cost of one DynamoDB Local request of each shape the runner sends (--no-probe: skip). */
const PROBE = !flag('no-probe');
const DBMATE = !flag('no-dbmate');
/** Warm: each tool's bookkeeping table is there already (a database it changed before), empty of this change. */
const WARM = flag('warm');
/** Sluice against Sluice without schema bookkeeping, in the same rounds (issue 13, item 4). */
const SCHEMA_COST = flag('schema-cost');
/**
 * Every database copied from one template that has no information_schema and no comments on the
 * built-in objects, VACUUM FULL'ed: smaller than a default database (BENCHMARKS.md has both sizes),
 * so that N = 10,000 fits on this machine's disk. Nothing the floor or Sluice sends reads either.
 */
const LEAN = flag('lean');
const say = (line: string) => process.stderr.write(line + '\n');
/** Setup and reset work, not timed: a few connections at a time. */
const SETUP_CONCURRENCY = 8;

const ALTER = 'ALTER TABLE accounts ADD COLUMN plan text';
/** A row when the contender's column is there (the check after each contender). */
const PLAN_PRESENT = "SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = 'public.accounts'::regclass AND attname = 'plan' AND NOT attisdropped";
const RESET = WARM
  ? 'ALTER TABLE accounts DROP COLUMN IF EXISTS plan; ' +
    'CREATE TABLE IF NOT EXISTS public.schema_migrations (version varchar(128) PRIMARY KEY); TRUNCATE public.schema_migrations; ' +
    'CREATE SCHEMA IF NOT EXISTS sluice_history; ' +
    'CREATE TABLE IF NOT EXISTS sluice_history.applied (task_key text PRIMARY KEY, attempt int NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())'
  : 'ALTER TABLE accounts DROP COLUMN IF EXISTS plan; DROP SCHEMA IF EXISTS sluice_history CASCADE; DROP TABLE IF EXISTS public.schema_migrations';

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ---------------------------------------------------------------------------------------------
// Profile (--profile): where the task runner spends its time, by AsyncLocalStorage. The runner is
// one function invoked two ways: per batch (RunTask, `{issue, taskIds}`: most tasks) and per task
// (RunTaskAlone, `{issue, task}`: what a batch handed back, or a crashed batch's tasks). Each way
// gets its own tally; a batch's figures are divided by the tasks it claimed. DynamoDB requests are
// named by the store method that sent them (the claim, an outcome flush, ...), SQL messages by what
// they are to the runner (the marker message, catalog reads before or after the statement, ...).

type Tally = Record<string, { n: number; ms: number }>;
type Path = 'batch' | 'alone';
interface PathProfile {
  /** Runner invocations, and their wall time summed. */
  calls: number;
  ms: number;
  /** Tasks run: claimed by a batch, or one per RunTaskAlone. */
  tasks: number;
  dynamo: Tally;
  sql: Tally;
  /** secrets, connect, disconnect. */
  io: Tally;
}
interface Profile {
  batch: PathProfile;
  alone: PathProfile;
  /** Task ids batches handed back (`rest`) for RunTaskAlone. */
  handedBack: number;
  otherHandlers: Tally;
}
const newPath = (): PathProfile => ({ calls: 0, ms: 0, tasks: 0, dynamo: {}, sql: {}, io: {} });
const newProfile = (): Profile => ({ batch: newPath(), alone: newPath(), handedBack: 0, otherHandlers: {} });
let profile = newProfile();
/** Inside a runner invocation, and which way it was invoked. */
const inRunner = new AsyncLocalStorage<Path>();
/** The store or repo method a DynamoDB request comes from (the outermost one). */
const inMethod = new AsyncLocalStorage<string>();
const add = (rec: Tally, key: string, ms: number, n = 1) => {
  const r = (rec[key] ??= { n: 0, ms: 0 });
  r.n += n;
  r.ms += ms;
};
/** The runner's store methods by what they are; the first four are per batch, not per task. */
const METHOD_NAMES: Record<string, string> = {
  'DynamoTaskRunStore.getTasksAndIssue': 'batch read',
  'DynamoTaskRunStore.nextRunIds': 'run ids',
  'DynamoTaskRunStore.claimBatch': 'claim',
  'DynamoTaskRunStore.recordBatch': 'outcome flush',
  'DynamoTaskRunStore.getTaskAndIssue': 'task read',
  'DynamoTaskRunStore.nextRunId': 'run id',
  'DynamoTaskRunStore.claim': 'claim',
  'DynamoTaskRunStore.record': 'outcome',
  'DynamoInstanceRepo.get': 'instance',
  'DynamoSchemaRepo.head': 'schema head (drift check)',
  'DynamoProjectRepo.get': 'project',
};
const BATCH_LEVEL = new Set(['batch read', 'run ids', 'claim', 'outcome flush']);
/** Where each pg client is in its change: catalog reads before the statement or after it. */
const afterStatement = new WeakSet<object>();
/** What a message on a runner's connection is (execute.ts sends the marker, BEGIN and the marker row in one). */
function queryKind(client: object, sql: string): string {
  const s = sql.trim().replace(/\s+/g, ' ');
  if (s.startsWith('CREATE SCHEMA IF NOT EXISTS sluice_history') && /\bBEGIN\b/.test(s)) return 'marker table + BEGIN + marker row (one message)';
  if (s.startsWith('CREATE SCHEMA IF NOT EXISTS sluice_history')) return 'marker table (CREATE … IF NOT EXISTS)';
  if (s.startsWith('INSERT INTO sluice_history')) return 'INSERT marker';
  if (s.startsWith('SELECT attempt FROM sluice_history')) return 'marker read (already applied)';
  if (/^(BEGIN|COMMIT|ROLLBACK|SHOW)\b/i.test(s)) return s.split(/[ ;]/)[0]!.toUpperCase();
  // The schema reads of a schema update (the drift check's fingerprint, the after-schema).
  if (/\bpg_[a-z_]+|\binformation_schema\b/.test(s)) return `catalog read, ${afterStatement.has(client) ? 'after' : 'before'} the statement`;
  afterStatement.add(client);
  return `the statement (${s.split(' ').slice(0, 2).join(' ')})`;
}

/**
 * Wraps the methods of `target` (a class's prototype, or an object whose methods are arrow-function
 * fields) so the DynamoDB requests each sends carry its name, `${owner}.${method}`.
 */
function nameRequests(target: object, owner: string): void {
  const obj = target as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(obj)) {
    const fn = obj[key];
    if (key === 'constructor' || typeof fn !== 'function') continue;
    const name = `${owner}.${key}`;
    obj[key] = function (this: unknown, ...a: unknown[]) {
      const path = inRunner.getStore();
      if (!path || inMethod.getStore()) return (fn as (...x: unknown[]) => unknown).apply(this, a);
      const out = inMethod.run(name, () => (fn as (...x: unknown[]) => unknown).apply(this, a));
      // The tasks a batch claimed: what its per-task figures are divided by.
      if (key === 'claimBatch' && path === 'batch' && out instanceof Promise) {
        return out.then((claimed: boolean[]) => {
          profile.batch.tasks += claimed.filter(Boolean).length;
          return claimed;
        });
      }
      return out;
    };
  }
}

/** Times `fn` into the current runner path's `io` tally under `key`. */
async function timedIo<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const path = inRunner.getStore();
  const t = performance.now();
  try {
    return await fn();
  } finally {
    if (path) add(profile[path].io, key, performance.now() - t);
  }
}

async function instrument(): Promise<void> {
  const [{ store, deps }, { LocalFileSecretStore }, { DynamoTaskRunStore }, { DynamoSchemaRepo }, { DynamoDatabaseRepo }, { DynamoStore }] = await Promise.all([
    import('../../functions/shared/wiring.js'), import('../../functions/adapters/secrets/local-file.js'), import('../../functions/adapters/dynamo/task-runs.js'),
    import('../../functions/adapters/dynamo/schemas.js'), import('../../functions/adapters/dynamo/databases.js'), import('../../functions/adapters/dynamo/store.js'),
  ]);
  for (const cls of [DynamoTaskRunStore, DynamoSchemaRepo, DynamoDatabaseRepo, DynamoStore]) nameRequests(cls.prototype, cls.name);
  // The instance and project repos' methods are fields: wrapped on the objects the runner is wired with.
  nameRequests(deps.instances, 'DynamoInstanceRepo');
  nameRequests(deps.projects, 'DynamoProjectRepo');
  store.doc.middlewareStack.add(
    (next, context) => async (a) => {
      const path = inRunner.getStore();
      if (!path) return next(a);
      const t = performance.now();
      try {
        return await next(a);
      } finally {
        const method = inMethod.getStore();
        add(profile[path].dynamo, `${(method && METHOD_NAMES[method]) ?? method ?? 'other'}: ${(context.commandName ?? '?').replace(/Command$/, '')}`, performance.now() - t);
      }
    },
    { step: 'initialize', name: 'benchProfile' },
  );
  const secrets = LocalFileSecretStore.prototype as unknown as { get(name: string): Promise<string | undefined> };
  const get = secrets.get;
  secrets.get = function (this: unknown, name: string) {
    return timedIo('secrets', () => get.call(this, name));
  };
  const client = pg.Client.prototype as unknown as { connect(): Promise<void>; query(...a: unknown[]): Promise<unknown>; end(): Promise<void> };
  const { connect, query, end } = client;
  client.connect = function (this: unknown) {
    return timedIo('connect', () => connect.call(this));
  };
  client.query = function (this: object, ...a: unknown[]) {
    const out = query.apply(this, a);
    const path = inRunner.getStore();
    if (!path || !(out instanceof Promise)) return out;
    const t = performance.now();
    const kind = queryKind(this, typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string })?.text ?? '?'));
    return out.finally(() => add(profile[path].sql, kind, performance.now() - t));
  };
  client.end = function (this: unknown) {
    return timedIo('disconnect', () => end.call(this));
  };
}

/** Wraps the local pipeline's handlers: the runner's invocations by way (batch or alone), the others timed by state. */
function profileHandlers(pipeline: unknown): void {
  const handlers = (pipeline as { handlers: Record<string, (e: unknown) => unknown> }).handlers;
  const resources = (pipeline as { resources: { state: string; fn: string }[] }).resources;
  const states = new Map<string, string[]>();
  for (const r of resources) states.set(r.fn, [...(states.get(r.fn) ?? []), r.state]);
  for (const [fn, h] of Object.entries(handlers)) {
    const names = states.get(fn) ?? [fn];
    const runner = names.includes('RunTask');
    handlers[fn] = (e: unknown) => {
      const t = performance.now();
      if (!runner) return Promise.resolve(h(e)).finally(() => add(profile.otherHandlers, names.join('/'), performance.now() - t));
      const path: Path = typeof e === 'object' && e !== null && 'taskIds' in e ? 'batch' : 'alone';
      return Promise.resolve(inRunner.run(path, () => h(e))).then((out) => {
        const p = profile[path];
        p.calls += 1;
        p.ms += performance.now() - t;
        if (path === 'alone') p.tasks += 1;
        else profile.handedBack += ((out as { rest?: unknown[] } | undefined)?.rest ?? []).length;
        return out;
      });
    };
  }
}

/** The profile of one round as text: per task inside batches, per batch, and per RunTaskAlone task. */
function profileText(round: number, p: Profile): string[] {
  const f = (n: number, d = 1) => n.toFixed(d);
  const sum = (t: Tally) => Object.values(t).reduce((a, v) => ({ n: a.n + v.n, ms: a.ms + v.ms }), { n: 0, ms: 0 });
  const parts = (t: Tally, per: number, keep: (k: string) => boolean = () => true) =>
    Object.entries(t).filter(([k]) => keep(k)).sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => `${k} ${f(v.n / per, 2)}× ${f(v.ms / per)} ms`).join(', ') || 'none';
  const lines = [
    '',
    `Profile, round ${round}: ${p.batch.tasks + p.alone.tasks} tasks run, ${p.batch.tasks} inside ${p.batch.calls} batches (RunTask), ${p.alone.tasks} alone (RunTaskAlone); batches handed back ${p.handedBack} task ids.`,
    '  Wall time summed over calls (queueing included), so the parts add up per task, not to the run\'s wall time.',
  ];
  for (const path of ['batch', 'alone'] as const) {
    const x = p[path];
    if (x.tasks === 0 && x.calls === 0) continue;
    if (x.tasks === 0) {
      lines.push(`  ${x.calls} batches claimed no task; per batch: ${parts(x.dynamo, x.calls)}`);
      continue;
    }
    const per = Math.max(1, x.tasks);
    const dyn = sum(x.dynamo);
    const sql = sum(x.sql);
    const io = (k: string) => x.io[k] ?? { n: 0, ms: 0 };
    lines.push(
      path === 'batch'
        ? `  Inside batches: ${f(x.ms / Math.max(1, x.calls) / 1000, 2)} s a batch of ${f(x.tasks / Math.max(1, x.calls))} tasks, ${f(x.ms / per, 0)} ms a task. Per task:`
        : `  Alone (RunTaskAlone): ${f(x.ms / per, 0)} ms a task. Per task:`,
      `    DynamoDB ${f(dyn.ms / per)} ms in ${f(dyn.n / per, 2)} requests: ${parts(x.dynamo, per)}`,
      `    secrets ${f(io('secrets').ms / per)} ms (${f(io('secrets').n / per, 2)}×); connect ${f(io('connect').ms / per)} ms (${f(io('connect').n / per, 2)}×); disconnect ${f(io('disconnect').ms / per)} ms (${f(io('disconnect').n / per, 2)}×)`,
      `    SQL ${f(sql.ms / per)} ms in ${f(sql.n / per, 2)} messages: ${parts(x.sql, per)}`,
    );
    if (path === 'batch') {
      const level = (k: string) => BATCH_LEVEL.has(k.slice(0, k.indexOf(':')));
      lines.push(`    per batch (requests shared by its tasks): ${parts(x.dynamo, Math.max(1, x.calls), level)}`);
    }
  }
  lines.push(`  other handlers: ${Object.entries(p.otherHandlers).map(([k, v]) => `${k} ${v.n}× ${f(v.ms / v.n, 0)} ms`).join(', ')}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// CPU by process (Linux /proc): this process (Sluice's whole local runtime, or the floor script),
// its exited children (dbmate), DynamoDB Local's JVM, and the PostgreSQL server (its postmaster,
// live children, and the backends it reaped). Ticks of 10 ms.

interface Cpu {
  node: number;
  children: number;
  dynamo: number;
  postgres: number;
}
function findJava(port: number): number | undefined {
  for (const pid of pids()) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('java') && cmd.includes('-port') && cmd[cmd.indexOf('-port') + 1] === String(port)) return pid;
    } catch {
      // gone
    }
  }
  return undefined;
}
function cpuOf(javaPid: number | undefined, postmaster: number | undefined): Cpu {
  const self = stat('self')!;
  return { node: self.own, children: self.reaped, dynamo: javaPid ? (stat(javaPid)?.own ?? 0) : 0, postgres: postmaster !== undefined ? postgresCpuMs(postmaster) : 0 };
}
const cpuDiff = (a: Cpu, b: Cpu): Cpu => ({ node: b.node - a.node, children: b.children - a.children, dynamo: b.dynamo - a.dynamo, postgres: b.postgres - a.postgres });

// ---------------------------------------------------------------------------------------------
// The machine while a contender runs (Linux /proc, every SAMPLE_MS): the load average, and the CPU
// of processes that are not the benchmark's. The benchmark alone keeps two cores busy (DynamoDB
// Local, PostgreSQL, ten workers), so its load average cannot tell a clean run from one disturbed by
// other work; the outside CPU can. Outside = the machine's busy time (/proc/stat: user, nice, system,
// irq, softirq) minus the CPU of the benchmark's process trees: this process and its descendants
// (dbmate, an embedded PostgreSQL), DynamoDB Local's JVM, and the PostgreSQL server (postmaster and
// backends), each with what it reaped. Other users of a shared PostgreSQL count as the benchmark's
// (their backends are the same server's); kernel threads and interrupts count as outside, including
// the part the benchmark's own sockets cause.

const SAMPLE_MS = 2_000;
interface Machine {
  /** The 1-minute load average at each sample, the contender's start and end included. */
  load: number[];
  /** Processes outside the benchmark, in cores busy (CPU ms per wall ms): over the whole contender, and the most over one sample interval. */
  outsideCores: number;
  outsideCoresMax: number;
  /** The benchmark's own processes, in cores busy, over the whole contender. */
  benchCores: number;
}

/** The machine's busy CPU ms since boot (every core). */
function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').slice(0, 200).split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) * TICK_MS;
}

/** CPU ms of the process trees under `roots` (each process's own time and what it reaped). */
function treeCpuMs(roots: readonly number[]): number {
  const procs = new Map<number, { ppid: number; own: number; reaped: number }>();
  for (const pid of pids()) {
    const s = stat(pid);
    if (s) procs.set(pid, s);
  }
  const inTree = new Map<number, boolean>(roots.map((r) => [r, true]));
  const member = (pid: number): boolean => {
    const known = inTree.get(pid);
    if (known !== undefined) return known;
    inTree.set(pid, false); // a cycle guard while the parent is looked up
    const ppid = procs.get(pid)?.ppid;
    const is = ppid !== undefined && ppid > 1 && member(ppid);
    inTree.set(pid, is);
    return is;
  };
  let ms = 0;
  for (const [pid, s] of procs) if (member(pid)) ms += s.own + s.reaped;
  return ms;
}

const loadAverage = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** Samples the machine from now until `stop`. */
function sampleMachine(roots: readonly number[]): { stop(): Machine } {
  const snap = () => ({ t: performance.now(), busy: machineBusyMs(), bench: treeCpuMs(roots), load: loadAverage() });
  const samples = [snap()];
  const timer = setInterval(() => samples.push(snap()), SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      samples.push(snap());
      const outside = (a: (typeof samples)[number], b: (typeof samples)[number]) => Math.max(0, b.busy - a.busy - (b.bench - a.bench)) / (b.t - a.t);
      const first = samples[0]!;
      const last = samples[samples.length - 1]!;
      // Intervals of at least half a period: the last one may be a few ms, too short to mean anything.
      const steps = samples.slice(1).map((b, i) => [samples[i]!, b] as const).filter(([a, b]) => b.t - a.t >= SAMPLE_MS / 2);
      return {
        load: samples.map((s) => s.load),
        outsideCores: outside(first, last),
        // A contender shorter than one interval: its whole run is its one interval.
        outsideCoresMax: steps.length > 0 ? Math.max(...steps.map(([a, b]) => outside(a, b))) : outside(first, last),
        benchCores: (last.bench - first.bench) / (last.t - first.t),
      };
    },
  };
}

const machineLine = (m: Machine): string =>
  `load ${Math.min(...m.load).toFixed(1)}–${Math.max(...m.load).toFixed(1)}, outside CPU ${m.outsideCores.toFixed(2)} cores busy (max ${m.outsideCoresMax.toFixed(2)} over ${SAMPLE_MS / 1000} s), benchmark ${m.benchCores.toFixed(2)}`;

// ---------------------------------------------------------------------------------------------
// What one DynamoDB Local request of each shape the runner sends costs, warm, 10 at a time: wall,
// DynamoDB Local's CPU and this process's CPU (the SDK), per request. On a table of its own.

interface RequestCost {
  shape: string;
  wallMs: number;
  dynamoCpuMs: number;
  nodeCpuMs: number;
}

async function probeDynamo(endpoint: string, javaPid: number | undefined): Promise<RequestCost[]> {
  const [{ BatchGetCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand }, { createStore }] = await Promise.all([
    import('@aws-sdk/lib-dynamodb'),
    import('../../functions/adapters/dynamo/client.js'),
  ]);
  const table = `sluice-probe-${randomBytes(3).toString('hex')}`;
  await ensureTable(endpoint, table);
  const { doc } = createStore({ DYNAMODB_ENDPOINT: endpoint, TABLE_NAME: table, AWS_REGION: 'local' });
  const key = (i: number) => ({ pk: `P#${i % 50}`, sk: `S#${String(i % 500).padStart(4, '0')}` });
  await eachLimit(Array.from({ length: 500 }, (_, i) => i), 10, async (i) => void (await doc.send(new PutCommand({ TableName: table, Item: { ...key(i), v: 0, body: 'x'.repeat(400) } }))));
  const add = (i: number) => ({ Update: { TableName: table, Key: key(i), UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': 1 } } });
  const shapes: [string, (i: number) => Promise<unknown>][] = [
    ['GetItem (consistent)', (i) => doc.send(new GetCommand({ TableName: table, Key: key(i), ConsistentRead: true }))],
    ['BatchGetItem, 2 keys', (i) => doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [key(i), key(i + 1)], ConsistentRead: true } } }))],
    ['UpdateItem (ADD, returns it)', (i) => doc.send(new UpdateCommand({ ...add(i).Update, ReturnValues: 'UPDATED_NEW' }))],
    ['PutItem (conditional)', (i) => doc.send(new PutCommand({ TableName: table, Item: { pk: 'Q', sk: `${randomBytes(6).toString('hex')}${i}`, body: 'x'.repeat(400) }, ConditionExpression: 'attribute_not_exists(pk)' }))],
    ['TransactWriteItems, 3 items', (i) => doc.send(new TransactWriteCommand({ TransactItems: [add(i * 4), add(i * 4 + 1), add(i * 4 + 2)] }))],
    ['TransactWriteItems, 4 items', (i) => doc.send(new TransactWriteCommand({ TransactItems: [add(i * 4), add(i * 4 + 1), add(i * 4 + 2), add(i * 4 + 3)] }))],
  ];
  const out: RequestCost[] = [];
  const n = 1_000;
  for (const warm of [true, false]) {
    for (const [shape, send] of shapes) {
      const before = cpuOf(javaPid, undefined);
      const t = performance.now();
      await eachLimit(Array.from({ length: n }, (_, i) => i), 10, async (i) => void (await send(i)));
      const wall = performance.now() - t;
      const d = cpuDiff(before, cpuOf(javaPid, undefined));
      if (!warm) out.push({ shape, wallMs: wall / n, dynamoCpuMs: d.dynamo / n, nodeCpuMs: d.node / n });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

interface Result {
  ms: number;
  extra?: Record<string, number>;
  /** CPU ms spent during the run, by process. */
  cpu?: Cpu;
  /** The load average and the CPU of other work while it ran. */
  machine?: Machine;
}

interface Contender {
  name: 'floor' | 'dbmate' | 'sluice' | 'sluice-no-schema';
  run(): Promise<Result>;
}

/**
 * Setup's queries: a connect that times out is tried again. While hundreds of databases are made
 * (each CREATE DATABASE forces a checkpoint), a connect can wait past the helpers' 2 s; nothing
 * ran on a connection that never opened, so trying again is safe.
 */
async function setupQuery(s: SqlServer, sql: string, database?: string): Promise<void> {
  await retried(() => adminQuery(s, sql, database));
}

/** `work`, tried again when its connect timed out (see setupQuery). */
async function retried<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      if (attempt >= 5 || !/timeout expired/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

async function main(): Promise<void> {
  const dynamo = await startDynamoLocal();
  const pgServers = await startPostgres(process.env, { passwords: false });
  const server: SqlServer = pgServers.main;
  const secretsDir = mkdtempSync(join(tmpdir(), 'sluice-bench-secrets-'));
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-batch-'));
  const runId = randomBytes(3).toString('hex');
  const prefix = `sluice_bb_${runId}_`;
  const dbs = Array.from({ length: N }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
  let created: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  // Also on Ctrl-C or a kill: a run stopped half-way must not leave N databases on the shared
  // server (every later sync of it, the tests' included, would read them all).
  // Once: a signal and main's `finally` both call it, and a second pass would drop everything again.
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= dropAll());
  // Set by a signal: loops over the databases stop taking new ones, so the drops do not compete
  // with thousands of resets or creates (they did: 1–3 drops a second instead of about 10).
  let stopping = false;
  const dropAll = async () => {
    for (const c of cleanups.splice(0)) await c().catch(() => undefined);
    if (created.length > 0) say(`  dropping ${created.length} databases`);
    // Each drop on its own (one that fails must not stop the rest), connects retried as in setup:
    // on a loaded machine the 2 s connect timeout left every database behind.
    let failed = 0;
    await eachLimit(created, SETUP_CONCURRENCY, (db) => setupQuery(server, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => void failed++));
    if (failed > 0) say(`  could not drop ${failed} databases: drop the ${prefix}* databases by hand`);
    created = [];
    await pgServers.stop();
    await dynamo.stop();
    rmSync(secretsDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  };
  // `on`, not `once`: `pkill -f` signals both tsx and this process, and tsx relays the signal, so a
  // second one arrives mid-cleanup; with `once` it killed the process before the databases were dropped.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      say(`  ${signal}: stopping (dropping the bench's databases first)`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    const tableName = `sluice-bench-${runId}`;
    await ensureTable(dynamo.endpoint, tableName);
    Object.assign(process.env, { DYNAMODB_ENDPOINT: dynamo.endpoint, TABLE_NAME: tableName, SLUICE_SECRETS_DIR: secretsDir });
    const [{ seed }, { createStore }, { setOrchestrator }] = await Promise.all([
      import('../../functions/adapters/dynamo/seed.js'),
      import('../../functions/adapters/dynamo/client.js'),
      import('../../functions/shared/orchestrator.js'),
    ]);
    await seed(createStore(), { adminEmail: 'admin@example.com', environments: true });
    if (PROFILE) await instrument();

    const pipeline = localPipeline();
    // Profile: the runner's invocations by way (batch or alone), the other workflow handlers timed.
    if (PROFILE) profileHandlers(pipeline);
    setOrchestrator(pipeline);
    cleanups.push(async () => {
      await pipeline.close();
      setOrchestrator(undefined);
    });
    const keys = await keysFromJwk(await generateJwk());
    const http = await startServer({ port: 0, keys });
    cleanups.unshift(() => http.close());
    const token = await keys.sign('admin@example.com');
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(http.url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      const json = text ? (JSON.parse(text) as Record<string, any>) : {}; // eslint-disable-line @typescript-eslint/no-explicit-any
      return { status: res.status, json, text };
    };
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 500)}`);
      return r.json;
    };

    // Setup, not timed.
    say(`bench/batch-change: N=${N}, ${ROUNDS} rounds, concurrency ${CONCURRENCY}; PostgreSQL ${server.host}:${server.port}, DynamoDB Local ${dynamo.endpoint}`);
    let t0 = performance.now();
    const ACCOUNTS = 'CREATE TABLE accounts (id int PRIMARY KEY, name text)';
    let template: string | undefined;
    if (LEAN) {
      // Outside the group (whose names start with `prefix`). Copies fail while anyone is connected
      // to it: all are made before the sync first reads it.
      template = `sluice_bbt_${runId}`;
      await setupQuery(server, `CREATE DATABASE "${template}" TEMPLATE template0`);
      created.push(template);
      await adminQuery(server, `DROP SCHEMA information_schema CASCADE; DELETE FROM pg_catalog.pg_description; ${ACCOUNTS}`, template);
      await adminQuery(server, 'VACUUM FULL', template);
      const size = await adminQuery(server, `SELECT pg_database_size('${template}') AS lean, pg_database_size('template1') AS plain`);
      say(`  --lean: databases copied from ${template}, ${(Number(size[0]!.lean) / 2 ** 20).toFixed(2)} MiB (template1: ${(Number(size[0]!.plain) / 2 ** 20).toFixed(2)} MiB)`);
    }
    await eachLimit(dbs, SETUP_CONCURRENCY, async (db) => {
      if (stopping) return;
      await setupQuery(server, template ? `CREATE DATABASE "${db}" TEMPLATE "${template}"` : `CREATE DATABASE "${db}"`);
      created.push(db);
      if (!template) await setupQuery(server, ACCOUNTS, db);
    });
    say(`  setup: ${N} databases in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    const project = 'bench';
    await ok('POST', '/v1/projects', { id: project, title: 'Bench' });
    const source = { type: 'ADMIN', host: server.host, port: server.port, username: server.username, ...(server.password ? { password: server.password } : {}) };
    await ok('POST', '/v1/instances', { id: 'pg-bench', title: 'bench', engine: 'POSTGRES', environment: 'environments/test', dataSources: [source] });
    // Waited for: the sync records each database's schema in the background, and one recorded after
    // a contender's ALTER (before the reset) would make the next Sluice round see drift and refuse.
    const sync = await ok('POST', '/v1/instances/pg-bench:sync');
    await waitForOperation((path) => ok('GET', path), sync.name as string, 30 * 60_000);
    await eachLimit(dbs, SETUP_CONCURRENCY, async (db) => {
      await ok('PATCH', `/v1/instances/pg-bench/databases/${db}?updateMask=project`, { project: `projects/${project}` });
    });
    await ok('POST', `/v1/projects/${project}/databaseGroups`, { id: 'tenants', title: 'Tenants', databaseExpr: `resource.database_name.startsWith("${prefix}")` });
    const limited = await call('PATCH', `/v1/projects/${project}?updateMask=maxParallelTasks`, { maxParallelTasks: CONCURRENCY });
    // The reset between contenders drops the column Sluice's last round added: to Sluice that is a
    // change made by hand (drift), and a schema update on a drifted database is refused. Allowed
    // here, so every round runs; the runner still reads the schema before and after each change.
    await ok('PATCH', `/v1/projects/${project}?updateMask=allowDriftedRollout`, { allowDriftedRollout: true });
    const sluiceConcurrency = limited.status < 300 ? `${CONCURRENCY} (project maxParallelTasks)` : 'every task of the stage at once, 40 at most (no maxParallelTasks on this branch)';
    say(`  setup: instance, sync, project and group in ${((performance.now() - t0) / 1000).toFixed(1)} s; Sluice runs ${sluiceConcurrency}`);

    // The reset is drift to Sluice (its last change is the baseline): sync, then accept the drift.
    const rebaseline = async () => {
      const op = await ok('POST', '/v1/instances/pg-bench:sync');
      await waitForOperation((path) => ok('GET', path), op.name as string, 30 * 60_000);
      await eachLimit(dbs, SETUP_CONCURRENCY, async (db) => {
        const r = await call('POST', `/v1/instances/pg-bench/databases/${db}:acceptDrift`, {});
        if (r.status >= 300 && !/not drifted/.test(r.text)) throw new Error(`acceptDrift ${db}: ${r.status} ${r.text.slice(0, 300)}`);
      });
    };
    const reset = async (check: boolean): Promise<number> => {
      let missing = 0;
      await eachLimit(dbs, SETUP_CONCURRENCY, async (db) => {
        if (stopping) return;
        if (!check) return setupQuery(server, RESET, db);
        // The check and the reset on one connection: a round at N = 5,000 resets 15,000 databases.
        const [present] = await retried(() => adminQueries(server, `${PLAN_PRESENT}; ${RESET}`, db));
        if (present!.rows.length === 0) missing += 1;
      });
      if (stopping) throw new Error('stopped by a signal');
      return missing;
    };
    await reset(false);

    const url = (db: string) => {
      const auth = server.password ? `${encodeURIComponent(server.username)}:${encodeURIComponent(server.password)}` : encodeURIComponent(server.username);
      return `postgres://${auth}@${server.host}:${server.port}/${db}?sslmode=disable`;
    };
    const floor: Contender = {
      name: 'floor',
      async run() {
        const t = performance.now();
        await eachLimit(dbs, CONCURRENCY, async (db) => {
          const c = new pg.Client({ host: server.host, port: server.port, user: server.username, password: server.password ?? '', database: db });
          await c.connect();
          try {
            await c.query(ALTER);
          } finally {
            await c.end();
          }
        });
        return { ms: performance.now() - t };
      },
    };

    const migrations = join(work, 'migrations');
    mkdirSync(migrations);
    writeFileSync(join(migrations, '20261126000000_add_plan.sql'), `-- migrate:up\n${ALTER};\n\n-- migrate:down\nALTER TABLE accounts DROP COLUMN plan;\n`);
    let dbmateBin: string | undefined;
    if (DBMATE) {
      try {
        dbmateBin = await dbmateBinary();
        const v = await run(dbmateBin, ['--version']);
        say(`  ${v.stdout.trim()} (${dbmateBin.slice(dbmateBin.indexOf('node_modules'))})`);
      } catch (e) {
        say(`  dbmate left out: ${(e as Error).message}`);
      }
    }
    const dbmate: Contender = {
      name: 'dbmate',
      async run() {
        const t = performance.now();
        await eachLimit(dbs, CONCURRENCY, async (db) => {
          await run(dbmateBin!, ['--url', url(db), '--migrations-dir', migrations, '--no-dump-schema', 'up'], { env: { PATH: process.env.PATH ?? '' } });
        });
        return { ms: performance.now() - t };
      },
    };

    let issues = 0;
    const sluice: Contender = {
      name: 'sluice',
      async run() {
        issues += 1;
        profile = newProfile();
        const t = performance.now();
        const startedAt = Date.now();
        const created = await ok('POST', `/v1/projects/${project}/issues`, {
          title: `bench round ${issues}`, type: 'DATABASE_SCHEMA_UPDATE', statement: ALTER, databaseGroup: `projects/${project}/databaseGroups/tenants`,
        });
        const createMs = performance.now() - t;
        let polls = 0;
        let pollMs = 0;
        for (;;) {
          await new Promise((r) => setTimeout(r, POLL_MS));
          const p = performance.now();
          const issue = await ok('GET', `/v1/${created.name as string}`);
          pollMs += performance.now() - p;
          polls += 1;
          // Each stage counts its tasks by status (the task list itself is inline only up to 1,000 tasks).
          const counts: Record<string, number> = {};
          for (const st of issue.pipeline.stages as { taskStatusCounts: Record<string, number> }[]) {
            for (const [k, v] of Object.entries(st.taskStatusCounts)) counts[k] = (counts[k] ?? 0) + v;
          }
          if (counts.DONE === N) break;
          if ((counts.FAILED ?? 0) > 0 && (counts.DONE ?? 0) + counts.FAILED! === N) {
            // Why, in a few tasks' own words (the stage lists its tasks, paged past 1,000).
            const stages = issue.pipeline.stages as { tasks?: { name: string; status: string; latestTaskRun?: { detail?: string } }[] }[];
            const failed = stages.flatMap((st) => st.tasks ?? []).filter((tk) => tk.status === 'FAILED').slice(0, 3);
            throw new Error(`${created.name as string}: ${counts.FAILED} tasks FAILED, e.g.\n${failed.map((tk) => `  ${tk.name}: ${tk.latestTaskRun?.detail ?? '?'}`).join('\n')}`);
          }
          if (performance.now() - t > 30 * 60_000) throw new Error(`${created.name as string}: not DONE after 30 min`);
        }
        const ms = performance.now() - t;
        // The execution's own end (the issue DONE), free of the polling interval.
        const exec = await pipeline.waitForExecution(pipelineExecutionName(created.name as string));
        const execMs = exec.stopDate ? exec.stopDate.getTime() - startedAt : Number.NaN;
        return { ms, extra: { createMs, execMs, polls, pollMsEach: pollMs / polls, tasksPerSecond: N / (ms / 1000) } };
      },
    };

    // --schema-cost: the same Sluice with its RunTask handler swapped for a runner wired without
    // `schemas` (the runner then reads no schema and records none), for that contender's rounds only.
    let noSchema = false;
    if (SCHEMA_COST) {
      const [{ taskRunner, wiredDeps }, { synthesizePipeline }] = await Promise.all([import('../../functions/workflow/run-task.js'), import('../../infra/local/pipeline.js')]);
      const { schemas: _schemas, ...deps } = await wiredDeps();
      const bare = taskRunner(deps);
      const handlers = (pipeline as unknown as { handlers: Record<string, (e: unknown) => unknown> }).handlers;
      for (const [fn, name] of Object.entries(synthesizePipeline().functions)) {
        const full = handlers[fn];
        if (name === 'runTask' && full) handlers[fn] = (e: unknown) => (noSchema ? bare(e as never) : full(e));
      }
    }
    const sluiceNoSchema: Contender = {
      name: 'sluice-no-schema',
      async run() {
        noSchema = true;
        try {
          return await sluice.run();
        } finally {
          noSchema = false;
        }
      },
    };
    const contenders = [floor, ...(dbmateBin ? [dbmate] : []), sluice, ...(SCHEMA_COST ? [sluiceNoSchema] : [])];
    const javaPid = findJava(dynamo.port);
    // The server's postmaster: the parent of a backend of ours (read while it lives).
    const probe = new pg.Client({ host: server.host, port: server.port, user: server.username, password: server.password ?? '', database: 'postgres' });
    await probe.connect();
    const backend = (await probe.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const postmaster = stat(backend)?.ppid;
    await probe.end();
    const benchRoots = [process.pid, ...(javaPid ? [javaPid] : []), ...(postmaster ? [postmaster] : [])];
    const rounds: Record<string, Result>[] = [];
    const inspector = CPU_PROFILE ? new (await import('node:inspector/promises')).Session() : undefined;
    if (inspector) {
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 1000 });
    }
    const cpuProfiles: unknown[] = [];
    const profiles: Profile[] = [];
    for (let r = -WARMUP; r < (PLAN_ONLY ? -WARMUP : ROUNDS); r++) {
      const order = contenders.map((_, i) => contenders[(i + r + WARMUP) % contenders.length]!);
      const round: (typeof rounds)[number] = {};
      for (const c of order) {
        // Sluice starts from the baseline it would find in use (see rebaseline). The floor, dbmate
        // and Sluice without bookkeeping read no recorded schema: a sync of N databases for nothing.
        if (c.name === 'sluice') await rebaseline();
        const profiling = inspector && c.name === 'sluice' && r >= 0;
        if (profiling) await inspector.post('Profiler.start');
        const before = cpuOf(javaPid, postmaster);
        const sampler = sampleMachine(benchRoots);
        const result: Result = await c.run();
        result.machine = sampler.stop();
        result.cpu = cpuDiff(before, cpuOf(javaPid, postmaster));
        if (profiling) cpuProfiles.push((await inspector.post('Profiler.stop')).profile);
        // Said before the check, so a run that the check then stops still shows its time.
        say(`  ${r < 0 ? 'warm-up' : `round ${r + 1}`} ${c.name}: ${(result.ms / 1000).toFixed(2)} s${result.extra ? ' ' + JSON.stringify(Object.fromEntries(Object.entries(result.extra).map(([k, v]) => [k, Math.round(v * 10) / 10]))) : ''}; ${machineLine(result.machine!)}`);
        const missing = await reset(true);
        if (missing > 0) throw new Error(`${c.name}: the column is missing in ${missing} of ${N} databases`);
        round[c.name] = result;
        if (c.name === 'sluice' && PROFILE && r >= 0) profiles.push(profile);
      }
      if (r >= 0) rounds.push(round);
    }

    // Planning: PLAN tasks against databases of a fake instance in prod (approval required, so
    // the execution waits at the gate and is canceled after).
    const requests = PROBE ? await probeDynamo(dynamo.endpoint, javaPid) : [];
    const planning: { ms: number; tasks: number; nodeCpuMs?: number; dynamoCpuMs?: number }[] = [];
    if (PLAN > 0) {
      const { DynamoDatabaseRepo } = await import('../../functions/adapters/dynamo/databases.js');
      const { store } = await import('../../functions/shared/wiring.js');
      t0 = performance.now();
      await ok('POST', '/v1/projects', { id: 'plan', title: 'Planning' });
      await ok('POST', '/v1/instances', { id: 'pg-fake', title: 'fake', engine: 'POSTGRES', environment: 'environments/prod', dataSources: [{ type: 'ADMIN', host: '127.0.0.1', port: 9, username: 'nobody' }] });
      const time = new Date().toISOString();
      await new DynamoDatabaseRepo(store).applySync('pg-fake', {
        time,
        create: Array.from({ length: PLAN }, (_, i) => ({
          instance: 'pg-fake', name: `tenant_${String(i).padStart(5, '0')}`, project: 'plan', labels: {}, schemaVersion: '', syncState: 'OK' as const, createTime: time, updateTime: time, version: 1,
        })),
        setState: [], stamp: [], addTables: [], removeTables: [],
      });
      await ok('POST', '/v1/projects/plan/databaseGroups', { id: 'all', title: 'All', databaseExpr: 'resource.database_name.startsWith("tenant_")' });
      say(`  planning setup: ${PLAN} databases registered in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      for (let r = PLAN_ONLY ? -WARMUP : 0; r < ROUNDS; r++) {
        const t = performance.now();
        const cpu0 = cpuOf(javaPid, undefined);
        const res = await call('POST', '/v1/projects/plan/issues', { title: `plan ${r + 1}`, type: 'DATABASE_SCHEMA_UPDATE', statement: ALTER, databaseGroup: 'projects/plan/databaseGroups/all' });
        const ms = performance.now() - t;
        // CPU of this process (the server and its local pipeline run here) and of DynamoDB Local, during the create.
        const cpu = cpuDiff(cpu0, cpuOf(javaPid, undefined));
        if (res.status >= 300) {
          say(`  planning ${PLAN} tasks: ${res.status} ${res.text.slice(0, 300)}`);
          break;
        }
        const tasks = (res.json.pipeline?.stages as { tasks?: unknown[]; taskCount?: number }[] | undefined)?.reduce((n, s) => n + (s.taskCount ?? s.tasks?.length ?? 0), 0) ?? 0;
        if (r >= 0) planning.push({ ms, tasks, nodeCpuMs: cpu.node, dynamoCpuMs: cpu.dynamo });
        say(`  planning ${r < 0 ? 'warm-up' : `round ${r + 1}`}: ${PLAN} tasks in ${(ms / 1000).toFixed(2)} s (${tasks} tasks in the response; CPU: Node ${(cpu.node / 1000).toFixed(2)} s, DynamoDB Local ${(cpu.dynamo / 1000).toFixed(2)} s)`);
        // Cancel once the execution waits at the approval gate (a cancel while the gate's handler
        // is still running ends the local runtime with an unhandled States.Aborted).
        for (let i = 0; i < 600; i++) {
          const got = await ok('GET', `/v1/${res.json.name as string}`);
          if ((got.pipeline.stages as { status: string }[]).some((st) => st.status === 'PENDING_APPROVAL')) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        await ok('POST', `/v1/${res.json.name as string}:cancel`, {});
      }
    }

    const report = summarize(rounds, planning, profiles, sluiceConcurrency, cpuProfiles, requests);
    mkdirSync('.bench/batch-change', { recursive: true });
    for (const [i, prof] of cpuProfiles.entries()) writeFileSync(`.bench/batch-change/sluice-${i + 1}.cpuprofile`, JSON.stringify(prof));
    inspector?.disconnect();
    writeFileSync('.bench/batch-change/results.json', JSON.stringify({ n: N, concurrency: CONCURRENCY, rounds, planning, profiles, report }, null, 2));
    process.stdout.write((flag('json') ? JSON.stringify({ rounds, planning, profiles, report }, null, 2) : report.text) + '\n');
  } finally {
    await cleanup();
  }
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}
const ROOT = new URL('../../', import.meta.url).href;
/** Self time of a V8 CPU profile by package (node_modules), project folder, or V8 bucket, in ms. */
function byPackage(p: CpuProfile): Record<string, number> {
  const nodes = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const out: Record<string, number> = {};
  p.samples.forEach((id, i) => {
    const { url, functionName } = nodes.get(id)!;
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const key = m ? m[1]! : url.startsWith(ROOT) ? `${url.slice(ROOT.length).split('/')[0]}/ (Sluice)` : url.startsWith('node:') ? 'node: (internals)' : `${functionName || 'native'} (V8/native)`;
    out[key] = (out[key] ?? 0) + (p.timeDeltas[i] ?? 0) / 1000;
  });
  return out;
}

function summarize(rounds: Record<string, Result>[], planning: { ms: number; tasks: number }[], profiles: Profile[], sluiceConcurrency: string, cpuProfiles: unknown[], requests: RequestCost[]) {
  const names = Object.keys(rounds[0] ?? {});
  const ratio = (name: string) => median(rounds.map((r) => r[name]!.ms / r.floor!.ms));
  const f = (n: number, d = 2) => n.toFixed(d);
  const lines = [
    `N = ${N} ${WARM ? 'warm' : 'fresh'} databases, ${rounds.length} rounds, concurrency ${CONCURRENCY} (Sluice: ${sluiceConcurrency})`,
    '',
    '| contender | wall s (median) | per round s | × floor (median of per-round ratios) |',
    '|---|---:|---|---:|',
    ...names.map((n) => `| ${n} | ${f(median(rounds.map((r) => r[n]!.ms)) / 1000)} | ${rounds.map((r) => f(r[n]!.ms / 1000)).join(', ')} | ${f(ratio(n))} |`),
    '',
    'CPU during the run, ms per database (median over rounds; PostgreSQL: the whole server, other users included):',
    '',
    '| contender | Node (this process) | child processes | DynamoDB Local | PostgreSQL | total | total ÷ wall (cores busy) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...names.map((n) => {
      const c = (k: keyof Cpu) => median(rounds.map((r) => r[n]!.cpu![k])) / N;
      const total = median(rounds.map((r) => Object.values(r[n]!.cpu!).reduce((a, b) => a + b, 0))) / N;
      return `| ${n} | ${f(c('node'))} | ${f(c('children'))} | ${f(c('dynamo'))} | ${f(c('postgres'))} | ${f(total)} | ${f(median(rounds.map((r) => Object.values(r[n]!.cpu!).reduce((a, b) => a + b, 0) / r[n]!.ms)))} |`;
    }),
  ];
  lines.push(
    '', `The machine while each contender ran (sampled every ${SAMPLE_MS / 1000} s; outside CPU: processes other than this one and its children, DynamoDB Local and the PostgreSQL server, whose other users count as the benchmark's):`, '',
    '| round | contender | load average (min–max) | outside CPU, cores busy (whole run) | outside, max over one interval | benchmark, cores busy |',
    '|---:|---|---|---:|---:|---:|',
    ...rounds.flatMap((r, i) => names.map((n) => {
      const m = r[n]!.machine!;
      return `| ${i + 1} | ${n} | ${f(Math.min(...m.load), 1)}–${f(Math.max(...m.load), 1)} | ${f(m.outsideCores)} | ${f(m.outsideCoresMax)} | ${f(m.benchCores)} |`;
    })),
  );
  if (names.includes('sluice')) {
    const ex = (k: string) => median(rounds.map((r) => r.sluice!.extra![k]!));
    lines.push('', `Sluice: ${f(ex('tasksPerSecond'), 1)} tasks/s (median); create-issue request ${f(ex('createMs'), 0)} ms; ${f(ex('polls'), 0)} polls of ${f(ex('pollMsEach'), 0)} ms each; ` +
      `the execution itself ended after ${f(ex('execMs') / 1000)} s (${f(median(rounds.map((r) => r.sluice!.extra!.execMs! / r.floor!.ms)))}× floor).`);
    if (names.includes('sluice-no-schema')) {
      const shares = rounds.map((r) => (r.sluice!.ms - r['sluice-no-schema']!.ms) / r.sluice!.ms);
      lines.push(`Schema bookkeeping (drift check, catalog reads, recorded schema): (Sluice − Sluice without it) / Sluice = ${f(median(shares) * 100, 1)}% median ` +
        `(${shares.map((x) => f(x * 100, 1)).join(', ')}%); target under 15%: ${median(shares) < 0.15 ? 'met' : 'missed'}.`);
    }
    lines.push(`Targets: Sluice ≤ 1.3× floor: ${ratio('sluice') <= 1.3 ? 'met' : 'missed'} (${f(ratio('sluice'))}×)` + (names.includes('dbmate') ? `; Sluice beats dbmate: ${ratio('sluice') < ratio('dbmate') ? 'yes' : 'no'} (${f(ratio('dbmate'))}×)` : ''));
  }
  if (planning.length > 0) lines.push('', `Planning ${PLAN} tasks (create-issue request): ${f(median(planning.map((p) => p.ms)) / 1000)} s median (${planning.map((p) => f(p.ms / 1000)).join(', ')} s).`);
  if (requests.length > 0) {
    lines.push(
      '', 'One DynamoDB Local request, warm, 10 at a time (ms per request):', '',
      '| request | wall | DynamoDB Local CPU | Node CPU (SDK) |', '|---|---:|---:|---:|',
      ...requests.map((r) => `| ${r.shape} | ${f(r.wallMs)} | ${f(r.dynamoCpuMs)} | ${f(r.nodeCpuMs)} |`),
    );
  }
  if (cpuProfiles.length > 0) {
    const sums: Record<string, number[]> = {};
    for (const prof of cpuProfiles) for (const [k, ms] of Object.entries(byPackage(prof as CpuProfile))) (sums[k] ??= []).push(ms);
    const rows = Object.entries(sums).map(([k, v]) => [k, median(v)] as const).filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 14);
    lines.push('', 'Node CPU in the Sluice rounds by package (self time, ms per task, median over rounds):', ...rows.map(([k, ms]) => `  ${k}: ${f(ms / N)}`));
  }
  for (const [i, p] of profiles.entries()) lines.push(...profileText(i + 1, p));
  return { text: lines.join('\n') };
}

main().catch((e: unknown) => {
  say(`bench/batch-change: cannot measure: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});

/**
 * dbmate's binary, installed on first use into .bench/tools (not a devDependency: the registry
 * this project installs from lacks dbmate's other-platform packages, and `npm ci` then refuses a
 * lock file that names them).
 */
async function dbmateBinary(): Promise<string> {
  const prefix = resolve('.bench/tools');
  const require = createRequire(join(prefix, 'package.json'));
  let entry: string;
  try {
    entry = require.resolve('dbmate');
  } catch {
    mkdirSync(prefix, { recursive: true });
    await run('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `dbmate@${DBMATE_VERSION}`]);
    entry = require.resolve('dbmate');
  }
  const mod = (await import(pathToFileURL(entry).href)) as { resolveBinary(): string };
  return mod.resolveBinary();
}
