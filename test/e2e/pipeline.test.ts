// Issues end to end over HTTP on the local runtime: the deployed state machine definition run by
// the local runner (test/support/http.ts), the real workflow Lambdas, real statements on the
// run's PostgreSQL (and MariaDB when one answers), real sync. The admin writes the changes; a
// workspaceDBA approves, retries and skips them (nobody approves their own issue).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineExecutionName } from '../../domain/pipeline/orchestrator.js';
import { setOrchestrator } from '../../functions/shared/orchestrator.js';
import { localPipeline, resumeOpenIssues, synthesizePipeline } from '../../infra/local/pipeline.js';
import { startApi, waitFor, type Api, type CallResult, syncInstance } from '../support/http.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName, type SqlServer } from '../support/postgres.js';

const DBA = 'dba@example.com';
// Unique per run: MariaDB keeps its exactly-once markers server-wide, keyed by issue and task.
const PROJECT = `shop-${Date.now().toString(36)}`;
let api: Api;
const pg: SqlServer = postgresServer();
/** Databases made for this file: one in the test environment (two for the failure case), one in prod. */
const DB = { test: testDatabaseName(), test2: testDatabaseName(), prod: testDatabaseName(), created: testDatabaseName() };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};

const getIssue = async (name: string): Promise<Body> => ok(await api.call('GET', `/v1/${name}`));
const stage = (issue: Body, env: string): Body => issue.pipeline.stages.find((s: Body) => s.environment === `environments/${env}`);
const tasksOf = (issue: Body): Body[] => issue.pipeline.stages.flatMap((s: Body) => s.tasks);
const waitIssue = (name: string, what: string, done: (issue: Body) => boolean, ms?: number) => waitFor(what, () => getIssue(name), done, ms);
const execution = (issue: string) => pipelineExecutionName(issue);

async function createIssue(body: Record<string, unknown>): Promise<Body> {
  return ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { body: { title: 'A change', ...body } }), 201);
}
const target = (instance: string, db: string) => `instances/${instance}/databases/${db}`;

async function columns(server: SqlServer, db: string, table: string): Promise<string[]> {
  const rows = await adminQuery<{ column_name: string }>(server, `SELECT column_name FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`, db);
  return rows.map((r) => r.column_name);
}

