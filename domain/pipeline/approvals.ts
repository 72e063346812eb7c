// Stage approval (API.md "Approval flows"): deciding a stage's steps when it is reached, and
// `:approve`, `:reject`, `:requestApproval` on them. The rules of the flow are pure
// (domain/approval/flow.ts); here they meet the store and the execution. Each step is written
// with a condition on the stage's version, so of concurrent approvals of one step exactly one
// wins (the rest 409); the gate's token is sent once, with the last step.
import type { Access } from '../access/access.js';
import { WORKSPACE_ROLES, type WorkspaceRole } from '../access/roles.js';
import { parse } from '../common/values.js';
import { FailedPreconditionError, NotFoundError, SluiceError } from '../common/errors.js';
import type { PolicyHolder } from '../access/access.js';
import type { InstanceRepo } from '../inventory/ports.js';
// The parser module itself, not review/index.js: the workflow bundles carry no review rules.
import { statementTypes } from '../review/parse.js';
import { REVIEW_ENGINES, type ReviewEngine } from '../review/model.js';
import { NOT_DECIDED, approveStep, decideFlow, describeStep, rejectStep, restartSteps, type ActContext, type Approver, type StageApproval } from '../approval/flow.js';
import { type ApprovalFacts, type ApprovalRole, type ApprovalRuleRepo } from '../approval/rules.js';
import { type IssueAggregate, type IssueView, type Stage, issueName, stageName } from './model.js';
import { ApproveRequest, RejectRequest } from './resources.js';
import { type IssueDeps, issueAfter, requireOpen, stageOf } from './issues.js';

// ---------------------------------------------------------------------------------------------
// Deciding the flow (Advance, and the approval gate should it find none)

export interface DecideDeps {
  approvalRules: ApprovalRuleRepo;
  instances: Pick<InstanceRepo, 'get'>;
}

const PLAN_CHECK_SEVERITY = ['SUCCESS', 'RUNNING', 'WARNING', 'ERROR'];

/**
 * What the rules see of a stage: one ApprovalFacts per engine of its targets. They come from the
 * stored plan checks: `statement.types` as the checks parsed them for that engine (parsed here only
 * for an issue checked before types were kept), `statement.affected_rows` the EXPLAIN estimates
 * summed over the stage's tasks (0 where none), `plan_check.status` the worst of its tasks' (else
 * the issue's; NOT_RUN before any plan check).
 */
export async function stageFacts(deps: DecideDeps, agg: IssueAggregate, stage: Stage, options: { parse: boolean } = { parse: true }): Promise<ApprovalFacts[]> {
  const tasks = agg.tasks.filter((t) => t.stage === stage.id);
  const engines = new Set<ReviewEngine>();
  for (const id of new Set(tasks.map((t) => t.target.instance))) {
    const instance = await deps.instances.get(id);
    if (!instance) throw new Error(`${stageName(stage.project, stage.issue, stage.id)}: instance ${id} not found`);
    if ((REVIEW_ENGINES as readonly string[]).includes(instance.engine)) engines.add(instance.engine as ReviewEngine);
  }
  const affected = tasks.reduce((sum, t) => sum + (t.planCheck?.affectedRowsEstimate ?? 0), 0);
  const statuses: string[] = tasks.flatMap((t) => (t.planCheck ? [t.planCheck.status] : []));
  const worst = statuses.sort((a, b) => PLAN_CHECK_SEVERITY.indexOf(b) - PLAN_CHECK_SEVERITY.indexOf(a))[0];
  const planCheck = worst ?? agg.issue.planCheck?.status ?? 'NOT_RUN';
  const facts: ApprovalFacts[] = [];
  for (const engine of engines) {
    const checked = agg.issue.planCheck?.types?.[engine];
    const types = checked ?? (options.parse ? await statementTypes(engine, agg.issue.statement) : []);
    facts.push({
      environment: stage.id,
      project: agg.issue.project,
      engine,
      issue_type: agg.issue.type,
      statement: { types, affected_rows: affected },
      plan_check: { status: planCheck },
    });
  }
  return facts;
}

