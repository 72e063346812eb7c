// The state machine's Lambdas (docs/pipeline-state-machine.md): ids in, ids out.
import { SluiceError } from '../common/errors.js';
import { batchTaskIds, type AdvanceOutput, type GateInput, type StageResultInput, type StageResultOutput } from './orchestrator.js';
import { maxParallelTasksOf } from '../inventory/projects.js';
import { type IssueAggregate, type StageStatus, issueName, parseIssueName, stageName } from './model.js';
import { type IssueDeps, isFinished } from './issues.js';

export type WorkflowDeps = Pick<IssueDeps, 'issues' | 'now' | 'projects'>;

async function aggregateOf(deps: WorkflowDeps, issue: unknown): Promise<IssueAggregate> {
  const { project, number } = parseIssueName(issue);
  const agg = await deps.issues.get(project, number);
  if (!agg) throw new Error(`${issueName(project, number)} not found`);
  return agg;
}

/**
 * The first stage with unfinished tasks, and those of its tasks that still have to run, in
 * batches for the project's maxParallelTasks (FAILED ones are left to :run/:skip, so a stage with
 * only failed tasks sends an empty Map straight to its failure gate). Marks the stage RUNNING
 * (unless it still waits for approval: the gate sets PENDING_APPROVAL with its token); its
 * NOT_STARTED tasks then read as PENDING (toIssueResource), with no write per task, so a stage of
 * 10,000 tasks costs one write here. No work left: the issue becomes DONE (with an ISSUE_DONE
 * activity) and the answer is done.
 */
export async function advance(deps: WorkflowDeps, input: { issue: string }): Promise<AdvanceOutput> {
  for (let attempt = 0; ; attempt++) {
    const agg = await aggregateOf(deps, input.issue);
    const { issue } = agg;
    if (issue.status !== 'OPEN') return { done: true };
    for (const stage of agg.stages) {
      const tasks = agg.tasks.filter((t) => t.stage === stage.id && !isFinished(t) && t.status !== 'CANCELED');
      if (tasks.length === 0) {
        // Its last failed task was :skip-ped (which leaves it RUNNING, and no StageResult follows an empty skip): DONE now.
        const settled = (stage.status === 'RUNNING' || stage.status === 'FAILED') && agg.tasks.every((t) => t.stage !== stage.id || isFinished(t));
        if (settled) await deps.issues.updateStage(stage, { status: 'DONE' }, [], { status: ['RUNNING', 'FAILED'] });
        continue;
      }
      const toRun = tasks.filter((t) => t.status === 'NOT_STARTED' || t.status === 'PENDING' || t.status === 'RUNNING');
      const requireApproval = stage.requireApproval && stage.approval.status !== 'APPROVED';
      if (!requireApproval && stage.status === 'NOT_STARTED') await deps.issues.updateStage(stage, { status: 'RUNNING' }, [], { status: ['NOT_STARTED'] });
      const runTime = issue.runTime && issue.runTime > deps.now().toISOString() ? issue.runTime : undefined;
      const parallel = maxParallelTasksOf(await deps.projects.get(issue.project));
      return {
        done: false,
        stage: { id: stage.id, requireApproval, ...(runTime ? { runTime } : {}), maxConcurrency: parallel },
        batches: batchTaskIds(toRun.map((t) => String(t.id)), parallel),
      };
    }
    const now = deps.now().toISOString();
    try {
      await deps.issues.updateIssue(issue.project, issue.number, { status: 'DONE', updateTime: now }, issue.version, { status: 'OPEN' });
    } catch (e) {
      if (attempt < 5 && e instanceof SluiceError && e.status === 'ABORTED') continue;
      throw e;
    }
    await deps.issues.appendActivity({ project: issue.project, issue: issue.number, type: 'ISSUE_DONE', actor: SYSTEM_BOT_ID, time: now });
    return { done: true };
  }
}

const SYSTEM_BOT_ID = 1;

async function storeToken(deps: WorkflowDeps, input: GateInput, field: 'approvalToken' | 'failureToken', status: StageStatus): Promise<void> {
  const agg = await aggregateOf(deps, input.issue);
  const stage = agg.stages.find((s) => s.id === input.stage);
  if (!stage) throw new Error(`${issueName(agg.issue.project, agg.issue.number)} has no stage ${JSON.stringify(input.stage)}`);
  if (typeof input.token !== 'string' || input.token === '') throw new Error('gate input without a token');
  if (stage[field] === input.token) return; // a duplicate delivery of the same gate
  const stored = await deps.issues.updateStage(stage, { [field]: input.token, status }, [], { [field]: false, status: ['NOT_STARTED', 'RUNNING', 'PENDING_APPROVAL', 'FAILED'] });
  if (!stored) {
    const again = (await aggregateOf(deps, input.issue)).stages.find((s) => s.id === input.stage);
    if (again?.[field] === input.token) return;
    throw new Error(`${stageName(stage.project, stage.issue, stage.id)} already holds another ${field}, or is ${again?.status ?? 'gone'}`);
  }
}

/** Stores the approval token on the stage (conditionally) and shows the stage as PENDING_APPROVAL. */
export const approvalGate = (deps: WorkflowDeps, input: GateInput): Promise<void> => storeToken(deps, input, 'approvalToken', 'PENDING_APPROVAL');

/** Stores the failure token on the stage (conditionally); the stage shows FAILED until :run or :skip. */
export const failureGate = (deps: WorkflowDeps, input: GateInput): Promise<void> => storeToken(deps, input, 'failureToken', 'FAILED');

/** DONE when every task of the stage is DONE or SKIPPED, else FAILED; records it on the stage. */
export async function stageResult(deps: WorkflowDeps, input: StageResultInput): Promise<StageResultOutput> {
  const agg = await aggregateOf(deps, input.issue);
  const stage = agg.stages.find((s) => s.id === input.stage);
  if (!stage) throw new Error(`${issueName(agg.issue.project, agg.issue.number)} has no stage ${JSON.stringify(input.stage)}`);
  const tasks = agg.tasks.filter((t) => t.stage === stage.id);
  const status = tasks.every(isFinished) ? 'DONE' : 'FAILED';
  if (stage.status !== status && stage.status !== 'CANCELED') {
    await deps.issues.updateStage(stage, { status }, [], { status: ['NOT_STARTED', 'RUNNING', 'PENDING_APPROVAL', 'FAILED'] });
  }
  return { status };
}