async function registerInstance(id: string, environment: string, server: SqlServer, engine: 'POSTGRES' | 'MYSQL', databases: string[]): Promise<void> {
  ok(
    await api.call('POST', '/v1/instances', {
      body: { id, title: id, engine, environment: `environments/${environment}`, dataSources: [{ type: 'ADMIN', host: server.host, port: server.port, username: server.username, ...(server.password ? { password: server.password } : {}) }] },
    }),
    201,
  );
  await syncInstance(api, id);
  for (const db of databases) ok(await api.call('PATCH', `/v1/instances/${id}/databases/${db}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
}

beforeAll(async () => {
  for (const db of [DB.test, DB.test2, DB.prod]) {
    await adminQuery(pg, `CREATE DATABASE "${db}"`);
    await adminQuery(pg, 'CREATE TABLE users (id int PRIMARY KEY, name text)', db);
  }
  api = await startApi();
  ok(await api.call('POST', '/v1/users', { body: { email: DBA, title: 'DBA', role: 'workspaceDBA' } }), 201);
  // Tables made by hand here are the test's setup, not drift (test/e2e/drift.test.ts covers drift).
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Shop', allowDriftedRollout: true } }), 201);
  await registerInstance('pg-test', 'test', pg, 'POSTGRES', [DB.test, DB.test2]);
  await registerInstance('pg-prod', 'prod', pg, 'POSTGRES', [DB.prod]);
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, Object.values(DB));
});

describe('pipelines on PostgreSQL', () => {
  it('a schema change runs on test, waits for approval, then runs on prod, recorded in change history', async () => {
    const created = await createIssue({ type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE users ADD COLUMN email text', targets: [target('pg-prod', DB.prod), target('pg-test', DB.test)] });
    expect(created.pipeline.stages.map((s: Body) => s.environment)).toEqual(['environments/test', 'environments/prod']);

    const waiting = await waitIssue(created.name, 'prod to wait for approval', (i) => stage(i, 'prod').status === 'PENDING_APPROVAL');
    expect(stage(waiting, 'test').status).toBe('DONE');
    // No approval rules: prod's own requireApproval asks for one step, any releaser role approves it.
    expect(stage(waiting, 'prod').approval).toMatchObject({ status: 'PENDING', steps: [{ status: 'PENDING' }], waitingFor: ['projectOwner', 'projectReleaser', 'workspaceDBA', 'workspaceAdmin'] });
    expect(await columns(pg, DB.test, 'users')).toContain('email');
    expect(await columns(pg, DB.prod, 'users')).not.toContain('email');
    // The creator may not approve their own change.
    expect((await api.call('POST', `/v1/${stage(waiting, 'prod').name}:approve`, { body: {} })).status).toBe(403);

    ok(await api.call('POST', `/v1/${stage(waiting, 'prod').name}:approve`, { as: DBA, body: {} }));
    const done = await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');
    expect(tasksOf(done).map((t: Body) => t.status)).toEqual(['DONE', 'DONE']);
    expect(stage(done, 'prod').approval).toMatchObject({ status: 'APPROVED', steps: [{ status: 'APPROVED', approver: expect.stringMatching(/^users\/\d+$/) }] });
    expect(await columns(pg, DB.prod, 'users')).toContain('email');
    expect((await api.pipeline.describeExecution(execution(created.name)))?.status).toBe('SUCCEEDED');

    for (const [instance, db] of [['pg-test', DB.test], ['pg-prod', DB.prod]] as const) {
      const history = ok(await api.call('GET', `/v1/instances/${instance}/databases/${db}/changeHistories`));
      expect(history.changeHistories[0]).toMatchObject({ status: 'DONE', type: 'MIGRATE', statement: 'ALTER TABLE users ADD COLUMN email text', issue: created.name });
      // The exactly-once marker committed with the statement, in the target database.
      expect(await adminQuery(pg, 'SELECT count(*)::int AS n FROM sluice_history.applied', db)).toEqual([{ n: 1 }]);
    }
    const activities = ok(await api.call('GET', `/v1/${created.name}/activities`)).activities.map((a: Body) => a.type);
    expect(activities[0]).toMatch(/CREATE/);
    expect(activities.join(' ')).toMatch(/APPROVE/);
  });

  it('a data update reports its affected rows', async () => {
    await adminQuery(pg, "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bo'), (3, 'cy')", DB.test2);
    const created = await createIssue({ type: 'DATABASE_DATA_UPDATE', statement: "UPDATE users SET name = upper(name) WHERE id <= 2", targets: [target('pg-test', DB.test2)] });
    const done = await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');
    const task = tasksOf(done)[0];
    expect(task.latestTaskRun).toMatchObject({ status: 'DONE', result: { affectedRows: 2 } });
    expect(await adminQuery(pg, 'SELECT name FROM users ORDER BY id', DB.test2)).toEqual([{ name: 'ANN' }, { name: 'BO' }, { name: 'cy' }]);
    const history = ok(await api.call('GET', `/v1/instances/pg-test/databases/${DB.test2}/changeHistories`));
    expect(history.changeHistories[0]).toMatchObject({ status: 'DONE', type: 'DATA', issue: created.name });
  });

  it('a create-database issue creates the database and registers it in the project', async () => {
    const created = await createIssue({ type: 'DATABASE_CREATE', instance: 'instances/pg-test', databaseName: DB.created });
    await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');
    expect(await adminQuery(pg, `SELECT datname FROM pg_database WHERE datname = '${DB.created}'`)).toEqual([{ datname: DB.created }]);
    const db = ok(await api.call('GET', `/v1/instances/pg-test/databases/${DB.created}`));
    expect(db.project).toBe(`projects/${PROJECT}`);
  });

  it('a failing statement pauses the pipeline; :run retries it, :skip skips the other, and the pipeline goes on', async () => {
    const statement = 'INSERT INTO audit (what) VALUES (1)';
    // Prior backup off: with it, the plan check refuses an INSERT into a table it cannot find before
    // anything runs (plan-checks.test.ts); this is the runner's own failure path.
    const created = await createIssue({ type: 'DATABASE_DATA_UPDATE', statement, enablePriorBackup: false, targets: [target('pg-test', DB.test), target('pg-test', DB.test2)] });
    const failed = await waitIssue(created.name, 'both tasks to fail', (i) => tasksOf(i).every((t: Body) => t.status === 'FAILED'));
    expect(failed.status).toBe('OPEN');
    expect(tasksOf(failed)[0].latestTaskRun).toMatchObject({ status: 'FAILED', detail: expect.stringMatching(/audit/) });
    const [first, second] = tasksOf(failed).sort((a: Body, b: Body) => (a.database < b.database ? -1 : 1)) as Body[];
    const retryDb = first.database.endsWith(DB.test) ? DB.test : DB.test2;
    await adminQuery(pg, 'CREATE TABLE audit (what int PRIMARY KEY)', retryDb);

    // :run is refused until the failure gate holds its token, so try until it takes.
    await waitFor('the :run to be accepted', async () => (await api.call('POST', `/v1/${first.name}:run`, { as: DBA, body: {} })).status, (s) => s === 200);
    const retried = await waitIssue(created.name, 'the retried task to be DONE', (i) => tasksOf(i).find((t: Body) => t.name === first.name).status === 'DONE');
    expect(tasksOf(retried).find((t: Body) => t.name === second.name).status).toBe('FAILED');
    expect(retried.status).toBe('OPEN');
    const runs = ok(await api.call('GET', `/v1/${first.name}/taskRuns`)).taskRuns;
    expect(runs.map((r: Body) => [r.attempt, r.status])).toEqual(expect.arrayContaining([[1, 'FAILED'], [2, 'DONE']]));
    expect(await adminQuery(pg, 'SELECT what FROM audit', retryDb)).toEqual([{ what: 1 }]);

    await waitFor('the :skip to be accepted', async () => (await api.call('POST', `/v1/${second.name}:skip`, { as: DBA, body: { reason: 'not needed there' } })).status, (s) => s === 200);
    const done = await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');
    expect(tasksOf(done).find((t: Body) => t.name === second.name).status).toBe('SKIPPED');
    // A stage whose tasks are all DONE or SKIPPED is DONE, like its issue.
    expect(stage(done, 'test').status).toBe('DONE');
    expect((await api.pipeline.waitForExecution(execution(created.name))).status).toBe('SUCCEEDED');
  });

  it('a stage whose only failed task is skipped is DONE, and the next stage waits for approval', async () => {
    const created = await createIssue({ type: 'DATABASE_DATA_UPDATE', statement: 'INSERT INTO missing_table (what) VALUES (1)', enablePriorBackup: false, targets: [target('pg-test', DB.test), target('pg-prod', DB.prod)] });
    const failed = await waitIssue(created.name, 'the test stage to fail', (i) => stage(i, 'test').status === 'FAILED');
    const task = stage(failed, 'test').tasks[0];
    await waitFor('the :skip to be accepted', async () => (await api.call('POST', `/v1/${task.name}:skip`, { as: DBA, body: { reason: 'not on test' } })).status, (s) => s === 200);

    const next = await waitIssue(created.name, 'prod to wait for approval', (i) => stage(i, 'prod').status === 'PENDING_APPROVAL');
    expect(next.status).toBe('OPEN');
    expect(stage(next, 'test').tasks[0].status).toBe('SKIPPED');
    expect(stage(next, 'test').status).toBe('DONE');
    ok(await api.call('POST', `/v1/${created.name}:cancel`, { body: {} }));
  });

  it('a scheduled issue starts no task before its runTime', async () => {
    const runTime = new Date(Math.ceil((Date.now() + 3_000) / 1000) * 1000);
    const created = await createIssue({
      type: 'DATABASE_DATA_UPDATE',
      statement: "INSERT INTO users (id, name) VALUES (100, 'scheduled')",
      targets: [target('pg-test', DB.test)],
      runTime: runTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const early = await getIssue(created.name);
    expect(['NOT_STARTED', 'PENDING']).toContain(tasksOf(early)[0].status);
    expect(await adminQuery(pg, 'SELECT count(*)::int AS n FROM users WHERE id = 100', DB.test)).toEqual([{ n: 0 }]);

    const done = await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');
    const run = tasksOf(done)[0].latestTaskRun;
    expect(Date.parse(run.startTime)).toBeGreaterThanOrEqual(runTime.getTime());
    expect(await adminQuery(pg, 'SELECT count(*)::int AS n FROM users WHERE id = 100', DB.test)).toEqual([{ n: 1 }]);
  });

  it('cancel while waiting for approval stops the execution and cancels the unfinished tasks', async () => {
    const created = await createIssue({ type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE users ADD COLUMN canceled_col int', targets: [target('pg-test', DB.test), target('pg-prod', DB.prod)] });
    await waitIssue(created.name, 'prod to wait for approval', (i) => stage(i, 'prod').status === 'PENDING_APPROVAL');

    ok(await api.call('POST', `/v1/${created.name}:cancel`, { body: {} }));
    const canceled = await getIssue(created.name);
    expect(canceled.status).toBe('CANCELED');
    expect(stage(canceled, 'test').tasks[0].status).toBe('DONE');
    expect(stage(canceled, 'prod').tasks[0].status).toBe('CANCELED');
    expect((await api.pipeline.waitForExecution(execution(created.name))).status).toBe('ABORTED');
    expect(api.pipeline.pendingTokens().filter((t) => t.execution === execution(created.name))).toEqual([]);
    expect(await columns(pg, DB.prod, 'users')).not.toContain('canceled_col');
    // Nothing waits any more: an approval now is a transition not allowed (API.md: 400 FAILED_PRECONDITION).
    const late = await api.call('POST', `/v1/${stage(canceled, 'prod').name}:approve`, { as: DBA, body: {} });
    expect(late.status, late.text).toBe(400);
    expect(late.json.error).toEqual({ code: 400, status: 'FAILED_PRECONDITION', message: `${created.name} is CANCELED`, details: [] });
    expect(stage(await getIssue(created.name), 'prod').approval.status).not.toBe('APPROVED');
  });

  it('of concurrent approvals exactly one succeeds, and the execution resumes once', async () => {
    const created = await createIssue({ type: 'DATABASE_DATA_UPDATE', statement: "INSERT INTO users (id, name) VALUES (200, 'once')", targets: [target('pg-test', DB.test), target('pg-prod', DB.prod)] });
    const waiting = await waitIssue(created.name, 'prod to wait for approval', (i) => stage(i, 'prod').status === 'PENDING_APPROVAL');
    const approvers = [DBA, 'admin2@example.com', 'dba2@example.com'];
    for (const email of approvers.slice(1)) ok(await api.call('POST', '/v1/users', { body: { email, role: email.startsWith('admin') ? 'workspaceAdmin' : 'workspaceDBA' } }), 201);

    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => api.call('POST', `/v1/${stage(waiting, 'prod').name}:approve`, { as: approvers[i % approvers.length]!, body: {} })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    for (const s of statuses.filter((x) => x !== 200)) expect([400, 409]).toContain(s);

    await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');
    expect((await api.pipeline.waitForExecution(execution(created.name))).status).toBe('SUCCEEDED');
    // The gate was left once, and the prod stage's Map ran once, with one run of its task.
    const entered = api.pipeline.statesEntered(execution(created.name)).map((s) => s.state);
    expect(entered.filter((s) => s === 'ApprovalGate')).toHaveLength(1);
    expect(entered.filter((s) => s === 'RunStage')).toHaveLength(2);
    expect(entered.filter((s) => s === 'RunTask')).toHaveLength(2);
    expect(await adminQuery(pg, 'SELECT count(*)::int AS n FROM users WHERE id = 200', DB.prod)).toEqual([{ n: 1 }]);
  });
});

const maria = mysqlServer();
if (!maria) process.stderr.write('MariaDB pipeline case of test/e2e/pipeline.test.ts skipped: no MariaDB (set SLUICE_TEST_MYSQL)\n');

describe.skipIf(!maria)('pipelines on MariaDB', () => {
  const [testDb, prodDb] = [`sluice_e2e_${Date.now().toString(36)}_t`, `sluice_e2e_${Date.now().toString(36)}_p`];
  beforeAll(async () => {
    for (const db of [testDb, prodDb]) {
      await mysqlQuery(maria!, `CREATE DATABASE \`${db}\``);
      await mysqlQuery(maria!, `CREATE TABLE \`${db}\`.users (id int PRIMARY KEY, name text)`);
    }
    await registerInstance('my-test', 'test', maria!, 'MYSQL', [testDb]);
    await registerInstance('my-prod', 'prod', maria!, 'MYSQL', [prodDb]);
  });
  afterAll(async () => {
    for (const db of [testDb, prodDb]) await mysqlQuery(maria!, `DROP DATABASE IF EXISTS \`${db}\``);
  });

  it('a schema change runs on test, waits for approval, then runs on prod', async () => {
    const cols = async (db: string) =>
      (await mysqlQuery<{ c: string }>(maria!, 'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ?', [db, 'users'])).map((r) => r.c);
    const created = await createIssue({ type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE users ADD COLUMN email text', targets: [target('my-test', testDb), target('my-prod', prodDb)] });
    const waiting = await waitIssue(created.name, 'prod to wait for approval', (i) => stage(i, 'prod').status === 'PENDING_APPROVAL');
    expect(await cols(testDb)).toContain('email');
    expect(await cols(prodDb)).not.toContain('email');
    ok(await api.call('POST', `/v1/${stage(waiting, 'prod').name}:approve`, { as: DBA, body: {} }));
    await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');
    expect(await cols(prodDb)).toContain('email');
    const history = ok(await api.call('GET', `/v1/instances/my-prod/databases/${prodDb}/changeHistories`));
    expect(history.changeHistories[0]).toMatchObject({ status: 'DONE', type: 'MIGRATE', issue: created.name });
  });
});

