// Versions in order, per database (issue 13, item 7). A versioned change (GitOps, `sluice migrate`:
// an issue with a migrationVersion) to a database waits while a lower version made earlier for
// that database is neither applied nor skipped, and a version lower than one already applied is
// refused when its issue is planned, unless the project allows out-of-order versions (Flyway's
// outOfOrder). The wait is the pipeline's: the runner marks the task PENDING and throws
// Sluice.VersionWaiting, and RunTask's retrier for that error asks again with bounded backoff
// (infra/lib/pipeline.ts): a task that need not wait costs no state and no event more. Nothing is
// claimed while it waits, so exactly-once is untouched.
import { compareVersions } from '../common/migrations.js';
import { fieldError } from '../common/errors.js';
import { databaseName } from '../common/names.js';
import type { Issue, IssueStatus, TaskStatus } from './model.js';
import type { StoredTask, TaskRunStore } from './task-run.js';

/** A versioned task, indexed under its database when its issue is made (so later versions find it). */
export interface VersionedTask {
  instance: string;
  database: string;
  version: string;
  project: string;
  issue: number;
  task: number;
  /** The issue's createTime: only versions made earlier are waited for. */
  createTime: string;
}

/** A lower version's task as the runner finds it: its issue's status and its own (absent: gone). */
export interface VersionedTaskState {
  entry: VersionedTask;
  issueStatus?: IssueStatus;
  taskStatus?: TaskStatus;
}

/**
 * How a change waits (RunTask's retrier: no jitter, so the schedule is known): first after
 * `intervalSeconds`, each delay `backoffRate` times the last, at most `maxDelaySeconds`; a short
 * wait is noticed within seconds, a long one costs one poll every 20 minutes. After `limitMs` the
 * runner fails the task with a detail saying what it waited for; `maxAttempts` outlasts the limit
 * (~28 h of delays), so the runner's own failure always comes first. Three history events per
 * poll: a batch of 25 tasks that each wait the whole limit stays far below Step Functions' 25,000
 * events per (child) execution.
 */
export const VERSION_WAIT = { intervalSeconds: 2, backoffRate: 1.5, maxDelaySeconds: 20 * 60, maxAttempts: 100, limitMs: 24 * 3600_000 } as const;

/** The delay before poll `n` (0-based), as the retrier computes it. */
export const retryDelaySeconds = (n: number): number =>
  Math.min(VERSION_WAIT.maxDelaySeconds, VERSION_WAIT.intervalSeconds * VERSION_WAIT.backoffRate ** n);

/** Whether `a` was made before `b` (createTime, then the issue name: a stable order for ties). */
const madeBefore = (a: VersionedTask, b: Pick<VersionedTask, 'createTime' | 'project' | 'issue'>): boolean =>
  a.createTime < b.createTime || (a.createTime === b.createTime && `${a.project}/${a.issue}` < `${b.project}/${b.issue}`);

/** Settled for good: its issue is over, or its task DONE or SKIPPED (neither ever changes back). */
export const isSettled = (s: VersionedTaskState): boolean =>
  s.issueStatus === undefined || s.issueStatus !== 'OPEN' || s.taskStatus === undefined || s.taskStatus === 'DONE' || s.taskStatus === 'SKIPPED';

/**
 * The lower version this task must wait for, if any: of the entries made before its issue with a
 * lower version, the lowest one whose issue is OPEN and whose task is neither DONE nor SKIPPED.
 */
export function blockingVersion(me: Pick<VersionedTask, 'version' | 'createTime' | 'project' | 'issue'>, lower: readonly VersionedTaskState[]): VersionedTask | undefined {
  return lower
    .filter((s) => compareVersions(s.entry.version, me.version) < 0 && madeBefore(s.entry, me) && !(s.entry.project === me.project && s.entry.issue === me.issue) && !isSettled(s))
    .map((s) => s.entry)
    .sort((a, b) => compareVersions(a.version, b.version) || (madeBefore(a, b) ? -1 : 1))[0];
}

const issueRef = (e: VersionedTask): string => `projects/${e.project}/issues/${e.issue}`;

/** The task's detail while it waits (shown on the PENDING task). */
export const waitDetail = (version: string, blocking: VersionedTask): string =>
  `waits for V${blocking.version} (${issueRef(blocking)}), made earlier for ${databaseName(blocking.instance, blocking.database)}: V${version} runs once V${blocking.version} is applied or skipped`;

/** The task's failure once it waited longer than the limit. */
export const waitExpired = (version: string, blocking: VersionedTask, waitedMs: number): string =>
  `V${version} waited ${Math.round(waitedMs / 3600_000)} h for V${blocking.version} (${issueRef(blocking)}) on ${databaseName(blocking.instance, blocking.database)} and gave up; apply or skip V${blocking.version}, then run this task again`;

/** What the runner does with a versioned task: run it, wait `seconds` and ask again, or fail it. */
export type VersionDecision = { kind: 'RUN' } | { kind: 'WAIT'; detail: string } | { kind: 'EXPIRED'; detail: string };

export function decideVersionWait(version: string, blocking: VersionedTask | undefined, waitingSince: string | undefined, now: Date, limitMs: number = VERSION_WAIT.limitMs): VersionDecision {
  if (!blocking) return { kind: 'RUN' };
  const waited = waitingSince === undefined ? 0 : Math.max(0, now.getTime() - Date.parse(waitingSince));
  if (waited >= limitMs) return { kind: 'EXPIRED', detail: waitExpired(version, blocking, waited) };
  return { kind: 'WAIT', detail: waitDetail(version, blocking) };
}

/**
 * Planning: a version lower than one already applied to a target is refused (400, naming both
 * versions and the database) unless the project allows out-of-order versions. A target's
 * `schemaVersion` is the highest version applied to it ('' when none). A version the target has
 * applied itself is no new version: the runner reports it applied already, or drift.
 */
export async function checkVersionOrder(
  version: string,
  targets: readonly { instance: string; database: string; schemaVersion?: string }[],
  allowOutOfOrder: boolean,
  isApplied: (instance: string, database: string, version: string) => Promise<boolean>,
): Promise<void> {
  if (allowOutOfOrder) return;
  for (const t of targets) {
    if (t.schemaVersion && compareVersions(version, t.schemaVersion) < 0 && !(await isApplied(t.instance, t.database, version))) {
      throw fieldError(
        'migrationVersion',
        `version ${version} is lower than version ${t.schemaVersion}, already applied to ${databaseName(t.instance, t.database)}; versions apply in order (a project that sets allowOutOfOrderVersions accepts it)`,
      );
    }
  }
}

/** The runner's question before it claims a task: run it, wait for a lower version, or give up waiting. */
export async function versionOrder(store: Pick<TaskRunStore, 'lowerVersions'>, task: StoredTask, issue: Issue, now: Date): Promise<VersionDecision> {
  const version = issue.migrationVersion;
  if (version === undefined || !('database' in task.target)) return { kind: 'RUN' };
  const lower = await store.lowerVersions(task.target.instance, task.target.database, version);
  const blocking = blockingVersion({ version, createTime: issue.createTime, project: issue.project, issue: issue.number }, lower);
  return decideVersionWait(version, blocking, task.waitingSince, now);
}
