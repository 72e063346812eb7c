// Issues and their pipelines against DynamoDB Local, through the real handlers, with a fake
// orchestrator that records every call. The gate, advance and stage-result Lambdas are driven
// directly, as the state machine would.
import { beforeAll, afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../domain/inventory/databases.js';
import type { Json, Orchestrator, PipelineInput } from '../../domain/pipeline/orchestrator.js';
import { TaskTokenGoneError } from '../../domain/pipeline/orchestrator.js';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { apiClient, scanTable, type Api, type Body, type Handlers } from '../support/api.js';
import { freshTable, type TestTable } from '../support/table.js';

/** Records what the domain asks of the pipeline; a token works once, as on Step Functions. */
class FakeOrchestrator implements Orchestrator {
  starts: { name: string; input: PipelineInput }[] = [];
  stops: string[] = [];
  successes: { token: string; output: Json }[] = [];
  failures: { token: string; error: string; cause?: string }[] = [];
  failNextStart = false;
  private used = new Set<string>();
  async startExecution(name: string, input: PipelineInput) {
    if (this.failNextStart) {
      this.failNextStart = false;
      throw new Error('Step Functions is unavailable');
    }
    this.starts.push({ name, input });
    return { executionId: name, alreadyStarted: false };
  }
  async stopExecution(name: string) {
    this.stops.push(name);
  }
  async describeExecution() {
    return undefined;
  }
  private use(token: string) {
    if (this.used.has(token)) throw new TaskTokenGoneError();
    this.used.add(token);
  }
  async sendTaskSuccess(token: string, output: Json) {
    this.use(token);
    this.successes.push({ token, output });
  }
  async sendTaskFailure(token: string, error: string, cause?: string) {
    this.use(token);
    this.failures.push({ token, error, ...(cause ? { cause } : {}) });
  }
}

let t: TestTable;
let api: Api;
const fake = new FakeOrchestrator();
const email = (who: string) => `${who}@example.com`;
let workflow: {
  advance: (i: { issue: string }) => Promise<Body>;
  approvalGate: (i: { issue: string; stage: string; token: string }) => Promise<unknown>;
  failureGate: (i: { issue: string; stage: string; token: string }) => Promise<unknown>;
  stageResult: (i: { issue: string; stage: string }) => Promise<Body>;
};
let repo: typeof import('../../functions/shared/wiring-issues.js').issueRepo;
let setOrchestrator: typeof import('../../functions/shared/orchestrator.js').setOrchestrator;

const db = (instance: string, name: string, project: string, syncState: Database['syncState'] = 'OK'): Database => ({
  instance, name, project, labels: {}, schemaVersion: '', syncState, createTime: '2026-11-25T00:00:00Z', updateTime: '2026-11-25T00:00:00Z', version: 1,
});

beforeAll(async () => {
  t = await freshTable();
  const [users, projects, issues, workspace, orch, wiring] = await Promise.all([
    import('../../functions/http/users.js'),
    import('../../functions/http/projects.js'),
    import('../../functions/http/issues.js'),
    import('../../functions/http/workspace.js'),
    import('../../functions/shared/orchestrator.js'),
    import('../../functions/shared/wiring-issues.js'),
  ]);
  setOrchestrator = orch.setOrchestrator;
  setOrchestrator(fake);
  repo = wiring.issueRepo;
  const [advance, approval, failure, result] = await Promise.all([
    import('../../functions/workflow/advance.js'),
    import('../../functions/workflow/approval-gate.js'),
    import('../../functions/workflow/failure-gate.js'),
    import('../../functions/workflow/stage-result.js'),
  ]);
  workflow = { advance: advance.handler, approvalGate: approval.handler, failureGate: failure.handler, stageResult: result.handler };
  api = apiClient({ users: users.handler, projects: projects.handler, issues: issues.handler, workspace: workspace.handler } as unknown as Handlers);
  const ids: Record<string, string> = {};
  for (const who of ['alice', 'bob', 'dave', 'vera', 'olga']) {
    ids[who] = (await api('POST', '/v1/users', { body: { email: email(who), role: 'workspaceMember' } })).body.name;
  }
  for (const [project, owner] of [['shop', 'alice'], ['hr', 'olga']] as const) {
    expect((await api('POST', '/v1/projects', { as: email(owner), body: { id: project, title: project } })).status).toBe(201);
  }
  const policy = (await api('GET', '/v1/projects/shop:getIamPolicy', { as: email('alice') })).body;
  await api('POST', '/v1/projects/shop:setIamPolicy', {
    as: email('alice'),
    body: { policy: { etag: policy.etag, bindings: [...policy.bindings, { role: 'projectReleaser', members: [ids.bob] }, { role: 'projectDeveloper', members: [ids.dave] }, { role: 'projectViewer', members: [ids.vera] }] } },
  });
  const { deps } = await import('../../functions/shared/wiring.js');
  const time = '2026-11-25T00:00:00Z';
  for (const [id, environment] of [['pg-test', 'test'], ['pg-prod', 'prod'], ['pg-test2', 'test']] as const) {
    await deps.instances.create({ id, title: id, engine: 'POSTGRES', environment, dataSources: [], state: 'ACTIVE', createTime: time, updateTime: time });
  }
  const plan = (create: Database[]) => ({ time, create, setState: [], stamp: [], addTables: [], removeTables: [] });
  await deps.databases.applySync('pg-test', plan([db('pg-test', 'shop', 'shop'), db('pg-test', 'people', 'hr'), db('pg-test', 'gone', 'shop', 'NOT_FOUND')]));
  await deps.databases.applySync('pg-prod', plan([db('pg-prod', 'shop', 'shop')]));
  await deps.databases.applySync('pg-test2', plan([db('pg-test2', 'shop', 'shop')]));
});

afterAll(() => setOrchestrator?.(undefined));

beforeEach(() => {
  fake.starts = [];
  fake.stops = [];
  fake.successes = [];
  fake.failures = [];
});

const FALLBACK = ['projectOwner', 'projectReleaser', 'workspaceDBA', 'workspaceAdmin'];
const TARGETS = ['instances/pg-prod/databases/shop', 'instances/pg-test/databases/shop', 'instances/pg-test2/databases/shop'];
const change = (over: Record<string, unknown> = {}) => ({ title: 'Add email', type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE users ADD COLUMN email text', targets: TARGETS, ...over });
const create = async (as = 'alice', over: Record<string, unknown> = {}): Promise<Body> => {
  const res = await api('POST', '/v1/projects/shop/issues', { as: email(as), body: change(over) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};
const number = (issue: Body): number => Number(String(issue.name).split('/').pop());
const get = async (issue: Body): Promise<Body> => (await api('GET', `/v1/${issue.name}`)).body;

/** Runs the state machine's first steps by hand: the test stage done, the pipeline waiting at prod's approval gate. */
async function toProdApproval(issue: Body, token: string): Promise<void> {
  const first = await workflow.advance({ issue: issue.name });
  expect(first).toMatchObject({ done: false, stage: { id: 'test', requireApproval: false } });
  const agg = (await repo.get('shop', number(issue)))!;
  for (const task of agg.tasks.filter((x) => x.stage === 'test')) await repo.updateTask(task, { status: 'DONE' });
  expect(await workflow.stageResult({ issue: issue.name, stage: 'test' })).toEqual({ status: 'DONE' });
  expect(await workflow.advance({ issue: issue.name })).toMatchObject({ done: false, stage: { id: 'prod', requireApproval: true }, batches: [['3']] });
  await workflow.approvalGate({ issue: issue.name, stage: 'prod', token });
}

describe('creating an issue', () => {
  it('plans one stage per environment in pipeline order, one task per target, and starts its execution', async () => {
    // Act
    const issue = await create();

    // Assess
    expect(issue).toMatchObject({ title: 'Add email', type: 'DATABASE_SCHEMA_UPDATE', status: 'OPEN', creator: expect.stringMatching(/^users\/\d+$/) });
    const stages = issue.pipeline.stages;
    expect(stages.map((s: Body) => [s.environment, s.status, s.approval])).toEqual([
      // Each stage's approval is decided when the stage is reached (rules see the plan check).
      ['environments/test', 'NOT_STARTED', { status: 'NOT_DECIDED', steps: [] }],
      ['environments/prod', 'NOT_STARTED', { status: 'NOT_DECIDED', steps: [] }],
    ]);
    expect(stages[0].tasks.map((x: Body) => [x.name.split('/').slice(-3).join('/'), x.database, x.status])).toEqual([
      ['test/tasks/1', 'instances/pg-test/databases/shop', 'NOT_STARTED'],
      ['test/tasks/2', 'instances/pg-test2/databases/shop', 'NOT_STARTED'],
    ]);
    expect(stages[1].tasks.map((x: Body) => x.name.split('/').slice(-3).join('/'))).toEqual(['prod/tasks/3']);
    expect(fake.starts).toEqual([{ name: `shop-${number(issue)}`, input: { issue: issue.name } }]);
    expect(await get(issue)).toEqual(issue);
  });

  it('refuses targets outside the project, not synced, missing or repeated, naming the bad one', async () => {
    // Prepare
    const cases: [string[], string][] = [
      [['instances/pg-test/databases/shop', 'instances/pg-test/databases/people'], 'targets[1]'],
      [['instances/pg-test/databases/gone'], 'targets[0]'],
      [['instances/pg-test/databases/nope'], 'targets[0]'],
      [['instances/pg-test/databases/shop', 'instances/pg-test/databases/shop'], 'targets[1]'],
      [['shop'], 'targets[0]'],
    ];
    for (const [targets, field] of cases) {
      // Act
      const res = await api('POST', '/v1/projects/shop/issues', { as: email('alice'), body: change({ targets }) });

      // Assess
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe(field);
    }
    expect(fake.starts).toEqual([]);
  });

  it('says clearly that a missing sheet is not found, and wants a statement', async () => {
    // Act
    const sheet = await api('POST', '/v1/projects/shop/issues', { as: email('alice'), body: change({ statement: undefined, sheet: 'projects/shop/sheets/1' }) });
    const none = await api('POST', '/v1/projects/shop/issues', { as: email('alice'), body: change({ statement: undefined }) });
    const over = await api('POST', '/v1/projects/shop/issues', { as: email('alice'), body: change({ statement: 'x'.repeat(1024 * 1024 + 1) }) });

    // Assess
    expect([sheet.status, sheet.body.error.details[0].field]).toEqual([400, 'sheet']);
    expect(sheet.body.error.message).toMatch(/projects\/shop\/sheets\/1 not found/);
    expect([none.status, none.body.error.details[0].field]).toEqual([400, 'statement']);
    expect(over.status).toBe(413);
  });

  it('keeps a statement larger than a DynamoDB item byte for byte (stored in chunks beside the issue)', async () => {
    // Prepare: ~900 KB of multibyte text, over the 400 KB item limit and over a chunk's 300 KB.
    const statement = `-- ünïcödé ✓\n${'INSERT INTO t VALUES (\'é✓\');\n'.repeat(30_000)}`;

    // Act
    const created = await api('POST', '/v1/projects/shop/issues', { as: email('alice'), body: change({ statement }) });
    const read = await api('GET', `/v1/${created.body.name}`, { as: email('alice') });
    const listed = await api('GET', '/v1/projects/shop/issues?pageSize=1', { as: email('alice') });

    // Assess
    expect(created.status).toBe(201);
    expect(Buffer.byteLength(statement)).toBeGreaterThan(800_000);
    expect(read.body.statement).toBe(statement);
    expect(listed.body.issues[0].statement).toBe(statement);
    // Too long to repeat in each task: read it from the issue.
    expect(read.body.pipeline.stages[0].tasks[0].statement).toBeUndefined();
  });

  it('plans a DATABASE_CREATE issue on one instance with a generated statement', async () => {
    // Act
    const res = await api('POST', '/v1/projects/shop/issues', {
      as: email('alice'),
      body: { title: 'New db', type: 'DATABASE_CREATE', instance: 'instances/pg-prod', databaseName: 'orders' },
    });

    // Assess
    expect(res.status).toBe(201);
    expect(res.body.statement).toBe('CREATE DATABASE "orders"');
    expect(res.body.pipeline.stages).toHaveLength(1);
    expect(res.body.pipeline.stages[0].tasks[0]).toMatchObject({ instance: 'instances/pg-prod', databaseName: 'orders', status: 'NOT_STARTED' });
  });

  it('gives 20 concurrent creates 20 distinct, consecutive numbers', async () => {
    // Prepare
    const before = (await api('GET', '/v1/projects/shop/issues?pageSize=1')).body.issues[0];
    const last = before ? number(before) : 0;

    // Act
    const made = await Promise.all(Array.from({ length: 20 }, () => api('POST', '/v1/projects/shop/issues', { as: email('alice'), body: change({ targets: ['instances/pg-test/databases/shop'] }) })));

    // Assess
    expect(made.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(made.map((r) => number(r.body)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => last + 1 + i));
    expect(new Set(fake.starts.map((s) => s.name)).size).toBe(20);
  });

  it('leaves nothing behind when the execution cannot be started', async () => {
    // Prepare
    const before = await scanTable(t.store);
    fake.failNextStart = true;

    // Act
    const res = await api('POST', '/v1/projects/shop/issues', { as: email('alice'), body: change() });

    // Assess
    expect(res.status).toBe(500);
    expect(res.body.error.message).toMatch(/nothing was created/);
    expect(await scanTable(t.store)).toEqual(before);
    const next = await create();
    expect(number(next)).toBe(Number(before.find((i) => i.sk === 'ISSUES#shop')?.n ?? 0) + 1);
  });

  it('lets a viewer read but not create, and an outsider not even see', async () => {
    // Act
    const viewer = await api('POST', '/v1/projects/shop/issues', { as: email('vera'), body: change() });
    const outsider = await api('GET', '/v1/projects/shop/issues', { as: email('olga') });

    // Assess
    expect([viewer.status, viewer.body.error.details[0].permission]).toEqual([403, 'issues.create']);
    expect(outsider.status).toBe(404);
  });
});

describe('reading, listing and changing issues', () => {
  it('lists by status filter, newest first, and refuses a bad filter', async () => {
    // Prepare
    const open = await create();
    const canceled = await create();
    await api('POST', `/v1/${canceled.name}:cancel`, { as: email('alice') });

    // Act
    const openList = await api('GET', `/v1/projects/shop/issues?pageSize=1000&filter=${encodeURIComponent('status == "OPEN"')}`);
    const canceledList = await api('GET', `/v1/projects/shop/issues?pageSize=1000&filter=${encodeURIComponent("status = 'CANCELED'")}`);
    const bad = await api('GET', `/v1/projects/shop/issues?filter=${encodeURIComponent('title == "x"')}`);

    // Assess
    const names = (r: Body) => r.body.issues.map((i: Body) => i.name);
    expect(names(openList)).toContain(open.name);
    expect(names(openList)).not.toContain(canceled.name);
    expect(names(canceledList)).toContain(canceled.name);
    expect(openList.body.issues.every((i: Body) => i.status === 'OPEN')).toBe(true);
    const nums = openList.body.issues.map(number);
    expect(nums).toEqual([...nums].sort((a: number, b: number) => b - a));
    expect([bad.status, bad.body.error.details[0].field]).toEqual([400, 'filter']);
  });

  it('pages through issues with a token', async () => {
    // Act
    const first = await api('GET', '/v1/projects/shop/issues?pageSize=2');
    const second = await api('GET', `/v1/projects/shop/issues?pageSize=2&pageToken=${first.body.nextPageToken}`);

    // Assess
    expect(first.body.issues).toHaveLength(2);
    expect(number(second.body.issues[0])).toBe(number(first.body.issues[1]) - 1);
  });

  it('updates title and description, refuses other fields and a stale etag', async () => {
    // Prepare
    const issue = await create();

    // Act
    const ok = await api('PATCH', `/v1/${issue.name}?updateMask=title,description`, { as: email('dave'), body: { title: 'Renamed', description: 'why' } });
    const bad = await api('PATCH', `/v1/${issue.name}?updateMask=status`, { as: email('alice'), body: { status: 'DONE' } });
    const stale = await api('PATCH', `/v1/${issue.name}`, { as: email('alice'), body: { title: 'Again', etag: issue.etag } });

    // Assess
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ title: 'Renamed', description: 'why' });
    expect(ok.body.etag).not.toBe(issue.etag);
    expect(bad.status).toBe(400);
    expect(stale.status).toBe(409);
  });

  it('cancels an open issue: stops its execution and cancels unfinished tasks; a second cancel is a 400', async () => {
    // Prepare
    const issue = await create();

    // Act
    const res = await api('POST', `/v1/${issue.name}:cancel`, { as: email('dave') });
    const again = await api('POST', `/v1/${issue.name}:cancel`, { as: email('dave') });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('CANCELED');
    expect(res.body.pipeline.stages.flatMap((s: Body) => [s.status, ...s.tasks.map((x: Body) => x.status)])).toEqual(Array(5).fill('CANCELED'));
    expect(fake.stops).toEqual([`shop-${number(issue)}`]);
    expect([again.status, again.body.error.status]).toEqual([400, 'FAILED_PRECONDITION']);
    expect(await workflow.advance({ issue: issue.name })).toEqual({ done: true });
    const acts = (await api('GET', `/v1/${issue.name}/activities`)).body.activities.map((a: Body) => a.type);
    expect(acts).toEqual(['ISSUE_CREATED', 'ISSUE_CANCELED']);
  });
});

describe('approvals', () => {
  it('waits at the approval gate and refuses self-approval unless the workspace allows it', async () => {
    // Prepare
    const issue = await create('alice');
    await toProdApproval(issue, 'tok-self');

    // Act
    const self = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('alice'), body: {} });
    const developer = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('dave'), body: {} });
    await api('PATCH', '/v1/workspace?updateMask=allowSelfApproval', { body: { allowSelfApproval: true } });
    const allowed = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('alice'), body: { comment: 'mine, fine' } });
    await api('PATCH', '/v1/workspace?updateMask=allowSelfApproval', { body: { allowSelfApproval: false } });

    // Assess
    expect(self.status).toBe(403);
    expect(developer.status).toBe(403);
    expect(allowed.status).toBe(200);
    const prod = allowed.body.pipeline.stages[1];
    expect(prod).toMatchObject({ status: 'RUNNING', approval: { status: 'APPROVED', steps: [{ roles: ['projectOwner', 'projectReleaser', 'workspaceDBA', 'workspaceAdmin'], status: 'APPROVED', approver: expect.stringMatching(/^users\//), comment: 'mine, fine' }] } });
    expect(prod.approval.rule).toBeUndefined();
    expect(fake.successes).toEqual([{ token: 'tok-self', output: {} }]);
  });

  it('lets exactly one of 10 concurrent approvals win, resuming the execution once', async () => {
    // Prepare
    const issue = await create('alice');
    await toProdApproval(issue, 'tok-race');
    expect((await get(issue)).pipeline.stages[1].status).toBe('PENDING_APPROVAL');

    // Act
    const results = await Promise.all(Array.from({ length: 10 }, () => api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('bob'), body: {} })));
    const twice = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('bob'), body: {} });

    // Assess
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.every((r) => r.status === 200 || r.status === 400 || r.status === 409)).toBe(true);
    expect(fake.successes).toEqual([{ token: 'tok-race', output: {} }]);
    expect(twice.status).toBe(400);
    const acts = (await api('GET', `/v1/${issue.name}/activities`)).body.activities;
    expect(acts.filter((a: Body) => a.type === 'STAGE_APPROVED')).toHaveLength(1);
  });

  it('refuses to approve a stage that is not waiting', async () => {
    // Prepare
    const issue = await create('alice');

    // Act
    const res = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('bob'), body: {} });
    const missing = await api('POST', `/v1/${issue.name}/stages/staging:approve`, { as: email('bob'), body: {} });

    // Assess
    expect([res.status, res.body.error.status]).toEqual([400, 'FAILED_PRECONDITION']);
    expect(missing.status).toBe(404);
    expect(fake.successes).toEqual([]);
  });

  it('rejects with a reason: the stage is REJECTED, the issue stays OPEN and the gate keeps its token until approval is requested again', async () => {
    // Prepare
    const issue = await create('alice');
    await toProdApproval(issue, 'tok-reject');

    // Act
    const noReason = await api('POST', `/v1/${issue.name}/stages/prod:reject`, { as: email('bob'), body: { comment: 'not tonight' } });
    const res = await api('POST', `/v1/${issue.name}/stages/prod:reject`, { as: email('bob'), body: { reason: 'not tonight' } });
    const approveRejected = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('bob'), body: {} });
    const byViewer = await api('POST', `/v1/${issue.name}/stages/prod:requestApproval`, { as: email('vera'), body: {} });
    const again = await api('POST', `/v1/${issue.name}/stages/prod:requestApproval`, { as: email('alice'), body: { comment: 'fixed the timing' } });
    const twice = await api('POST', `/v1/${issue.name}/stages/prod:requestApproval`, { as: email('alice'), body: {} });
    const approved = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('bob'), body: {} });

    // Assess
    expect([noReason.status, noReason.body.error.details[0]]).toEqual([400, { field: 'reason', description: 'required' }]);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('OPEN');
    expect(res.body.pipeline.stages[1]).toMatchObject({ status: 'REJECTED', approval: { status: 'REJECTED', steps: [{ status: 'REJECTED', approver: expect.stringMatching(/^users\//), comment: 'not tonight' }] } });
    expect(res.body.pipeline.stages[1].tasks[0].status).toBe('PENDING');
    expect([approveRejected.status, approveRejected.body.error.message]).toEqual([400, `${issue.name}/stages/prod was rejected; the creator may change the statement, request approval again (:requestApproval) or cancel`]);
    expect(byViewer.status).toBe(403);
    expect(again.status).toBe(200);
    expect(again.body.pipeline.stages[1]).toMatchObject({ status: 'PENDING_APPROVAL', approval: { status: 'PENDING', steps: [{ status: 'PENDING' }], waitingFor: ['projectOwner', 'projectReleaser', 'workspaceDBA', 'workspaceAdmin'] } });
    expect(again.body.pipeline.stages[1].approval.steps[0].approver).toBeUndefined();
    expect(twice.status).toBe(400);
    expect(approved.status).toBe(200);
    expect(approved.body.pipeline.stages[1]).toMatchObject({ status: 'RUNNING', approval: { status: 'APPROVED' } });
    expect(fake.failures).toEqual([]);
    expect(fake.stops).toEqual([]);
    expect(fake.successes).toEqual([{ token: 'tok-reject', output: {} }]);
    const acts = (await api('GET', `/v1/${issue.name}/activities`)).body.activities.map((a: Body) => [a.type, a.comment]);
    expect(acts).toEqual([
      ['ISSUE_CREATED', undefined],
      ['STAGE_REJECTED', 'step 1 of 1 (projectOwner or projectReleaser or workspaceDBA or workspaceAdmin): not tonight'],
      ['APPROVAL_REREQUESTED', 'fixed the timing'],
      ['STAGE_APPROVED', 'step 1 of 1 (projectOwner or projectReleaser or workspaceDBA or workspaceAdmin)'],
    ]);
  });

  it('a rejected stage stays REJECTED when a restarted runtime enters its gate again, and is approved on the new token', async () => {
    // Prepare: rejected, then the local runtime restarts (resumeOpenIssues clears the tokens).
    const issue = await create('alice');
    await toProdApproval(issue, 'tok-before-restart');
    expect((await api('POST', `/v1/${issue.name}/stages/prod:reject`, { as: email('bob'), body: { reason: 'wait' } })).status).toBe(200);
    const rejected = (await repo.get('shop', number(issue)))!.stages[1]!;
    await repo.updateStage(rejected, { status: rejected.status }, ['approvalToken', 'failureToken'], {});

    // Act
    const plan = await workflow.advance({ issue: issue.name });
    await workflow.approvalGate({ issue: issue.name, stage: 'prod', token: 'tok-after-restart' });
    const parked = (await get(issue)).pipeline.stages[1];
    const again = await api('POST', `/v1/${issue.name}/stages/prod:requestApproval`, { as: email('alice'), body: {} });
    const approved = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('bob'), body: {} });

    // Assess
    expect(plan).toMatchObject({ stage: { id: 'prod', requireApproval: true } });
    expect(parked).toMatchObject({ status: 'REJECTED', approval: { status: 'REJECTED' } });
    expect(again.body.pipeline.stages[1].status).toBe('PENDING_APPROVAL');
    expect(approved.status).toBe(200);
    expect(fake.successes).toEqual([{ token: 'tok-after-restart', output: {} }]);
  });

  it('a stage stored with the single approval of before reads as one step, and its waiting execution is approved as before', async () => {
    // Prepare: the item as the code before multi-step approval wrote it, waiting at its gate.
    const issue = await create('alice');
    await toProdApproval(issue, 'tok-old');
    const stored = (await repo.get('shop', number(issue)))!.stages[1]!;
    await t.store.doc.send(
      new UpdateCommand({
        TableName: t.tableName,
        Key: keys.stage('shop', number(issue), stored.order, 'prod'),
        UpdateExpression: 'SET approval = :old',
        ExpressionAttributeValues: { ':old': { status: 'PENDING' } },
      }),
    );

    // Act
    const read = await get(issue);
    const approved = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('bob'), body: {} });
    const item = await t.store.doc.send(new GetCommand({ TableName: t.tableName, Key: keys.stage('shop', number(issue), stored.order, 'prod') }));

    // Assess
    expect(read.pipeline.stages[1].approval).toEqual({ status: 'PENDING', steps: [{ roles: FALLBACK, status: 'PENDING' }], waitingFor: FALLBACK });
    expect(approved.status).toBe(200);
    expect(approved.body.pipeline.stages[1]).toMatchObject({ status: 'RUNNING', approval: { status: 'APPROVED', steps: [{ status: 'APPROVED', approver: expect.stringMatching(/^users\//) }] } });
    expect(fake.successes).toEqual([{ token: 'tok-old', output: {} }]);
    // Written back in the new shape.
    expect(item.Item!.approval).toMatchObject({ status: 'APPROVED', steps: [{ roles: FALLBACK, status: 'APPROVED' }] });
  });

  it('a rule of two steps: the first approval writes the step only, the second sends the gate its token once', async () => {
    // Prepare
    const rules = await api('GET', '/v1/approvalRules');
    const put = await api('PUT', '/v1/approvalRules', {
      body: { etag: rules.body.etag, rules: [{ title: 'prod: owner then releaser', condition: 'environment == "prod"', steps: [{ role: 'projectOwner' }, { role: 'projectReleaser' }] }] },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const issue = await create('dave');
    try {
      await toProdApproval(issue, 'tok-steps');

      // Act
      const releaserFirst = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('bob'), body: {} });
      const owner = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('alice'), body: { comment: 'schema looks right' } });
      const sentAfterOne = [...fake.successes];
      const ownerAgain = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('alice'), body: {} });
      const releaser = await api('POST', `/v1/${issue.name}/stages/prod:approve`, { as: email('bob'), body: {} });

      // Assess
      expect(releaserFirst.status).toBe(403);
      expect(releaserFirst.body.error.message).toMatch(/waits for step 1 of 2 \(projectOwner\)/);
      expect(owner.status).toBe(200);
      expect(owner.body.pipeline.stages[1]).toMatchObject({ status: 'PENDING_APPROVAL', approval: { status: 'PENDING', rule: 'prod: owner then releaser', waitingFor: ['projectReleaser'] } });
      expect(sentAfterOne).toEqual([]);
      // alice holds projectOwner only: the releaser step is not hers to approve.
      expect(ownerAgain.status).toBe(403);
      expect(releaser.status).toBe(200);
      expect(releaser.body.pipeline.stages[1].approval.steps.map((x: Body) => [x.role, x.status])).toEqual([['projectOwner', 'APPROVED'], ['projectReleaser', 'APPROVED']]);
      expect(fake.successes).toEqual([{ token: 'tok-steps', output: {} }]);
      const acts = (await api('GET', `/v1/${issue.name}/activities`)).body.activities.map((a: Body) => [a.type, a.comment]);
      expect(acts).toEqual([
        ['ISSUE_CREATED', undefined],
        ['STEP_APPROVED', 'step 1 of 2 (projectOwner): schema looks right'],
        ['STAGE_APPROVED', 'step 2 of 2 (projectReleaser)'],
      ]);
    } finally {
      await api('PUT', '/v1/approvalRules', { body: { rules: [] } });
    }
  });
});

