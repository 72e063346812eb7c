// Stage approval and rejection: the approval gate's token is taken conditionally, so one wins.
import type { Access } from '../access/access.js';
import { parse } from '../common/values.js';
import { FailedPreconditionError, PermissionDeniedError, SluiceError } from '../common/errors.js';
import { PIPELINE_ERRORS } from './orchestrator.js';
import { type IssueAggregate, type Stage, issueName, stageName } from './model.js';
import { ApproveRequest } from './resources.js';
import { type IssueDeps, loadIssue, markCanceled, requireOpen, stageOf } from './issues.js';

function waitingForApproval(agg: IssueAggregate, s: Stage): string {
  const name = stageName(agg.issue.project, agg.issue.number, s.id);
  if (s.approval.status === 'APPROVED') throw new FailedPreconditionError(`${name} is approved already`);
  if (s.status !== 'PENDING_APPROVAL' || !s.approvalToken) throw new FailedPreconditionError(`${name} is not waiting for approval (status ${s.status})`);
  return s.approvalToken;
}

/**
 * Approves a stage waiting in PENDING_APPROVAL. The approval token is taken with a conditional
 * update, so of many concurrent approvals exactly one resumes the execution; the others get 409.
 */
export async function approveStage(deps: IssueDeps, access: Access, project: string, n: number, stage: string, body: unknown): Promise<IssueAggregate> {
  const agg = await loadIssue(deps, access, project, n, 'issues.approve');
  const { comment } = parse(ApproveRequest, body ?? {});
  const s = stageOf(agg, stage);
  requireOpen(agg);
  if (agg.issue.creator === access.user.id) {
    const workspace = await deps.workspace.get();
    if (!workspace?.allowSelfApproval) {
      throw new PermissionDeniedError(`${access.member} created ${issueName(project, n)} and may not approve it (the workspace does not allow self-approval)`, 'issues.approve');
    }
  }
  const token = waitingForApproval(agg, s);
  const now = deps.now().toISOString();
  const taken = await deps.issues.updateStage(s, { approval: { status: 'APPROVED', approver: access.user.id, approveTime: now }, status: 'RUNNING' }, ['approvalToken'], {
    status: ['PENDING_APPROVAL'],
    approvalToken: token,
  });
  if (!taken) throw new LostGateError(stageName(project, n, stage));
  await deps.orchestrator.sendTaskSuccess(token, {});
  await deps.issues.appendActivity({ project, issue: n, type: 'STAGE_APPROVED', actor: access.user.id, time: now, target: stageName(project, n, stage), ...(comment ? { comment } : {}) });
  return (await deps.issues.get(project, n))!;
}

/** Rejects a stage waiting for approval: the execution ends Canceled and so does the issue. */
export async function rejectStage(deps: IssueDeps, access: Access, project: string, n: number, stage: string, body: unknown): Promise<IssueAggregate> {
  const agg = await loadIssue(deps, access, project, n, 'issues.approve');
  const { comment } = parse(ApproveRequest, body ?? {});
  const s = stageOf(agg, stage);
  requireOpen(agg);
  const token = waitingForApproval(agg, s);
  const now = deps.now().toISOString();
  const taken = await deps.issues.updateStage(s, { approval: { status: 'REJECTED', approver: access.user.id, approveTime: now }, status: 'CANCELED' }, ['approvalToken'], {
    status: ['PENDING_APPROVAL'],
    approvalToken: token,
  });
  if (!taken) throw new LostGateError(stageName(project, n, stage));
  await deps.orchestrator.sendTaskFailure(token, PIPELINE_ERRORS.rejected, comment ?? `rejected by ${access.member}`);
  await deps.issues.appendActivity({ project, issue: n, type: 'STAGE_REJECTED', actor: access.user.id, time: now, target: stageName(project, n, stage), ...(comment ? { comment } : {}) });
  const fresh = (await deps.issues.get(project, n))!;
  await markCanceled(deps, fresh, access.user.id, `stage ${stage} rejected`);
  return (await deps.issues.get(project, n))!;
}

/** Someone else resolved the gate between our read and our write. */
export class LostGateError extends SluiceError {
  override readonly name: string = 'LostGateError';
  constructor(stage: string) {
    super(409, 'ABORTED', `${stage} was resolved concurrently by someone else; read the issue again`);
  }
}
