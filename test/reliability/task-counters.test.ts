// Stage task counters (adapters/dynamo/task-counts.ts) against the tasks themselves: after every
// kind of status change a pipeline makes (runs, a failure and its retry, a skip, a cancel of
// running tasks, duplicate deliveries of one task at once, a batch change of 1,200 tasks at
// 40 batches at a time) the counters equal the stored tasks counted one by one. The pipeline is
// the deployed definition on the local Step Functions with the real workflow handlers and the
// runner as the Lambda wires it; GET of a large issue is counted in DynamoDB requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeExecutor, ChangeOutcome, ChangeRequest } from '../../domain/pipeline/task-run.js';
import type { TaskCounts } from '../../domain/pipeline/model.js';
import { pipelineExecutionName, type RunTaskInput, type RunTaskOutput } from '../../domain/pipeline/orchestrator.js';
import { DynamoIssueRepo } from '../../functions/adapters/dynamo/issues.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import type { DynamoStore } from '../../functions/adapters/dynamo/store.js';
import { SqlChangeExecutor } from '../../functions/adapters/sql/execute.js';
import type { ClaimedRun } from '../../functions/workflow/run-task.js';
import type { LocalStepFunctions } from '../../infra/local/stepfunctions.js';
import { startApi, type Api } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';
import { countRequests, type RequestCounter } from '../support/requests.js';
import { okCall, registerDatabase, times, waitFor, type Body } from './support/fixtures.js';
import { pipelineWithRunner, runnerWith } from './support/runner-pipeline.js';

const pg = postgresServer();
const DBS = [testDatabaseName(), testDatabaseName(), testDatabaseName()];
const TARGETS = DBS.map((_, i) => `instances/pg${i + 1}/databases/${DBS[i]}`);
const P = 'counted';
const DBA = 'counted-dba@example.com';
const STATEMENT_TIMEOUT_MS = 5_000;
const TENANTS = { test: 1_000, prod: 200 };

let api: Api;
let pipeline: LocalStepFunctions;
let run: (input: RunTaskInput) => Promise<RunTaskOutput>;
let store: DynamoStore;
let reads: RequestCounter;

/** Claimed runs of this issue number wait here until released (a task held RUNNING). */
let hold: { issue: number; release: Promise<void>; held: number } | undefined;

/**
 * The tenant databases of the batch do not exist: their changes go to this executor, which fails
 * every 100th tenant's first attempt and applies the rest (what is under test is the store's
 * transactions at a batch's concurrency, not 1,200 PostgreSQL databases: test/e2e/batch-*.test.ts).
 */
const real = new SqlChangeExecutor({ statementTimeoutMs: STATEMENT_TIMEOUT_MS });
const tenantOutcome = (change: ChangeRequest): ChangeOutcome => {
  const n = Number(change.database.slice('tenant_'.length));
  return n <= TENANTS.test && n % 100 === 0 && change.attempt === 1 ? { status: 'FAILED', error: 'refused (this test)' } : { status: 'DONE', alreadyApplied: false, detail: 'applied (this test)' };
};
const executor: ChangeExecutor = {
  apply: async (target, change) => (change.database.startsWith('tenant_') ? tenantOutcome(change) : real.apply(target, change)),
  createDatabase: (target, change) => real.createDatabase(target, change),
};

beforeAll(async () => {
  for (const db of DBS) {
    await adminQuery(pg, `CREATE DATABASE "${db}"`);
    await adminQuery(pg, 'CREATE TABLE t (id int PRIMARY KEY)', db);
  }
  api = await startApi();
  const options = {
    executor: executor as SqlChangeExecutor, statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    hooks: {
      afterClaim: async (claimed: ClaimedRun) => {
        if (hold?.issue !== claimed.task.issue) return;
        hold.held += 1;
        await hold.release;
      },
    },
  };
  run = await runnerWith(options);
  pipeline = await pipelineWithRunner(options, run);
  const wiring = await import('../../functions/shared/wiring.js');
  store = wiring.store;
  reads = countRequests(store);
  await okCall(api, 'POST', '/v1/users', { email: DBA, title: 'DBA', role: 'workspaceDBA' });
  await okCall(api, 'POST', '/v1/projects', { id: P, title: 'Counted', maxParallelTasks: 40 });
  for (const [i, db] of DBS.entries()) await registerDatabase(api, { project: P, instance: `pg${i + 1}`, environment: 'test', server: pg, database: db });
}, 120_000);

afterAll(async () => {
  await pipeline?.close();
  await api?.server.close();
  await dropDatabases(pg, DBS);
});

const numberOf = (name: string): number => Number(name.slice(name.lastIndexOf('/') + 1));
const issue = (name: string): Promise<Body> => okCall(api, 'GET', `/v1/${name}`);
const create = (title: string, statement: string, extra: Record<string, unknown> = {}): Promise<Body> =>
  okCall(api, 'POST', `/v1/projects/${P}/issues`, { title, type: 'DATABASE_SCHEMA_UPDATE', statement, targets: TARGETS, ...extra });

