// A batch change over a database group of 10,000 databases against DynamoDB Local: planned in one
// request (more items than a transaction holds, so written in two phases), every item counted, and
// its execution run by the synthesized state machine locally with the real Advance, StageResult and
// gate Lambdas: one Map Run in the parent's history, the tasks in child executions of at most 25.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../domain/inventory/databases.js';
import type { Json, Orchestrator, PipelineInput } from '../../domain/pipeline/orchestrator.js';
import { COUNTER_SHARDS } from '../../functions/adapters/dynamo/task-counts.js';
import { PIPELINE_STATES as S } from '../../infra/lib/pipeline.js';
import { aslFromTemplate, LocalStepFunctions, type LocalHandler } from '../../infra/local/stepfunctions.js';
import { apiClient, type Api, type Body, type Handlers } from '../support/api.js';
import { PIPELINE_FUNCTIONS, pipelineStack, type PipelineFunction } from '../support/pipeline-stack.js';
import { freshTable, type TestTable } from '../support/table.js';

const TENANTS = 10_000;
const PROD = 2_000;
const email = (who: string) => `${who}@example.com`;
const time = '2026-11-25T00:00:00Z';
const db = (instance: string, name: string): Database => ({
  instance, name, project: 'saas', labels: { tier: 'tenant' }, schemaVersion: '', syncState: 'OK', createTime: time, updateTime: time, version: 1,
});

let t: TestTable;
let api: Api;
let runner: LocalStepFunctions | undefined;
let setOrchestrator: (o: Orchestrator | undefined) => void;
/** The orchestrator port, delegating to the local runner once it exists (the issue is created first). */
const orchestrator: Orchestrator = {
  startExecution: (name: string, input: PipelineInput) => runner!.startExecution(name, input),
  stopExecution: (name: string, cause?: string) => runner!.stopExecution(name, cause),
  describeExecution: (name: string) => runner!.describeExecution(name),
  sendTaskSuccess: (token: string, output: Json) => runner!.sendTaskSuccess(token, output),
  sendTaskFailure: (token: string, error: string, cause?: string) => runner!.sendTaskFailure(token, error, cause),
};
let workflow: Record<Exclude<PipelineFunction, 'runTask'>, LocalHandler>;
const ran: string[] = [];

beforeAll(async () => {
  t = await freshTable();
  const [users, projects, issues, groups, orch, wiring, advance, approval, failure, result, planCheck, checkBatch, checksResult, checksGate] = await Promise.all([
    import('../../functions/http/users.js'),
    import('../../functions/http/projects.js'),
    import('../../functions/http/issues.js'),
    import('../../functions/http/groups.js'),
    import('../../functions/shared/orchestrator.js'),
    import('../../functions/shared/wiring.js'),
    import('../../functions/workflow/advance.js'),
    import('../../functions/workflow/approval-gate.js'),
    import('../../functions/workflow/failure-gate.js'),
    import('../../functions/workflow/stage-result.js'),
    import('../../functions/workflow/plan-check.js'),
    import('../../functions/workflow/check-batch.js'),
    import('../../functions/workflow/checks-result.js'),
    import('../../functions/workflow/checks-gate.js'),
  ]);
  setOrchestrator = orch.setOrchestrator;
  workflow = {
    advance: advance.handler as LocalHandler,
    approvalGate: approval.handler as LocalHandler,
    failureGate: failure.handler as LocalHandler,
    stageResult: result.handler as LocalHandler,
    // The real plan checks: 10,000 targets checked in batches before the first stage.
    planCheck: planCheck.handler as LocalHandler,
    checkBatch: checkBatch.handler as LocalHandler,
    checksResult: checksResult.handler as LocalHandler,
    checksGate: checksGate.handler as LocalHandler,
  };
  api = apiClient({ users: users.handler, projects: projects.handler, issues: issues.handler, groups: groups.handler } as unknown as Handlers);
  await api('POST', '/v1/users', { body: { email: email('alice'), role: 'workspaceMember' } });
  expect((await api('POST', '/v1/projects', { as: email('alice'), body: { id: 'saas', title: 'SaaS', maxParallelTasks: 10 } })).status).toBe(201);
  const { deps } = wiring;
  for (const [id, environment] of [['pg-test', 'test'], ['pg-prod', 'prod']] as const) {
    await deps.instances.create({ id, title: id, engine: 'POSTGRES', environment, dataSources: [], state: 'ACTIVE', createTime: time, updateTime: time });
  }
  // As a sync records them: 8,000 tenants on the test instance, 2,000 on prod.
  const names = Array.from({ length: TENANTS }, (_, i) => `tenant_${String(i + 1).padStart(5, '0')}`);
  const plan = (create: Database[]) => ({ time, create, setState: [], stamp: [], addTables: [], removeTables: [] });
  await deps.databases.applySync('pg-test', plan(names.slice(PROD).map((n) => db('pg-test', n))));
  await deps.databases.applySync('pg-prod', plan(names.slice(0, PROD).map((n) => db('pg-prod', n))));
  const group = await api('POST', '/v1/projects/saas/databaseGroups', { as: email('alice'), body: { id: 'tenants', title: 'Tenants', databaseExpr: 'resource.database_name.startsWith("tenant_")' } });
  expect(group.status, JSON.stringify(group.body)).toBe(201);
  setOrchestrator(orchestrator);
}, 300_000);

