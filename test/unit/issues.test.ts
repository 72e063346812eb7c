import { describe, expect, it } from 'vitest';
import { parse } from '../../domain/common/values.js';
import type { Environment } from '../../domain/inventory/environments.js';
import { SluiceError } from '../../domain/common/errors.js';
import { IssueCreate, IssuePatch, SkipTaskRequest, toIssueResource } from '../../domain/pipeline/resources.js';
import { parseIssueFilter, planPipeline, type PlanTarget } from '../../domain/pipeline/planning.js';
import { parseIssueName, type Issue } from '../../domain/pipeline/model.js';

const env = (id: string, order: number, requireApproval = false, state: 'ACTIVE' | 'DELETED' = 'ACTIVE'): Environment => ({
  id, title: id, order, requireApproval, state, createTime: '2026-11-25T00:00:00Z', updateTime: '2026-11-25T00:00:00Z', version: 1,
});
const ENVS = [env('prod', 2, true), env('test', 0), env('staging', 1)];
const target = (instance: string, environment: string, database = 'shop'): PlanTarget => ({ target: { instance, database }, environment });

const failure = (fn: () => unknown): SluiceError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof SluiceError) return e;
    throw e;
  }
  throw new Error('expected a SluiceError');
};

describe('planning a pipeline', () => {
  it('makes one stage per environment that has a target, in pipeline order, whatever order the targets come in', () => {
    // Act
    const { stages } = planPipeline({ project: 'shop', type: 'DATABASE_SCHEMA_UPDATE', environments: ENVS, targets: [target('pg-prod', 'prod'), target('pg-test', 'test')] });

    // Assess
    expect(stages.map((s) => [s.id, s.order])).toEqual([['test', 0], ['prod', 2]]);
  });

  it("keeps each environment's requireApproval and leaves the flow to be decided when the stage is reached", () => {
    // Act
    const { stages } = planPipeline({ project: 'shop', type: 'DATABASE_DATA_UPDATE', environments: ENVS, targets: [target('pg-test', 'test'), target('pg-prod', 'prod')] });

    // Assess
    expect(stages.map((s) => [s.id, s.requireApproval, s.approval.status, s.status])).toEqual([
      ['test', false, 'NOT_DECIDED', 'NOT_STARTED'],
      ['prod', true, 'NOT_DECIDED', 'NOT_STARTED'],
    ]);
  });

  it('makes one task per target, ids counting up from 1 in stage order, each holding the runTime', () => {
    // Act
    const { tasks } = planPipeline({
      project: 'shop',
      type: 'DATABASE_SCHEMA_UPDATE',
      runTime: '2026-12-01T02:00:00Z',
      environments: ENVS,
      targets: [target('pg-prod', 'prod'), target('pg-stage', 'staging'), target('pg-test', 'test', 'a'), target('pg-test', 'test', 'b')],
    });

    // Assess
    expect(tasks.map((t) => [t.id, t.stage, t.target])).toEqual([
      [1, 'test', { instance: 'pg-test', database: 'a' }],
      [2, 'test', { instance: 'pg-test', database: 'b' }],
      [3, 'staging', { instance: 'pg-stage', database: 'shop' }],
      [4, 'prod', { instance: 'pg-prod', database: 'shop' }],
    ]);
    expect(tasks.every((t) => t.status === 'NOT_STARTED' && t.attempts === 0 && t.runTime === '2026-12-01T02:00:00Z')).toBe(true);
  });

  it('plans a DATABASE_CREATE as one stage with one task naming the new database', () => {
    // Act
    const { stages, tasks } = planPipeline({
      project: 'shop',
      type: 'DATABASE_CREATE',
      environments: ENVS,
      targets: [{ target: { instance: 'pg-prod', databaseName: 'orders' }, environment: 'prod' }],
    });

    // Assess
    expect(stages.map((s) => s.id)).toEqual(['prod']);
    expect(tasks).toMatchObject([{ id: 1, type: 'DATABASE_CREATE', target: { instance: 'pg-prod', databaseName: 'orders' } }]);
  });

  it('refuses a target whose environment is deleted', () => {
    // Act
    const e = failure(() => planPipeline({ project: 'shop', type: 'DATABASE_SCHEMA_UPDATE', environments: [...ENVS, env('old', 3, false, 'DELETED')], targets: [target('pg-old', 'old')] }));

    // Assess
    expect([e.httpStatus, e.status]).toEqual([400, 'FAILED_PRECONDITION']);
  });
});

