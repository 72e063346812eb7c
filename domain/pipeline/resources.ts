// The issue API's request and response schemas, and how entities become resources.
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import { ECHOED, Timestamp, Title, etagOf } from '../common/values.js';
import { databaseName, environmentName, instanceName, userName } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import { AdviceResource } from '../review/resources.js';
import { APPROVAL_STATUSES, STEP_STATUSES, waitingRoles, type StageApproval } from '../approval/flow.js';
import { countOf, totalOf } from './progress.js';
import { type Activity, type ChangeHistory, ISSUE_STATUSES, ISSUE_TYPES, type Issue, type IssueView, type IssuePlanCheck, type TaskPlanCheck, MAX_INLINE_TASKS, MAX_TARGETS, MAX_TASK_STATEMENT_BYTES, type Stage, TASK_STATUSES, type Task, type TaskRun, type TaskStatus, issueName, stageName, taskName } from './model.js';

export const RunTime = /* @__PURE__ */ lazySchema(() => z.string().check(z.iso.datetime({ offset: true })));
/** A canonical migration version (gitops/vcs.ts parseMigrationPath): `V001_2__x.sql` is `1.2`. */
const MIGRATION_VERSION = /^(0|[1-9][0-9]{0,17})(\.(0|[1-9][0-9]{0,17})){0,9}$/;

export const IssueCreate = /* @__PURE__ */ lazySchema(() => z.strictObject({
  title: Title,
  description: z.optional(z.string().check(z.maxLength(65536))),
  type: z.enum(ISSUE_TYPES),
  statement: z.optional(z.string().check(z.minLength(1))),
  sheet: z.optional(z.string()),
  targets: z.optional(z.array(z.string()).check(z.minLength(1), z.maxLength(MAX_TARGETS))),
  databaseGroup: z.optional(z.string()),
  instance: z.optional(z.string()),
  databaseName: z.optional(z.string()),
  runTime: z.optional(RunTime),
  /** The migration version it applies (`sluice migrate`, as GitOps does): never applied twice to a database, drift if changed. */
  migrationVersion: z.optional(z.string().check(z.regex(MIGRATION_VERSION, 'must be a version like 1, 2.1 or 20261125 (numbers joined by dots, no leading zeros)'))),
  /** DATABASE_DATA_UPDATE: copy the rows each statement changes before it runs (default: the project's priorBackup). */
  enablePriorBackup: z.optional(z.boolean()),
}));
export type IssueCreateInput = z.infer<typeof IssueCreate>;

export const IssuePatch = /* @__PURE__ */ lazySchema(() => z.strictObject({
  title: z.optional(Title),
  description: z.optional(z.string().check(z.maxLength(65536))),
  ...ECHOED,
  type: z.optional(z.unknown()),
  status: z.optional(z.unknown()),
  creator: z.optional(z.unknown()),
  pipeline: z.optional(z.unknown()),
  /** Only with updateMask=statement (a read echoes it back): while no task has run; the checks run again and approvals reset. */
  statement: z.optional(z.string().check(z.minLength(1))),
  runTime: z.optional(z.unknown()),
  enablePriorBackup: z.optional(z.unknown()),
  rollbackOf: z.optional(z.unknown()),
  planCheck: z.optional(z.unknown()),
}));
export const MUTABLE = ['title', 'description', 'statement'] as const;
export const OverrideChecksRequest = /* @__PURE__ */ lazySchema(() => z.strictObject({ reason: z.string().check(z.minLength(1), z.maxLength(4096)) }));

export const RollbackRequest = /* @__PURE__ */ lazySchema(() => z.strictObject({
  /** Task names of the issue to undo (default: every task whose latest run is DONE with a prior backup). */
  tasks: z.optional(z.array(z.string()).check(z.minLength(1), z.maxLength(MAX_TARGETS))),
}));

const Comment = /* @__PURE__ */ lazySchema(() => z.string().check(z.maxLength(4096)));
export const ApproveRequest = /* @__PURE__ */ lazySchema(() => z.strictObject({ comment: z.optional(Comment) }));
export const RejectRequest = /* @__PURE__ */ lazySchema(() => z.strictObject({ reason: z.string().check(z.minLength(1), z.maxLength(4096)) }));
export const RunTaskRequest = /* @__PURE__ */ lazySchema(() => z.strictObject({ comment: z.optional(Comment) }));
export const SkipTaskRequest = /* @__PURE__ */ lazySchema(() => z.strictObject({ reason: z.string().check(z.minLength(1), z.maxLength(4096)) }));

