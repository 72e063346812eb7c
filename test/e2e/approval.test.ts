// Approval rules and multi-step approval end to end over HTTP on the local runtime: the deployed
// state machine run by the local runner, the real workflow Lambdas, real statements on the run's
// PostgreSQL. Two rules, as API.md's example:
//   risky: "DROP_TABLE" in statement.types || statement.affected_rows > 10000 → projectOwner, then workspaceDBA
//   prod:  environment == "prod" → projectReleaser
// (statement.affected_rows comes from the plan check, which does not run yet: test/integration/issues.test.ts
// feeds it by hand.)
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineExecutionName } from '../../domain/pipeline/orchestrator.js';
import { startApi, waitFor, type Api, type CallResult, syncInstance } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, type SqlServer } from '../support/postgres.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

const PROJECT = `appr-${Date.now().toString(36)}`;
const pg: SqlServer = postgresServer();
/** This file's databases: one in test, one in prod (names unique to the run, dropped at the end). */
const dbName = () => `sluice_t_approval_${randomBytes(4).toString('hex')}`;
const DB = { test: dbName(), prod: dbName() };
const FALLBACK = ['projectOwner', 'projectReleaser', 'workspaceDBA', 'workspaceAdmin'];

/** Who is who (emails); the admin (admin@example.com) writes the rules. */
const U = {
  dev: 'dev@approval.test', // projectDeveloper: writes the changes
  owner: 'owner@approval.test', // projectOwner (also writes changes)
  owner2: 'owner2@approval.test',
  owner3: 'owner3@approval.test',
  ownerDba: 'owner-dba@approval.test', // projectOwner and workspaceDBA
  releaser: 'releaser@approval.test',
  dba: 'dba@approval.test', // workspaceDBA
  member: 'member@approval.test', // workspaceMember, in no project
};

const RISKY = { title: 'risky', condition: '"DROP_TABLE" in statement.types || statement.affected_rows > 10000', steps: [{ role: 'projectOwner' }, { role: 'workspaceDBA' }] };
const PROD = { title: 'prod', condition: 'environment == "prod"', steps: [{ role: 'projectReleaser' }] };

let api: Api;

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};
const getIssue = async (name: string): Promise<Body> => ok(await api.call('GET', `/v1/${name}`));
const stage = (issue: Body, env: string): Body => issue.pipeline.stages.find((s: Body) => s.environment === `environments/${env}`);
const waitIssue = (name: string, what: string, done: (issue: Body) => boolean) => waitFor(what, () => getIssue(name), done);
const waiting = (name: string, env: string) => waitIssue(name, `${env} to wait for approval`, (i) => stage(i, env).status === 'PENDING_APPROVAL');
const target = (instance: string, db: string) => `instances/${instance}/databases/${db}`;
const execution = (issue: string) => pipelineExecutionName(issue);
const gateTokens = (issue: string) => api.pipeline.pendingTokens().filter((t) => t.execution === execution(issue) && t.state === 'ApprovalGate');
const entered = (issue: string, state: string) => api.pipeline.statesEntered(execution(issue)).filter((s) => s.state === state).length;
const approve = (issue: Body, env: string, as: string, body: Body = {}) => api.call('POST', `/v1/${stage(issue, env).name}:approve`, { as, body });

