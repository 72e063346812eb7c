// One-call rollback of data changes (API.md "Prior backup and rollback of data changes"): the
// restore statement of a task run, built from what its backup recorded, and the rollback issue:
// a new DATABASE_DATA_UPDATE issue in the same project whose tasks each run their own restore
// statement, through the same pipeline order, approvals and checks. It takes its own backup, so
// a rollback can itself be rolled back.
import type { Access } from '../access/access.js';
import { FailedPreconditionError, fieldError } from '../common/errors.js';
import { sha256 } from '../common/hash.js';
import { parse } from '../common/values.js';
import { restoreStatement } from '../backup/sql.js';
import type { PriorBackupRecord } from '../backup/model.js';
import { retentionSeconds, type Project } from '../inventory/projects.js';
import type { Instance } from '../inventory/instances.js';
import { type IssueDeps, loadIssue, priorBackupFields, startIssue } from './issues.js';
import { MAX_OWN_TASK_STATEMENT_BYTES, MAX_STATEMENT_BYTES, type IssueAggregate, type Task, type TaskRun, issueName, taskName } from './model.js';
import { planPipeline, type PlanTarget } from './planning.js';
import { RollbackRequest } from './resources.js';
import { getTaskRun } from './tasks.js';


/** When a backup stops being usable: dropped by the cleanup, or older than the project's retention now. */
export function backupExpiry(backup: PriorBackupRecord, project: Pick<Project, 'priorBackupRetention'>): { expired: boolean; at: string } {
  if (backup.dropTime) return { expired: true, at: backup.dropTime };
  const at = new Date(Date.parse(backup.createTime) + retentionSeconds(project) * 1000).toISOString();
  return { expired: false, at };
}

/** The backup of a run a rollback can use, or the 400 that says why not. */
function usableBackup(task: Task, run: TaskRun, project: Project, now: Date): PriorBackupRecord {
  const name = `${taskName(task)}/taskRuns/${run.id}`;
  const backup = run.result.priorBackup;
  if (run.status !== 'DONE') throw new FailedPreconditionError(`${name} is ${run.status}: only a DONE run changed anything to roll back`);
  if (!backup) throw new FailedPreconditionError(`${name} has no prior backup (the issue ran without one, or before backups existed): it cannot be rolled back`);
  const expiry = backupExpiry(backup, project);
  if (expiry.expired || Date.parse(expiry.at) <= now.getTime()) {
    throw new FailedPreconditionError(`the backup of ${name} expired at ${expiry.at} (the project keeps backups ${project.priorBackupRetention ?? '2592000s'}, priorBackupRetention): it cannot be rolled back`);
  }
  return backup;
}

async function engineOf(deps: IssueDeps, task: Task): Promise<Instance['engine']> {
  const instance = await deps.instances.get(task.target.instance);
  if (!instance) throw new FailedPreconditionError(`instances/${task.target.instance} no longer exists`);
  return instance.engine;
}

/** `POST …/taskRuns/{r}:previewRollback` → the statement that restores exactly what that run backed up. */
export async function previewRollback(deps: IssueDeps, access: Access, project: string, n: number, stage: string, taskId: number, runRaw: string): Promise<{ statement: string }> {
  const { task, run } = await getTaskRun(deps, access, project, n, stage, taskId, runRaw);
  const p = (await deps.projects.get(project))!;
  const backup = usableBackup(task, run, p, deps.now());
  return { statement: restoreStatement(await engineOf(deps, task), backup.tables) };
}

/** The latest run of each task, with its full record (GET issue holds the latest ones). */
const latestRun = (agg: IssueAggregate, task: Task): TaskRun | undefined => agg.latestRuns.find((r) => r.task === task.id);

/**
 * `POST …/issues/{n}:rollback` `{tasks?}` → a new issue "Rollback of #n" whose tasks each run the
 * restore statement of the chosen task's latest run. Every chosen task must have a DONE run with a
 * backup that has not expired; with no `tasks`, those are all the tasks that have one.
 */