const Str = /* @__PURE__ */ z.string();
const OptStr = /* @__PURE__ */ z.optional(Str);
/** The backup a data update's run took before it changed anything: one table per source table and statement. */
export const PriorBackupResource = /* @__PURE__ */ z.object({
  tables: /* @__PURE__ */ z.array(/* @__PURE__ */ z.object({
    /** `schema.table` (PostgreSQL) or `database.table` (MySQL) the rows came from. */
    source: Str,
    /** `sluice_backup.<name>`: the name tells the project, issue, task and source table. */
    backup: Str,
    rows: /* @__PURE__ */ z.number(),
    /** What the statement did to these rows (a rollback undoes it): UPDATE, DELETE, or INSERT. */
    action: /* @__PURE__ */ z.enum(['UPDATE', 'DELETE', 'INSERT']),
  })),
  createTime: Timestamp,
  /** When the scheduled cleanup dropped the backup tables (priorBackupRetention): no rollback after it. */
  dropTime: /* @__PURE__ */ z.optional(Timestamp),
});
export const TaskRunResource = /* @__PURE__ */ z.object({
  name: Str,
  status: /* @__PURE__ */ z.enum(['RUNNING', 'DONE', 'FAILED', 'CANCELED']),
  attempt: /* @__PURE__ */ z.number(),
  creator: Str,
  startTime: Timestamp,
  endTime: /* @__PURE__ */ z.optional(Timestamp),
  detail: Str,
  result: /* @__PURE__ */ z.object({ affectedRows: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.number()), changeHistory: OptStr, priorBackup: /* @__PURE__ */ z.optional(PriorBackupResource) }),
});
export const TaskPlanCheckResource = /* @__PURE__ */ z.object({
  status: /* @__PURE__ */ z.enum(['SUCCESS', 'WARNING', 'ERROR']),
  /** The target's own EXPLAIN estimate of the rows its UPDATE/DELETE statements change. */
  affectedRowsEstimate: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.number()),
  advices: /* @__PURE__ */ z.array(AdviceResource),
  omittedAdvices: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.number()),
  checkTime: Timestamp,
});
// Lazy: a spread of `.shape` is a property read, which esbuild must keep (and TaskPlanCheckResource,
// AdviceResource with it) in every bundle that imports this module.
export const PlanCheckRunResource = /* @__PURE__ */ lazySchema(() => z.object({ name: Str, task: Str, ...TaskPlanCheckResource.shape }));
export const IssuePlanCheckResource = /* @__PURE__ */ z.object({
  status: /* @__PURE__ */ z.enum(['RUNNING', 'SUCCESS', 'WARNING', 'ERROR']),
  errorCount: /* @__PURE__ */ z.number(),
  warningCount: /* @__PURE__ */ z.number(),
  /** `:overrideChecks` on this statement: the ERRORs no longer block. */
  override: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.object({ reason: Str, actor: Str, time: Timestamp })),
});
export const TaskResource = /* @__PURE__ */ z.object({
  name: Str,
  type: /* @__PURE__ */ z.enum(ISSUE_TYPES),
  database: OptStr,
  instance: OptStr,
  databaseName: OptStr,
  status: /* @__PURE__ */ z.enum(TASK_STATUSES),
  runTime: /* @__PURE__ */ z.optional(Timestamp),
  /** The statement the task runs (its own, or the issue's); absent when it is longer than MAX_TASK_STATEMENT_BYTES (read the issue's). */
  statement: OptStr,
  skipReason: OptStr,
  /** While PENDING because a lower version made earlier for its database is neither applied nor skipped: which one. */
  detail: OptStr,
  latestTaskRun: /* @__PURE__ */ z.optional(TaskRunResource),
  /** The task's plan check, once it has run. */
  planCheck: /* @__PURE__ */ z.optional(TaskPlanCheckResource),
});
export const StageResource = /* @__PURE__ */ z.object({
  name: Str,
  environment: Str,
  status: /* @__PURE__ */ z.enum(['NOT_STARTED', 'PENDING_APPROVAL', 'RUNNING', 'DONE', 'FAILED', 'CANCELED', 'REJECTED', 'BLOCKED']),
  approval: /* @__PURE__ */ z.object({
    status: /* @__PURE__ */ z.enum(APPROVAL_STATUSES),
    /** The title of the approval rule that decided the steps; absent for the environment's own step. */
    rule: OptStr,
    steps: /* @__PURE__ */ z.array(
      /* @__PURE__ */ z.object({
        /** A rule's step: its one role. The environment's step has none (any of `roles`). */
        role: OptStr,
        /** The roles any one of which may approve this step. */
        roles: /* @__PURE__ */ z.array(Str),
        status: /* @__PURE__ */ z.enum(STEP_STATUSES),
        approver: OptStr,
        approveTime: /* @__PURE__ */ z.optional(Timestamp),
        comment: OptStr,
      }),
    ),
    /** While PENDING: the roles of the step it waits for (who is asked next). */
    waitingFor: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.array(Str)),
  }),
  /** How many tasks the stage has, and how many are in each status. */
  taskCount: /* @__PURE__ */ z.number(),
  taskStatusCounts: /* @__PURE__ */ z.record(/* @__PURE__ */ z.string(), /* @__PURE__ */ z.number()),
  /** Absent when the issue has more than MAX_INLINE_TASKS tasks: list them with GET .../stages/{s}/tasks. */
  tasks: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.array(TaskResource)),
});
export const IssueResource = /* @__PURE__ */ z.object({
  name: Str,
  title: Str,
  description: Str,
  type: /* @__PURE__ */ z.enum(ISSUE_TYPES),
  status: /* @__PURE__ */ z.enum(ISSUE_STATUSES),
  creator: Str,
  statement: Str,
  runTime: /* @__PURE__ */ z.optional(Timestamp),
  /** The migration version the issue applies (GitOps, `sluice migrate`), if any. */
  migrationVersion: OptStr,
  /** DATABASE_DATA_UPDATE: whether each run backs up the rows it changes first. */
  enablePriorBackup: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.boolean()),
  /** A rollback issue: the issue it undoes. Its tasks each run their own restore statement. */
  rollbackOf: OptStr,
  /** The plan checks' summary (absent until they first run). */
  planCheck: /* @__PURE__ */ z.optional(IssuePlanCheckResource),
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: Str,
  /** Absent in lists: a list reads the issue items only (gsi1), not their pipelines. */
  pipeline: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.object({ stages: /* @__PURE__ */ z.array(StageResource) })),
});
export const ActivityResource = /* @__PURE__ */ z.object({
  name: Str,
  type: Str,
  actor: Str,
  time: Timestamp,
  target: OptStr,
  comment: OptStr,
});
export const ChangeHistoryResource = /* @__PURE__ */ z.object({
  name: Str,
  status: /* @__PURE__ */ z.enum(['DONE', 'FAILED', 'PENDING', 'DRIFT']),
  type: /* @__PURE__ */ z.enum(['MIGRATE', 'DATA', 'BASELINE']),
  statement: Str,
  version: Str,
  issue: Str,
  taskRun: Str,
  createTime: Timestamp,
  checksum: Str,
  schemaBefore: OptStr,
  schemaAfter: OptStr,
  schemaDiff: OptStr,
  creator: OptStr,
});

