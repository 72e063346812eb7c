// bench/pipeline: what an issue's pipeline costs, from the local execution of the deployed
// definition. For issues of 2, 10 and 48 tasks in 2 stages (test, then prod with an approval),
// over HTTP on the local runtime with real statements on PostgreSQL, it counts (48 is the most
// targets an issue takes, MAX_TARGETS in domain/pipeline/model.ts):
//   - state transitions (LocalStepFunctions.statesEntered: what Step Functions Standard bills),
//   - history events (historyEvents: AWS's rules; the 25,000-event limit),
//   - Lambda invocations and their measured durations, per workflow function,
//   - DynamoDB requests and consumed capacity units made by the workflow functions,
// and prices them in dollars per 1,000 tasks. `npx tsx bench/pipeline/run.ts [--json] [--sizes 2,10,48]`
// Results also go to .bench/pipeline/results.json. Exits 1 only when it cannot measure.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.LOG_LEVEL ??= 'silent';
process.env.AWS_REGION ??= 'local';

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelineExecutionName } from '../../domain/pipeline/orchestrator.js';
import { ensureTable, startDynamoLocal } from '../../infra/local/dynamo-local.js';
import { generateJwk, keysFromJwk } from '../../infra/local/jwt.js';
import { synthesizePipeline, workflowHandlers } from '../../infra/local/pipeline.js';
import { startServer } from '../../infra/local/server.js';
import { LocalStepFunctions, type LocalHandler } from '../../infra/local/stepfunctions.js';
import { waitForOperation } from '../../test/support/operations.js';
import { adminQuery, startPostgres, type SqlServer } from '../../test/support/postgres.js';

/** Prices (us-east-1, November 2026). */
export const PRICES = {
  /** Step Functions Standard, per state transition. */
  transition: 0.025 / 1_000,
  /** Lambda, per request. */
  lambdaRequest: 0.2 / 1_000_000,
  /** Lambda arm64, per GB-second. */
  lambdaGbSecond: 0.0000133334,
  /** DynamoDB on-demand, per write request unit and read request unit. */
  write: 1.25 / 1_000_000,
  read: 0.25 / 1_000_000,
} as const;
/** DEFAULTS.memorySize of every function (infra/lib/defaults.ts). */
const MEMORY_GB = 512 / 1024;

const args = process.argv.slice(2);
const json = args.includes('--json');
const sizesArg = args[args.indexOf('--sizes') + 1];
const SIZES = args.includes('--sizes') && sizesArg ? sizesArg.split(',').map(Number) : [2, 10, 48];
const say = (line: string) => process.stderr.write(line + '\n');

interface FnStats {
  invocations: number;
  ms: number;
  reads: number;
  writes: number;
  requests: Record<string, number>;
}
const als = new AsyncLocalStorage<string>();
let stats: Record<string, FnStats> = {};
const statsOf = (fn: string): FnStats => (stats[fn] ??= { invocations: 0, ms: 0, reads: 0, writes: 0, requests: {} });

