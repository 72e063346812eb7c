// A request that loses the issue's version race to the pipeline's own write (the plan checks'
// summary lands between the request's read and its write): without an etag it reads again and
// succeeds; with one it hears of the change (409). Found as a flaky `:cancel` right after a create
// (test/e2e/webhooks.test.ts) under load.
import { describe, expect, it } from 'vitest';
import { Access } from '../../domain/access/access.js';
import { ConcurrentModificationError, SluiceError } from '../../domain/common/errors.js';
import { etagOf } from '../../domain/common/values.js';
import type { Project } from '../../domain/inventory/projects.js';
import { cancelIssue, overrideChecks, updateIssue, type IssueDeps } from '../../domain/pipeline/issues.js';
import type { Activity, IssueAggregate, Stage } from '../../domain/pipeline/model.js';
import { USERS } from '../support/mock-store.js';

const T = '2026-12-06T10:00:00Z';
const PROJECT: Project = { id: 'shop', title: 'Shop', state: 'ACTIVE', bindings: [], createTime: T, updateTime: T, version: 1 };
const admin = new Access(USERS.admin);

interface Fake {
  agg: IssueAggregate;
  activities: string[];
  /** Writes the pipeline makes right after the next `racesLeft` reads of the issue. */
  racesLeft: number;
  deps: IssueDeps;
}

function fake(races: number, extra: Partial<IssueAggregate['issue']> = {}): Fake {
  const stage = (id: string, order: number): Stage => ({ project: 'shop', issue: 1, id, order, requireApproval: false, approval: { status: 'NOT_DECIDED', steps: [] }, status: 'NOT_STARTED', version: 1 });
  const f: Fake = {
    agg: {
      issue: { project: 'shop', number: 1, title: 'old', description: '', type: 'DATABASE_SCHEMA_UPDATE', status: 'OPEN', creator: 2, statement: 'DELETE FROM t', checksum: 'c1', createTime: T, updateTime: T, version: 3, ...extra },
      stages: [stage('test', 0), stage('prod', 1)],
      tasks: [],
      latestRuns: [],
    },
    activities: [],
    racesLeft: races,
    deps: undefined as never,
  };
  const issues = {
    get: async () => {
      const read = structuredClone(f.agg);
      // The plan check's summary lands just after this read.
      if (f.racesLeft-- > 0) f.agg.issue = { ...f.agg.issue, planCheck: { status: 'SUCCESS', errorCount: 0, warningCount: f.racesLeft }, version: f.agg.issue.version + 1 };
      return read;
    },
    updateIssue: async (_p: string, _n: number, fields: object, expected: number, condition: { status?: string } = {}) => {
      if (expected !== f.agg.issue.version || (condition.status && condition.status !== f.agg.issue.status)) throw new ConcurrentModificationError('projects/shop/issues/1');
      f.agg.issue = { ...f.agg.issue, ...fields, version: f.agg.issue.version + 1 };
    },
    // The answer's read (after the write): the issue as stored, no race.
    view: async () => ({ ...structuredClone(f.agg), stageTasks: {} }),
    updateStage: async (s: Stage, fields: Partial<Stage>) => Object.assign(f.agg.stages.find((x) => x.id === s.id)!, fields),
    updateTask: async () => true,
    appendActivity: async (a: Omit<Activity, 'seq'>) => {
      f.activities.push(a.type);
      return { ...a, seq: f.activities.length };
    },
  };
  f.deps = {
    issues,
    projects: { get: async () => PROJECT },
    orchestrator: { stopExecution: async () => undefined, sendTaskSuccess: async () => undefined, sendTaskFailure: async () => undefined },
    now: () => new Date(T),
  } as unknown as IssueDeps;
  return f;
}

const failure = async (p: Promise<unknown>): Promise<SluiceError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof SluiceError) return e;
    throw e;
  }
  throw new Error('expected a SluiceError');
};

describe('requests racing the pipeline for the issue item', () => {
  it(':cancel right after a plan-check write still cancels the issue and every stage', async () => {
    // Arrange
    const f = fake(2);

    // Act
    const out = await cancelIssue(f.deps, admin, 'shop', 1);

    // Assess
    expect(out.issue.status).toBe('CANCELED');
    expect(f.agg.stages.map((s) => s.status)).toEqual(['CANCELED', 'CANCELED']);
    expect(f.activities).toEqual(['ISSUE_CANCELED']);
  });

  it(':cancel that loses to the pipeline finishing the issue is a 400 that says so', async () => {
    // Arrange: the issue goes DONE between the request's read and its write
    const f = fake(0);
    const get = f.deps.issues.get;
    let reads = 0;
    f.deps.issues.get = async (p, n) => {
      const read = await get(p, n);
      if (reads++ === 0) f.agg.issue = { ...f.agg.issue, status: 'DONE', version: f.agg.issue.version + 1 };
      return read;
    };

    // Act
    const e = await failure(cancelIssue(f.deps, admin, 'shop', 1));

    // Assess
    expect(e.status).toBe('FAILED_PRECONDITION');
    expect(e.message).toContain('DONE');
    expect(f.activities).toEqual([]);
  });

  it('a PATCH without an etag retries past the pipeline; with the etag it read, it gets the 409', async () => {
    // Arrange
    const quiet = fake(1);
    const strict = fake(1);

    // Act
    const out = await updateIssue(quiet.deps, admin, 'shop', 1, { title: 'new' }, 'title', undefined);
    const e = await failure(updateIssue(strict.deps, admin, 'shop', 1, { title: 'new' }, 'title', etagOf('projects/shop/issues/1', 3)));

    // Assess
    expect(out.issue.title).toBe('new');
    expect(e.status).toBe('ABORTED');
    expect(strict.agg.issue.title).toBe('old');
  });

  it(':overrideChecks retries past the pipeline and records one override', async () => {
    // Arrange
    const f = fake(1, { planCheck: { status: 'ERROR', errorCount: 1, warningCount: 0 }, checksToken: 'tok' });
    // The pipeline's write keeps the ERROR summary (it re-writes the same check).
    const get = f.deps.issues.get;
    f.deps.issues.get = async (p, n) => {
      const read = await get(p, n);
      f.agg.issue.planCheck = { status: 'ERROR', errorCount: 1, warningCount: 0, ...(f.agg.issue.planCheck?.override ? { override: f.agg.issue.planCheck.override } : {}) };
      return read;
    };

    // Act
    const out = await overrideChecks(f.deps, admin, 'shop', 1, { reason: 'known and accepted' });

    // Assess
    expect(out.issue.planCheck?.override).toMatchObject({ reason: 'known and accepted', checksum: 'c1' });
    expect(f.activities).toEqual(['CHECKS_OVERRIDDEN']);
  });

  it('gives up after a few lost races with a 409, having written nothing', async () => {
    // Arrange: the pipeline writes after every read
    const f = fake(100);

    // Act
    const e = await failure(cancelIssue(f.deps, admin, 'shop', 1));

    // Assess
    expect(e.status).toBe('ABORTED');
    expect(f.agg.issue.status).toBe('OPEN');
    expect(f.activities).toEqual([]);
  });
});