describe('approval rules over the plan check', () => {
  it("read the plan check from the tasks: statement.affected_rows sums the stage's estimates, plan_check.status is the worst", async () => {
    // Prepare: what the plan-check phase records on each task before the first stage starts.
    await api('PUT', '/v1/approvalRules', {
      body: {
        rules: [
          { title: 'big', condition: 'statement.affected_rows > 10000', steps: [{ role: 'workspaceAdmin' }] },
          { title: 'warned', condition: 'plan_check.status == "WARNING"', steps: [{ role: 'projectReleaser' }] },
        ],
      },
    });
    try {
      const issue = await create('alice', { type: 'DATABASE_DATA_UPDATE', statement: 'UPDATE users SET name = lower(name)' });
      const agg = (await repo.get('shop', number(issue)))!;
      const checked = (estimate: number, status: 'SUCCESS' | 'WARNING') => ({ status, affectedRowsEstimate: estimate, advices: [], checkTime: new Date().toISOString() });
      await repo.putTaskChecks('shop', number(issue), agg.tasks.map((task) => ({ task: task.id, check: task.stage === 'test' ? checked(6_000, 'SUCCESS') : checked(9_000, task.id === 3 ? 'WARNING' : 'SUCCESS') })));

      // Act: the test stage (6,000 + 6,000 rows), then, once it is done, prod (9,000 rows, a WARNING)
      const test = await workflow.advance({ issue: issue.name });
      const testApproval = (await get(issue)).pipeline.stages[0].approval;
      await workflow.approvalGate({ issue: issue.name, stage: 'test', token: 'tok-big' });
      const approved = await api('POST', `/v1/${issue.name}/stages/test:approve`, { body: {} });
      for (const task of (await repo.get('shop', number(issue)))!.tasks.filter((x) => x.stage === 'test')) await repo.updateTask(task, { status: 'DONE' });
      await workflow.stageResult({ issue: issue.name, stage: 'test' });
      const prod = await workflow.advance({ issue: issue.name });
      const prodApproval = (await get(issue)).pipeline.stages[1].approval;

      // Assess
      expect(test).toMatchObject({ stage: { id: 'test', requireApproval: true } });
      expect(testApproval).toMatchObject({ status: 'PENDING', rule: 'big', waitingFor: ['workspaceAdmin'] });
      expect(approved.status).toBe(200);
      expect(prod).toMatchObject({ stage: { id: 'prod', requireApproval: true } });
      expect(prodApproval).toMatchObject({ status: 'PENDING', rule: 'warned', waitingFor: ['projectReleaser'] });
    } finally {
      await api('PUT', '/v1/approvalRules', { body: { rules: [] } });
    }
  });

  it('decide a stage once: a second Advance keeps the steps decided, even after the rules change', async () => {
    // Prepare
    await api('PUT', '/v1/approvalRules', { body: { rules: [{ title: 'all', condition: 'true', steps: [{ role: 'workspaceDBA' }] }] } });
    const issue = await create('alice', { targets: ['instances/pg-test/databases/shop'] });
    const first = await workflow.advance({ issue: issue.name });
    await api('PUT', '/v1/approvalRules', { body: { rules: [] } });

    // Act
    const second = await workflow.advance({ issue: issue.name });

    // Assess
    expect(first).toMatchObject({ stage: { requireApproval: true } });
    expect(second).toEqual(first);
    expect((await get(issue)).pipeline.stages[0].approval).toMatchObject({ status: 'PENDING', rule: 'all' });
  });
});

