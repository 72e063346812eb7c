// bench/batch-change: one ALTER TABLE over N databases (default 1,000) on the local PostgreSQL,
// end to end through Sluice's local runtime, against a plain `pg` script (the floor) and dbmate,
// in the same run. `npm run bench:batch-change -- [--n 1000] [--rounds 3] [--warmup 1] [--concurrency 10]
// [--plan 10000] [--poll-ms 500] [--warm] [--profile] [--cpu-profile] [--no-dbmate] [--no-probe] [--json]
// [--schema-cost]`. See BENCHMARKS.md.
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
//     DONE. The project's maxParallelTasks is set to `concurrency` where the API has it.
//   - --schema-cost: a fourth contender, Sluice without schema bookkeeping (no drift check, no
//     catalog reads, no recorded schema), and the share (Sluice - that) / Sluice per round. Before
//     each contender every database is synced and its drift accepted, so Sluice's tasks find the
//     baseline they would in use (without it, the reset below is drift to Sluice: each task then
//     also reads the full schema before its statement).
//   - Planning: the create-issue request for `plan` tasks, against databases registered for a
//     fake instance (items written with the repo code the sync uses; planning never connects).
// Results go to .bench/batch-change/results.json. Exits 1 only when it cannot measure.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.LOG_LEVEL ??= 'silent';
process.env.AWS_REGION ??= 'local';

import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { adminQuery, startPostgres, type SqlServer } from '../../test/support/postgres.js';

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
const say = (line: string) => process.stderr.write(line + '\n');
/** Setup and reset work, not timed: a few connections at a time. */
const SETUP_CONCURRENCY = 8;

const ALTER = 'ALTER TABLE accounts ADD COLUMN plan text';
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
// Profile (--profile): where a runTask invocation spends its time, by AsyncLocalStorage.

interface Profile {
  tasks: number;
  runTaskMs: number;
  dynamo: Record<string, { n: number; ms: number }>;
  secretsMs: number;
  secretsN: number;
  pgConnectMs: number;
  pgConnectN: number;
  pgQueryMs: Record<string, { n: number; ms: number }>;
  pgEndMs: number;
  otherHandlers: Record<string, { n: number; ms: number }>;
}
const newProfile = (): Profile => ({ tasks: 0, runTaskMs: 0, dynamo: {}, secretsMs: 0, secretsN: 0, pgConnectMs: 0, pgConnectN: 0, pgQueryMs: {}, pgEndMs: 0, otherHandlers: {} });
let profile = newProfile();
const inTask = new AsyncLocalStorage<boolean>();
const add = (rec: Record<string, { n: number; ms: number }>, key: string, ms: number) => {
  const r = (rec[key] ??= { n: 0, ms: 0 });
  r.n += 1;
  r.ms += ms;
};
/** The first words of a statement, for grouping. */
const queryKind = (sql: string): string => {
  const s = sql.trim().replace(/\s+/g, ' ');
  if (s.startsWith('INSERT INTO sluice_history')) return 'INSERT marker';
  if (s.startsWith('CREATE SCHEMA')) return 'CREATE SCHEMA IF NOT EXISTS';
  if (s.startsWith('CREATE TABLE IF NOT EXISTS sluice_history')) return 'CREATE TABLE IF NOT EXISTS marker';
  // The runner's schema reads before and after a schema change (drift check, schemaBefore/After).
  if (/\b(pg_catalog|pg_class|pg_namespace|pg_attribute|pg_index|pg_constraint|pg_proc|pg_type|pg_depend|information_schema)\b/.test(s)) return 'catalog read (schema before/after)';
  return s.split(' ').slice(0, 2).join(' ');
};

