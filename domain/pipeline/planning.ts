// Pure rules: list filters and the pipeline plan (one stage per environment, in order).
import { pipelineOrder, type Environment } from '../inventory/environments.js';
import { FailedPreconditionError, fieldError } from '../common/errors.js';
import { environmentName } from '../common/names.js';
import { ISSUE_STATUSES, type IssueStatus, type IssueType, type Stage, type Task, type TaskTarget } from './model.js';

// ---------------------------------------------------------------------------------------------
// Filter and planning (pure)

/** `status == "X"` (also `=`, single quotes) with X one of `statuses`; empty means no filter. Anything else is a 400. */
export function parseStatusFilter<S extends string>(raw: string | undefined, statuses: readonly S[], example: S): { status?: S } {
  if (raw === undefined || raw.trim() === '') return {};
  const m = /^\s*status\s*==?\s*(?:"([A-Z_]+)"|'([A-Z_]+)')\s*$/.exec(raw);
  const status = m?.[1] ?? m?.[2];
  if (!status) throw fieldError('filter', `must be like status == "${example}"`);
  if (!(statuses as readonly string[]).includes(status)) throw fieldError('filter', `status must be one of ${statuses.join(', ')}`);
  return { status: status as S };
}

/** An issue list's filter: `status == "OPEN"`. */
export const parseIssueFilter = (raw: string | undefined): { status?: IssueStatus } => parseStatusFilter(raw, ISSUE_STATUSES, 'OPEN');

/** One target as planning needs it: where it runs and the environment of its instance. */
export interface PlanTarget {
  target: TaskTarget;
  environment: string;
  /** The database's highest applied version ('' when none): versioned issues are checked against it. */
  schemaVersion?: string;
}

/**
 * Plans a pipeline: one stage per environment that has a target, in environment pipeline order,
 * one task per target (in the order given within a stage), task ids from 1 in stage order. Each
 * stage keeps its environment's rollout policy (`requireApproval`): its approval flow when no
 * approval rule matches it, decided when the stage is reached.
 */
export function planPipeline(input: { project: string; type: IssueType; runTime?: string; targets: PlanTarget[]; environments: Environment[] }): {
  stages: Omit<Stage, 'issue' | 'version'>[];
  tasks: Omit<Task, 'issue' | 'version'>[];
} {
  const order = pipelineOrder(input.environments);
  const stages: Omit<Stage, 'issue' | 'version'>[] = [];
  const tasks: Omit<Task, 'issue' | 'version'>[] = [];
  for (const t of input.targets) {
    if (!order.some((e) => e.id === t.environment)) throw new FailedPreconditionError(`${environmentName(t.environment)} is not an active environment`);
  }
  order.forEach((env, rank) => {
    const here = input.targets.filter((t) => t.environment === env.id);
    if (here.length === 0) return;
    stages.push({
      project: input.project,
      id: env.id,
      order: rank,
      requireApproval: env.requireApproval,
      // Decided when the stage is reached (Advance), from the approval rules and the plan check.
      approval: { status: 'NOT_DECIDED', steps: [] },
      status: 'NOT_STARTED',
    });
    for (const t of here) {
      tasks.push({
        project: input.project,
        id: tasks.length + 1,
        stage: env.id,
        type: input.type,
        target: t.target,
        status: 'NOT_STARTED',
        ...(input.runTime ? { runTime: input.runTime } : {}),
        attempts: 0,
      });
    }
  });
  return { stages, tasks };
}

/** RFC 3339 in UTC, without milliseconds when there are none (`2026-12-01T02:00:00Z`). */
export const utc = (raw: string): string => new Date(raw).toISOString().replace('.000Z', 'Z');
