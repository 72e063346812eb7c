// The state machine's Lambdas (docs/pipeline-state-machine.md): ids in, ids out.
import { SluiceError } from '../common/errors.js';
import { batchTaskIds, type AdvanceOutput, type GateInput, type StageResultInput, type StageResultOutput } from './orchestrator.js';
import { maxParallelTasksOf } from '../inventory/projects.js';
import { type IssueAggregate, type Stage, UNFINISHED_STAGE_STATUSES, issueName, parseIssueName, stageName } from './model.js';
import { type IssueDeps, isFinished } from './issues.js';
import { needsApproval } from '../approval/flow.js';
import { decideApproval, type DecideDeps } from './approvals.js';

export type WorkflowDeps = Pick<IssueDeps, 'issues' | 'now' | 'projects'> & DecideDeps;

async function aggregateOf(deps: WorkflowDeps, issue: unknown): Promise<IssueAggregate> {
  const { project, number } = parseIssueName(issue);
  const agg = await deps.issues.get(project, number);
  if (!agg) throw new Error(`${issueName(project, number)} not found`);
  return agg;
}

/**
 * The first stage with unfinished tasks, and those of its tasks that still have to run, in
 * batches for the project's maxParallelTasks (FAILED ones are left to :run/:skip, so a stage with
 * only failed tasks sends an empty Map straight to its failure gate). A stage reached for the
 * first time gets its approval flow decided here (approval rules, else the environment's
 * requireApproval), so the rules see the plan check's results; `requireApproval` in the answer
 * follows that flow. Marks the stage RUNNING (unless it waits for approval: the gate sets
 * PENDING_APPROVAL with its token); its NOT_STARTED tasks then read as PENDING (toIssueResource),
 * with no write per task, so a stage of 10,000 tasks costs one write here. No work left: the
 * issue becomes DONE (with an ISSUE_DONE activity) and the answer is done.
 */
export async function advance(deps: WorkflowDeps, input: { issue: string }): Promise<AdvanceOutput> {
  plan: for (let attempt = 0; ; attempt++) {
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
      let approval = stage.approval;
      const starts = (wait: boolean): Partial<Stage> => (!wait && stage.status === 'NOT_STARTED' ? { status: 'RUNNING' } : {});
      if (approval.status === 'NOT_DECIDED') {
        approval = await decideApproval(deps, agg, stage);
        // Conditional on the version read: a duplicate Advance that decided first wins, and this one reads again.
        const written = await deps.issues.updateStage(stage, { approval, ...starts(needsApproval(approval)) }, [], { version: stage.version });
        if (!written) {
          if (attempt < 5) continue plan;
          throw new Error(`${stageName(stage.project, stage.issue, stage.id)} kept changing while its approval was decided`);
        }
      } else if (!needsApproval(approval) && stage.status === 'NOT_STARTED') {
        await deps.issues.updateStage(stage, { status: 'RUNNING' }, [], { status: ['NOT_STARTED'] });
      }
      const requireApproval = needsApproval(approval);
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

/**
 * Stores a gate's token on the stage, conditionally (no token of that kind yet), with the fields
 * `fieldsOf` gives for the stage as read (its status while it waits).
 */
async function storeToken(deps: WorkflowDeps, input: GateInput, field: 'approvalToken' | 'failureToken', fieldsOf: (stage: Stage, agg: IssueAggregate) => Promise<Partial<Stage>>): Promise<void> {
  const agg = await aggregateOf(deps, input.issue);
  const stage = agg.stages.find((s) => s.id === input.stage);
  if (!stage) throw new Error(`${issueName(agg.issue.project, agg.issue.number)} has no stage ${JSON.stringify(input.stage)}`);
  if (typeof input.token !== 'string' || input.token === '') throw new Error('gate input without a token');
  if (stage[field] === input.token) return; // a duplicate delivery of the same gate
  const stored = await deps.issues.updateStage(stage, { [field]: input.token, ...(await fieldsOf(stage, agg)) }, [], { [field]: false, status: [...UNFINISHED_STAGE_STATUSES] });
  if (!stored) {
    const again = (await aggregateOf(deps, input.issue)).stages.find((s) => s.id === input.stage);
    if (again?.[field] === input.token) return;
    throw new Error(`${stageName(stage.project, stage.issue, stage.id)} already holds another ${field}, or is ${again?.status ?? 'gone'}`);
  }
}

/**
 * Stores the approval token on the stage (conditionally) and shows the stage as PENDING_APPROVAL,
 * or keeps it REJECTED when the gate is entered again after a rejection (a restarted local
 * runtime). Advance has decided the flow; a stage reaching the gate undecided is decided here.
 */
export const approvalGate = (deps: WorkflowDeps, input: GateInput): Promise<void> =>
  storeToken(deps, input, 'approvalToken', async (stage, agg) => {
    const approval = stage.approval.status === 'NOT_DECIDED' ? await decideApproval(deps, agg, stage) : stage.approval;
    return { status: approval.status === 'REJECTED' ? 'REJECTED' : 'PENDING_APPROVAL', ...(approval !== stage.approval ? { approval } : {}) };
  });

/** Stores the failure token on the stage (conditionally); the stage shows FAILED until :run or :skip. */
export const failureGate = (deps: WorkflowDeps, input: GateInput): Promise<void> => storeToken(deps, input, 'failureToken', async () => ({ status: 'FAILED' }));

/** DONE when every task of the stage is DONE or SKIPPED, else FAILED; records it on the stage. */
export async function stageResult(deps: WorkflowDeps, input: StageResultInput): Promise<StageResultOutput> {
  const agg = await aggregateOf(deps, input.issue);
  const stage = agg.stages.find((s) => s.id === input.stage);
  if (!stage) throw new Error(`${issueName(agg.issue.project, agg.issue.number)} has no stage ${JSON.stringify(input.stage)}`);
  const tasks = agg.tasks.filter((t) => t.stage === stage.id);
  const status = tasks.every(isFinished) ? 'DONE' : 'FAILED';
  if (stage.status !== status && stage.status !== 'CANCELED') {
    await deps.issues.updateStage(stage, { status }, [], { status: [...UNFINISHED_STAGE_STATUSES] });
  }
  return { status };
}