async function main(): Promise<void> {
  const dynamo = await startDynamoLocal();
  const pgServers = await startPostgres();
  const pg: SqlServer = pgServers.main;
  const secretsDir = mkdtempSync(join(tmpdir(), 'sluice-bench-secrets-'));
  const dbs = Array.from({ length: Math.max(...SIZES) }, (_, i) => `sluice_bench_${i}_${randomUUID().slice(0, 6)}`);
  try {
    const tableName = `sluice-bench-${randomUUID().slice(0, 8)}`;
    await ensureTable(dynamo.endpoint, tableName);
    Object.assign(process.env, { DYNAMODB_ENDPOINT: dynamo.endpoint, TABLE_NAME: tableName, SLUICE_SECRETS_DIR: secretsDir });
    const [{ seed }, { createStore }, { store }, { setOrchestrator }] = await Promise.all([
      import('../../functions/adapters/dynamo/seed.js'),
      import('../../functions/adapters/dynamo/client.js'),
      import('../../functions/shared/wiring.js'),
      import('../../functions/shared/orchestrator.js'),
    ]);
    await seed(createStore(), { adminEmail: 'admin@example.com', environments: true });

    // Count what the workflow functions ask of DynamoDB, with the capacity DynamoDB reports.
    store.doc.middlewareStack.add(
      (next, context) => async (a) => {
        const fn = als.getStore();
        if (!fn) return next(a);
        (a.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
        const out = await next(a);
        const s = statsOf(fn);
        const command = context.commandName ?? '?';
        s.requests[command] = (s.requests[command] ?? 0) + 1;
        const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
        for (const c of (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as { ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number }[]) {
          const isWrite = /Put|Update|Delete|Write/.test(command);
          s.reads += c.ReadCapacityUnits ?? (isWrite ? 0 : (c.CapacityUnits ?? 0));
          s.writes += c.WriteCapacityUnits ?? (isWrite ? (c.CapacityUnits ?? 0) : 0);
        }
        return out;
      },
      { step: 'initialize', name: 'benchCount' },
    );

    const synthesized = synthesizePipeline();
    const handlers: Record<string, LocalHandler> = {};
    for (const [logicalId, handler] of Object.entries(workflowHandlers(synthesized.functions))) {
      const fn = synthesized.functions[logicalId]!;
      handlers[logicalId] = (event) =>
        als.run(fn, async () => {
          const started = performance.now();
          try {
            return await handler(event);
          } finally {
            const s = statsOf(fn);
            s.invocations += 1;
            s.ms += performance.now() - started;
          }
        });
    }
    const pipeline = new LocalStepFunctions({ definition: synthesized.definition, handlers, stateMachineName: 'SluicePipeline' });
    setOrchestrator(pipeline);
    const keys = await keysFromJwk(await generateJwk());
    const server = await startServer({ port: 0, keys });
    const call = async (method: string, path: string, body?: unknown, as = 'admin@example.com') => {
      const res = await fetch(server.url + path, {
        method,
        headers: { authorization: `Bearer ${await keys.sign(as)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? (JSON.parse(text) as Record<string, any>) : {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    };

    say(`bench/pipeline: ${dbs.length} databases on PostgreSQL ${pg.host}:${pg.port}, DynamoDB Local ${dynamo.endpoint}`);
    for (const db of dbs) {
      await adminQuery(pg, `CREATE DATABASE "${db}"`);
      await adminQuery(pg, 'CREATE TABLE bench (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())', db);
    }
    await call('POST', '/v1/users', { email: 'dba@example.com', role: 'workspaceDBA' });
    await call('POST', '/v1/projects', { id: 'bench', title: 'Bench' });
    const source = { type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) };
    for (const env of ['test', 'prod']) {
      await call('POST', '/v1/instances', { id: `pg-${env}`, title: env, engine: 'POSTGRES', environment: `environments/${env}`, dataSources: [source] });
      // Waited for: a sync still reading schemas in the background would share the timed runs' CPU.
      const sync = await call('POST', `/v1/instances/pg-${env}:sync`);
      await waitForOperation((path) => call('GET', path), sync.name as string, 10 * 60_000);
    }

    const results = [];
    for (const size of SIZES) {
      const half = Math.ceil(size / 2);
      const targets = dbs.slice(0, size).map((db, i) => `instances/pg-${i < half ? 'test' : 'prod'}/databases/${db}`);
      for (const t of targets) await call('PATCH', `/v1/${t}?updateMask=project`, { project: 'projects/bench' }).catch(() => undefined);
      stats = {};
      const started = performance.now();
      const issue = await call('POST', '/v1/projects/bench/issues', { title: `bench ${size}`, type: 'DATABASE_DATA_UPDATE', statement: 'INSERT INTO bench DEFAULT VALUES', targets });
      const name = issue.name as string;
      const prod = `${name}/stages/prod`;
      for (let i = 0; ; i++) {
        const got = await call('GET', `/v1/${name}`);
        const stage = (got.pipeline.stages as { name: string; status: string }[]).find((s) => s.name === prod);
        if (stage?.status === 'PENDING_APPROVAL') break;
        if (i > 6000) throw new Error(`${name}: prod never waited for approval`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await call('POST', `/v1/${prod}:approve`, {}, 'dba@example.com');
      const exec = pipelineExecutionName(name);
      const end = await pipeline.waitForExecution(exec);
      const wallMs = performance.now() - started;
      if (end.status !== 'SUCCEEDED') throw new Error(`${name}: execution ${end.status} ${end.error ?? ''} ${end.cause ?? ''}`);
      // The parent's history plus every Distributed Map child's (each has its own 25,000 limit).
      const history = pipeline.historyEvents(exec).length + pipeline.childHistories(exec).reduce((sum, c) => sum + c.length, 0);
      const transitions = pipeline.statesEntered(exec).length;
      results.push({ tasks: size, stages: 2, transitions, history, wallMs: Math.round(wallMs), functions: stats });
      say(`  ${size} tasks: ${transitions} transitions, ${history} history events, ${Math.round(wallMs)} ms`);
    }
    await server.close();
    await pipeline.close();

    const report = model(results);
    mkdirSync('.bench/pipeline', { recursive: true });
    writeFileSync('.bench/pipeline/results.json', JSON.stringify({ results, report }, null, 2));
    if (json) process.stdout.write(JSON.stringify({ results, report }, null, 2) + '\n');
    else process.stdout.write(report.text + '\n');
  } finally {
    for (const db of dbs) await adminQuery(pg, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
    await pgServers.stop();
    await dynamo.stop();
    rmSync(secretsDir, { recursive: true, force: true });
  }
}

type Result = { tasks: number; stages: number; transitions: number; history: number; wallMs: number; functions: Record<string, FnStats> };

/** Per-task figures are the slope between the two largest runs (the stage overhead cancels out). */
function model(results: Result[]) {
  const rows = results.map((r) => {
    const fns = Object.values(r.functions);
    const sum = (f: (s: FnStats) => number) => fns.reduce((a, s) => a + f(s), 0);
    const invocations = sum((s) => s.invocations);
    const gbSeconds = (sum((s) => s.ms) / 1000) * MEMORY_GB;
    const reads = sum((s) => s.reads);
    const writes = sum((s) => s.writes);
    const requests = sum((s) => Object.values(s.requests).reduce((a, b) => a + b, 0));
    const cost = {
      stepFunctions: r.transitions * PRICES.transition,
      lambda: invocations * PRICES.lambdaRequest + gbSeconds * PRICES.lambdaGbSecond,
      dynamodb: reads * PRICES.read + writes * PRICES.write,
    };
    const total = cost.stepFunctions + cost.lambda + cost.dynamodb;
    return { ...r, invocations, gbSeconds, reads, writes, requests, cost, perThousandTasks: (total / r.tasks) * 1000 };
  });
  const [a, b] = rows.slice(-2) as [(typeof rows)[number], (typeof rows)[number]];
  const d = b.tasks - a.tasks;
  const slope = (f: (r: (typeof rows)[number]) => number) => (f(b) - f(a)) / d;
  const perTask = {
    history: slope((r) => r.history),
    transitions: slope((r) => r.transitions),
    invocations: slope((r) => r.invocations),
    runTaskMs: slope((r) => r.functions.runTask?.ms ?? 0) / slope((r) => r.functions.runTask?.invocations ?? 0),
    requests: slope((r) => r.requests),
    reads: slope((r) => r.reads),
    writes: slope((r) => r.writes),
    dollarsPerThousand: (slope((r) => r.cost.stepFunctions + r.cost.lambda + r.cost.dynamodb)) * 1000,
  };
  const fixed = { history: a.history - perTask.history * a.tasks, transitions: a.transitions - perTask.transitions * a.tasks };
  const f = (n: number, digits = 2) => n.toFixed(digits);
  const lines = [
    '| tasks (2 stages) | transitions | history events | Lambda invocations | DynamoDB requests (RRU / WRU) | wall ms | $ per 1,000 tasks |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.tasks} | ${r.transitions} | ${r.history} | ${r.invocations} | ${r.requests} (${f(r.reads, 1)} / ${f(r.writes, 1)}) | ${r.wallMs} | ${f(r.perThousandTasks, 4)} |`),
    '',
    `Per added task (slope ${a.tasks} → ${b.tasks}): ${f(perTask.history)} history events, ${f(perTask.transitions)} transitions, ${f(perTask.invocations)} Lambda invocations, ` +
      `${f(perTask.requests)} DynamoDB requests (${f(perTask.reads)} RRU, ${f(perTask.writes)} WRU), runTask ${f(perTask.runTaskMs, 1)} ms.`,
    `Per issue of 2 stages with one approval: ${f(fixed.history, 0)} history events and ${f(fixed.transitions, 0)} transitions on top.`,
    `Marginal cost: $${f(perTask.dollarsPerThousand, 4)} per 1,000 tasks (targets: ≤ 8 history events per task, ≤ $0.10 per 1,000 tasks).`,
    '',
    'Per workflow function, largest run:',
    ...Object.entries(b.functions).map(
      ([fn, s]) => `  ${fn}: ${s.invocations} invocations, ${f(s.ms / Math.max(1, s.invocations), 1)} ms each, ${f(s.reads, 1)} RRU, ${f(s.writes, 1)} WRU, ${JSON.stringify(s.requests)}`,
    ),
  ];
  return { rows, perTask, fixed, text: lines.join('\n') };
}

main().catch((e: unknown) => {
  say(`bench/pipeline: cannot measure: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
