// Plan checks as the pipeline runs them (domain/pipeline/plan-checks.ts), over an in-memory issue
// and a fake target catalog: which advices a task gets, when an ERROR blocks the stages, and that a
// task without a result is never let through. The parsers are the real ones.
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../domain/common/hash.js';
import type { TableFacts } from '../../domain/backup/model.js';
import type { BackupCatalog } from '../../domain/backup/plan.js';
import type { Instance } from '../../domain/inventory/instances.js';
import type { ReviewConfig } from '../../domain/review/configs.js';
import type { RuleConfig } from '../../domain/review/rule.js';
import type { Activity, Issue, IssueAggregate, Stage, StatementCheck, Task, TaskPlanCheck } from '../../domain/pipeline/model.js';
import { checkBatch, checksGate, checksResult, startPlanCheck, type PlanCheckDeps } from '../../domain/pipeline/plan-checks.js';

const NOW = new Date('2026-12-06T10:00:00Z');
const PROJECT = 'shop';

const instance = (id: string, engine: Instance['engine'], environment: string): Instance => ({
  id, title: id, engine, environment, dataSources: [], state: 'ACTIVE', createTime: NOW.toISOString(), updateTime: NOW.toISOString(), version: 1,
});
const INSTANCES = [instance('pg-test', 'POSTGRES', 'test'), instance('pg-prod', 'POSTGRES', 'prod'), instance('my-prod', 'MYSQL', 'prod')];

const config = (id: string, resources: string[], rules: RuleConfig[]): ReviewConfig => ({
  id, title: id, enabled: true, rules, resources, createTime: NOW.toISOString(), updateTime: NOW.toISOString(), version: 1,
});

/** A table the fake catalog knows: `id` primary key unless told otherwise. */
const table = (name: string, primaryKey = ['id']): TableFacts => ({
  schema: 'public', name, kind: 'TABLE', transactional: true,
  columns: ['id', 'v'].map((c) => ({ name: c, generated: false, identityAlways: false, autoIncrement: false, notNull: c === 'id' })),
  primaryKey, uniqueKeys: [], referencedBy: [], triggers: [], hasRules: false,
});

interface World {
  agg: IssueAggregate;
  statementChecks: StatementCheck[];
  activities: Omit<Activity, 'seq'>[];
  probed: string[];
}

function world(statement: string, targets: { instance: string; database: string; stage: string; status?: Task['status'] }[], extra: Partial<Issue> = {}): World {
  const issue: Issue = {
    project: PROJECT, number: 7, title: 't', description: '', type: 'DATABASE_DATA_UPDATE', status: 'OPEN', creator: 2,
    statement, checksum: sha256(statement), createTime: NOW.toISOString(), updateTime: NOW.toISOString(), version: 1, ...extra,
  };
  const stageIds = [...new Set(targets.map((t) => t.stage))];
  const stages: Stage[] = stageIds.map((id, order) => ({ project: PROJECT, issue: 7, id, order, requireApproval: false, approval: { status: 'NOT_DECIDED', steps: [] }, status: 'NOT_STARTED', version: 1 }));
  const tasks: Task[] = targets.map((t, i) => ({
    project: PROJECT, issue: 7, id: i + 1, stage: t.stage, type: issue.type, target: { instance: t.instance, database: t.database }, status: t.status ?? 'PENDING', attempts: 0, version: 1,
  }));
  return { agg: { issue, stages, tasks, latestRuns: [] }, statementChecks: [], activities: [], probed: [] };
}