export const ISSUE_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listIssues: { list: { field: 'issues', item: IssueResource } },
  createIssue: { request: IssueCreate, response: IssueResource },
  getIssue: { response: IssueResource },
  updateIssue: { request: IssuePatch, response: IssueResource },
  cancelIssue: { response: IssueResource },
  approveStage: { request: ApproveRequest, response: IssueResource },
  rejectStage: { request: RejectRequest, response: IssueResource },
  requestApproval: { request: ApproveRequest, response: IssueResource },
  runTask: { request: RunTaskRequest, response: IssueResource },
  skipTask: { request: SkipTaskRequest, response: IssueResource },
  listTasks: { list: { field: 'tasks', item: TaskResource } },
  listTaskRuns: { list: { field: 'taskRuns', item: TaskRunResource } },
  getTaskRun: { response: TaskRunResource },
  previewRollback: { response: /* @__PURE__ */ z.object({ statement: Str }) },
  rollbackIssue: { request: RollbackRequest, response: IssueResource },
  listActivities: { list: { field: 'activities', item: ActivityResource } },
  overrideChecks: { request: OverrideChecksRequest, response: IssueResource },
  listPlanCheckRuns: { list: { field: 'planCheckRuns', item: PlanCheckRunResource } },
  listChangeHistories: { list: { field: 'changeHistories', item: ChangeHistoryResource } },
  getChangeHistory: { response: ChangeHistoryResource },
  acceptDrift: { response: ChangeHistoryResource },
};

// ---------------------------------------------------------------------------------------------
// Resources

