// Failed tasks (retry, skip), task runs, activities and a stage's task list.
import * as z from 'zod/mini';
import type { Access } from '../access/access.js';
import { parse, type ListOptions, type Page } from '../common/values.js';
import { FailedPreconditionError, NotFoundError } from '../common/errors.js';
import { type Activity, type IssueAggregate, type IssueView, MAX_INLINE_TASKS, type Stage, TASK_STATUSES, type Task, type TaskRun, type TaskStatus, issueName, stageName, taskName } from './model.js';
import { projectWith } from '../inventory/projects.js';
import { RunTaskRequest, SkipTaskRequest, TaskResource, shownStatus, shownStatusOf, toTaskResource } from './resources.js';
import { parseStatusFilter } from './planning.js';
import { type IssueDeps, issueAfter, loadIssue, requireOpen, stageOf } from './issues.js';
import { LostGateError } from './approvals.js';

function failedTask(agg: IssueAggregate, stage: string, taskId: number): { s: Stage; t: Task; token: string } {
  const s = stageOf(agg, stage);
  const t = agg.tasks.find((x) => x.id === taskId && x.stage === s.id);
  const name = `${stageName(agg.issue.project, agg.issue.number, stage)}/tasks/${taskId}`;
  if (!t) throw new NotFoundError(name);
  requireOpen(agg);
  if (t.status === 'DONE') throw new FailedPreconditionError(`${name} is DONE: a statement that ran is never run again`);
  // RUNNING at the failure gate: the stage's Map ended without an outcome for it, so its runner
  // died (a crash, a timeout); a new run takes it over (the engine's marker keeps a committed
  // change from running twice).
  const stranded = t.status === 'RUNNING' && s.failureToken !== undefined;
  if (t.status !== 'FAILED' && !stranded) throw new FailedPreconditionError(`${name} is ${t.status}; only a FAILED task can be run again or skipped`);
  if (!s.failureToken) throw new FailedPreconditionError(`${stageName(agg.issue.project, agg.issue.number, stage)} is not waiting on its failed tasks yet; try again shortly`);
  return { s, t, token: s.failureToken };
}

/** Retries a FAILED task: a new task run, created by the caller. */
export async function runTask(deps: IssueDeps, access: Access, project: string, n: number, stage: string, taskId: number, body: unknown): Promise<IssueView> {
  const agg = await loadIssue(deps, access, project, n, 'issues.runTask');
  const { comment } = parse(RunTaskRequest, body ?? {});
  const { s, t, token } = failedTask(agg, stage, taskId);
  if (!(await deps.issues.resolveFailure(t, { status: 'NOT_STARTED', runRequestedBy: access.user.id }, s, token))) throw new LostGateError(stageName(project, n, stage));
  await deps.orchestrator.sendTaskSuccess(token, { taskIds: [String(t.id)] });
  await deps.issues.appendActivity({ project, issue: n, type: 'TASK_RETRIED', actor: access.user.id, time: deps.now().toISOString(), target: taskName(t), ...(comment ? { comment } : {}) });
  return issueAfter(deps, project, n);
}

/** Skips a FAILED task with a reason; the pipeline goes on. */
export async function skipTask(deps: IssueDeps, access: Access, project: string, n: number, stage: string, taskId: number, body: unknown): Promise<IssueView> {
  const agg = await loadIssue(deps, access, project, n, 'issues.runTask');
  const { reason } = parse(SkipTaskRequest, body ?? {});
  const { s, t, token } = failedTask(agg, stage, taskId);
  if (!(await deps.issues.resolveFailure(t, { status: 'SKIPPED', skipReason: reason }, s, token))) throw new LostGateError(stageName(project, n, stage));
  await deps.orchestrator.sendTaskSuccess(token, { taskIds: [] });
  await deps.issues.appendActivity({ project, issue: n, type: 'TASK_SKIPPED', actor: access.user.id, time: deps.now().toISOString(), target: taskName(t), comment: reason });
  return issueAfter(deps, project, n);
}

