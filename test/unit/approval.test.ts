// Approval rules and multi-step flows, the pure part (domain/approval): which rule decides a
// stage, what a bad condition answers, and who may approve which step in which order.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../domain/common/errors.js';
import { FALLBACK_ROLES, NOT_DECIDED, approveStep, decideFlow, needsApproval, rejectStep, restartSteps, upgradeApproval, waitingRoles, type ActContext, type Approver, type StageApproval } from '../../domain/approval/flow.js';
import { compileRule } from '../../domain/approval/conditions.js';
import { firstMatch, putApprovalRules, type ApprovalFacts, type ApprovalRole, type ApprovalRule, type ApprovalRuleSet } from '../../domain/approval/rules.js';

const facts = (over: Partial<ApprovalFacts> & { types?: string[]; rows?: number } = {}): ApprovalFacts => ({
  environment: over.environment ?? 'test',
  project: over.project ?? 'shop',
  engine: over.engine ?? 'POSTGRES',
  issue_type: over.issue_type ?? 'DATABASE_SCHEMA_UPDATE',
  statement: { types: over.types ?? ['ALTER_TABLE'], affected_rows: over.rows ?? 0 },
  plan_check: over.plan_check ?? { status: 'SUCCESS' },
});

const RISKY: ApprovalRule = { title: 'risky', condition: '"DROP_TABLE" in statement.types || statement.affected_rows > 10000', steps: [{ role: 'projectOwner' }, { role: 'workspaceDBA' }] };
const PROD: ApprovalRule = { title: 'prod', condition: 'environment == "prod"', steps: [{ role: 'projectReleaser' }] };
const compiled = [RISKY, PROD].map(compileRule);

/** The error a call throws, as a client sees it. */
function errorOf(fn: () => unknown): { code: number; status: string; message: string; details: unknown[] } {
  try {
    fn();
  } catch (e) {
    if (e instanceof SluiceError) return { code: e.httpStatus, status: e.status, message: e.message, details: e.details };
    throw e;
  }
  throw new Error('expected an error');
}

describe('approval rules: which rule decides a stage', () => {
  it.each([
    ['a DROP TABLE anywhere', facts({ environment: 'prod', types: ['ALTER_TABLE', 'DROP_TABLE'] }), 'risky'],
    ['more than 10,000 estimated rows', facts({ environment: 'test', types: ['UPDATE'], rows: 10_001 }), 'risky'],
    ['exactly 10,000 rows on prod (not more)', facts({ environment: 'prod', types: ['UPDATE'], rows: 10_000 }), 'prod'],
    ['a plain change on prod', facts({ environment: 'prod' }), 'prod'],
    ['a plain change on test', facts({ environment: 'test' }), undefined],
  ])('%s → %s', (_what, f, title) => {
    // Act
    const rule = firstMatch(compiled, [f]);

    // Assess
    expect(rule?.title).toBe(title);
  });

  it('takes the first matching rule in order, not the most specific', () => {
    // Prepare
    const reversed = [PROD, RISKY].map(compileRule);

    // Act & Assess
    expect(firstMatch(reversed, [facts({ environment: 'prod', types: ['DROP_TABLE'] })])?.title).toBe('prod');
  });

  it('matches a stage of two engines when either engine’s facts match', () => {
    // Prepare
    const mysqlOnly = compileRule({ title: 'mysql', condition: 'engine == "MYSQL" && "RENAME_TABLE" in statement.types', steps: [{ role: 'workspaceDBA' }] }, 0);

    // Act & Assess
    expect(firstMatch([mysqlOnly], [facts({ engine: 'POSTGRES', types: ['ALTER_TABLE'] }), facts({ engine: 'MYSQL', types: ['ALTER_TABLE', 'RENAME_TABLE'] })])?.title).toBe('mysql');
    expect(firstMatch([mysqlOnly], [facts({ engine: 'POSTGRES', types: ['ALTER_TABLE'] })])).toBeUndefined();
  });

  it('sees every documented variable', () => {
    // Prepare
    const all = compileRule(
      { title: 'all', condition: 'project == "shop" && issue_type == "DATABASE_DATA_UPDATE" && plan_check.status == "WARNING" && size(statement.types) == 1', steps: [{ role: 'workspaceAdmin' }] },
      0,
    );

    // Act & Assess
    expect(all.test(facts({ issue_type: 'DATABASE_DATA_UPDATE', plan_check: { status: 'WARNING' }, types: ['UPDATE'] }))).toBe(true);
    expect(all.test(facts({ issue_type: 'DATABASE_DATA_UPDATE', plan_check: { status: 'SUCCESS' }, types: ['UPDATE'] }))).toBe(false);
  });

  it.each([
    ['environment ==', 'rules.0.condition: line 1, column 15 (offset 14): Unexpected token: EOF'],
    ['statement.rows > 1', 'rules.0.condition: line 1, column 11 (offset 10): No such key: rows'],
    ['environment', 'rules.0.condition: line 1, column 1 (offset 0): the expression must be a bool, not string'],
    ['environment == "prod" &&\n  statement.affected_rows > "many"', 'rules.0.condition: line 2, column 3 (offset 27)'],
  ])('refuses %j with a 400 naming the position', (condition, message) => {
    // Act
    const err = errorOf(() => compileRule({ title: 'bad', condition, steps: [{ role: 'workspaceDBA' }] }, 0));

    // Assess
    expect(err.code).toBe(400);
    expect(err.status).toBe('INVALID_ARGUMENT');
    expect(err.message.startsWith(message)).toBe(true);
    expect(err.details[0]).toMatchObject({ field: 'rules.0.condition' });
  });
});

