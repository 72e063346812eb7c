// The task runner dies mid-task, inside the real pipeline: the local Step Functions runs the
// deployed definition with the real workflow handlers, except that the runner is built by its own
// factory with a hook that throws once (a dying Lambda), after the claim or after the target
// committed and before Sluice recorded the outcome. Nothing in the code under test is edited.
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
const P = 'crash';
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
    hooks: { afterClaim: dying('afterClaim'), afterCommit: dying('afterCommit') },
  });
  await okCall(api, 'POST', '/v1/users', { email: DBA, title: 'DBA', role: 'workspaceDBA' });
  await okCall(api, 'POST', '/v1/projects', { id: P, title: 'Crash' });
  await registerDatabase(api, { project: P, instance: 'pg', environment: 'test', server: pg, database: DB });
}, 120_000);

afterAll(async () => {
  await pipeline?.close();
  recordPayloads(pipeline?.events ?? []);
  await api?.server.close();
  await dropDatabases(pg, [DB]);
});

const issue = (name: string): Promise<Body> => okCall(api, 'GET', `/v1/${name}`);
const task0 = (i: Body): Body => i.pipeline.stages[0].tasks[0];
const count = async (id: number) => (await adminQuery<{ n: number }>(pg, `SELECT count(*)::int AS n FROM t WHERE id = ${id}`, DB))[0]!.n;

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