afterAll(async () => {
  await runner?.close();
  setOrchestrator?.(undefined);
});

async function partition(n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let start: Record<string, unknown> | undefined;
  do {
    const out = await t.store.doc.send(
      new QueryCommand({ TableName: t.store.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `ISSUE#saas#${String(n).padStart(10, '0')}` }, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    for (const item of out.Items ?? []) counts[String(item.type)] = (counts[String(item.type)] ?? 0) + 1;
    start = out.LastEvaluatedKey;
  } while (start);
  return counts;
}

describe('a batch change over 10,000 databases', () => {
  it('plans in one request: 10,000 tasks in 2 stages, every item written once, numbers without gaps', async () => {
    // Prepare: a pipeline stack whose runTask records the task and changes nothing (nothing to connect to).
    const p = pipelineStack();
    const handlers: Record<PipelineFunction, LocalHandler> = {
      ...workflow,
      // A batch (`{issue, taskIds}`: RunTask) or one task (`{issue, task}`: RunTaskAlone).
      runTask: (event) => {
        const { task, taskIds } = event as { task?: string; taskIds?: string[] };
        if (taskIds) {
          ran.push(...taskIds);
          return { rest: [] };
        }
        ran.push(task!);
        return { status: 'DONE' };
      },
    };
    runner = new LocalStepFunctions({
      definition: aslFromTemplate(p.template.toJSON() as never, p.stateMachineId),
      handlers: Object.fromEntries(PIPELINE_FUNCTIONS.map((f) => [p.fnIds[f], handlers[f]])),
    });
    const small = await api('POST', '/v1/projects/saas/issues', {
      as: email('alice'), body: { title: 'one', type: 'DATABASE_SCHEMA_UPDATE', statement: 'SELECT 1', targets: ['instances/pg-test/databases/tenant_09999'] },
    });

    // Act
    const started = Date.now();
    const created = await api('POST', '/v1/projects/saas/issues', {
      as: email('alice'),
      body: { title: 'Add a column to every tenant', type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE t ADD COLUMN c int', databaseGroup: 'projects/saas/databaseGroups/tenants' },
    });
    const planMs = Date.now() - started;
    const after = await api('POST', '/v1/projects/saas/issues', {
      as: email('alice'), body: { title: 'three', type: 'DATABASE_SCHEMA_UPDATE', statement: 'SELECT 1', targets: ['instances/pg-test/databases/tenant_09999'] },
    });

    // Assess: the response and the table
    console.log(`planned ${TENANTS} tasks in ${planMs} ms (DynamoDB Local)`);
    expect(created.status, JSON.stringify(created.body).slice(0, 500)).toBe(201);
    expect([small.body.name, created.body.name, after.body.name]).toEqual(['projects/saas/issues/1', 'projects/saas/issues/2', 'projects/saas/issues/3']);
    const stages: Body[] = created.body.pipeline.stages;
    expect(stages.map((s) => [s.environment, s.taskCount, s.tasks])).toEqual([
      ['environments/test', TENANTS - PROD, undefined],
      ['environments/prod', PROD, undefined],
    ]);
    // Each stage's task counters: one item per shard (task-counts.ts), written with the tasks.
    expect(await partition(2)).toEqual({ Issue: 1, Stage: 2, Task: TENANTS, TaskCount: 2 * COUNTER_SHARDS, Activity: 1 });
    const listed = await api('GET', '/v1/projects/saas/issues/2/stages/prod/tasks?pageSize=1000', { as: email('alice') });
    expect(listed.body.tasks).toHaveLength(1000);
    expect(listed.body.tasks[0]).toMatchObject({ name: `projects/saas/issues/2/stages/prod/tasks/${TENANTS - PROD + 1}`, database: 'instances/pg-prod/databases/tenant_00001' });
    expect(listed.body.nextPageToken).toEqual(expect.any(String));

    // Assess: the execution, once stage test has run (the stub writes nothing, so StageResult
    // finds the tasks unfinished and the failure gate waits: far enough to see the shape).
    await vi.waitFor(async () => expect((await api('GET', '/v1/projects/saas/issues/2', { as: email('alice') })).body.pipeline.stages[0].status).toBe('FAILED'), {
      timeout: 240_000,
      interval: 500,
    });
    const exec = 'saas-2';
    expect(new Set(ran.splice(0)).size).toBe(TENANTS - PROD);
    const parent = runner.historyEvents(exec);
    const children = runner.childHistories(exec);
    console.log(`parent history ${parent.length} events; ${children.length} children, at most ${Math.max(...children.map((c) => c.length))} events each`);
    // Two Map Runs: the plan checks of all 10,000 targets (400 batches of 25, each target checked
    // by the real CheckBatch), then stage test's 8,000 tasks (320 batches of 25).
    expect(parent.filter((e) => e.type === 'MapRunStarted')).toHaveLength(2);
    expect(parent.length).toBeLessThan(100);
    expect(children).toHaveLength(TENANTS / 25 + (TENANTS - PROD) / 25);
    // A child: its batch in one invoke (13 events; 8 + 25 × 7 when its 25 tasks were invoked one by one).
    expect(Math.max(...children.map((c) => c.length))).toBe(13);
    const checked = (await api('GET', '/v1/projects/saas/issues/2/planCheckRuns?pageSize=1000', { as: email('alice') })).body;
    expect(checked.planCheckRuns).toHaveLength(1000);
    expect(checked.planCheckRuns[0]).toMatchObject({ task: 'projects/saas/issues/2/stages/test/tasks/1', status: 'SUCCESS', advices: [] });
    const planned = runner.statesEntered(exec).find((s) => s.state === S.stageResult);
    expect(planned).toBeDefined();
    await runner.stopExecution(exec, 'end of test');
  }, 300_000);

  it('refuses a group of 10,001 with the count in the message, and creates nothing', async () => {
    const { deps } = await import('../../functions/shared/wiring.js');
    await deps.databases.applySync('pg-prod', { time, create: [db('pg-prod', 'tenant_10001')], setState: [], stamp: [], addTables: [], removeTables: [] });

    const res = await api('POST', '/v1/projects/saas/issues', {
      as: email('alice'), body: { title: 'Too many', type: 'DATABASE_SCHEMA_UPDATE', statement: 'SELECT 1', databaseGroup: 'projects/saas/databaseGroups/tenants' },
    });

    expect([res.status, res.body.error.details[0].field]).toEqual([400, 'databaseGroup']);
    expect(res.body.error.message).toMatch(/matches 10001 databases; an issue takes at most 10000/);
    expect((await api('GET', '/v1/projects/saas/issues', { as: email('alice') })).body.issues).toHaveLength(3);
    expect(await partition(4)).toEqual({});
  }, 120_000);
});