/** Per stage, what its counters say (the read GET, Advance and StageResult make). */
async function counters(name: string): Promise<Record<string, TaskCounts>> {
  const view = await new DynamoIssueRepo(store).view(P, numberOf(name), 0);
  return Object.fromEntries(Object.entries(view!.stageTasks).map(([stage, s]) => [stage, s.counts]));
}

/** Per stage, the stored tasks counted one by one. */
async function stored(name: string): Promise<Record<string, TaskCounts>> {
  const out: Record<string, Record<string, number>> = {};
  for (const t of await store.queryAll(keys.issuePartition(P, numberOf(name)), keys.taskPrefix)) {
    const stage = (out[String(t.stage)] ??= {});
    stage[String(t.status)] = (stage[String(t.status)] ?? 0) + 1;
  }
  return out;
}

/** Waits for the execution's next token at `state` other than `seen`. */
async function gate(name: string, state: string, seen?: string): Promise<string> {
  const execution = pipelineExecutionName(name);
  const tokens = await waitFor(`${state} of ${name}`, async () => pipeline.pendingTokens().filter((t) => t.execution === execution && t.state === state && t.token !== seen), (ts) => ts.length === 1, 120_000);
  return tokens[0]!.token;
}

/** The counters, and the stored tasks counted one by one, are both `expected`. */
async function expectCounts(name: string, expected: Record<string, TaskCounts>): Promise<void> {
  expect(await counters(name)).toEqual(expected);
  expect(await stored(name)).toEqual(expected);
}

/** An issue creating `table` whose task on `db` fails (the table is there already), waiting at its failure gate; its failed task's name. */
async function failingOn(db: string, table: string): Promise<{ name: string; failed: string }> {
  await adminQuery(pg, `CREATE TABLE ${table} (id int)`, db);
  const { name } = await create(`Fails on ${table}`, `CREATE TABLE ${table} (id int)`);
  await gate(name, 'FailureGate');
  const failed = (await issue(name)).pipeline.stages[0].tasks.find((t: Body) => t.status === 'FAILED');
  return { name, failed: failed.name };
}

/** `:run` or `:skip` of a failed task, once its stage's failure gate has stored its token (the gate's token shows in the runner a moment before). */
async function resolve(task: string, action: 'run' | 'skip', body: unknown): Promise<void> {
  const res = await waitFor(`${task}:${action} to be taken`, () => api.call('POST', `/v1/${task}:${action}`, { body }), (r) => !/not waiting on its failed tasks yet/.test(r.text));
  expect(res.status, res.text).toBe(200);
}

const done = (name: string): Promise<Body> => waitFor(`${name} to be DONE`, () => issue(name), (i) => i.status === 'DONE', 60_000);

describe('stage task counters equal the stored tasks', () => {
  it('after a normal run: every task DONE', async () => {
    const created = await create('Normal', 'CREATE TABLE normal_run (id int)');

    await done(created.name);

    await expectCounts(created.name, { test: { DONE: 3 } });
  }, 60_000);

  it('after a failure and its retry: FAILED while it waits, DONE after :run', async () => {
    // Arrange: the third database has the table already, so its task fails.
    const { name, failed } = await failingOn(DBS[2]!, 'retried');
    await expectCounts(name, { test: { DONE: 2, FAILED: 1 } });

    // Act
    await adminQuery(pg, 'DROP TABLE retried', DBS[2]);
    await resolve(failed, 'run', {});
    await done(name);

    // Assess
    await expectCounts(name, { test: { DONE: 3 } });
  }, 60_000);

  it('after a skip: the failed task SKIPPED, the issue DONE', async () => {
    const { name, failed } = await failingOn(DBS[0]!, 'skipped');

    await resolve(failed, 'skip', { reason: 'there already' });
    await done(name);

    await expectCounts(name, { test: { DONE: 2, SKIPPED: 1 } });
  }, 60_000);

  it('after a cancel of running tasks: CANCELED, and their runners finishing late move nothing', async () => {
    // Arrange: the three runs held right after their claims.
    let release!: () => void;
    const created = await create('Cancel', 'CREATE TABLE canceled_run (id int)');
    hold = { issue: numberOf(created.name), release: new Promise((r) => (release = r)), held: 0 };
    await waitFor('three held runs', async () => hold!.held, (n) => n === 3);
    expect(await counters(created.name)).toEqual({ test: { RUNNING: 3 } });

    // Act
    await okCall(api, 'POST', `/v1/${created.name}:cancel`, {});
    release();
    const runsOf = async () => (await Promise.all([1, 2, 3].map((t) => okCall(api, 'GET', `/v1/${created.name}/stages/test/tasks/${t}/taskRuns`)))).flatMap((r) => r.taskRuns);
    await waitFor('the held runs to end', runsOf, (rs) => rs.length === 3 && rs.every((r: Body) => r.status !== 'RUNNING'));
    hold = undefined;

    // Assess
    await expectCounts(created.name, { test: { CANCELED: 3 } });
    expect((await issue(created.name)).pipeline.stages[0].taskStatusCounts).toEqual({ CANCELED: 3 });
  }, 60_000);

  it('after 8 concurrent deliveries of each task: each statement ran once and each count moved once', async () => {
    // Arrange: a runTime far ahead keeps the pipeline from running the tasks itself.
    const created = await create('Duplicates', 'CREATE TABLE delivered (id int)', { runTime: '2099-01-01T00:00:00Z' });
    expect(await counters(created.name)).toEqual({ test: { NOT_STARTED: 3 } });

    // Act
    const out = await times(24, (i) => run({ issue: created.name, task: String((i % 3) + 1) }));

    // Assess: a second run of CREATE TABLE would have failed, so DONE everywhere means once.
    expect(out.every((o) => o.status === 'DONE' || o.status === 'RUNNING')).toBe(true);
    await expectCounts(created.name, { test: { DONE: 3 } });
    for (const t of [1, 2, 3]) {
      const runs = (await okCall(api, 'GET', `/v1/${created.name}/stages/test/tasks/${t}/taskRuns`)).taskRuns;
      expect(runs.map((r: Body) => r.status)).toEqual(['DONE']);
    }
    // Its execution may still wait for the runTime (or have found nothing left to run): end it.
    await api.call('POST', `/v1/${created.name}:cancel`, { body: {} });
  }, 60_000);
});