async function createIssue(as: string, statement: string, targets: string[], type = 'DATABASE_SCHEMA_UPDATE'): Promise<Body> {
  return ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { as, body: { title: 'A change', type, statement, targets } }), 201);
}
const tables = async (db: string): Promise<string[]> =>
  (await adminQuery<{ t: string }>(pg, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", db)).map((r) => r.t);
const putRules = async (rules: unknown[]): Promise<Body> => {
  const current = ok(await api.call('GET', '/v1/approvalRules'));
  return ok(await api.call('PUT', '/v1/approvalRules', { body: { rules, etag: current.etag } }));
};

beforeAll(async () => {
  for (const db of Object.values(DB)) {
    await adminQuery(pg, `CREATE DATABASE "${db}"`);
    await adminQuery(pg, 'CREATE TABLE users (id int PRIMARY KEY, name text)', db);
  }
  api = await startApi();
  const ids: Record<string, string> = {};
  for (const [who, email] of Object.entries(U)) {
    const role = who === 'dba' || who === 'ownerDba' ? 'workspaceDBA' : 'workspaceMember';
    ids[who] = ok(await api.call('POST', '/v1/users', { body: { email, title: who, role } }), 201).name;
  }
  // Tables made by hand here are the test's setup, not drift (test/e2e/drift.test.ts covers drift).
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Approvals', allowDriftedRollout: true } }), 201);
  const policy = ok(await api.call('GET', `/v1/projects/${PROJECT}:getIamPolicy`));
  const bindings = [
    ...policy.bindings,
    { role: 'projectDeveloper', members: [ids.dev] },
    { role: 'projectOwner', members: [ids.owner, ids.owner2, ids.owner3, ids.ownerDba] },
    { role: 'projectReleaser', members: [ids.releaser] },
  ];
  ok(await api.call('POST', `/v1/projects/${PROJECT}:setIamPolicy`, { body: { policy: { bindings, etag: policy.etag } } }));
  for (const [id, env, db] of [['pg-test', 'test', DB.test], ['pg-prod', 'prod', DB.prod]] as const) {
    ok(await api.call('POST', '/v1/instances', {
      body: { id, title: id, engine: 'POSTGRES', environment: `environments/${env}`, dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] },
    }), 201);
    await syncInstance(api, id);
    ok(await api.call('PATCH', `/v1/instances/${id}/databases/${db}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
  }
  await putRules([RISKY, PROD]);
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, Object.values(DB));
});

describe('approval rules: the API', () => {
  it('every signed-in user reads them; only a workspaceAdmin replaces them', async () => {
    // Act
    const read = await api.call('GET', '/v1/approvalRules', { as: U.member });
    const byDba = await api.call('PUT', '/v1/approvalRules', { as: U.dba, body: { rules: [] } });

    // Assess
    expect(ok(read)).toMatchObject({ name: 'approvalRules', rules: [RISKY, PROD], etag: expect.any(String), updateTime: expect.any(String) });
    expect(byDba.status).toBe(403);
    expect(byDba.json.error.details[0].permission).toBe('approvalRules.update');
    expect(ok(await api.call('GET', '/v1/approvalRules')).rules).toEqual([RISKY, PROD]);
  });

  it('a condition that does not type-check is a 400 with its position; a stale etag is a 409; nothing is written', async () => {
    // Prepare
    const before = ok(await api.call('GET', '/v1/approvalRules'));

    // Act
    const bad = await api.call('PUT', '/v1/approvalRules', { body: { etag: before.etag, rules: [PROD, { title: 'typo', condition: 'environment == "prod" &&\n  statement.affected_row > 5', steps: [{ role: 'workspaceDBA' }] }] } });
    const badRole = await api.call('PUT', '/v1/approvalRules', { body: { rules: [{ ...PROD, steps: [{ role: 'projectBoss' }] }] } });
    const first = await api.call('PUT', '/v1/approvalRules', { body: { etag: before.etag, rules: [RISKY, PROD] } });
    const stale = await api.call('PUT', '/v1/approvalRules', { body: { etag: before.etag, rules: [] } });
    const staleHeader = await api.call('PUT', '/v1/approvalRules', { headers: { 'if-match': before.etag }, body: { rules: [] } });

    // Assess
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ status: 'INVALID_ARGUMENT', details: [{ field: 'rules.1.condition', description: 'line 2, column 13 (offset 37): No such key: affected_row' }] });
    expect([badRole.status, badRole.json.error.details[0].field]).toEqual([400, 'rules.0.steps.0.role']);
    expect(ok(first).etag).not.toBe(before.etag);
    expect([stale.status, stale.json.error.status]).toEqual([409, 'ABORTED']);
    expect(staleHeader.status).toBe(409);
    expect(ok(await api.call('GET', '/v1/approvalRules')).rules).toEqual([RISKY, PROD]);
  });
});

describe('multi-step approval on real pipelines', () => {
  it('DROP TABLE needs the owner, then a DBA: order, roles, the creator and distinct approvers are enforced, and the pipeline waits for the last step', async () => {
    // Prepare
    await adminQuery(pg, 'CREATE TABLE doomed (id int)', DB.test);
    const created = await createIssue(U.owner, 'DROP TABLE doomed', [target('pg-test', DB.test)]);
    const at = await waiting(created.name, 'test');
    expect(stage(at, 'test').approval).toEqual({
      status: 'PENDING',
      rule: 'risky',
      steps: [{ role: 'projectOwner', roles: ['projectOwner'], status: 'PENDING' }, { role: 'workspaceDBA', roles: ['workspaceDBA'], status: 'PENDING' }],
      waitingFor: ['projectOwner'],
    });

    // Act
    const dbaFirst = await approve(at, 'test', U.dba);
    const releaser = await approve(at, 'test', U.releaser);
    const creator = await approve(at, 'test', U.owner);
    const step1 = await approve(at, 'test', U.ownerDba, { comment: 'checked nobody reads it' });
    const afterStep1 = await getIssue(created.name);
    const tablesAfterStep1 = await tables(DB.test);
    const gatesAfterStep1 = gateTokens(created.name).length;
    const sameAgain = await approve(at, 'test', U.ownerDba);
    const step2 = await approve(at, 'test', U.dba);
    const done = await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');

    // Assess
    // Order: :approve acts on the first step not yet approved; a DBA holds no projectOwner, so
    // approving now is not theirs to do (403), whatever the later step asks. Nothing waits in a
    // wrong state (that would be 400): another caller could approve right now.
    expect(dbaFirst.status).toBe(403);
    expect(dbaFirst.json.error.message).toMatch(/^projects\/appr-[a-z0-9]+\/issues\/\d+\/stages\/test waits for step 1 of 2 \(projectOwner\); users\/\d+ holds none of projectOwner and may not approve it$/);
    expect(dbaFirst.json.error.details[0].permission).toBe('issues.approve');
    expect(releaser.status).toBe(403);
    expect([creator.status, creator.json.error.message]).toEqual([403, expect.stringMatching(/created this issue and may not approve it/)]);
    expect(step1.status).toBe(200);
    expect(stage(afterStep1, 'test')).toMatchObject({ status: 'PENDING_APPROVAL', approval: { status: 'PENDING', waitingFor: ['workspaceDBA'], steps: [{ status: 'APPROVED', comment: 'checked nobody reads it' }, { status: 'PENDING' }] } });
    expect(tablesAfterStep1).toContain('doomed');
    expect(gatesAfterStep1).toBe(1);
    expect([sameAgain.status, sameAgain.json.error.message]).toEqual([403, expect.stringMatching(/approved step 1 of 2 \(projectOwner\) of .* already; each step needs a different approver$/)]);
    expect(step2.status).toBe(200);
    expect(stage(done, 'test').approval.steps.map((s: Body) => s.status)).toEqual(['APPROVED', 'APPROVED']);
    expect(stage(done, 'test').approval.steps[0].approver).not.toBe(stage(done, 'test').approval.steps[1].approver);
    expect(await tables(DB.test)).not.toContain('doomed');
    expect(entered(created.name, 'ApprovalGate')).toBe(1);
    const acts = ok(await api.call('GET', `/v1/${created.name}/activities`)).activities.map((a: Body) => a.type);
    expect(acts).toEqual(['ISSUE_CREATED', 'STEP_APPROVED', 'STAGE_APPROVED', 'TASK_RUN_STARTED', 'TASK_RUN_DONE', 'ISSUE_DONE']);
  });

  it('of concurrent approvals of one step exactly one wins; the gate still waits for the next step', async () => {
    // Prepare
    await adminQuery(pg, 'CREATE TABLE raced (id int)', DB.test);
    const created = await createIssue(U.dev, 'DROP TABLE raced', [target('pg-test', DB.test)]);
    const at = await waiting(created.name, 'test');
    // Owners only (not owner-dba, who may rightly approve the DBA step once the first is taken).
    const owners = [U.owner, U.owner2, U.owner3];

    // Act
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => approve(at, 'test', owners[i % owners.length]!)));
    const after = await getIssue(created.name);

    // Assess
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The rest lost the write (409) or read the step approved, the next one a DBA's (403).
    for (const s of statuses.filter((x) => x !== 200)) expect([403, 409]).toContain(s);
    expect(stage(after, 'test').approval.steps.map((s: Body) => s.status)).toEqual(['APPROVED', 'PENDING']);
    expect(gateTokens(created.name)).toHaveLength(1);
    const acts = ok(await api.call('GET', `/v1/${created.name}/activities`)).activities.map((a: Body) => a.type);
    expect(acts.filter((t: string) => t === 'STEP_APPROVED')).toHaveLength(1);

    ok(await approve(at, 'test', U.dba));
    await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');
    expect(entered(created.name, 'ApprovalGate')).toBe(1);
    expect(entered(created.name, 'RunTask')).toBe(1);
  });

  it('prod needs a releaser; a reject leaves the issue OPEN and parked; :requestApproval then an approval finish it', async () => {
    // Prepare
    const created = await createIssue(U.dev, 'ALTER TABLE users ADD COLUMN email text', [target('pg-test', DB.test), target('pg-prod', DB.prod)]);
    const at = await waiting(created.name, 'prod');
    expect(stage(at, 'test').approval).toEqual({ status: 'NOT_REQUIRED', steps: [] });
    expect(stage(at, 'prod').approval).toMatchObject({ status: 'PENDING', rule: 'prod', waitingFor: ['projectReleaser'] });

    // Act
    const byDba = await approve(at, 'prod', U.dba);
    const rejected = await api.call('POST', `/v1/${stage(at, 'prod').name}:reject`, { as: U.releaser, body: { reason: 'not during the sale' } });
    const approveRejected = await approve(at, 'prod', U.releaser);
    const byReleaser = await api.call('POST', `/v1/${stage(at, 'prod').name}:requestApproval`, { as: U.releaser, body: {} });
    const parked = { tokens: gateTokens(created.name).length, execution: (await api.pipeline.describeExecution(execution(created.name)))?.status };
    const again = await api.call('POST', `/v1/${stage(at, 'prod').name}:requestApproval`, { as: U.dev, body: { comment: 'after the sale, then' } });
    const approved = await approve(at, 'prod', U.releaser);
    const done = await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');

    // Assess
    expect(byDba.status).toBe(403);
    expect(ok(rejected)).toMatchObject({ status: 'OPEN' });
    expect(stage(rejected.json, 'prod')).toMatchObject({ status: 'REJECTED', approval: { status: 'REJECTED', steps: [{ status: 'REJECTED', comment: 'not during the sale' }] } });
    expect(approveRejected.status).toBe(400);
    expect([byReleaser.status, byReleaser.json.error.details[0].permission]).toEqual([403, 'issues.update']);
    expect(parked).toEqual({ tokens: 1, execution: 'RUNNING' });
    expect(stage(ok(again), 'prod')).toMatchObject({ status: 'PENDING_APPROVAL', approval: { status: 'PENDING', waitingFor: ['projectReleaser'] } });
    expect(approved.status).toBe(200);
    expect(stage(done, 'prod')).toMatchObject({ status: 'DONE', approval: { status: 'APPROVED' } });
    const columns = await adminQuery<{ c: string }>(pg, "SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'users'", DB.prod);
    expect(columns.map((r) => r.c)).toContain('email');
    expect((await api.pipeline.waitForExecution(execution(created.name))).status).toBe('SUCCEEDED');
    expect(entered(created.name, 'ApprovalGate')).toBe(1);
    const acts = ok(await api.call('GET', `/v1/${created.name}/activities`)).activities.map((a: Body) => [a.type, a.comment]);
    expect(acts.filter(([t]: string[]) => /APPROV|REJECT/.test(t!))).toEqual([
      ['STAGE_REJECTED', 'step 1 of 1 (projectReleaser): not during the sale'],
      ['APPROVAL_REREQUESTED', 'after the sale, then'],
      ['STAGE_APPROVED', 'step 1 of 1 (projectReleaser)'],
    ]);
  });

  it('a reject then :cancel ends the issue CANCELED and the execution stopped', async () => {
    // Prepare
    const created = await createIssue(U.dev, 'ALTER TABLE users ADD COLUMN never_col int', [target('pg-prod', DB.prod)]);
    const at = await waiting(created.name, 'prod');
    ok(await api.call('POST', `/v1/${stage(at, 'prod').name}:reject`, { as: U.releaser, body: { reason: 'no' } }));

    // Act
    const canceled = ok(await api.call('POST', `/v1/${created.name}:cancel`, { as: U.dev }));

    // Assess
    expect(canceled.status).toBe('CANCELED');
    expect(stage(canceled, 'prod').status).toBe('CANCELED');
    expect((await api.pipeline.waitForExecution(execution(created.name))).status).toBe('ABORTED');
    expect(gateTokens(created.name)).toEqual([]);
  });

  it('no rule matching: the environment decides, one step any releaser role approves (or none)', async () => {
    // Prepare: only the risky rule, so a plain change on prod falls back to its requireApproval.
    await putRules([RISKY]);
    try {
      const created = await createIssue(U.dev, 'ALTER TABLE users ADD COLUMN fallback_col int', [target('pg-test', DB.test), target('pg-prod', DB.prod)]);
      const at = await waiting(created.name, 'prod');

      // Act
      const byDeveloper = await approve(at, 'prod', U.dev);
      const byDba = await approve(at, 'prod', U.dba);
      const done = await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');

      // Assess
      expect(stage(at, 'test').approval).toEqual({ status: 'NOT_REQUIRED', steps: [] });
      expect(stage(at, 'prod').approval).toEqual({ status: 'PENDING', steps: [{ roles: FALLBACK, status: 'PENDING' }], waitingFor: FALLBACK });
      expect(byDeveloper.status).toBe(403);
      expect(byDba.status).toBe(200);
      expect(stage(done, 'prod').approval).toMatchObject({ status: 'APPROVED', steps: [{ status: 'APPROVED', approver: expect.stringMatching(/^users\/\d+$/) }] });
      expect(stage(done, 'prod').approval.rule).toBeUndefined();
    } finally {
      await putRules([RISKY, PROD]);
    }
  });
});