describe('the issue list filter', () => {
  it('reads status == "OPEN" and its variants', () => {
    // Assess
    expect(parseIssueFilter('status == "OPEN"')).toEqual({ status: 'OPEN' });
    expect(parseIssueFilter("  status='DONE' ")).toEqual({ status: 'DONE' });
    expect(parseIssueFilter('status = "CANCELED"')).toEqual({ status: 'CANCELED' });
    expect(parseIssueFilter(undefined)).toEqual({});
    expect(parseIssueFilter('')).toEqual({});
  });

  it('answers anything else with a 400 on filter', () => {
    for (const bad of ['status == "RUNNING"', 'title == "x"', 'status == OPEN', 'status == "OPEN" || true', 'status != "OPEN"']) {
      // Act
      const e = failure(() => parseIssueFilter(bad));

      // Assess
      expect([e.httpStatus, e.details[0]?.field]).toEqual([400, 'filter']);
    }
  });
});

describe('validating requests', () => {
  it('needs a title and a known type, and refuses unknown fields', () => {
    // Act
    const e = failure(() => parse(IssueCreate, { type: 'DATABASE_DROP', statement: 'x', targets: ['a'], color: 'red' }));

    // Assess
    expect(e.details.map((d) => d.field).sort()).toEqual(['color', 'title', 'type']);
  });

  it('refuses a runTime that is not RFC 3339 and an empty targets list', () => {
    // Act
    const e = failure(() => parse(IssueCreate, { title: 't', type: 'DATABASE_DATA_UPDATE', statement: 'x', targets: [], runTime: 'tomorrow' }));

    // Assess
    expect(e.details.map((d) => d.field).sort()).toEqual(['runTime', 'targets']);
  });

  it('lets a PATCH echo the read resource back, and wants a reason to skip', () => {
    // Assess
    expect(parse(IssuePatch, { title: 'x', name: 'projects/shop/issues/1', etag: 'e', pipeline: {}, status: 'OPEN' }).title).toBe('x');
    expect(failure(() => parse(SkipTaskRequest, {})).details[0]?.field).toBe('reason');
  });

  it('parses the workflow input issue name, and refuses anything else', () => {
    // Assess
    expect(parseIssueName('projects/shop/issues/12')).toEqual({ project: 'shop', number: 12 });
    expect(() => parseIssueName('projects/shop/issues/0')).toThrow();
    expect(() => parseIssueName(12)).toThrow();
  });
});

describe('the issue resource', () => {
  it('shows names, the creator as a user name, and an etag that follows the version', () => {
    // Prepare
    const issue: Issue = {
      project: 'shop', number: 7, title: 't', description: '', type: 'DATABASE_SCHEMA_UPDATE', status: 'OPEN', creator: 3, statement: 'SELECT 1',
      checksum: 'c', createTime: '2026-11-25T00:00:00Z', updateTime: '2026-11-25T00:00:00Z', version: 1,
    };

    // Act
    const one = toIssueResource(issue, { stages: [], tasks: [], latestRuns: [] });
    const two = toIssueResource({ ...issue, version: 2 });

    // Assess
    expect(one).toMatchObject({ name: 'projects/shop/issues/7', creator: 'users/3', pipeline: { stages: [] } });
    expect(two.pipeline).toBeUndefined();
    expect(two.etag).not.toBe(one.etag);
  });
});