describe('a batch change of 1,200 tasks, 40 batches at a time', () => {
  let name: string;
  const tenant = (i: number) => `tenant_${String(i).padStart(5, '0')}`;

  beforeAll(async () => {
    const { deps } = await import('../../functions/shared/wiring.js');
    const t = new Date().toISOString();
    const targets: string[] = [];
    let next = 1;
    for (const [env, n] of Object.entries(TENANTS)) {
      const instance = `fleet-${env}`;
      // A real data source (the runner reads it); the tenants' changes go to the test's executor.
      await registerDatabase(api, { project: P, instance, environment: env, server: pg, database: DBS[0]! });
      const names = Array.from({ length: n }, () => tenant(next++));
      await deps.databases.applySync(instance, {
        time: t, setState: [], stamp: [], addTables: [], removeTables: [],
        create: names.map((db) => ({ instance, name: db, project: P, labels: {}, schemaVersion: '', syncState: 'OK', createTime: t, updateTime: t, version: 1 })),
      });
      targets.push(...names.map((db) => `instances/${instance}/databases/${db}`));
    }
    name = (await okCall(api, 'POST', `/v1/projects/${P}/issues`, { title: 'Batch', type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE t ADD COLUMN c int', targets })).name;
  }, 120_000);

  it('stage test ran: 990 DONE, 10 FAILED; prod untouched; GET shows the counts', async () => {
    await gate(name, 'FailureGate');

    await expectCounts(name, { test: { DONE: 990, FAILED: 10 }, prod: { NOT_STARTED: 200 } });
    const shown = await issue(name);
    expect(shown.pipeline.stages.map((s: Body) => [s.taskCount, s.taskStatusCounts, s.tasks])).toEqual([
      [1000, { DONE: 990, FAILED: 10 }, undefined],
      [200, { NOT_STARTED: 200 }, undefined],
    ]);
  }, 180_000);

  it('GET of the 1,200-task issue reads a handful of items in a bounded number of requests', async () => {
    reads.begin();
    await issue(name);
    const sent = reads.requests();
    console.log(`GET of a 1,200-task issue: ${sent.length} DynamoDB requests, ${sent.reduce((n, r) => n + r.items, 0)} items: ${sent.map((r) => `${r.command}(${r.items})`).join(' ')}`);

    // The caller and the project (access), the issue with its counters (16 shards a stage), its
    // stages: not one of its 1,200 tasks, their runs or their activities.
    expect(sent.length).toBeLessThanOrEqual(6);
    expect(sent.reduce((n, r) => n + r.items, 0)).toBeLessThanOrEqual(50);
  });

  it('one :run and nine :skip, then the approved prod stage: every count moved once', async () => {
    const failed = (await okCall(api, 'GET', `/v1/${name}/stages/test/tasks?filter=${encodeURIComponent('status == "FAILED"')}`)).tasks.map((t: Body) => t.name);
    expect(failed).toHaveLength(10);
    let token = await gate(name, 'FailureGate');
    await resolve(failed[0], 'run', {});
    for (const task of failed.slice(1)) {
      token = await gate(name, 'FailureGate', token);
      await resolve(task, 'skip', { reason: 'not this one' });
    }
    await gate(name, 'ApprovalGate');
    // The gate stores its token a moment after it shows in the runner: approve when it takes.
    await waitFor('the approval to be taken', async () => (await api.call('POST', `/v1/${name}/stages/prod:approve`, { as: DBA, body: {} })).status, (st) => st === 200);
    await waitFor(`${name} to be DONE`, () => issue(name), (i) => i.status === 'DONE', 180_000);

    await expectCounts(name, { test: { DONE: 991, SKIPPED: 9 }, prod: { DONE: 200 } });
  }, 300_000);
});
