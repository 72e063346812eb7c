// A stage's approval flow (API.md "Approval flows, notifications, audit"): decided once, when the
// stage is about to wait (Advance), from the first matching rule or the environment's
// requireApproval; then approved step by step, in order, each step by a different person who
// holds its role. Pure: who the caller is and what the stage looks like come in, the next state
// (or the error a client sees) comes out. domain/pipeline/approvals.ts writes it conditionally.
import { FailedPreconditionError, PermissionDeniedError } from '../common/errors.js';
import { userName } from '../common/names.js';
import type { ApprovalFacts, ApprovalRole, CompiledRule } from './rules.js';
import { firstMatch } from './rules.js';

export const APPROVAL_STATUSES = ['NOT_DECIDED', 'NOT_REQUIRED', 'PENDING', 'APPROVED', 'REJECTED'] as const;
/**
 * NOT_DECIDED: the stage has not been reached yet (its rules are evaluated when it is, with the
 * plan check's results); NOT_REQUIRED: no rule matched and the environment needs no approval;
 * PENDING: a step waits; APPROVED: every step is; REJECTED: a step was rejected.
 */
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export const STEP_STATUSES = ['PENDING', 'APPROVED', 'REJECTED'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** The roles that satisfy the fallback step: whoever could approve a stage before rules existed. */
export const FALLBACK_ROLES: readonly ApprovalRole[] = ['projectOwner', 'projectReleaser', 'workspaceDBA', 'workspaceAdmin'];
/** The permission a 403 names when the caller may not act on the waiting step. */
export const APPROVE_PERMISSION = 'issues.approve';

export interface ApprovalStep {
  /** Any one of these roles may approve the step: a rule's step has one, the fallback step FALLBACK_ROLES. */
  roles: ApprovalRole[];
  status: StepStatus;
  /** Who approved (or rejected) the step, and when. */
  approver?: number;
  approveTime?: string;
  /** The approver's comment, or the reason of a rejection. */
  comment?: string;
}

export interface StageApproval {
  status: ApprovalStatus;
  /** The title of the rule that decided the steps; absent for the fallback and before the decision. */
  rule?: string;
  steps: ApprovalStep[];
}

export const NOT_DECIDED: StageApproval = Object.freeze({ status: 'NOT_DECIDED', steps: [] }) as StageApproval;

/**
 * Decides a stage's steps: those of the first rule matching any of its facts (one per engine of
 * its targets), else one FALLBACK_ROLES step when the environment requires approval, else none.
 */
export function decideFlow(rules: readonly CompiledRule[], facts: readonly ApprovalFacts[], requireApproval: boolean): StageApproval {
  const rule = firstMatch(rules, facts);
  if (rule) return { status: 'PENDING', rule: rule.title, steps: rule.steps.map((s) => ({ roles: [s.role], status: 'PENDING' })) };
  if (requireApproval) return { status: 'PENDING', steps: [{ roles: [...FALLBACK_ROLES], status: 'PENDING' }] };
  return { status: 'NOT_REQUIRED', steps: [] };
}

/** Whether the execution must wait at the approval gate for this flow (NeedsApproval?). */
export const needsApproval = (a: StageApproval): boolean => a.status === 'PENDING' || a.status === 'REJECTED';

/** The step `:approve` and `:reject` act on: the first one not approved. */
function currentIndex(a: StageApproval): number {
  return a.steps.findIndex((s) => s.status !== 'APPROVED');
}

/** The roles the stage waits for (any one of them approves the waiting step); empty unless PENDING. */
export function waitingRoles(a: StageApproval): ApprovalRole[] {
  if (a.status !== 'PENDING') return [];
  const i = currentIndex(a);
  return i < 0 ? [] : [...a.steps[i]!.roles];
}

/** Who acts: a user id and whether it holds a role (a workspace role, or a project role in the project). */
export interface Approver {
  id: number;
  holds(role: ApprovalRole): boolean;
}

export interface ActContext {
  /** The stage's resource name, for messages. */
  stage: string;
  /** The creator and whether the workspace lets a creator approve their own change. */
  creator: number;
  allowSelfApproval: boolean;
  now: string;
}

export const describeStep = (a: StageApproval, index: number): string => `step ${index + 1} of ${a.steps.length} (${a.steps[index]!.roles.join(' or ')})`;

/** The waiting step and its index; a 400 when the stage's approval is not waiting for anyone. */
function waitingStep(a: StageApproval, ctx: ActContext): number {
  switch (a.status) {
    case 'PENDING':
      break;
    case 'APPROVED':
      throw new FailedPreconditionError(`${ctx.stage} is approved already`);
    case 'REJECTED':
      throw new FailedPreconditionError(`${ctx.stage} was rejected; the creator may change the statement, request approval again (:requestApproval) or cancel`);
    case 'NOT_REQUIRED':
      throw new FailedPreconditionError(`${ctx.stage} needs no approval`);
    case 'NOT_DECIDED':
      throw new FailedPreconditionError(`${ctx.stage} is not waiting for approval yet`);
  }
  const i = currentIndex(a);
  if (i < 0) throw new FailedPreconditionError(`${ctx.stage} is approved already`);
  return i;
}

/** A 403 unless `who` may act on step `i`: holds one of its roles and is not the creator (unless allowed). */
function requireMayAct(a: StageApproval, i: number, who: Approver, ctx: ActContext, verb: 'approve' | 'reject'): void {
  const step = a.steps[i]!;
  if (!step.roles.some((r) => who.holds(r))) {
    throw new PermissionDeniedError(
      `${ctx.stage} waits for ${describeStep(a, i)}; ${userName(who.id)} holds none of ${step.roles.join(', ')} and may not ${verb} it`,
      APPROVE_PERMISSION,
    );
  }
  if (who.id === ctx.creator && !ctx.allowSelfApproval) {
    throw new PermissionDeniedError(`${userName(who.id)} created this issue and may not ${verb} it (the workspace does not allow self-approval)`, APPROVE_PERMISSION);
  }
}

/**
 * Approves the waiting step. Steps go in order (`:approve` always acts on the first step not yet
 * approved, so a caller holding only a later step's role is refused: 403), and no one approves
 * two steps of one stage (403 naming the step they approved). `last` says whether the stage is now
 * APPROVED, i.e. whether the gate's token must be sent.
 */
export function approveStep(a: StageApproval, who: Approver, ctx: ActContext, comment?: string): { approval: StageApproval; step: number; last: boolean } {
  const i = waitingStep(a, ctx);
  requireMayAct(a, i, who, ctx, 'approve');
  const before = a.steps.findIndex((s) => s.status === 'APPROVED' && s.approver === who.id);
  if (before >= 0) {
    throw new PermissionDeniedError(
      `${userName(who.id)} approved ${describeStep(a, before)} of ${ctx.stage} already; each step needs a different approver`,
      APPROVE_PERMISSION,
    );
  }
  const steps = a.steps.map((s, k): ApprovalStep => (k === i ? { ...s, status: 'APPROVED', approver: who.id, approveTime: ctx.now, ...(comment ? { comment } : {}) } : s));
  const last = steps.every((s) => s.status === 'APPROVED');
  return { approval: { ...a, status: last ? 'APPROVED' : 'PENDING', steps }, step: i, last };
}

/** Rejects the waiting step (the same people may reject as may approve it): the stage's approval becomes REJECTED. */
export function rejectStep(a: StageApproval, who: Approver, ctx: ActContext, reason: string): { approval: StageApproval; step: number } {
  const i = waitingStep(a, ctx);
  requireMayAct(a, i, who, ctx, 'reject');
  const steps = a.steps.map((s, k): ApprovalStep => (k === i ? { ...s, status: 'REJECTED', approver: who.id, approveTime: ctx.now, comment: reason } : s));
  return { approval: { ...a, status: 'REJECTED', steps }, step: i };
}

/** The same steps again, every one PENDING and without approvers (`:requestApproval`). */
export function restartSteps(a: StageApproval): StageApproval {
  if (a.steps.length === 0) return { ...a, steps: [] };
  return { ...a, status: 'PENDING', steps: a.steps.map((s) => ({ roles: [...s.roles], status: 'PENDING' })) };
}

/**
 * Reads a stored approval of either shape. Stages written before multi-step approval stored
 * `{status, approver?, approveTime?}` beside `requireApproval`: that reads as one FALLBACK_ROLES
 * step with the same status and approver (or no step when NOT_REQUIRED), so an execution waiting
 * at such a stage's gate is approved as before.
 */
export function upgradeApproval(stored: unknown): StageApproval {
  const s = (stored ?? {}) as { status?: string; rule?: string; steps?: unknown; approver?: number; approveTime?: string };
  if (Array.isArray(s.steps)) return stored as StageApproval;
  const status = (APPROVAL_STATUSES as readonly string[]).includes(s.status ?? '') ? (s.status as ApprovalStatus) : 'NOT_DECIDED';
  if (status === 'NOT_REQUIRED' || status === 'NOT_DECIDED') return { status, steps: [] };
  const step: ApprovalStep = {
    roles: [...FALLBACK_ROLES],
    status: status === 'PENDING' ? 'PENDING' : status,
    ...(s.approver !== undefined ? { approver: s.approver } : {}),
    ...(s.approveTime !== undefined ? { approveTime: s.approveTime } : {}),
  };
  return { status, steps: [step] };
}
