// Races on the local runtime (the server `npm start` runs, the deployed pipeline definition, real
// PostgreSQL for the task that must succeed), each outcome counted. Conditional writes decide
// who wins; the counts below are what a user would see. Issue numbers: races-issue-numbers.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineExecutionName } from '../../domain/pipeline/orchestrator.js';
import { scanTable } from '../support/api.js';
import { startApi, type Api, type CallResult } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';
import { countStatuses, registerDatabase, times, waitFor, type Body } from './support/fixtures.js';

let api: Api;
const P = 'race';
const DBA = 'race-dba@example.com';
const pg = postgresServer();
const DB = testDatabaseName();

const count = countStatuses;
const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};

beforeAll(async () => {
  await adminQuery(pg, `CREATE DATABASE "${DB}"`);
  api = await startApi();
  ok(await api.call('POST', '/v1/users', { body: { email: DBA, title: 'DBA', role: 'workspaceDBA' } }), 201);
  ok(await api.call('POST', '/v1/projects', { body: { id: P, title: 'Races' } }), 201);
  // Port 1 refuses at once: tasks there fail fast; the real one is for the task that must succeed.
  await registerDatabase(api, { project: P, instance: 'dead-prod', environment: 'prod', server: pg, port: 1, database: 'proddb' });
  await registerDatabase(api, { project: P, instance: 'pg', environment: 'test', server: pg, database: DB });
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, [DB]);
});

