// The state machine's Lambdas (docs/pipeline-state-machine.md): ids in, ids out.
import { SluiceError } from '../common/errors.js';
import { batchTaskIds, type AdvanceOutput, type GateInput, type StageResultInput, type StageResultOutput } from './orchestrator.js';
import { maxParallelTasksOf } from '../inventory/projects.js';
import { type IssueAggregate, type IssueView, type Stage, UNFINISHED_STAGE_STATUSES, issueName, parseIssueName, stageName } from './model.js';
import { FINISHED_TASK, type IssueDeps } from './issues.js';
import { TO_RUN, countOf, stageTaskIds, totalOf } from './progress.js';
import { needsApproval } from '../approval/flow.js';
import { decideApproval, type DecideDeps } from './approvals.js';

export type WorkflowDeps = Pick<IssueDeps, 'issues' | 'now' | 'projects'> & DecideDeps;

/** The issue, its stages and their task counts: a handful of items, not its tasks (progress.ts). */
async function viewOf(deps: WorkflowDeps, issue: unknown): Promise<IssueView> {
  const { project, number } = parseIssueName(issue);
  const view = await deps.issues.view(project, number, 0);
  if (!view) throw new Error(`${issueName(project, number)} not found`);
  return view;
}

/** The whole aggregate, read only when the approval rules need the stage's plan checks. */
const aggregateOf = (deps: WorkflowDeps, view: IssueView) => async (): Promise<IssueAggregate> =>
  (await deps.issues.get(view.issue.project, view.issue.number)) ?? { ...view, tasks: [], latestRuns: [] };

/**
 * The first stage with unfinished tasks, and those of its tasks that still have to run, in
 * batches for the project's maxParallelTasks (FAILED ones are left to :run/:skip, so a stage with
 * only failed tasks sends an empty Map straight to its failure gate). A stage reached for the
 * first time gets its approval flow decided here (approval rules, else the environment's
 * requireApproval), so the rules see the plan check's results; `requireApproval` in the answer
 * follows that flow. Marks the stage RUNNING (unless it waits for approval: the gate sets
 * PENDING_APPROVAL with its token); its NOT_STARTED tasks then read as PENDING (toIssueResource),
 * with no write per task, so a stage of 10,000 tasks costs one write here. No work left: the
 * issue becomes DONE (with an ISSUE_DONE activity) and the answer is done. Reads the stages' task
 * counts, not the tasks: a stage reached for the first time runs its whole id range; only a stage
 * some of whose tasks already ended has its own tasks' statuses read (stageTaskIds).
 */
export async function advance(deps: WorkflowDeps, input: { issue: string }): Promise<AdvanceOutput> {
  plan: for (let attempt = 0; ; attempt++) {
    const view = await viewOf(deps, input.issue);
    const { issue } = view;
    if (issue.status !== 'OPEN') return { done: true };
    for (const stage of view.stages) {
      const counts = view.stageTasks[stage.id]?.counts ?? {};
      const finished = countOf(counts, ...FINISHED_TASK);
      if (totalOf(counts) - finished - countOf(counts, 'CANCELED') === 0) {
        // Its last failed task was :skip-ped (which leaves it RUNNING, and no StageResult follows an empty skip): DONE now.
        const settled = (stage.status === 'RUNNING' || stage.status === 'FAILED') && finished === totalOf(counts);
        if (settled) await deps.issues.updateStage(stage, { status: 'DONE' }, [], { status: ['RUNNING', 'FAILED'] });
        continue;
      }
      let approval = stage.approval;
      const starts = (wait: boolean): Partial<Stage> => (!wait && stage.status === 'NOT_STARTED' ? { status: 'RUNNING' } : {});
      if (approval.status === 'NOT_DECIDED') {
        approval = await decideApproval(deps, aggregateOf(deps, view), stage);
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
      const [project, toRun] = await Promise.all([deps.projects.get(issue.project), stageTaskIds(deps.issues, view, stage.id, TO_RUN)]);
      const parallel = maxParallelTasksOf(project);
      return {
        done: false,
        stage: { id: stage.id, requireApproval, ...(runTime ? { runTime } : {}), maxConcurrency: parallel },
        batches: batchTaskIds(toRun.map(String), parallel),
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
async function storeToken(deps: WorkflowDeps, input: GateInput, field: 'approvalToken' | 'failureToken', fieldsOf: (stage: Stage, view: IssueView) => Promise<Partial<Stage>>): Promise<void> {
  const view = await viewOf(deps, input.issue);
  const stage = view.stages.find((s) => s.id === input.stage);
  if (!stage) throw new Error(`${issueName(view.issue.project, view.issue.number)} has no stage ${JSON.stringify(input.stage)}`);
  if (typeof input.token !== 'string' || input.token === '') throw new Error('gate input without a token');
  if (stage[field] === input.token) return; // a duplicate delivery of the same gate
  const stored = await deps.issues.updateStage(stage, { [field]: input.token, ...(await fieldsOf(stage, view)) }, [], { [field]: false, status: [...UNFINISHED_STAGE_STATUSES] });
  if (!stored) {
    const again = (await viewOf(deps, input.issue)).stages.find((s) => s.id === input.stage);
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
  storeToken(deps, input, 'approvalToken', async (stage, view) => {
    const approval = stage.approval.status === 'NOT_DECIDED' ? await decideApproval(deps, aggregateOf(deps, view), stage) : stage.approval;
    return { status: approval.status === 'REJECTED' ? 'REJECTED' : 'PENDING_APPROVAL', ...(approval !== stage.approval ? { approval } : {}) };
  });

/** Stores the failure token on the stage (conditionally); the stage shows FAILED until :run or :skip. */
export const failureGate = (deps: WorkflowDeps, input: GateInput): Promise<void> => storeToken(deps, input, 'failureToken', async () => ({ status: 'FAILED' }));

/** DONE when every task of the stage is DONE or SKIPPED, else FAILED (from its task counts); records it on the stage. */
export async function stageResult(deps: WorkflowDeps, input: StageResultInput): Promise<StageResultOutput> {
  const view = await viewOf(deps, input.issue);
  const stage = view.stages.find((s) => s.id === input.stage);
  if (!stage) throw new Error(`${issueName(view.issue.project, view.issue.number)} has no stage ${JSON.stringify(input.stage)}`);
  const counts = view.stageTasks[stage.id]?.counts ?? {};
  const status = countOf(counts, ...FINISHED_TASK) === totalOf(counts) ? 'DONE' : 'FAILED';
  if (stage.status !== status && stage.status !== 'CANCELED') {
    await deps.issues.updateStage(stage, { status }, [], { status: [...UNFINISHED_STAGE_STATUSES] });
  }
  return { status };
}
