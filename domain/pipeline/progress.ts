// A pipeline's progress in numbers: each stage's task counts by stored status. The store keeps them
// as counters written in the same transaction as each task's status (adapters/dynamo/task-counts.ts),
// so GET issue, Advance and StageResult read a handful of items, not every task; an issue made
// before the counters has its counts counted from its tasks instead.
import { type IssueRepo, type IssueView, type StageTasks, TASK_STATUSES, type Task, type TaskCounts, type TaskStatus } from './model.js';

/** Tasks in any of `statuses` (a counter never reads below 0). */
export const countOf = (c: TaskCounts, ...statuses: TaskStatus[]): number => statuses.reduce((n, s) => n + Math.max(0, c[s] ?? 0), 0);
export const totalOf = (c: TaskCounts): number => countOf(c, ...TASK_STATUSES);

/** Statuses a stage's Map still runs (FAILED ones wait for :run or :skip). */
export const TO_RUN: readonly TaskStatus[] = ['NOT_STARTED', 'PENDING', 'RUNNING'];

/** Each stage's counts and id range, counted from its tasks (an issue made before the counters). */
export function countTasks(tasks: readonly Task[]): Record<string, StageTasks> {
  const out: Record<string, StageTasks> = {};
  for (const t of tasks) {
    const s = (out[t.stage] ??= { counts: {}, first: t.id, last: t.id });
    s.counts[t.status] = (s.counts[t.status] ?? 0) + 1;
    s.first = Math.min(s.first!, t.id);
    s.last = Math.max(s.last!, t.id);
  }
  for (const s of Object.values(out)) {
    // A range is only a stage's when every id in it is one of its tasks.
    if (s.last! - s.first! + 1 !== totalOf(s.counts)) {
      delete s.first;
      delete s.last;
    }
  }
  return out;
}

/**
 * The ids of a stage's tasks in `statuses`, in id order, reading as little as the counts allow:
 * none when none is in them; the stage's id range when all of them are (a stage's first run, the
 * common case: no read at all); else the stage's own tasks (ids and statuses only).
 */
export async function stageTaskIds(issues: Pick<IssueRepo, 'taskStates' | 'get'>, view: IssueView, stage: string, statuses: readonly TaskStatus[]): Promise<number[]> {
  if (view.tasks) return view.tasks.filter((t) => t.stage === stage && statuses.includes(t.status)).map((t) => t.id);
  const st = view.stageTasks[stage] ?? { counts: {} };
  const wanted = countOf(st.counts, ...statuses);
  if (wanted === 0) return [];
  const { project, number } = view.issue;
  if (st.first === undefined || st.last === undefined) {
    const agg = await issues.get(project, number);
    return (agg?.tasks ?? []).filter((t) => t.stage === stage && statuses.includes(t.status)).map((t) => t.id);
  }
  if (wanted === totalOf(st.counts) && st.last - st.first + 1 === wanted) return Array.from({ length: wanted }, (_, i) => st.first! + i);
  return (await issues.taskStates(project, number, st.first, st.last)).filter((t) => statuses.includes(t.status)).map((t) => t.id);
}