export const toTaskRunResource = (t: Pick<Task, 'project' | 'issue' | 'stage' | 'id'>, r: TaskRun): z.infer<typeof TaskRunResource> => ({
  name: `${taskName(t)}/taskRuns/${r.id}`,
  status: r.status,
  attempt: r.attempt,
  creator: userName(r.creator),
  startTime: r.startTime,
  ...(r.endTime ? { endTime: r.endTime } : {}),
  detail: r.detail,
  result: {
    ...(r.result.affectedRows !== undefined ? { affectedRows: r.result.affectedRows } : {}),
    ...(r.result.changeHistory !== undefined ? { changeHistory: r.result.changeHistory } : {}),
    ...(r.result.priorBackup
      ? {
          priorBackup: {
            tables: r.result.priorBackup.tables.map((b) => ({ source: b.source, backup: b.backup, rows: b.rows, action: b.action })),
            createTime: r.result.priorBackup.createTime,
            ...(r.result.priorBackup.dropTime ? { dropTime: r.result.priorBackup.dropTime } : {}),
          },
        }
      : {}),
  },
});

export function toIssueResource(issue: Issue, pipeline?: PipelineRead): z.infer<typeof IssueResource> {
  const name = issueName(issue.project, issue.number);
  return {
    name,
    title: issue.title,
    description: issue.description,
    type: issue.type,
    status: issue.status,
    creator: userName(issue.creator),
    statement: issue.statement,
    ...(issue.runTime ? { runTime: issue.runTime } : {}),
    ...(issue.migrationVersion !== undefined ? { migrationVersion: issue.migrationVersion } : {}),
    ...(issue.enablePriorBackup !== undefined ? { enablePriorBackup: issue.enablePriorBackup } : {}),
    ...(issue.rollbackOf !== undefined ? { rollbackOf: issue.rollbackOf } : {}),
    ...(issue.planCheck ? { planCheck: toIssuePlanCheckResource(issue.planCheck) } : {}),
    createTime: issue.createTime,
    updateTime: issue.updateTime,
    etag: etagOf(name, issue.version),
    ...(pipeline ? { pipeline: { stages: pipeline.stages.map((s) => toStageResource(issue, s, pipeline)) } } : {}),
  };
}

/** A pipeline as a resource shows it: the aggregate (tasks read), or a view with only its stages' counts. */
export type PipelineRead = Pick<IssueView, 'stages' | 'tasks' | 'latestRuns'> & { stageTasks?: IssueView['stageTasks'] };

function toStageResource(issue: Issue, s: Stage, p: PipelineRead): z.infer<typeof StageResource> {
  const stage = {
    name: stageName(s.project, s.issue, s.id),
    environment: environmentName(s.id),
    status: s.status,
    approval: toApprovalResource(s.approval),
  };
  if (!p.tasks) {
    // Over MAX_INLINE_TASKS: the stage's counters, shown as its tasks' statuses would be.
    const stored = p.stageTasks?.[s.id]?.counts ?? {};
    const counts: Record<string, number> = {};
    for (const status of TASK_STATUSES) {
      const n = countOf(stored, status);
      if (n === 0) continue;
      const shown = shownStatusOf(issue, status, s);
      counts[shown] = (counts[shown] ?? 0) + n;
    }
    return { ...stage, taskCount: totalOf(stored), taskStatusCounts: counts };
  }
  const tasks = p.tasks.filter((t) => t.stage === s.id);
  const counts: Record<string, number> = {};
  for (const t of tasks) {
    const status = shownStatus(issue, t, s);
    counts[status] = (counts[status] ?? 0) + 1;
  }
  const runs = p.tasks.length <= MAX_INLINE_TASKS ? new Map((p.latestRuns ?? []).map((r) => [r.task, r])) : undefined;
  return {
    ...stage,
    taskCount: tasks.length,
    taskStatusCounts: counts,
    ...(runs ? { tasks: tasks.map((t) => toTaskResource(issue, t, s, runs.get(t.id))) } : {}),
  };
}

export function toApprovalResource(a: StageApproval): z.infer<typeof StageResource>['approval'] {
  const waiting = waitingRoles(a);
  return {
    status: a.status,
    ...(a.rule !== undefined ? { rule: a.rule } : {}),
    steps: a.steps.map((step) => ({
      ...(step.roles.length === 1 ? { role: step.roles[0]! } : {}),
      roles: [...step.roles],
      status: step.status,
      ...(step.approver !== undefined ? { approver: userName(step.approver) } : {}),
      ...(step.approveTime ? { approveTime: step.approveTime } : {}),
      ...(step.comment ? { comment: step.comment } : {}),
    })),
    ...(waiting.length > 0 ? { waitingFor: waiting } : {}),
  };
}