/**
 * The stage's steps: the first matching approval rule's, else its environment's requireApproval.
 * The statement is parsed only when a rule's condition names `statement` (parsing a 1 MiB script
 * takes seconds, and most workspaces have no rules).
 */
export async function decideApproval(deps: DecideDeps, agg: IssueAggregate | (() => Promise<IssueAggregate>), stage: Stage): Promise<StageApproval> {
  const { rules } = await deps.approvalRules.get();
  if (rules.length === 0) return decideFlow([], [], stage.requireApproval);
  const parse = rules.some((r) => /\bstatement\b/.test(r.condition));
  const { compileRule } = await import('../approval/conditions.js');
  // The stage's tasks (their plan checks) are read only when there are rules to see them.
  const whole = typeof agg === 'function' ? await agg() : agg;
  return decideFlow(rules.map(compileRule), await stageFacts(deps, whole, stage, { parse }), stage.requireApproval);
}

// ---------------------------------------------------------------------------------------------
// :approve, :reject, :requestApproval

/** The issue, if the caller may see its project (404 otherwise); approval rights come from the waiting step's role. */
async function loadVisible(deps: IssueDeps, access: Access, project: string, n: number): Promise<{ policy: PolicyHolder; agg: IssueAggregate }> {
  const name = issueName(project, n);
  const policy = await deps.projects.get(project);
  if (!policy || !access.canSee(policy)) throw new NotFoundError(name);
  const agg = await deps.issues.get(project, n);
  if (!agg) throw new NotFoundError(name);
  return { policy, agg };
}

/** The caller as an approver: a workspace role is its own, a project role one bound to it in this project. */
export function approverOf(access: Access, project: PolicyHolder): Approver {
  const projectRoles = new Set<ApprovalRole>(access.rolesIn(project));
  return {
    id: access.user.id,
    holds: (role) => ((WORKSPACE_ROLES as readonly string[]).includes(role) ? access.user.role === (role as WorkspaceRole) : projectRoles.has(role)),
  };
}

async function actContext(deps: IssueDeps, agg: IssueAggregate, s: Stage): Promise<ActContext> {
  const workspace = await deps.workspace.get();
  return { stage: stageName(s.project, s.issue, s.id), creator: agg.issue.creator, allowSelfApproval: workspace?.allowSelfApproval ?? false, now: deps.now().toISOString() };
}

/** The approval token of a stage the execution waits on; a 400 when it does not wait (yet). */
function waitingToken(s: Stage): string {
  if (s.status !== 'PENDING_APPROVAL' || !s.approvalToken) {
    throw new FailedPreconditionError(`${stageName(s.project, s.issue, s.id)} is not waiting for approval (status ${s.status})`);
  }
  return s.approvalToken;
}

const stepComment = (approval: StageApproval, step: number, text?: string): string => `${describeStep(approval, step)}${text ? `: ${text}` : ''}`;

/**
 * Approves the waiting step of a stage in PENDING_APPROVAL (flow.ts approveStep says who may).
 * A step that is not the last is one conditional write; the last one also takes the gate's token
 * (same write) and resumes the execution. Of concurrent approvals of one step, one write wins;
 * the others fail their condition: 409, nothing written.
 */
export async function approveStage(deps: IssueDeps, access: Access, project: string, n: number, stage: string, body: unknown): Promise<IssueView> {
  const { policy, agg } = await loadVisible(deps, access, project, n);
  const { comment } = parse(ApproveRequest, body ?? {});
  const s = stageOf(agg, stage);
  requireOpen(agg);
  const ctx = await actContext(deps, agg, s);
  const { approval, step, last } = approveStep(s.approval, approverOf(access, policy), ctx, comment);
  const token = waitingToken(s);
  const written = await deps.issues.updateStage(s, last ? { approval, status: 'RUNNING' } : { approval }, last ? ['approvalToken'] : [], {
    status: ['PENDING_APPROVAL'],
    approvalToken: token,
    version: s.version,
  });
  if (!written) throw new LostGateError(ctx.stage);
  if (last) await deps.orchestrator.sendTaskSuccess(token, {});
  await deps.issues.appendActivity({ project, issue: n, type: last ? 'STAGE_APPROVED' : 'STEP_APPROVED', actor: access.user.id, time: ctx.now, target: ctx.stage, comment: stepComment(approval, step, comment) });
  return issueAfter(deps, project, n);
}