async function instrument(): Promise<void> {
  const [{ store }, { LocalFileSecretStore }] = await Promise.all([import('../../functions/shared/wiring.js'), import('../../functions/adapters/secrets/local-file.js')]);
  store.doc.middlewareStack.add(
    (next, context) => async (a) => {
      if (!inTask.getStore()) return next(a);
      const t = performance.now();
      try {
        return await next(a);
      } finally {
        add(profile.dynamo, context.commandName ?? '?', performance.now() - t);
      }
    },
    { step: 'initialize', name: 'benchProfile' },
  );
  const proto = LocalFileSecretStore.prototype as unknown as { get(name: string): Promise<string | undefined> };
  const get = proto.get;
  proto.get = async function (this: unknown, name: string) {
    const t = performance.now();
    try {
      return await get.call(this, name);
    } finally {
      if (inTask.getStore()) {
        profile.secretsMs += performance.now() - t;
        profile.secretsN += 1;
      }
    }
  };
  const client = pg.Client.prototype as unknown as { connect(): Promise<void>; query(...a: unknown[]): Promise<unknown>; end(): Promise<void> };
  const { connect, query, end } = client;
  client.connect = async function (this: unknown) {
    const t = performance.now();
    try {
      return await connect.call(this);
    } finally {
      if (inTask.getStore()) {
        profile.pgConnectMs += performance.now() - t;
        profile.pgConnectN += 1;
      }
    }
  };
  client.query = function (this: unknown, ...a: unknown[]) {
    const out = query.apply(this, a);
    if (!inTask.getStore() || !(out instanceof Promise)) return out;
    const t = performance.now();
    const text = typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string })?.text ?? '?');
    return out.finally(() => add(profile.pgQueryMs, queryKind(text), performance.now() - t));
  };
  client.end = async function (this: unknown) {
    const t = performance.now();
    try {
      return await end.call(this);
    } finally {
      if (inTask.getStore()) profile.pgEndMs += performance.now() - t;
    }
  };
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
const TICK_MS = 10;
/** utime, stime, cutime, cstime and ppid of a process, or undefined once it is gone. */
function stat(pid: number | 'self'): { ppid: number; own: number; reaped: number } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    return { ppid: Number(f[1]), own: (Number(f[11]) + Number(f[12])) * TICK_MS, reaped: (Number(f[13]) + Number(f[14])) * TICK_MS };
  } catch {
    return undefined;
  }
}
const pids = (): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
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
  let postgres = 0;
  if (postmaster !== undefined) {
    const pm = stat(postmaster);
    postgres = pm ? pm.own + pm.reaped : 0;
    for (const pid of pids()) {
      const s = stat(pid);
      if (s?.ppid === postmaster) postgres += s.own;
    }
  }
  return { node: self.own, children: self.reaped, dynamo: javaPid ? (stat(javaPid)?.own ?? 0) : 0, postgres };
}
const cpuDiff = (a: Cpu, b: Cpu): Cpu => ({ node: b.node - a.node, children: b.children - a.children, dynamo: b.dynamo - a.dynamo, postgres: b.postgres - a.postgres });

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
  for (let attempt = 1; ; attempt++) {
    try {
      await adminQuery(s, sql, database);
      return;
    } catch (e) {
      if (attempt >= 5 || !/timeout expired/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

async function main(): Promise<void> {
  const dynamo = await startDynamoLocal();
  const pgServers = await startPostgres();
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
  const cleanup = async () => {
    for (const c of cleanups.splice(0)) await c().catch(() => undefined);
    if (created.length > 0) say(`  dropping ${created.length} databases`);
    await eachLimit(created, SETUP_CONCURRENCY, (db) => adminQuery(server, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).then(() => undefined)).catch(() => undefined);
    created = [];
    await pgServers.stop();
    await dynamo.stop();
    rmSync(secretsDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`  ${signal}: stopping`);
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
    // Profile: mark every runTask call, and time the other workflow handlers.
    if (PROFILE) {
      const handlers = (pipeline as unknown as { handlers: Record<string, (e: unknown) => unknown> }).handlers;
      const fns = (pipeline as unknown as { resources: { state: string; fn: string }[] }).resources;
      const byFn = new Map(fns.map((r) => [r.fn, r.state]));
      for (const [fn, h] of Object.entries(handlers)) {
        const state = byFn.get(fn) ?? fn;
        handlers[fn] = (e: unknown) => {
          const t = performance.now();
          const done = () => {
            if (state === 'RunTask') {
              profile.tasks += 1;
              profile.runTaskMs += performance.now() - t;
            } else add(profile.otherHandlers, state, performance.now() - t);
          };
          const out = state === 'RunTask' ? inTask.run(true, () => h(e)) : h(e);
          return Promise.resolve(out).finally(done);
        };
      }
    }
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
    await eachLimit(dbs, SETUP_CONCURRENCY, async (db) => {
      await setupQuery(server, `CREATE DATABASE "${db}"`);
      created.push(db);
      await setupQuery(server, 'CREATE TABLE accounts (id int PRIMARY KEY, name text)', db);
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
        if (check) {
          const rows = await adminQuery(server, "SELECT 1 FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'plan'", db);
          if (rows.length === 0) missing += 1;
        }
        await adminQuery(server, RESET, db);
      });
      if (SCHEMA_COST) await rebaseline();
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
    const rounds: Record<string, Result>[] = [];
    const inspector = CPU_PROFILE ? new (await import('node:inspector/promises')).Session() : undefined;
    if (inspector) {
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 1000 });
    }
    const cpuProfiles: unknown[] = [];
    const profiles: Profile[] = [];
    for (let r = -WARMUP; r < ROUNDS; r++) {
      const order = contenders.map((_, i) => contenders[(i + r + WARMUP) % contenders.length]!);
      const round: (typeof rounds)[number] = {};
      for (const c of order) {
        const profiling = inspector && c.name === 'sluice' && r >= 0;
        if (profiling) await inspector.post('Profiler.start');
        const before = cpuOf(javaPid, postmaster);
        const result: Result = await c.run();
        result.cpu = cpuDiff(before, cpuOf(javaPid, postmaster));
        if (profiling) cpuProfiles.push((await inspector.post('Profiler.stop')).profile);
        const missing = await reset(true);
        if (missing > 0) throw new Error(`${c.name}: the column is missing in ${missing} of ${N} databases`);
        round[c.name] = result;
        if (c.name === 'sluice' && PROFILE && r >= 0) profiles.push(profile);
        say(`  ${r < 0 ? 'warm-up' : `round ${r + 1}`} ${c.name}: ${(result.ms / 1000).toFixed(2)} s${result.extra ? ' ' + JSON.stringify(Object.fromEntries(Object.entries(result.extra).map(([k, v]) => [k, Math.round(v * 10) / 10]))) : ''}`);
      }
      if (r >= 0) rounds.push(round);
    }

    // Planning: PLAN tasks against databases of a fake instance in prod (approval required, so
    // the execution waits at the gate and is canceled after).
    const requests = PROBE ? await probeDynamo(dynamo.endpoint, javaPid) : [];
    const planning: { ms: number; tasks: number }[] = [];
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
      for (let r = 0; r < ROUNDS; r++) {
        const t = performance.now();
        const res = await call('POST', '/v1/projects/plan/issues', { title: `plan ${r + 1}`, type: 'DATABASE_SCHEMA_UPDATE', statement: ALTER, databaseGroup: 'projects/plan/databaseGroups/all' });
        const ms = performance.now() - t;
        if (res.status >= 300) {
          say(`  planning ${PLAN} tasks: ${res.status} ${res.text.slice(0, 300)}`);
          break;
        }
        const tasks = (res.json.pipeline?.stages as { tasks?: unknown[]; taskCount?: number }[] | undefined)?.reduce((n, s) => n + (s.taskCount ?? s.tasks?.length ?? 0), 0) ?? 0;
        planning.push({ ms, tasks });
        say(`  planning round ${r + 1}: ${PLAN} tasks in ${(ms / 1000).toFixed(2)} s (${tasks} tasks in the response)`);
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
  for (const [i, p] of profiles.entries()) {
    const per = (ms: number) => f(ms / Math.max(1, p.tasks), 2);
    const dyn = Object.entries(p.dynamo).map(([k, v]) => `${k} ${f(v.n / p.tasks, 1)}× ${per(v.ms)} ms`).join(', ');
    const dynMs = Object.values(p.dynamo).reduce((a, v) => a + v.ms, 0);
    const qMs = Object.values(p.pgQueryMs).reduce((a, v) => a + v.ms, 0);
    const q = Object.entries(p.pgQueryMs).map(([k, v]) => `${k} ${f(v.n / p.tasks, 1)}× ${per(v.ms)} ms`).join(', ');
    lines.push(
      '',
      `Profile, round ${i + 1}: ${p.tasks} runTask calls, ${per(p.runTaskMs)} ms each (sum of the parts below is per task, not wall):`,
      `  DynamoDB ${per(dynMs)} ms: ${dyn}`,
      `  secrets ${per(p.secretsMs)} ms (${f(p.secretsN / p.tasks, 1)}×); pg connect ${per(p.pgConnectMs)} ms; queries ${per(qMs)} ms: ${q}; end ${per(p.pgEndMs)} ms`,
      `  other handlers: ${Object.entries(p.otherHandlers).map(([k, v]) => `${k} ${v.n}× ${f(v.ms / v.n, 0)} ms`).join(', ')}`,
    );
  }
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