export function toTaskResource(issue: Issue, t: Task, s: Stage, run: TaskRun | undefined): z.infer<typeof TaskResource> {
  return {
    name: taskName(t),
    type: t.type,
    ...('database' in t.target ? { database: databaseName(t.target.instance, t.target.database) } : { instance: instanceName(t.target.instance), databaseName: t.target.databaseName }),
    status: shownStatus(issue, t, s),
    ...(t.runTime ? { runTime: t.runTime } : {}),
    ...(Buffer.byteLength(t.statement ?? issue.statement, 'utf8') <= MAX_TASK_STATEMENT_BYTES ? { statement: t.statement ?? issue.statement } : {}),
    ...(t.skipReason ? { skipReason: t.skipReason } : {}),
    ...(t.waitDetail && t.status === 'PENDING' && issue.status === 'OPEN' ? { detail: t.waitDetail } : {}),
    ...(run ? { latestTaskRun: toTaskRunResource(t, run) } : {}),
    ...(t.planCheck ? { planCheck: toTaskPlanCheckResource(t.planCheck) } : {}),
  };
}

const toIssuePlanCheckResource = (p: IssuePlanCheck): z.infer<typeof IssuePlanCheckResource> => ({
  status: p.status,
  errorCount: p.errorCount,
  warningCount: p.warningCount,
  ...(p.override ? { override: { reason: p.override.reason, actor: userName(p.override.actor), time: p.override.time } } : {}),
});

export const toTaskPlanCheckResource = (c: TaskPlanCheck): z.infer<typeof TaskPlanCheckResource> => ({
  status: c.status,
  ...(c.affectedRowsEstimate !== undefined ? { affectedRowsEstimate: c.affectedRowsEstimate } : {}),
  advices: c.advices.map((a) => ({ status: a.status, rule: a.rule, title: a.title, content: a.content, line: a.line, column: a.column })),
  ...(c.omittedAdvices ? { omittedAdvices: c.omittedAdvices } : {}),
  checkTime: c.checkTime,
});

/**
 * The status a task shows. Stored statuses change only where a task's own fate changes, so a stage
 * of 10,000 tasks costs no write per task to begin or to cancel: a NOT_STARTED task of a stage that
 * has begun (or waits for its approval) is waiting for its turn, PENDING; an unstarted task of a
 * canceled issue is CANCELED.
 */
export const shownStatus = (issue: Pick<Issue, 'status'>, t: Task, s: Stage): TaskStatus => shownStatusOf(issue, t.status, s);

/** shownStatus of a stored status (a stage's counters are by stored status). */
export function shownStatusOf(issue: Pick<Issue, 'status'>, status: TaskStatus, s: Pick<Stage, 'status'>): TaskStatus {
  if (issue.status === 'CANCELED' && (status === 'NOT_STARTED' || status === 'PENDING')) return 'CANCELED';
  return status === 'NOT_STARTED' && (s.status === 'RUNNING' || s.status === 'PENDING_APPROVAL' || s.status === 'REJECTED') ? 'PENDING' : status;
}

export const toActivityResource = (a: Activity): z.infer<typeof ActivityResource> => ({
  name: `${issueName(a.project, a.issue)}/activities/${a.seq}`,
  type: a.type,
  actor: userName(a.actor),
  time: a.time,
  ...(a.target ? { target: a.target } : {}),
  ...(a.comment ? { comment: a.comment } : {}),
});

export const toChangeHistoryResource = (h: ChangeHistory & { schemaDiff?: string }): z.infer<typeof ChangeHistoryResource> => ({
  name: `${databaseName(h.instance, h.database)}/changeHistories/${h.id}`,
  status: h.status,
  type: h.type,
  statement: h.statement,
  version: h.version,
  issue: h.issue,
  taskRun: h.taskRun,
  createTime: h.createTime,
  checksum: h.checksum,
  ...(h.schemaBefore !== undefined ? { schemaBefore: h.schemaBefore } : {}),
  ...(h.schemaAfter !== undefined ? { schemaAfter: h.schemaAfter } : {}),
  ...(h.schemaDiff !== undefined ? { schemaDiff: h.schemaDiff } : {}),
  ...(h.creator !== undefined ? { creator: h.creator } : {}),
});