describe('races, each outcome counted', () => {
  it('100 concurrent creates of one environment id: one 201, 99 409s, one environment', async () => {
    const rs = await times(100, (i) => api.call('POST', '/v1/environments', { body: { id: 'raced', title: `Raced ${i}` } }));

    expect(count(rs)).toEqual({ 201: 1, 409: 99 });
    for (const r of rs.filter((x) => x.status === 409)) expect(['ALREADY_EXISTS', 'ABORTED']).toContain(r.json.error.status);
    const stored = (await scanTable(api.table.store)).filter((i) => i.type === 'Environment' && i.id === 'raced');
    expect(stored).toHaveLength(1);
    expect(ok(await api.call('GET', '/v1/environments/raced'))).toEqual(rs.find((r) => r.status === 201)!.json);
  }, 120_000);

  it('20 concurrent approvals of one stage: one 200, the gate left once, the stage run once', async () => {
    const issue = ok(await api.call('POST', `/v1/projects/${P}/issues`, { body: { title: 'Approve me', type: 'DATABASE_DATA_UPDATE', statement: 'SELECT 1', targets: ['instances/dead-prod/databases/proddb'] } }), 201);
    const execution = pipelineExecutionName(issue.name);
    const stage = issue.pipeline.stages[0].name;
    await waitFor('the approval gate', async () => api.pipeline.pendingTokens().filter((t) => t.execution === execution && t.state === 'ApprovalGate').length, (n) => n === 1);

    const rs = await times(20, () => api.call('POST', `/v1/${stage}:approve`, { as: DBA, body: {} }));

    const c = count(rs);
    expect(c[200]).toBe(1);
    expect((c[400] ?? 0) + (c[409] ?? 0)).toBe(19);
    // The task then runs (and fails: port 1), and the pipeline waits at the failure gate.
    await waitFor('the failure gate', async () => api.pipeline.pendingTokens().filter((t) => t.execution === execution && t.state === 'FailureGate').length, (n) => n === 1);
    const entered = api.pipeline.statesEntered(execution).map((s) => s.state);
    expect(entered.filter((s) => s === 'ApprovalGate')).toHaveLength(1);
    expect(entered.filter((s) => s === 'RunTask')).toHaveLength(1);
    const got = ok(await api.call('GET', `/v1/${issue.name}`));
    expect(got.pipeline.stages[0].approval).toMatchObject({ status: 'APPROVED' });
    const runs = ok(await api.call('GET', `/v1/${got.pipeline.stages[0].tasks[0].name}/taskRuns`)).taskRuns;
    expect(runs).toHaveLength(1);
    const activities = ok(await api.call('GET', `/v1/${issue.name}/activities`)).activities.map((a: Body) => a.type);
    expect(activities.filter((t: string) => /APPROVE/.test(t))).toHaveLength(1);
  }, 120_000);

  it('10 concurrent :run on one failed task: one 200, one new task run, the statement applied once', async () => {
    // Prior backup off: with it, the plan check refuses an INSERT into a table not there yet, before any run.
    const issue = ok(await api.call('POST', `/v1/projects/${P}/issues`, { body: { title: 'Retry me', type: 'DATABASE_DATA_UPDATE', statement: 'INSERT INTO audit (what) VALUES (1)', enablePriorBackup: false, targets: [`instances/pg/databases/${DB}`] } }), 201);
    const execution = pipelineExecutionName(issue.name);
    await waitFor('the failure gate', async () => api.pipeline.pendingTokens().filter((t) => t.execution === execution && t.state === 'FailureGate').length, (n) => n === 1);
    const task = issue.pipeline.stages[0].tasks[0].name;
    await adminQuery(pg, 'CREATE TABLE audit (what int PRIMARY KEY)', DB);

    const rs = await times(10, () => api.call('POST', `/v1/${task}:run`, { as: DBA, body: {} }));

    const c = count(rs);
    expect(c[200]).toBe(1);
    expect((c[400] ?? 0) + (c[409] ?? 0)).toBe(9);
    await waitFor('the issue to be DONE', async () => ok(await api.call('GET', `/v1/${issue.name}`)).status, (s) => s === 'DONE');
    const runs = ok(await api.call('GET', `/v1/${task}/taskRuns`)).taskRuns;
    expect(runs.map((r: Body) => [r.attempt, r.status]).sort()).toEqual([[1, 'FAILED'], [2, 'DONE']]);
    expect(await adminQuery(pg, 'SELECT count(*)::int AS n FROM audit', DB)).toEqual([{ n: 1 }]);
    expect(api.pipeline.statesEntered(execution).filter((s) => s.state === 'RunTask')).toHaveLength(2);
  }, 120_000);

  it('10 concurrent setIamPolicy with the same etag: one wins, the policy is the winner\'s', async () => {
    const policy = ok(await api.call('GET', `/v1/projects/${P}:getIamPolicy`));
    const users = await times(10, async (i) => ok(await api.call('POST', '/v1/users', { body: { email: `iam${i}@example.com`, title: `I${i}`, role: 'workspaceMember' } }), 201));

    const rs = await times(10, (i) =>
      api.call('POST', `/v1/projects/${P}:setIamPolicy`, {
        body: { policy: { bindings: [...policy.bindings, { role: 'projectDeveloper', members: [users[i].name] }], etag: policy.etag } },
      }),
    );

    expect(count(rs)).toEqual({ 200: 1, 409: 9 });
    for (const r of rs.filter((x) => x.status === 409)) expect(r.json.error.status).toBe('ABORTED');
    const now = ok(await api.call('GET', `/v1/projects/${P}:getIamPolicy`));
    expect(now).toEqual(rs.find((r) => r.status === 200)!.json);
    expect(now.bindings.filter((b: Body) => b.role === 'projectDeveloper').flatMap((b: Body) => b.members)).toHaveLength(1);
  }, 120_000);

  it('10 clients each PATCH with If-Match, retrying on 409: no update is lost', async () => {
    const markers = Array.from({ length: 10 }, (_, i) => `c${i}`);
    let conflicts = 0;

    await times(markers.length, async (i) => {
      for (;;) {
        const current = ok(await api.call('GET', `/v1/projects/${P}`));
        const res = await api.call('PATCH', `/v1/projects/${P}?updateMask=title`, { body: { title: `${current.title} ${markers[i]}` }, headers: { 'if-match': current.etag } });
        if (res.status === 200) return;
        expect(res.status, res.text).toBe(409);
        conflicts += 1;
      }
    });

    const title: string = ok(await api.call('GET', `/v1/projects/${P}`)).title;
    expect(title.split(' ').filter((w) => /^c\d$/.test(w)).sort()).toEqual(markers);
    // The race happened: some writes had to retry.
    expect(conflicts).toBeGreaterThan(0);
  }, 120_000);
});