/**
 * Rejects the waiting step: the stage becomes REJECTED and the issue stays OPEN. The execution
 * stays parked at the approval gate with its token, until `:requestApproval` (steps again), a
 * changed statement (resetApproval) or `:cancel`.
 */
export async function rejectStage(deps: IssueDeps, access: Access, project: string, n: number, stage: string, body: unknown): Promise<IssueView> {
  const { policy, agg } = await loadVisible(deps, access, project, n);
  const { reason } = parse(RejectRequest, body ?? {});
  const s = stageOf(agg, stage);
  requireOpen(agg);
  const ctx = await actContext(deps, agg, s);
  const { approval, step } = rejectStep(s.approval, approverOf(access, policy), ctx, reason);
  waitingToken(s);
  const written = await deps.issues.updateStage(s, { approval, status: 'REJECTED' }, [], { status: ['PENDING_APPROVAL'], version: s.version });
  if (!written) throw new LostGateError(ctx.stage);
  await deps.issues.appendActivity({ project, issue: n, type: 'STAGE_REJECTED', actor: access.user.id, time: ctx.now, target: ctx.stage, comment: stepComment(approval, step, reason) });
  return issueAfter(deps, project, n);
}

/**
 * `POST .../stages/{s}:requestApproval`: after a rejection, the same steps wait again (every one
 * PENDING, the stage PENDING_APPROVAL, the gate's token kept). By the issue's creator, or anyone
 * with issues.update in the project.
 */
export async function requestApproval(deps: IssueDeps, access: Access, project: string, n: number, stage: string, body: unknown): Promise<IssueView> {
  const { policy, agg } = await loadVisible(deps, access, project, n);
  if (agg.issue.creator !== access.user.id) access.require('issues.update', policy, issueName(project, n));
  const { comment } = parse(ApproveRequest, body ?? {});
  const s = stageOf(agg, stage);
  requireOpen(agg);
  if (s.approval.status !== 'REJECTED') {
    throw new FailedPreconditionError(`${stageName(project, n, stage)} was not rejected (approval ${s.approval.status}); only a rejected stage's approval is requested again`);
  }
  await resetApproval(deps, s);
  await deps.issues.appendActivity({ project, issue: n, type: 'APPROVAL_REREQUESTED', actor: access.user.id, time: deps.now().toISOString(), target: stageName(project, n, stage), ...(comment ? { comment } : {}) });
  return issueAfter(deps, project, n);
}

/**
 * Starts a stage's approval again; conditional on the stage's version (409 on a lost race).
 * - default (`:requestApproval`): the same steps, every one PENDING without approvers; a stage
 *   whose gate holds a token waits again (PENDING_APPROVAL), the token kept.
 * - `redecide` (the statement changed: the plan-check phase runs again, then Advance decides the
 *   steps anew from the new statement and checks): NOT_DECIDED, the stage NOT_STARTED, its
 *   approval token removed (the caller resolves the gate it held, e.g. with Sluice.Recheck).
 */
export async function resetApproval(deps: Pick<IssueDeps, 'issues'>, stage: Stage, options: { redecide?: boolean } = {}): Promise<Stage> {
  const name = stageName(stage.project, stage.issue, stage.id);
  const written = options.redecide
    ? await deps.issues.updateStage(stage, { approval: NOT_DECIDED, status: 'NOT_STARTED' }, ['approvalToken'], { version: stage.version })
    : await deps.issues.updateStage(stage, { approval: restartSteps(stage.approval), status: stage.approvalToken ? 'PENDING_APPROVAL' : 'NOT_STARTED' }, [], { version: stage.version });
  if (!written) throw new LostGateError(name);
  return written;
}

/** Someone else resolved the gate, or acted on the stage, between our read and our write. */
export class LostGateError extends SluiceError {
  override readonly name: string = 'LostGateError';
  constructor(stage: string) {
    super(409, 'ABORTED', `${stage} was changed concurrently by someone else; read the issue again`);
  }
}
