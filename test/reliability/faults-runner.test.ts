// The task runner dies mid-task, inside the real pipeline: the local Step Functions runs the
// deployed definition with the real workflow handlers, except that the runner is built by its own
// factory with a hook that throws once (a dying Lambda), after the claim, after the target
// committed and before Sluice recorded the outcome, or between two tasks of one batch (the first
// committed, its outcome not yet written). Nothing in the code under test is edited.
// The runner's own layers (claim, marker, lease) are proven in test/integration/run-task.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineExecutionName } from '../../domain/pipeline/orchestrator.js';
import { SqlChangeExecutor } from '../../functions/adapters/sql/execute.js';
import type { RunTaskHooks } from '../../functions/workflow/run-task.js';
import type { LocalStepFunctions } from '../../infra/local/stepfunctions.js';
import { recordPayloads } from '../support/capture.js';
import { startApi, type Api } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';
import { okCall, registerDatabase, waitFor, type Body } from './support/fixtures.js';
import { pipelineWithRunner } from './support/runner-pipeline.js';

const pg = postgresServer();
const DB = testDatabaseName();
/** Two more databases, for a batch of two tasks (project BATCH_P runs one task at a time: one batch). */
const BATCH_DBS = [testDatabaseName(), testDatabaseName()];
const P = 'crash';
const BATCH_P = 'crash-batch';
const DBA = 'crash-dba@example.com';
let api: Api;
let pipeline: LocalStepFunctions;
const STATEMENT_TIMEOUT_MS = 5_000;
type Point = keyof RunTaskHooks;
/** The hook point that dies on its next call, once. */
let dieAt: Point | undefined;

function dying(point: Point) {
  return () => {
    if (dieAt !== point) return;
    dieAt = undefined;
    throw Object.assign(new Error(`the runner died at ${point} (injected)`), { name: 'Lambda.Unknown' });
  };
}

beforeAll(async () => {
  await adminQuery(pg, `CREATE DATABASE "${DB}"`);
  await adminQuery(pg, 'CREATE TABLE t (id int PRIMARY KEY)', DB);
  api = await startApi();
  pipeline = await pipelineWithRunner({
    executor: new SqlChangeExecutor({ statementTimeoutMs: STATEMENT_TIMEOUT_MS }), statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    hooks: { afterClaim: dying('afterClaim'), afterCommit: dying('afterCommit'), betweenTasks: dying('betweenTasks') },
  });
  await okCall(api, 'POST', '/v1/users', { email: DBA, title: 'DBA', role: 'workspaceDBA' });
  await okCall(api, 'POST', '/v1/projects', { id: P, title: 'Crash' });
  await registerDatabase(api, { project: P, instance: 'pg', environment: 'test', server: pg, database: DB });
  await okCall(api, 'POST', '/v1/projects', { id: BATCH_P, title: 'Crash in a batch', maxParallelTasks: 1 });
  for (const [i, db] of BATCH_DBS.entries()) {
    await adminQuery(pg, `CREATE DATABASE "${db}"`);
    await adminQuery(pg, 'CREATE TABLE t (id int PRIMARY KEY)', db);
    await registerDatabase(api, { project: BATCH_P, instance: `pg-b${i}`, environment: 'test', server: pg, database: db });
  }
}, 120_000);

afterAll(async () => {
  await pipeline?.close();
  recordPayloads(pipeline?.events ?? []);
  await api?.server.close();
  await dropDatabases(pg, [DB, ...BATCH_DBS]);
});

const issue = (name: string): Promise<Body> => okCall(api, 'GET', `/v1/${name}`);
const task0 = (i: Body): Body => i.pipeline.stages[0].tasks[0];
const count = async (id: number, db = DB) => (await adminQuery<{ n: number }>(pg, `SELECT count(*)::int AS n FROM t WHERE id = ${id}`, db))[0]!.n;

/** An issue whose one task meets a runner that dies at `point`; resolves when the pipeline waits at its failure gate. */
async function crashAt(point: Point, id: number): Promise<{ name: string; task: string }> {
  dieAt = point;
  const created = await okCall(api, 'POST', `/v1/projects/${P}/issues`, { title: `Crash ${point}`, type: 'DATABASE_DATA_UPDATE', statement: `INSERT INTO t VALUES (${id})`, targets: [`instances/pg/databases/${DB}`] });
  const execution = pipelineExecutionName(created.name);
  await waitFor('the failure gate', async () => pipeline.pendingTokens().filter((t) => t.execution === execution && t.state === 'FailureGate').length, (n) => n === 1);
  expect(dieAt).toBeUndefined();
  return { name: created.name, task: task0(created).name };
}