function deps(w: World, opts: { configs?: ReviewConfig[]; tables?: Record<string, TableFacts>; estimate?: number; unreachable?: boolean } = {}): PlanCheckDeps {
  const catalog: BackupCatalog = {
    table: async (ref) => opts.tables?.[ref.name],
    estimateRows: async () => opts.estimate ?? 10,
  };
  return {
    issues: {
      get: async () => structuredClone(w.agg),
      updateIssue: async (_p, _n, fields, expected) => {
        if (expected !== w.agg.issue.version) throw new Error('stale version');
        w.agg.issue = { ...w.agg.issue, ...fields, version: w.agg.issue.version + 1 };
      },
      updateStage: async (stage, fields) => {
        const s = w.agg.stages.find((x) => x.id === stage.id)!;
        Object.assign(s, fields);
        return s;
      },
      appendActivity: async (a) => {
        w.activities.push(a);
        return { ...a, seq: w.activities.length } as Activity;
      },
      putStatementChecks: async (_p, _n, checks) => {
        w.statementChecks = checks;
      },
      getStatementChecks: async () => w.statementChecks,
      putTaskChecks: async (_p, _n, checks: { task: number; check: TaskPlanCheck }[]) => {
        for (const c of checks) w.agg.tasks.find((t) => t.id === c.task)!.planCheck = c.check;
      },
    },
    tasks: {
      getTask: async (_p, _n, id) => structuredClone(w.agg.tasks.find((t) => t.id === id)),
      getIssue: async () => structuredClone(w.agg.issue),
    },
    instances: { get: async (id) => INSTANCES.find((i) => i.id === id), listAll: async () => INSTANCES },
    projects: { get: async () => undefined },
    reviewConfigs: { listAll: async () => opts.configs ?? [] },
    // No target here has a recorded schema (plan-checks-schema.test.ts has those that do).
    schemas: { head: async () => undefined, snapshot: async () => undefined },
    probe: {
      withCatalog: async (inst, database, work) => {
        w.probed.push(`${inst.id}/${database}`);
        if (opts.unreachable) throw new Error('connect ECONNREFUSED');
        return work(catalog);
      },
    },
    now: () => NOW,
  };
}

/** The whole check as the state machine runs it: PlanCheck, every batch, ChecksResult. */
async function runChecks(w: World, d: PlanCheckDeps) {
  const planned = await startPlanCheck(d, { issue: `projects/${PROJECT}/issues/7` });
  for (const batch of planned.batches) await checkBatch(d, { issue: `projects/${PROJECT}/issues/7`, taskIds: batch });
  return { planned, result: await checksResult(d, { issue: `projects/${PROJECT}/issues/7` }) };
}

const WHERE_ERROR = config('strict', ['environments/prod'], [{ type: 'statement.where.require', level: 'ERROR' }]);