describe('failed tasks: :run and :skip', () => {
  /** An issue on one test database whose only task failed, the stage waiting at its failure gate. */
  async function failed(token: string): Promise<Body> {
    const issue = await create('alice', { targets: ['instances/pg-test/databases/shop', 'instances/pg-test2/databases/shop'] });
    await workflow.advance({ issue: issue.name });
    const agg = (await repo.get('shop', number(issue)))!;
    await repo.updateTask(agg.tasks[0]!, { status: 'FAILED' });
    await repo.updateTask(agg.tasks[1]!, { status: 'DONE' });
    expect(await workflow.stageResult({ issue: issue.name, stage: 'test' })).toEqual({ status: 'FAILED' });
    await workflow.failureGate({ issue: issue.name, stage: 'test', token });
    return issue;
  }

  it('takes over a task its runner left RUNNING once the stage waits at its failure gate, and not before', async () => {
    // Prepare: task 1 claimed by a runner that then died; the Map ended, StageResult said FAILED.
    const issue = await create('alice', { targets: ['instances/pg-test/databases/shop', 'instances/pg-test2/databases/shop'] });
    await workflow.advance({ issue: issue.name });
    const agg = (await repo.get('shop', number(issue)))!;
    await repo.updateTask(agg.tasks[0]!, { status: 'RUNNING' });
    await repo.updateTask(agg.tasks[1]!, { status: 'DONE' });
    const early = await api('POST', `/v1/${issue.name}/stages/test/tasks/1:run`, { as: email('bob'), body: {} });
    expect(await workflow.stageResult({ issue: issue.name, stage: 'test' })).toEqual({ status: 'FAILED' });
    await workflow.failureGate({ issue: issue.name, stage: 'test', token: 'tok-stranded' });

    // Act
    const run = await api('POST', `/v1/${issue.name}/stages/test/tasks/1:run`, { as: email('bob'), body: {} });

    // Assess: while its stage still ran, a RUNNING task was left alone; at the gate it runs again.
    expect([early.status, early.body.error.message]).toEqual([400, expect.stringMatching(/is RUNNING/)]);
    expect(run.status).toBe(200);
    expect(run.body.pipeline.stages[0].tasks[0].status).toBe('PENDING');
    expect(fake.successes).toEqual([{ token: 'tok-stranded', output: { taskIds: ['1'] } }]);
  });

  it('retries a failed task once, recording who pressed :run; :run on a DONE task is a 400 and runs nothing', async () => {
    // Prepare
    const issue = await failed('tok-run');

    // Act
    const done = await api('POST', `/v1/${issue.name}/stages/test/tasks/2:run`, { as: email('bob'), body: {} });
    const run = await api('POST', `/v1/${issue.name}/stages/test/tasks/1:run`, { as: email('bob'), body: {} });
    const again = await api('POST', `/v1/${issue.name}/stages/test/tasks/1:run`, { as: email('bob'), body: {} });
    const developer = await api('POST', `/v1/${issue.name}/stages/test/tasks/1:run`, { as: email('dave'), body: {} });

    // Assess
    expect([done.status, done.body.error.message]).toEqual([400, expect.stringMatching(/DONE/)]);
    expect(run.status).toBe(200);
    // Reset to NOT_STARTED in a stage that runs again: waiting for its turn.
    expect(run.body.pipeline.stages[0].tasks[0].status).toBe('PENDING');
    expect(fake.successes).toEqual([{ token: 'tok-run', output: { taskIds: ['1'] } }]);
    expect(again.status).toBe(400);
    expect(developer.status).toBe(403);
    const bob = (await api('GET', '/v1/users?pageSize=100')).body.users.find((u: Body) => u.email === email('bob'));
    const stored = (await repo.get('shop', number(issue)))!.tasks[0]!;
    expect(`users/${stored.runRequestedBy}`).toBe(bob.name);
  });

  it('skips a failed task with a reason, then the pipeline finishes and the issue is DONE', async () => {
    // Prepare
    const issue = await failed('tok-skip');

    // Act
    const noReason = await api('POST', `/v1/${issue.name}/stages/test/tasks/1:skip`, { as: email('bob'), body: {} });
    const skip = await api('POST', `/v1/${issue.name}/stages/test/tasks/1:skip`, { as: email('bob'), body: { reason: 'applied by hand' } });
    const result = await workflow.stageResult({ issue: issue.name, stage: 'test' });
    const next = await workflow.advance({ issue: issue.name });

    // Assess
    expect([noReason.status, noReason.body.error.details[0].field]).toEqual([400, 'reason']);
    expect(skip.status).toBe(200);
    expect(skip.body.pipeline.stages[0].tasks[0]).toMatchObject({ status: 'SKIPPED', skipReason: 'applied by hand' });
    expect(fake.successes).toEqual([{ token: 'tok-skip', output: { taskIds: [] } }]);
    expect(result).toEqual({ status: 'DONE' });
    expect(next).toEqual({ done: true });
    const after = await get(issue);
    expect(after.status).toBe('DONE');
    expect(after.pipeline.stages[0].status).toBe('DONE');
    const acts = (await api('GET', `/v1/${issue.name}/activities`)).body.activities.map((a: Body) => a.type);
    expect(acts).toEqual(['ISSUE_CREATED', 'TASK_SKIPPED', 'ISSUE_DONE']);
    expect(await workflow.advance({ issue: issue.name })).toEqual({ done: true });
    expect((await api('GET', `/v1/${issue.name}/activities`)).body.activities).toHaveLength(3);
  });

  it('refuses :run while the stage is not waiting at its failure gate', async () => {
    // Prepare
    const issue = await create('alice', { targets: ['instances/pg-test/databases/shop'] });
    const agg = (await repo.get('shop', number(issue)))!;
    await repo.updateTask(agg.tasks[0]!, { status: 'FAILED' });

    // Act
    const res = await api('POST', `/v1/${issue.name}/stages/test/tasks/1:run`, { as: email('bob'), body: {} });

    // Assess
    expect([res.status, res.body.error.status]).toEqual([400, 'FAILED_PRECONDITION']);
    expect(fake.successes).toEqual([]);
  });
});