describe.each([
  ['afterClaim', 301, 0],
  ['afterCommit', 302, 1],
] as const)('the runner dies at %s', (point, id, committed) => {
  let crashed: { name: string; task: string };

  it(`nothing ran twice: the statement committed ${committed} time(s), one task run, the stage waits at its failure gate`, async () => {
    crashed = await crashAt(point, id);

    expect(await count(id)).toBe(committed);
    const runs = (await okCall(api, 'GET', `/v1/${crashed.task}/taskRuns`)).taskRuns;
    expect(runs).toHaveLength(1);
    const i = await issue(crashed.name);
    expect(i.status).toBe('OPEN');
    expect(i.pipeline.stages[0].status).toBe('FAILED');
  }, 60_000);

  it('while it waits: the task shows RUNNING, the one its dead runner left', async () => {
    const i = await issue(crashed.name);
    expect(task0(i).status).toBe('RUNNING');
    expect(pipeline.pendingTokens().filter((t) => t.execution === pipelineExecutionName(crashed.name)).map((t) => t.state)).toEqual(['FailureGate']);
  }, 60_000);

  // Found by this test (a task stranded RUNNING could not be :run or :skipped): at the failure
  // gate a RUNNING task is one whose runner died, and :run takes it over.
  it('a user can then finish it: :run is accepted, the task ends DONE, the statement committed once, nothing left RUNNING', async () => {
    const res = await api.call('POST', `/v1/${crashed.task}:run`, { as: DBA, body: {} });
    expect(res.status, res.text).toBe(200);
    const done = await waitFor('the issue to be DONE', () => issue(crashed.name), (i) => i.status === 'DONE', 20_000);
    expect(task0(done).status).toBe('DONE');
    expect(await count(id)).toBe(1);
    const runs = (await okCall(api, 'GET', `/v1/${crashed.task}/taskRuns`)).taskRuns;
    expect(runs.map((r: Body) => r.status)).toEqual(['FAILED', 'DONE']);
  }, 60_000);
});

describe('the runner dies between two tasks of one batch', () => {
  const id = 401;
  let name: string;
  let execution: string;
  const atGate = () => waitFor('the failure gate', async () => pipeline.pendingTokens().filter((t) => t.execution === execution && t.state === 'FailureGate').length, (n) => n === 1);

  it('nothing ran twice: the first task committed once, the second not at all, one run each, both held RUNNING, the stage waits at its failure gate', async () => {
    dieAt = 'betweenTasks';
    const created = await okCall(api, 'POST', `/v1/projects/${BATCH_P}/issues`, {
      title: 'Crash between two tasks', type: 'DATABASE_DATA_UPDATE', statement: `INSERT INTO t VALUES (${id})`, targets: BATCH_DBS.map((db, i) => `instances/pg-b${i}/databases/${db}`),
    });
    name = created.name;
    execution = pipelineExecutionName(name);
    await atGate();

    expect(dieAt).toBeUndefined();
    const counts = await Promise.all(BATCH_DBS.map((db) => count(id, db)));
    expect([...counts].sort()).toEqual([0, 1]);
    const i = await issue(name);
    const tasks: Body[] = i.pipeline.stages[0].tasks;
    expect(tasks.map((x) => x.status)).toEqual(['RUNNING', 'RUNNING']);
    for (const task of tasks) expect((await okCall(api, 'GET', `/v1/${task.name}/taskRuns`)).taskRuns).toHaveLength(1);
    expect(i.pipeline.stages[0].status).toBe('FAILED');
    // The batch invoke crashed: its tasks went the per-task way, and each answered RUNNING (held).
    expect(pipeline.statesEntered(execution).filter((s) => s.state === 'BatchErrored')).toHaveLength(1);
  }, 60_000);

  it(':run of each task finishes them: the one that committed finds its marker and runs nothing, the other runs once', async () => {
    const tasks: Body[] = (await issue(name)).pipeline.stages[0].tasks;
    for (const [k, task] of tasks.entries()) {
      const res = await api.call('POST', `/v1/${task.name}:run`, { as: DBA, body: {} });
      expect(res.status, res.text).toBe(200);
      if (k < tasks.length - 1) await waitFor('the task to be DONE and the gate back', async () => ({ task: (await issue(name)).pipeline.stages[0].tasks[k].status, gate: pipeline.pendingTokens().filter((t) => t.execution === execution && t.state === 'FailureGate').length }), (v) => v.task === 'DONE' && v.gate === 1, 20_000);
    }
    const done = await waitFor('the issue to be DONE', () => issue(name), (i) => i.status === 'DONE', 20_000);

    expect(done.pipeline.stages[0].tasks.map((x: Body) => x.status)).toEqual(['DONE', 'DONE']);
    expect(await Promise.all(BATCH_DBS.map((db) => count(id, db)))).toEqual([1, 1]);
    const details: string[] = [];
    for (const task of tasks) {
      const runs = (await okCall(api, 'GET', `/v1/${task.name}/taskRuns`)).taskRuns;
      expect(runs.map((r: Body) => r.status)).toEqual(['FAILED', 'DONE']);
      details.push(runs[1].detail);
    }
    expect(details.filter((d) => /already applied/.test(d))).toHaveLength(1);
  }, 60_000);
});
