// The per-target plan check (CheckBatch) with the rules that read the schema: each target is
// judged on the schema its last sync recorded, read from the store (not the live catalog: the
// probe is never opened for DDL), a snapshot shared by targets of one schema read once, and a
// target never synced gets a WARNING that says so, never an ERROR.
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../domain/common/hash.js';
import type { Instance } from '../../domain/inventory/instances.js';
import type { Issue, StatementCheck, Task, TaskPlanCheck } from '../../domain/pipeline/model.js';
import { checkBatch, startPlanCheck, type PlanCheckDeps } from '../../domain/pipeline/plan-checks.js';
import type { ReviewConfig } from '../../domain/review/configs.js';
import type { DatabaseSchema } from '../../domain/schema/model.js';
import { modelOf } from './review/cases.js';

const STATEMENT = 'ALTER TABLE logs ADD COLUMN note text;\nALTER TABLE employees ADD COLUMN email text;';
const TIME = '2026-12-06T00:00:00.000Z';
const issue: Issue = {
  project: 'shop', number: 1, title: 't', description: '', type: 'DATABASE_SCHEMA_UPDATE', status: 'OPEN', creator: 2,
  statement: STATEMENT, checksum: sha256(STATEMENT), createTime: TIME, updateTime: TIME, version: 1,
} as Issue;
const task = (id: number, database: string): Task => ({ project: 'shop', issue: 1, id, stage: 'prod', type: 'DATABASE_SCHEMA_UPDATE', target: { instance: 'pg', database }, status: 'NOT_STARTED', attempts: 0, version: 1 });
const TASKS = [task(1, 'tenant_a'), task(2, 'tenant_b'), task(3, 'fresh')];
const pgInstance = { id: 'pg', title: 'pg', engine: 'POSTGRES', environment: 'prod', dataSources: [], state: 'ACTIVE', createTime: TIME, updateTime: TIME, version: 1 } as Instance;
const config: ReviewConfig = {
  id: 'guard', title: 'guard', enabled: true, resources: ['environments/prod'], createTime: TIME, updateTime: TIME, version: 1,
  rules: [{ type: 'column.no-duplicate', level: 'ERROR' }, { type: 'table.require-pk', level: 'ERROR' }],
};
/** tenant_a and tenant_b share one schema (one checksum); fresh was never synced. */
const MODEL: DatabaseSchema = modelOf({ engine: 'POSTGRES', schema: { employees: ['id integer not null', 'email text'], logs: ['ts timestamptz'] }, noPk: ['logs'] });

function fakes() {
  const reads = { heads: [] as string[], snapshots: [] as string[] };
  let statementChecks: StatementCheck[] = [];
  const results = new Map<number, TaskPlanCheck>();
  const deps = {
    issues: {
      get: async () => ({ issue, stages: [], tasks: TASKS }),
      updateIssue: async () => undefined,
      updateStage: async () => undefined,
      appendActivity: async () => undefined,
      putStatementChecks: async (_p: string, _n: number, checks: StatementCheck[]) => {
        statementChecks = checks;
      },
      getStatementChecks: async () => statementChecks,
      putTaskChecks: async (_p: string, _n: number, list: { task: number; check: TaskPlanCheck }[]) => {
        for (const r of list) results.set(r.task, r.check);
      },
    },
    tasks: { getTask: async (_p: string, _n: number, id: number) => TASKS.find((t) => t.id === id), getIssue: async () => issue },
    instances: { get: async () => pgInstance, listAll: async () => [pgInstance] },
    projects: { get: async () => undefined },
    reviewConfigs: { listAll: async () => [config] },
    schemas: {
      head: async (_i: string, database: string) => {
        reads.heads.push(database);
        return database === 'fresh' ? undefined : { checksum: 'shared', syncTime: TIME };
      },
      snapshot: async (_i: string, database: string) => {
        reads.snapshots.push(database);
        return MODEL;
      },
    },
    probe: {
      withCatalog: async () => {
        throw new Error('the live target is not read for schema rules');
      },
    },
    now: () => new Date(TIME),
  } as unknown as PlanCheckDeps;
  return { deps, reads, results, statementChecks: () => statementChecks };
}

describe('CheckBatch with rules that read the schema', () => {
  it('judges each target on its recorded schema; a target never synced gets one WARNING; the shared snapshot is read once', async () => {
    // Arrange
    const f = fakes();
    const planned = await startPlanCheck(f.deps, { issue: 'projects/shop/issues/1' });
    // Act
    for (const batch of planned.batches) await checkBatch(f.deps, { issue: 'projects/shop/issues/1', taskIds: batch });
    // Assess: the statement-only pass (once for POSTGRES + prod) ran table.require-pk without a schema: nothing to say.
    expect(f.statementChecks()).toEqual([expect.objectContaining({ engine: 'POSTGRES', environment: 'prod', advices: [] })]);
    const at = (id: number) => f.results.get(id)!.advices.map((a) => `${a.status} ${a.rule} ${a.line}:${a.column}`);
    // Synced targets: logs has no primary key (line 1), employees has email (line 2, its definition).
    for (const id of [1, 2]) {
      expect(at(id)).toEqual(['ERROR table.require-pk 1:1', 'ERROR column.no-duplicate 2:34']);
      expect(f.results.get(id)!.status).toBe('ERROR');
    }
    // The target no sync recorded: the rule that needs the schema skipped, said once, never an ERROR.
    expect(at(3)).toEqual(['WARNING schema.unknown 1:1']);
    expect(f.results.get(3)!.advices[0]!.content).toMatch(/instances\/pg\/databases\/fresh has no synced schema.*column\.no-duplicate/);
    expect(f.results.get(3)!.status).toBe('WARNING');
    // One head read per target; the snapshot both tenants share read once.
    expect(f.reads.heads.sort()).toEqual(['fresh', 'tenant_a', 'tenant_b']);
    expect(f.reads.snapshots).toHaveLength(1);
  });
});