describe('plan checks', () => {
  it('a DELETE without WHERE is an ERROR at its line in prod only, and blocks every stage not yet run', async () => {
    // Arrange
    const w = world('SELECT 1;\nDELETE FROM t;', [
      { instance: 'pg-test', database: 'a', stage: 'test' },
      { instance: 'pg-prod', database: 'b', stage: 'prod' },
    ]);

    // Act
    const { result } = await runChecks(w, deps(w, { configs: [WHERE_ERROR], tables: { t: table('t') } }));

    // Assess
    expect(result).toEqual({ status: 'ERROR', blocked: true });
    const [testTask, prodTask] = w.agg.tasks;
    expect(testTask!.planCheck!.advices.filter((a) => a.rule === 'statement.where.require')).toEqual([]);
    expect(prodTask!.planCheck).toMatchObject({ status: 'ERROR', advices: [expect.objectContaining({ rule: 'statement.where.require', status: 'ERROR', line: 2 })] });
    expect(w.agg.stages.map((s) => s.status)).toEqual(['BLOCKED', 'BLOCKED']);
    expect(w.agg.issue.planCheck).toMatchObject({ status: 'ERROR', errorCount: 1 });
    expect(w.activities.map((a) => a.type)).toEqual(['PLAN_CHECK_ERROR']);
  });

  it('reviews the statement once per engine and environment, however many targets share them', async () => {
    // Arrange: three PostgreSQL prod targets, one MySQL prod target, one PostgreSQL test target
    const w = world('UPDATE t SET v = 1 WHERE id = 1', [
      { instance: 'pg-prod', database: 'a', stage: 'prod' },
      { instance: 'pg-prod', database: 'b', stage: 'prod' },
      { instance: 'pg-prod', database: 'c', stage: 'prod' },
      { instance: 'my-prod', database: 'd', stage: 'prod' },
      { instance: 'pg-test', database: 'e', stage: 'test' },
    ]);

    // Act
    const { planned } = await runChecks(w, deps(w));

    // Assess
    expect(w.statementChecks.map((c) => `${c.engine}/${c.environment}`).sort()).toEqual(['MYSQL/prod', 'POSTGRES/prod', 'POSTGRES/test']);
    expect(planned.batches.flat().sort()).toEqual(['1', '2', '3', '4', '5']);
    expect(w.agg.tasks.every((t) => t.planCheck?.status === 'SUCCESS' && t.planCheck.affectedRowsEstimate === 10)).toBe(true);
  });

  it('leaves finished tasks out of a re-check', async () => {
    // Arrange
    const w = world('UPDATE t SET v = 1 WHERE id = 1', [
      { instance: 'pg-test', database: 'a', stage: 'test', status: 'DONE' },
      { instance: 'pg-prod', database: 'b', stage: 'prod' },
    ]);

    // Act
    const { planned } = await runChecks(w, deps(w));

    // Assess
    expect(planned.batches.flat()).toEqual(['2']);
    expect(w.probed).toEqual(['pg-prod/b']);
  });

  it('the affected-row limit reads the EXPLAIN estimate of the target itself', async () => {
    // Arrange
    const limit = config('rows', ['environments/prod'], [{ type: 'statement.affected-row-limit', level: 'ERROR', payload: { max: 1000 } }]);
    const w = world('UPDATE t SET v = 1 WHERE v > 0', [{ instance: 'pg-prod', database: 'b', stage: 'prod' }]);

    // Act
    const { result } = await runChecks(w, deps(w, { configs: [limit], estimate: 50_000 }));

    // Assess
    expect(result.blocked).toBe(true);
    expect(w.agg.tasks[0]!.planCheck).toMatchObject({ affectedRowsEstimate: 50_000, advices: [expect.objectContaining({ rule: 'statement.affected-row-limit', status: 'ERROR' })] });
  });

  it('prior backup refuses a table whose rows cannot be told apart, at plan check', async () => {
    // Arrange
    const w = world('UPDATE nokey SET v = 2 WHERE v = 1', [{ instance: 'pg-prod', database: 'b', stage: 'prod' }], { enablePriorBackup: true });

    // Act
    const { result } = await runChecks(w, deps(w, { tables: { nokey: table('nokey', []) } }));

    // Assess
    expect(result).toEqual({ status: 'ERROR', blocked: true });
    expect(w.agg.tasks[0]!.planCheck!.advices).toEqual([expect.objectContaining({ rule: 'prior-backup.unsupported', status: 'ERROR', line: 1 })]);
  });

  it('a target that cannot be read is a WARNING, not a pass and not a block', async () => {
    // Arrange
    const w = world('DELETE FROM t WHERE id = 3', [{ instance: 'pg-prod', database: 'b', stage: 'prod' }]);

    // Act
    const { result } = await runChecks(w, deps(w, { unreachable: true }));

    // Assess
    expect(result).toEqual({ status: 'WARNING', blocked: false });
    expect(w.agg.tasks[0]!.planCheck!.advices).toEqual([expect.objectContaining({ rule: 'plan-check.target', status: 'WARNING', content: expect.stringContaining('ECONNREFUSED') })]);
    expect(w.agg.stages[0]!.status).toBe('NOT_STARTED');
  });

  it('a task whose batch never reported is an ERROR, never let through unchecked', async () => {
    // Arrange: PlanCheck ran, the second task's batch was lost
    const w = world('UPDATE t SET v = 1 WHERE id = 1', [
      { instance: 'pg-prod', database: 'a', stage: 'prod' },
      { instance: 'pg-prod', database: 'b', stage: 'prod' },
    ]);
    const d = deps(w);
    await startPlanCheck(d, { issue: `projects/${PROJECT}/issues/7` });
    await checkBatch(d, { issue: `projects/${PROJECT}/issues/7`, taskIds: ['1'] });

    // Act
    const result = await checksResult(d, { issue: `projects/${PROJECT}/issues/7` });

    // Assess
    expect(result).toEqual({ status: 'ERROR', blocked: true });
    expect(w.agg.tasks[1]!.planCheck!.advices).toEqual([expect.objectContaining({ rule: 'plan-check.incomplete' })]);
  });

  it('a result for an earlier statement counts as missing after the statement changed', async () => {
    // Arrange: checked, then the statement edited (new checksum) without a new check of task 1
    const w = world('UPDATE t SET v = 1 WHERE id = 1', [{ instance: 'pg-prod', database: 'a', stage: 'prod' }]);
    await runChecks(w, deps(w));
    w.agg.issue = { ...w.agg.issue, statement: 'UPDATE t SET v = 2 WHERE id = 1', checksum: sha256('UPDATE t SET v = 2 WHERE id = 1') };

    // Act
    const result = await checksResult(deps(w), { issue: `projects/${PROJECT}/issues/7` });

    // Assess
    expect(result.blocked).toBe(true);
    expect(w.agg.tasks[0]!.planCheck!.advices[0]).toMatchObject({ rule: 'plan-check.incomplete' });
  });

  it('an override for this very statement lets an ERROR through; one for an earlier statement does not', async () => {
    // Arrange
    const statement = 'DELETE FROM t';
    const override = (checksum: string) => ({ planCheck: { status: 'ERROR' as const, errorCount: 1, warningCount: 0, override: { checksum, reason: 'known', actor: 1, time: NOW.toISOString() } } });
    const current = world(statement, [{ instance: 'pg-prod', database: 'a', stage: 'prod' }], override(sha256(statement)));
    const stale = world(statement, [{ instance: 'pg-prod', database: 'a', stage: 'prod' }], override(sha256('DELETE FROM t WHERE id = 1')));

    // Act
    const passed = await runChecks(current, deps(current, { configs: [WHERE_ERROR] }));
    const blocked = await runChecks(stale, deps(stale, { configs: [WHERE_ERROR] }));

    // Assess
    expect(passed.result).toEqual({ status: 'ERROR', blocked: false });
    expect(current.agg.stages[0]!.status).toBe('NOT_STARTED');
    expect(current.agg.issue.planCheck?.override).toBeDefined();
    expect(blocked.result).toEqual({ status: 'ERROR', blocked: true });
  });

  it('a closed issue is not checked, and its gate refuses a token', async () => {
    // Arrange
    const w = world('DELETE FROM t', [{ instance: 'pg-prod', database: 'a', stage: 'prod' }], { status: 'CANCELED' });
    const d = deps(w, { configs: [WHERE_ERROR] });

    // Act
    const planned = await startPlanCheck(d, { issue: `projects/${PROJECT}/issues/7` });
    const gate = checksGate(d, { issue: `projects/${PROJECT}/issues/7`, token: 'tok' });

    // Assess
    expect(planned.batches).toEqual([]);
    await expect(gate).rejects.toThrow(/CANCELED/);
    expect(w.agg.issue.checksToken).toBeUndefined();
  });

  it('the gate keeps the token on an open issue', async () => {
    // Arrange
    const w = world('DELETE FROM t', [{ instance: 'pg-prod', database: 'a', stage: 'prod' }]);

    // Act
    await checksGate(deps(w), { issue: `projects/${PROJECT}/issues/7`, token: 'tok-1' });

    // Assess
    expect(w.agg.issue.checksToken).toBe('tok-1');
  });
});