describe('putApprovalRules', () => {
  const store = (version = 0) => {
    let set: ApprovalRuleSet = { rules: [], version };
    return {
      deps: {
        now: () => new Date('2026-11-25T10:00:00Z'),
        approvalRules: {
          get: async () => set,
          put: async (rules: ApprovalRule[], updateTime: string, expected: number) => (set = { rules, updateTime, version: expected + 1 }),
        },
      },
      stored: () => set,
    };
  };

  it('refuses two rules of one title, an unknown role and an empty step list, writing nothing', async () => {
    // Prepare
    const s = store();
    const attempts = [
      { rules: [PROD, { ...RISKY, title: 'prod' }] },
      { rules: [{ ...PROD, steps: [{ role: 'projectOwnr' }] }] },
      { rules: [{ ...PROD, steps: [] }] },
    ];

    // Act
    const errors = await Promise.all(attempts.map((body) => putApprovalRules(s.deps, body, undefined).then(() => undefined, (e: SluiceError) => [e.httpStatus, e.details[0]?.field])));

    // Assess
    expect(errors).toEqual([[400, 'rules.1.title'], [400, 'rules.0.steps.0.role'], [400, 'rules.0.steps']]);
    expect(s.stored().version).toBe(0);
  });
});

describe('deciding a stage’s flow', () => {
  it('gives the matching rule’s steps in order, each PENDING', () => {
    // Act
    const flow = decideFlow(compiled, [facts({ types: ['DROP_TABLE'] })], false);

    // Assess
    expect(flow).toEqual({ status: 'PENDING', rule: 'risky', steps: [{ roles: ['projectOwner'], status: 'PENDING' }, { roles: ['workspaceDBA'], status: 'PENDING' }] });
    expect(waitingRoles(flow)).toEqual(['projectOwner']);
  });

  it('falls back to the environment: one step any of the four releaser roles approves, or none', () => {
    // Act
    const required = decideFlow(compiled, [facts()], true);
    const free = decideFlow(compiled, [facts()], false);

    // Assess
    expect(required).toEqual({ status: 'PENDING', steps: [{ roles: ['projectOwner', 'projectReleaser', 'workspaceDBA', 'workspaceAdmin'], status: 'PENDING' }] });
    expect(free).toEqual({ status: 'NOT_REQUIRED', steps: [] });
    expect([needsApproval(required), needsApproval(free), needsApproval(NOT_DECIDED)]).toEqual([true, false, false]);
  });
});