describe('a restart of the local runtime', () => {
  it('resumes the OPEN issues: the gate waits again with a fresh token, and nothing runs twice', async () => {
    const created = await createIssue({ type: 'DATABASE_DATA_UPDATE', statement: "INSERT INTO users (id, name) VALUES (300, 'resumed')", targets: [target('pg-test', DB.test), target('pg-prod', DB.prod)] });
    await waitIssue(created.name, 'prod to wait for approval', (i) => stage(i, 'prod').status === 'PENDING_APPROVAL');
    // Shutdown: the executions end with the process, their tokens with them.
    await api.pipeline.close();
    const restarted = localPipeline({ synthesized: synthesizePipeline() });
    setOrchestrator(restarted);
    try {
      expect(await resumeOpenIssues(api.table.store, restarted)).toContain(created.name);
      await waitFor('the new approval gate', async () => restarted.pendingTokens().filter((t) => t.execution === execution(created.name)).length, (n) => n === 1);
      const waiting = await getIssue(created.name);
      ok(await api.call('POST', `/v1/${stage(waiting, 'prod').name}:approve`, { as: DBA, body: {} }));
      const done = await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');
      expect(tasksOf(done).map((t: Body) => [t.status, t.latestTaskRun.attempt])).toEqual([['DONE', 1], ['DONE', 1]]);
      expect(await adminQuery(pg, 'SELECT count(*)::int AS n FROM users WHERE id = 300', DB.test)).toEqual([{ n: 1 }]);
      expect(await adminQuery(pg, 'SELECT count(*)::int AS n FROM users WHERE id = 300', DB.prod)).toEqual([{ n: 1 }]);
      // Nothing left to resume.
      expect(await resumeOpenIssues(api.table.store, restarted)).toEqual([]);
    } finally {
      await restarted.close();
      setOrchestrator(api.pipeline);
    }
  });
});