export async function rollbackIssue(deps: IssueDeps, access: Access, project: string, n: number, body: unknown): Promise<IssueAggregate> {
  const agg = await loadIssue(deps, access, project, n, 'issues.create');
  const { tasks: names } = parse(RollbackRequest, body ?? {});
  const p = (await deps.projects.get(project))!;
  if (p.state === 'DELETED') throw new FailedPreconditionError(`projects/${project} is deleted; undelete it first`);
  if (agg.issue.type !== 'DATABASE_DATA_UPDATE') throw new FailedPreconditionError(`${issueName(project, n)} is a ${agg.issue.type}: only data updates are backed up and rolled back`);
  const now = deps.now();
  let chosen: Task[];
  if (names === undefined) {
    chosen = agg.tasks.filter((t) => latestRun(agg, t)?.status === 'DONE' && (latestRun(agg, t)?.result.priorBackup?.tables.length ?? 0) > 0);
    if (chosen.length === 0) throw new FailedPreconditionError(`${issueName(project, n)} has no task with a DONE run and a prior backup: nothing to roll back`);
  } else {
    const seen = new Set<string>();
    chosen = names.map((name, i) => {
      const task = agg.tasks.find((t) => taskName(t) === name);
      if (!task) throw fieldError(`tasks[${i}]`, `${name} is not a task of ${issueName(project, n)}`);
      if (seen.has(name)) throw fieldError(`tasks[${i}]`, `${name} is listed twice`);
      seen.add(name);
      return task;
    });
  }
  const restores = await Promise.all(
    chosen.map(async (task) => {
      const run = latestRun(agg, task);
      if (!run) throw new FailedPreconditionError(`${taskName(task)} has not run: nothing to roll back`);
      const backup = usableBackup(task, run, p, now);
      return { task, statement: restoreStatement(await engineOf(deps, task), backup.tables) };
    }),
  );
  for (const r of restores) {
    if (Buffer.byteLength(r.statement, 'utf8') > MAX_OWN_TASK_STATEMENT_BYTES) throw new FailedPreconditionError(`the restore statement of ${taskName(r.task)} is over ${MAX_OWN_TASK_STATEMENT_BYTES} bytes`);
  }
  const environments = await deps.environments.listAll();
  const targets: PlanTarget[] = [];
  for (const { task } of restores) {
    const instance = await deps.instances.get(task.target.instance);
    targets.push({ target: task.target, environment: instance!.environment });
  }
  const { stages, tasks } = planPipeline({ project, type: 'DATABASE_DATA_UPDATE', targets, environments });
  const key = (t: Pick<Task, 'target'>) => `${t.target.instance}/${'database' in t.target ? t.target.database : t.target.databaseName}`;
  const byTarget = new Map(restores.map((r) => [key(r.task), r.statement]));
  // The issue keeps the first task's statement; a task whose statement differs keeps its own.
  const first = byTarget.get(key(tasks[0]!))!;
  const statement = Buffer.byteLength(first, 'utf8') <= MAX_STATEMENT_BYTES ? first : '';
  const time = now.toISOString();
  const source = issueName(project, n);
  return startIssue(deps, {
    issue: {
      project,
      title: `Rollback of #${n}`,
      description: `Restores the rows that ${source} ("${agg.issue.title}") changed, from the backups its task runs took: ${restores.map((r) => taskName(r.task)).join(', ')}.`,
      type: 'DATABASE_DATA_UPDATE',
      status: 'OPEN',
      creator: access.user.id,
      statement,
      checksum: sha256(statement),
      ...priorBackupFields(p, true),
      rollbackOf: source,
      createTime: time,
      updateTime: time,
    },
    stages,
    tasks: tasks.map((t) => {
      const own = byTarget.get(key(t))!;
      return own === statement ? t : { ...t, statement: own, checksum: sha256(own) };
    }),
    activity: { project, type: 'ISSUE_CREATED', actor: access.user.id, time, comment: `rollback of ${source}` },
  });
}