describe('the workflow Lambdas', () => {
  it('advance names the stage and its tasks, marks them PENDING and the stage RUNNING; a runTime in the future holds it', async () => {
    // Prepare
    const issue = await create('alice', { runTime: '2099-01-01T02:00:00+02:00' });

    // Act
    const out = await workflow.advance({ issue: issue.name });

    // Assess
    // The project's maxParallelTasks (default 10): two tasks are two batches, so both run at once.
    expect(out).toEqual({ done: false, stage: { id: 'test', requireApproval: false, runTime: '2099-01-01T00:00:00Z', maxConcurrency: 10 }, batches: [['1'], ['2']] });
    const after = await get(issue);
    expect(after.pipeline.stages[0].status).toBe('RUNNING');
    expect(after.pipeline.stages[0].tasks.map((x: Body) => x.status)).toEqual(['PENDING', 'PENDING']);
    expect(after.pipeline.stages[1].tasks[0].status).toBe('NOT_STARTED');
  });

  it('a gate stores its token once: a duplicate delivery is fine, another token is refused', async () => {
    // Prepare
    const issue = await create('alice');
    await toProdApproval(issue, 'tok-a');

    // Act
    const duplicate = workflow.approvalGate({ issue: issue.name, stage: 'prod', token: 'tok-a' });
    await expect(duplicate).resolves.toBeDefined();
    const other = workflow.approvalGate({ issue: issue.name, stage: 'prod', token: 'tok-b' });

    // Assess
    await expect(other).rejects.toThrow(/already holds/);
    expect((await repo.get('shop', number(issue)))!.stages[1]!.approvalToken).toBe('tok-a');
  });

  it('stageResult counts a task left RUNNING or NOT_STARTED as FAILED', async () => {
    // Prepare
    const issue = await create('alice', { targets: ['instances/pg-test/databases/shop'] });
    const agg = (await repo.get('shop', number(issue)))!;
    await repo.updateTask(agg.tasks[0]!, { status: 'RUNNING' });

    // Act
    const out = await workflow.stageResult({ issue: issue.name, stage: 'test' });

    // Assess
    expect(out).toEqual({ status: 'FAILED' });
    expect((await get(issue)).pipeline.stages[0].status).toBe('FAILED');
  });
});