export async function listTaskRuns(deps: IssueDeps, access: Access, project: string, n: number, stage: string, taskId: number): Promise<{ task: Task; runs: TaskRun[] }> {
  const agg = await loadIssue(deps, access, project, n, 'issues.get');
  const task = agg.tasks.find((t) => t.id === taskId && t.stage === stage);
  if (!task) throw new NotFoundError(`${stageName(project, n, stage)}/tasks/${taskId}`);
  const runs = (await deps.issues.listTaskRuns(project, n, taskId)).sort((a, b) => a.attempt - b.attempt);
  return { task, runs };
}

export async function getTaskRun(deps: IssueDeps, access: Access, project: string, n: number, stage: string, taskId: number, runRaw: string): Promise<{ task: Task; run: TaskRun }> {
  const { task, runs } = await listTaskRuns(deps, access, project, n, stage, taskId);
  const run = /^[1-9][0-9]{0,9}$/.test(runRaw) ? runs.find((r) => r.id === Number(runRaw)) : undefined;
  if (!run) throw new NotFoundError(`${taskName(task)}/taskRuns/${runRaw}`);
  return { task, run };
}

/** The cursor of an in-memory page: the last id (or seq) returned. */
function pageAfter<T>(all: T[], idOf: (x: T) => number, options: ListOptions): Page<T> {
  const after = typeof options.cursor === 'number' ? options.cursor : 0;
  const rest = all.filter((x) => idOf(x) > after);
  const items = rest.slice(0, options.limit);
  return { items, ...(rest.length > options.limit ? { next: idOf(items[items.length - 1]!) } : {}) };
}

/** An issue's activities in order, a page at a time (a batch change over thousands of databases has tens of thousands). */
export async function listActivities(deps: IssueDeps, access: Access, project: string, n: number, options: ListOptions): Promise<Page<Activity>> {
  await loadIssue(deps, access, project, n, 'issues.get');
  return pageAfter((await deps.issues.listActivities(project, n)).sort((a, b) => a.seq - b.seq), (a) => a.seq, options);
}

/** A stage task list's filter: `status == "FAILED"`. */
export const parseTaskFilter = (raw: string | undefined): { status?: TaskStatus } => parseStatusFilter(raw, TASK_STATUSES, 'FAILED');

/**
 * A stage's tasks (status as shown, with each one's latest run), in id order, filtered by status, a
 * page at a time. A pipeline too large for GET lists only this stage's range of tasks, the filter
 * applied by the store (the stored statuses that show as the one asked for), and the runs and
 * checks of the page's tasks only.
 */
export async function listStageTasks(
  deps: IssueDeps, access: Access, project: string, n: number, stage: string, filter: string | undefined, options: ListOptions,
): Promise<Page<z.infer<typeof TaskResource>>> {
  const { status } = parseTaskFilter(filter);
  const name = issueName(project, n);
  await projectWith(deps, access, project, 'issues.get', name);
  const view = await deps.issues.view(project, n, MAX_INLINE_TASKS);
  if (!view) throw new NotFoundError(name);
  const s = stageOf(view, stage);
  const range = view.stageTasks[s.id];
  const after = typeof options.cursor === 'number' ? options.cursor : 0;
  let tasks: Task[];
  let latestRuns: TaskRun[];
  let more: boolean;
  if (view.tasks || range?.first === undefined || range.last === undefined) {
    const all = view.tasks ? { tasks: view.tasks, latestRuns: view.latestRuns ?? [] } : (await deps.issues.get(project, n))!;
    const rest = all.tasks.filter((t) => t.stage === s.id && t.id > after && (status === undefined || shownStatus(view.issue, t, s) === status));
    [tasks, latestRuns, more] = [rest.slice(0, options.limit), all.latestRuns, rest.length > options.limit];
  } else {
    const statuses = status === undefined ? undefined : TASK_STATUSES.filter((st) => shownStatusOf(view.issue, st, s) === status);
    const page = statuses?.length === 0 ? { tasks: [], latestRuns: [] } : await deps.issues.taskPage(project, n, { from: Math.max(range.first, after + 1), to: range.last, ...(statuses ? { statuses } : {}), limit: options.limit + 1 });
    [tasks, latestRuns, more] = [page.tasks.slice(0, options.limit), page.latestRuns, page.tasks.length > options.limit];
  }
  const runs = new Map(latestRuns.map((r) => [r.task, r]));
  return { items: tasks.map((t) => toTaskResource(view.issue, t, s, runs.get(t.id))), ...(more ? { next: tasks[tasks.length - 1]!.id } : {}) };
}