describe('approving step by step', () => {
  const ALICE = 2; // the creator
  const holder = (id: number, ...roles: ApprovalRole[]): Approver => ({ id, holds: (r) => roles.includes(r) });
  const owner = holder(3, 'projectOwner');
  const dba = holder(4, 'workspaceDBA');
  const ownerAndDba = holder(5, 'projectOwner', 'workspaceDBA');
  const ctx: ActContext = { stage: 'projects/shop/issues/1/stages/prod', creator: ALICE, allowSelfApproval: false, now: '2026-11-25T10:00:00Z' };
  const twoSteps = (): StageApproval => decideFlow(compiled, [facts({ types: ['DROP_TABLE'] })], false);

  it('goes in order: the DBA cannot approve before the owner (403), then can', () => {
    // Act
    const early = errorOf(() => approveStep(twoSteps(), dba, ctx));
    const first = approveStep(twoSteps(), owner, ctx, 'looks fine');
    const second = approveStep(first.approval, dba, ctx);

    // Assess
    expect(early).toMatchObject({ code: 403, status: 'PERMISSION_DENIED', details: [{ permission: 'issues.approve' }] });
    expect(early.message).toBe('projects/shop/issues/1/stages/prod waits for step 1 of 2 (projectOwner); users/4 holds none of projectOwner and may not approve it');
    expect([first.step, first.last, first.approval.status]).toEqual([0, false, 'PENDING']);
    expect(first.approval.steps[0]).toEqual({ roles: ['projectOwner'], status: 'APPROVED', approver: 3, approveTime: ctx.now, comment: 'looks fine' });
    expect(waitingRoles(first.approval)).toEqual(['workspaceDBA']);
    expect([second.step, second.last, second.approval.status]).toEqual([1, true, 'APPROVED']);
    expect(waitingRoles(second.approval)).toEqual([]);
  });

  it('needs a different person for each step, even one holding both roles', () => {
    // Prepare
    const first = approveStep(twoSteps(), ownerAndDba, ctx);

    // Act
    const err = errorOf(() => approveStep(first.approval, ownerAndDba, ctx));

    // Assess
    expect(err).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
    expect(err.message).toBe('users/5 approved step 1 of 2 (projectOwner) of projects/shop/issues/1/stages/prod already; each step needs a different approver');
  });

  it('refuses the creator unless the workspace allows self-approval', () => {
    // Prepare
    const creatorOwner = holder(ALICE, 'projectOwner');

    // Act
    const refused = errorOf(() => approveStep(twoSteps(), creatorOwner, ctx));
    const allowed = approveStep(twoSteps(), creatorOwner, { ...ctx, allowSelfApproval: true });

    // Assess
    expect(refused).toMatchObject({ code: 403, message: 'users/2 created this issue and may not approve it (the workspace does not allow self-approval)' });
    expect(allowed.approval.steps[0]!.approver).toBe(ALICE);
  });

  it('answers 400 when nothing waits: approved already, rejected, not required, not decided', () => {
    // Prepare
    const approved = approveStep(approveStep(twoSteps(), owner, ctx).approval, dba, ctx).approval;
    const rejected = rejectStep(twoSteps(), owner, ctx, 'no').approval;

    // Act
    const answers = [approved, rejected, decideFlow([], [facts()], false), NOT_DECIDED].map((a) => errorOf(() => approveStep(a, ownerAndDba, ctx)));

    // Assess
    expect(answers.map((e) => [e.code, e.status])).toEqual(Array(4).fill([400, 'FAILED_PRECONDITION']));
    expect(answers.map((e) => e.message.replace(`${ctx.stage} `, ''))).toEqual([
      'is approved already',
      'was rejected; the creator may change the statement, request approval again (:requestApproval) or cancel',
      'needs no approval',
      'is not waiting for approval yet',
    ]);
  });

  it('rejects the waiting step with its reason, by those who may approve it; restarting clears every step', () => {
    // Prepare
    const first = approveStep(twoSteps(), owner, ctx);

    // Act
    const wrongRole = errorOf(() => rejectStep(first.approval, owner, ctx, 'no'));
    const rejected = rejectStep(first.approval, dba, ctx, 'too many rows');
    const restarted = restartSteps(rejected.approval);

    // Assess
    expect(wrongRole.code).toBe(403);
    expect(rejected.step).toBe(1);
    expect(rejected.approval).toMatchObject({ status: 'REJECTED', rule: 'risky', steps: [{ status: 'APPROVED', approver: 3 }, { status: 'REJECTED', approver: 4, comment: 'too many rows' }] });
    expect(needsApproval(rejected.approval)).toBe(true);
    expect(restarted).toEqual({ status: 'PENDING', rule: 'risky', steps: [{ roles: ['projectOwner'], status: 'PENDING' }, { roles: ['workspaceDBA'], status: 'PENDING' }] });
  });
});

describe('stored approvals of the single-approval shape', () => {
  it.each([
    [{ status: 'NOT_REQUIRED' }, { status: 'NOT_REQUIRED', steps: [] }],
    [{ status: 'PENDING' }, { status: 'PENDING', steps: [{ roles: [...FALLBACK_ROLES], status: 'PENDING' }] }],
    [{ status: 'APPROVED', approver: 4, approveTime: '2026-11-20T08:00:00Z' }, { status: 'APPROVED', steps: [{ roles: [...FALLBACK_ROLES], status: 'APPROVED', approver: 4, approveTime: '2026-11-20T08:00:00Z' }] }],
    [{ status: 'REJECTED', approver: 4, approveTime: '2026-11-20T08:00:00Z' }, { status: 'REJECTED', steps: [{ roles: [...FALLBACK_ROLES], status: 'REJECTED', approver: 4, approveTime: '2026-11-20T08:00:00Z' }] }],
  ])('%j reads as one step', (stored, upgraded) => {
    // Act & Assess
    expect(upgradeApproval(stored)).toEqual(upgraded);
  });

  it('leaves the new shape as it is, and an old PENDING stage is approved as before', () => {
    // Prepare
    const current = twoStepsOf();
    const old = upgradeApproval({ status: 'PENDING' });

    // Act
    const approved = approveStep(old, { id: 9, holds: (r) => r === 'projectReleaser' }, { stage: 's', creator: 2, allowSelfApproval: false, now: 't' });

    // Assess
    expect(upgradeApproval(current)).toBe(current);
    expect([approved.last, approved.approval.status]).toEqual([true, 'APPROVED']);
  });

  const twoStepsOf = (): StageApproval => decideFlow(compiled, [facts({ types: ['DROP_TABLE'] })], false);
});
