// Issues and their pipelines: the entities and the storage port. One DynamoDB item collection
// per issue (issue, stages, tasks, task runs, activities), so GET issue is one Query.
import * as z from 'zod/mini';
import type { Access } from './access.js';
import { ECHOED, Timestamp, Title, checkEtag, eachLimit, etagOf, parse, resolveUpdateMask, type ListOptions, type Page } from './common.js';
import { type Database } from './databases.js';
import { pipelineOrder, type Environment } from './environments.js';
import { FailedPreconditionError, NotFoundError, PermissionDeniedError, SluiceError, fieldError } from './errors.js';
import type { Instance } from './instances.js';
import { USER_CHOSEN_ID, databaseName, environmentName, instanceName, userName } from './names.js';
import type { OperationSchemas } from './openapi.js';
import { PIPELINE_ERRORS, batchTaskIds, pipelineExecutionName, type AdvanceOutput, type GateInput, type Orchestrator, type StageResultInput, type StageResultOutput } from './orchestrator.js';
import type { Deps } from './ports.js';
import { groupTargets, type GroupRepo } from './groups.js';
import { maxParallelTasksOf, projectWith } from './projects.js';
import { createDatabaseStatement, sha256 } from './task-run.js';
import { sheetSnapshot, type SheetRepo } from './sheets.js';
export type IssueType = 'DATABASE_CREATE' | 'DATABASE_SCHEMA_UPDATE' | 'DATABASE_DATA_UPDATE';
export type IssueStatus = 'OPEN' | 'DONE' | 'CANCELED';
export type StageStatus = 'NOT_STARTED' | 'PENDING_APPROVAL' | 'RUNNING' | 'DONE' | 'FAILED' | 'CANCELED';
export type TaskStatus = 'NOT_STARTED' | 'PENDING' | 'RUNNING' | 'DONE' | 'FAILED' | 'SKIPPED' | 'CANCELED';
export type ApprovalStatus = 'NOT_REQUIRED' | 'PENDING' | 'APPROVED' | 'REJECTED';
export type TaskRunStatus = 'RUNNING' | 'DONE' | 'FAILED' | 'CANCELED';

export interface Issue {
  project: string;
  number: number;
  title: string;
  description: string;
  type: IssueType;
  status: IssueStatus;
  /** User id of the creator (1 = the system bot). */
  creator: number;
  /** The statement every task runs (DATABASE_CREATE: generated from databaseName). */
  statement: string;
  /** sha256 of the statement, hex: the change-history checksum. */
  checksum: string;
  runTime?: string;
  /**
   * The migration version this issue applies (GitOps: `V{version}__…sql`); recorded in each
   * database's change history. Absent for issues made through the API (the runner then records
   * a time-based version).
   */
  migrationVersion?: string;
  createTime: string;
  updateTime: string;
  version: number;
}

export interface Stage {
  project: string;
  issue: number;
  /** The environment id; stages are ordered by `order`. */
  id: string;
  order: number;
  requireApproval: boolean;
  approval: { status: ApprovalStatus; approver?: number; approveTime?: string };
  status: StageStatus;
  /** Task tokens of the gate the execution waits on, if any; taken by a conditional write. */
  approvalToken?: string;
  failureToken?: string;
  version: number;
}

export type TaskTarget =
  | { instance: string; database: string }
  /** DATABASE_CREATE: the database does not exist yet. */
  | { instance: string; databaseName: string };

export interface Task {
  project: string;
  issue: number;
  /** Counts up within the issue, from 1. */
  id: number;
  stage: string;
  type: IssueType;
  target: TaskTarget;
  status: TaskStatus;
  runTime?: string;
  /** Attempts so far; the next task run is attempt + 1. */
  attempts: number;
  skipReason?: string;
  /** User id of whoever pressed `:run` last: the creator of the task's next run (else the bot). */
  runRequestedBy?: number;
  version: number;
}

export interface TaskRun {
  project: string;
  issue: number;
  task: number;
  /** Counts up within the issue, from 1. */
  id: number;
  attempt: number;
  status: TaskRunStatus;
  creator: number;
  startTime: string;
  endTime?: string;
  detail: string;
  result: { affectedRows?: number; changeHistory?: string };
}

export type ActivityType =
  | 'ISSUE_CREATED'
  | 'ISSUE_UPDATED'
  | 'STAGE_APPROVED'
  | 'STAGE_REJECTED'
  | 'TASK_RUN_STARTED'
  | 'TASK_RUN_DONE'
  | 'TASK_RUN_FAILED'
  | 'TASK_RETRIED'
  | 'TASK_SKIPPED'
  | 'ISSUE_CANCELED'
  | 'ISSUE_DONE'
  /** GitOps: the task's version was applied to its database with other content; nothing ran. */
  | 'MIGRATION_DRIFT';

export interface Activity {
  project: string;
  issue: number;
  /** Counts up within the issue: the order things happened in. */
  seq: number;
  type: ActivityType;
  actor: number;
  time: string;
  /** Resource the activity is about (a stage, task or task run name) and free text. */
  target?: string;
  comment?: string;
}

export interface ChangeHistory {
  instance: string;
  database: string;
  /** Time-sortable id (newest first lists). */
  id: string;
  /** DRIFT (GitOps): this version was applied with another checksum; this statement did not run. */
  status: 'DONE' | 'FAILED' | 'PENDING' | 'DRIFT';
  type: 'MIGRATE' | 'DATA';
  statement: string;
  version: string;
  /** `projects/p/issues/n`, and the task run's name. */
  issue: string;
  taskRun: string;
  createTime: string;
  checksum: string;
}

/** The whole aggregate, as one Query returns it. */
export interface IssueAggregate {
  issue: Issue;
  stages: Stage[];
  tasks: Task[];
  /** The latest run of each task that has one. */
  latestRuns: TaskRun[];
}

/** What `appendActivity` takes: the activity without its `seq`, which the store allocates. */
export type ActivityInput = Omit<Activity, 'seq'>;

/** The issue collection's store. Every write that must not be lost or doubled is conditional. */
export interface IssueRepo {
  /**
   * Writes issue (with the next number of its project), stages, tasks and the ISSUE_CREATED
   * activity; the issue is visible whole or not at all. Every concurrent create gets its own
   * number, with no retry rounds; a create that fails gives its number back when it is the last.
   */
  create(draft: IssueDraft): Promise<IssueAggregate>;
  /** Removes an issue that a failed start just wrote, and gives its number back when it was the last. */
  discard(project: string, number: number): Promise<void>;
  /** The issue with its whole pipeline and each task's latest run: one Query. */
  get(project: string, number: number): Promise<IssueAggregate | undefined>;
  list(project: string, options: ListOptions, status?: IssueStatus): Promise<Page<Issue>>;
  /** SETs the given issue fields, conditional on `expectedVersion`; ConcurrentModificationError on a lost race. */
  updateIssue(project: string, number: number, fields: Partial<Issue>, expectedVersion: number, condition?: { status?: IssueStatus }): Promise<void>;
  /** SETs (and REMOVEs) stage fields; conditional on `expected` (status, token present/absent/equal). */
  updateStage(stage: Stage, fields: Partial<Stage>, remove: ('approvalToken' | 'failureToken')[], expected: StageCondition): Promise<Stage | undefined>;
  updateTask(task: Task, fields: Partial<Task>, expected?: { status?: TaskStatus[] }): Promise<boolean>;
  /** Resets/skips a task and takes the stage's failure token, in one transaction; false when the token was taken. */
  resolveFailure(task: Task, fields: Partial<Task>, stage: Stage, token: string): Promise<boolean>;
  listTaskRuns(project: string, number: number, task: number): Promise<TaskRun[]>;
  listActivities(project: string, number: number): Promise<Activity[]>;
  appendActivity(activity: ActivityInput): Promise<Activity>;
  listChangeHistories(instance: string, database: string, options: ListOptions): Promise<Page<ChangeHistory>>;
  getChangeHistory(instance: string, database: string, id: string): Promise<ChangeHistory | undefined>;
}

export interface StageCondition {
  status?: StageStatus[];
  /** The token must be present (`true`), absent (`false`), or equal to a value. */
  approvalToken?: boolean | string;
  failureToken?: boolean | string;
}

/** An issue about to be created: everything but its number. */
export interface IssueDraft {
  issue: Omit<Issue, 'number' | 'version'>;
  stages: Omit<Stage, 'issue' | 'version'>[];
  tasks: Omit<Task, 'issue' | 'version'>[];
  activity: Omit<ActivityInput, 'issue'>;
}

// ---------------------------------------------------------------------------------------------
// Names, limits and schemas

export const ISSUE_TYPES = ['DATABASE_CREATE', 'DATABASE_SCHEMA_UPDATE', 'DATABASE_DATA_UPDATE'] as const satisfies readonly IssueType[];
export const ISSUE_STATUSES = ['OPEN', 'DONE', 'CANCELED'] as const satisfies readonly IssueStatus[];
export const TASK_STATUSES = ['NOT_STARTED', 'PENDING', 'RUNNING', 'DONE', 'FAILED', 'SKIPPED', 'CANCELED'] as const satisfies readonly TaskStatus[];
/** As large as a sheet (1 MiB); the store keeps a large statement in chunks beside the issue item. */
export const MAX_STATEMENT_BYTES = 1024 * 1024;
/**
 * Tasks of one issue. A batch change over a group of 10,000 databases is planned in one request
 * (written in two phases past DynamoDB's 100-item transaction) and runs in one execution (its
 * stage a Distributed Map: docs/pipeline-state-machine.md).
 */
export const MAX_TARGETS = 10_000;
/** GET issue lists the tasks of a pipeline this size or smaller; above it, stages carry counts and tasks are listed per stage. */
export const MAX_INLINE_TASKS = 1_000;
/** Each task repeats the issue's statement only when it is this short, so a response stays small. */
export const MAX_TASK_STATEMENT_BYTES = 4 * 1024;

export const issueName = (project: string, n: number): string => `projects/${project}/issues/${n}`;
export const stageName = (project: string, n: number, stage: string): string => `${issueName(project, n)}/stages/${stage}`;
export const taskName = (t: Pick<Task, 'project' | 'issue' | 'stage' | 'id'>): string => `${stageName(t.project, t.issue, t.stage)}/tasks/${t.id}`;

const ISSUE_NAME = /^projects\/([a-z][a-z0-9-]{1,62})\/issues\/([1-9][0-9]{0,9})$/;
/** Parses `projects/p/issues/12` (the workflow input); a bad one is a wiring bug. */
export function parseIssueName(raw: unknown): { project: string; number: number } {
  const m = typeof raw === 'string' ? ISSUE_NAME.exec(raw) : null;
  if (!m) throw new Error(`expected an issue name like projects/p/issues/12, got ${JSON.stringify(raw)}`);
  return { project: m[1]!, number: Number(m[2]) };
}

/** Parses the `{issue}` path segment: a positive integer. */
export function parseIssueNumber(raw: string, field = 'issue'): number {
  if (!/^[1-9][0-9]{0,9}$/.test(raw)) throw fieldError(field, 'must be an issue number (a positive integer)');
  return Number(raw);
}
export const parseTaskId = (raw: string): number => {
  if (!/^[1-9][0-9]{0,5}$/.test(raw)) throw fieldError('task', 'must be a task id (a positive integer)');
  return Number(raw);
};

const DATABASE_TARGET = /^instances\/([a-z][a-z0-9-]{1,62})\/databases\/([^/]{1,128})$/;
const INSTANCE_REF = /^instances\/([a-z][a-z0-9-]{1,62})$/;
/** A new database's name: what both engines accept unquoted, so nobody is surprised by case. */
const NEW_DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const RunTime = z.string().check(z.iso.datetime({ offset: true }));

export const IssueCreate = z.strictObject({
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
});
export type IssueCreateInput = z.infer<typeof IssueCreate>;

export const IssuePatch = z.strictObject({
  title: z.optional(Title),
  description: z.optional(z.string().check(z.maxLength(65536))),
  ...ECHOED,
  type: z.optional(z.unknown()),
  status: z.optional(z.unknown()),
  creator: z.optional(z.unknown()),
  pipeline: z.optional(z.unknown()),
  statement: z.optional(z.unknown()),
  runTime: z.optional(z.unknown()),
});
const MUTABLE = ['title', 'description'] as const;

const Comment = z.string().check(z.maxLength(4096));
export const ApproveRequest = z.strictObject({ comment: z.optional(Comment) });
export const RunTaskRequest = z.strictObject({ comment: z.optional(Comment) });
export const SkipTaskRequest = z.strictObject({ reason: z.string().check(z.minLength(1), z.maxLength(4096)) });

const Str = /* @__PURE__ */ z.string();
const OptStr = /* @__PURE__ */ z.optional(Str);
export const TaskRunResource = /* @__PURE__ */ z.object({
  name: Str,
  status: /* @__PURE__ */ z.enum(['RUNNING', 'DONE', 'FAILED', 'CANCELED']),
  attempt: /* @__PURE__ */ z.number(),
  creator: Str,
  startTime: Timestamp,
  endTime: /* @__PURE__ */ z.optional(Timestamp),
  detail: Str,
  result: /* @__PURE__ */ z.object({ affectedRows: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.number()), changeHistory: OptStr }),
});
export const TaskResource = /* @__PURE__ */ z.object({
  name: Str,
  type: /* @__PURE__ */ z.enum(ISSUE_TYPES),
  database: OptStr,
  instance: OptStr,
  databaseName: OptStr,
  status: /* @__PURE__ */ z.enum(TASK_STATUSES),
  runTime: /* @__PURE__ */ z.optional(Timestamp),
  /** The issue's statement; absent when it is longer than MAX_TASK_STATEMENT_BYTES (read the issue's). */
  statement: OptStr,
  skipReason: OptStr,
  latestTaskRun: /* @__PURE__ */ z.optional(TaskRunResource),
});
export const StageResource = /* @__PURE__ */ z.object({
  name: Str,
  environment: Str,
  status: /* @__PURE__ */ z.enum(['NOT_STARTED', 'PENDING_APPROVAL', 'RUNNING', 'DONE', 'FAILED', 'CANCELED']),
  approval: /* @__PURE__ */ z.object({
    required: /* @__PURE__ */ z.boolean(),
    status: /* @__PURE__ */ z.enum(['NOT_REQUIRED', 'PENDING', 'APPROVED', 'REJECTED']),
    approver: OptStr,
    approveTime: /* @__PURE__ */ z.optional(Timestamp),
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
  type: /* @__PURE__ */ z.enum(['MIGRATE', 'DATA']),
  statement: Str,
  version: Str,
  issue: Str,
  taskRun: Str,
  createTime: Timestamp,
  checksum: Str,
});

export const ISSUE_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listIssues: { list: { field: 'issues', item: IssueResource } },
  createIssue: { request: IssueCreate, response: IssueResource },
  getIssue: { response: IssueResource },
  updateIssue: { request: IssuePatch, response: IssueResource },
  cancelIssue: { response: IssueResource },
  approveStage: { request: ApproveRequest, response: IssueResource },
  rejectStage: { request: ApproveRequest, response: IssueResource },
  runTask: { request: RunTaskRequest, response: IssueResource },
  skipTask: { request: SkipTaskRequest, response: IssueResource },
  listTasks: { list: { field: 'tasks', item: TaskResource } },
  listTaskRuns: { list: { field: 'taskRuns', item: TaskRunResource } },
  getTaskRun: { response: TaskRunResource },
  listActivities: { list: { field: 'activities', item: ActivityResource } },
  listChangeHistories: { list: { field: 'changeHistories', item: ChangeHistoryResource } },
  getChangeHistory: { response: ChangeHistoryResource },
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
  result: { ...r.result },
});

export function toIssueResource(issue: Issue, pipeline?: Omit<IssueAggregate, 'issue'>): z.infer<typeof IssueResource> {
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
    createTime: issue.createTime,
    updateTime: issue.updateTime,
    etag: etagOf(name, issue.version),
    ...(pipeline ? { pipeline: { stages: pipeline.stages.map((s) => toStageResource(issue, s, pipeline)) } } : {}),
  };
}

function toStageResource(issue: Issue, s: Stage, p: Omit<IssueAggregate, 'issue'>): z.infer<typeof StageResource> {
  const tasks = p.tasks.filter((t) => t.stage === s.id);
  const counts: Record<string, number> = {};
  for (const t of tasks) {
    const status = shownStatus(issue, t, s);
    counts[status] = (counts[status] ?? 0) + 1;
  }
  const runs = p.tasks.length <= MAX_INLINE_TASKS ? new Map(p.latestRuns.map((r) => [r.task, r])) : undefined;
  return {
    name: stageName(s.project, s.issue, s.id),
    environment: environmentName(s.id),
    status: s.status,
    approval: {
      required: s.requireApproval,
      status: s.approval.status,
      ...(s.approval.approver !== undefined ? { approver: userName(s.approval.approver) } : {}),
      ...(s.approval.approveTime ? { approveTime: s.approval.approveTime } : {}),
    },
    taskCount: tasks.length,
    taskStatusCounts: counts,
    ...(runs ? { tasks: tasks.map((t) => toTaskResource(issue, t, s, runs.get(t.id))) } : {}),
  };
}

export function toTaskResource(issue: Issue, t: Task, s: Stage, run: TaskRun | undefined): z.infer<typeof TaskResource> {
  return {
    name: taskName(t),
    type: t.type,
    ...('database' in t.target ? { database: databaseName(t.target.instance, t.target.database) } : { instance: instanceName(t.target.instance), databaseName: t.target.databaseName }),
    status: shownStatus(issue, t, s),
    ...(t.runTime ? { runTime: t.runTime } : {}),
    ...(Buffer.byteLength(issue.statement, 'utf8') <= MAX_TASK_STATEMENT_BYTES ? { statement: issue.statement } : {}),
    ...(t.skipReason ? { skipReason: t.skipReason } : {}),
    ...(run ? { latestTaskRun: toTaskRunResource(t, run) } : {}),
  };
}

/**
 * The status a task shows. Stored statuses change only where a task's own fate changes, so a stage
 * of 10,000 tasks costs no write per task to begin or to cancel: a NOT_STARTED task of a stage that
 * has begun (or waits for its approval) is waiting for its turn, PENDING; an unstarted task of a
 * canceled issue is CANCELED.
 */
export function shownStatus(issue: Pick<Issue, 'status'>, t: Task, s: Stage): TaskStatus {
  if (issue.status === 'CANCELED' && (t.status === 'NOT_STARTED' || t.status === 'PENDING')) return 'CANCELED';
  return t.status === 'NOT_STARTED' && (s.status === 'RUNNING' || s.status === 'PENDING_APPROVAL') ? 'PENDING' : t.status;
}

export const toActivityResource = (a: Activity): z.infer<typeof ActivityResource> => ({
  name: `${issueName(a.project, a.issue)}/activities/${a.seq}`,
  type: a.type,
  actor: userName(a.actor),
  time: a.time,
  ...(a.target ? { target: a.target } : {}),
  ...(a.comment ? { comment: a.comment } : {}),
});

export const toChangeHistoryResource = (h: ChangeHistory): z.infer<typeof ChangeHistoryResource> => ({
  name: `${databaseName(h.instance, h.database)}/changeHistories/${h.id}`,
  status: h.status,
  type: h.type,
  statement: h.statement,
  version: h.version,
  issue: h.issue,
  taskRun: h.taskRun,
  createTime: h.createTime,
  checksum: h.checksum,
});

// ---------------------------------------------------------------------------------------------
// Filter and planning (pure)

/** `status == "X"` (also `=`, single quotes) with X one of `statuses`; empty means no filter. Anything else is a 400. */
function parseStatusFilter<S extends string>(raw: string | undefined, statuses: readonly S[], example: S): { status?: S } {
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
}

/**
 * Plans a pipeline: one stage per environment that has a target, in environment pipeline order,
 * one task per target (in the order given within a stage), task ids from 1 in stage order. A
 * stage needs approval when its environment's rollout policy says so.
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
      approval: { status: env.requireApproval ? 'PENDING' : 'NOT_REQUIRED' },
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
const utc = (raw: string): string => new Date(raw).toISOString().replace('.000Z', 'Z');

// ---------------------------------------------------------------------------------------------
// Services

export interface IssueDeps extends Deps {
  issues: IssueRepo;
  orchestrator: Orchestrator;
  /** Database groups, for issues whose target is a `databaseGroup`. */
  groups: GroupRepo;
  /** Sheets, for issues made from a `sheet` (its content is snapshotted into the issue). */
  sheets?: SheetRepo;
}

const FINISHED_TASK: readonly TaskStatus[] = ['DONE', 'SKIPPED'];
const isFinished = (t: Task): boolean => FINISHED_TASK.includes(t.status);

async function loadIssue(deps: IssueDeps, access: Access, project: string, n: number, permission: Parameters<Access['require']>[0]): Promise<IssueAggregate> {
  const name = issueName(project, n);
  await projectWith(deps, access, project, permission, name);
  const agg = await deps.issues.get(project, n);
  if (!agg) throw new NotFoundError(name);
  return agg;
}

async function resolveTargets(deps: Deps, project: string, input: IssueCreateInput): Promise<{ targets: PlanTarget[]; instances: Map<string, Instance> }> {
  const instances = new Map<string, Instance>();
  const instanceOf = async (id: string, field: string): Promise<Instance> => {
    const known = instances.get(id);
    if (known) return known;
    const instance = await deps.instances.get(id);
    if (!instance || instance.state !== 'ACTIVE') throw fieldError(field, `${instanceName(id)} is not an active instance`);
    instances.set(id, instance);
    return instance;
  };
  if (input.type === 'DATABASE_CREATE') {
    if (input.targets !== undefined) throw fieldError('targets', 'not allowed for DATABASE_CREATE: give instance and databaseName');
    const m = input.instance === undefined ? null : INSTANCE_REF.exec(input.instance);
    if (input.instance === undefined) throw fieldError('instance', 'required for DATABASE_CREATE');
    if (!m) throw fieldError('instance', 'must be an instance name like instances/pg-prod');
    if (input.databaseName === undefined) throw fieldError('databaseName', 'required for DATABASE_CREATE');
    if (!NEW_DATABASE_NAME.test(input.databaseName)) throw fieldError('databaseName', `must match ${NEW_DATABASE_NAME.source}`);
    const instance = await instanceOf(m[1]!, 'instance');
    const existing = await deps.databases.get(instance.id, input.databaseName);
    if (existing && existing.syncState === 'OK') throw fieldError('databaseName', `${databaseName(instance.id, input.databaseName)} exists already`);
    return { targets: [{ target: { instance: instance.id, databaseName: input.databaseName }, environment: instance.environment }], instances };
  }
  if (input.instance !== undefined) throw fieldError('instance', 'only for DATABASE_CREATE');
  if (input.databaseName !== undefined) throw fieldError('databaseName', 'only for DATABASE_CREATE');
  if (input.targets === undefined) throw fieldError('targets', 'required: database names like instances/pg-prod/databases/shop');
  const seen = new Set<string>();
  const parsed = input.targets.map((raw, i) => {
    const field = `targets[${i}]`;
    const m = DATABASE_TARGET.exec(raw);
    if (!m) throw fieldError(field, `${JSON.stringify(raw)} is not a database name like instances/pg-prod/databases/shop`);
    if (seen.has(raw)) throw fieldError(field, `${raw} is listed twice`);
    seen.add(raw);
    return { raw, field, instanceId: m[1]!, db: m[2]! };
  });
  // Read 16 at a time (a list of thousands must not take thousands of round trips in a row), then check in order.
  const found: (Database | undefined)[] = new Array(parsed.length);
  await eachLimit([...parsed.keys()], 16, async (i) => {
    found[i] = await deps.databases.get(parsed[i]!.instanceId, parsed[i]!.db);
  });
  const targets: PlanTarget[] = [];
  for (const [i, { raw, field, instanceId, db }] of parsed.entries()) {
    const database = found[i];
    if (!database) throw fieldError(field, `${raw} not found`);
    if (database.syncState !== 'OK') throw fieldError(field, `${raw} was not found on its instance at the last sync (syncState ${database.syncState})`);
    if (database.project !== project) throw fieldError(field, `${raw} belongs to projects/${database.project}, not projects/${project}`);
    const instance = await instanceOf(instanceId, field);
    targets.push({ target: { instance: instanceId, database: db }, environment: instance.environment });
  }
  return { targets, instances };
}

/**
 * Creates an issue: plans its pipeline, writes it in one transaction (numbers count up with no
 * gaps), then starts its execution. If the start fails, what was written is removed again.
 */
/** What callers inside Sluice (GitOps) add to an API create body. */
export interface CreateIssueOptions {
  migrationVersion?: string;
}

export async function createIssue(deps: IssueDeps, access: Access, project: string, body: unknown, options: CreateIssueOptions = {}): Promise<IssueAggregate> {
  const p = await projectWith(deps, access, project, 'issues.create');
  if (p.state === 'DELETED') throw new FailedPreconditionError(`projects/${project} is deleted; undelete it first`);
  const input = parse(IssueCreate, body);
  if (input.sheet !== undefined && input.statement !== undefined) throw fieldError('sheet', 'give statement or sheet, not both');
  // The sheet's content as it is now: later edits of the sheet never change what the tasks run.
  const fromSheet = input.sheet === undefined ? undefined : await sheetSnapshot(deps, access, project, input.sheet, MAX_STATEMENT_BYTES);
  if (input.databaseGroup !== undefined && (input.targets !== undefined || input.type === 'DATABASE_CREATE')) {
    throw fieldError('databaseGroup', input.type === 'DATABASE_CREATE' ? 'not allowed for DATABASE_CREATE' : 'give targets or databaseGroup, not both');
  }
  const { targets, instances } = input.databaseGroup !== undefined ? await groupTargets(deps, project, input.databaseGroup) : await resolveTargets(deps, project, input);
  if (targets.length > MAX_TARGETS) {
    throw fieldError('databaseGroup', `${input.databaseGroup} matches ${targets.length} databases; an issue takes at most ${MAX_TARGETS}: narrow the group's expression, or split it`);
  }
  let statement = fromSheet ?? input.statement;
  if (input.type === 'DATABASE_CREATE') {
    const t = targets[0]!.target as { instance: string; databaseName: string };
    statement ??= createDatabaseStatement(instances.get(t.instance)!.engine, t.databaseName);
  }
  if (statement === undefined) throw fieldError('statement', 'required');
  if (Buffer.byteLength(statement, 'utf8') > MAX_STATEMENT_BYTES) throw fieldError('statement', `must be at most ${MAX_STATEMENT_BYTES} bytes (1 MiB)`);
  const runTime = input.runTime === undefined ? undefined : utc(input.runTime);
  const { stages, tasks } = planPipeline({ project, type: input.type, ...(runTime ? { runTime } : {}), targets, environments: await deps.environments.listAll() });
  const now = deps.now().toISOString();
  const created = await deps.issues.create({
    issue: {
      project,
      title: input.title,
      description: input.description ?? '',
      type: input.type,
      status: 'OPEN',
      creator: access.user.id,
      statement,
      checksum: sha256(statement),
      ...(runTime ? { runTime } : {}),
      ...(options.migrationVersion !== undefined ? { migrationVersion: options.migrationVersion } : {}),
      createTime: now,
      updateTime: now,
    },
    stages,
    tasks,
    activity: { project, type: 'ISSUE_CREATED', actor: access.user.id, time: now },
  });
  const name = issueName(project, created.issue.number);
  try {
    await deps.orchestrator.startExecution(pipelineExecutionName(name), { issue: name });
  } catch (e) {
    await deps.issues.discard(project, created.issue.number);
    throw new SluiceError(500, 'INTERNAL', 'the pipeline could not be started; nothing was created, try again', [], { cause: e });
  }
  return created;
}

export const getIssue = (deps: IssueDeps, access: Access, project: string, n: number): Promise<IssueAggregate> => loadIssue(deps, access, project, n, 'issues.get');

export async function listIssues(deps: IssueDeps, access: Access, project: string, filter: string | undefined, options: ListOptions): Promise<Page<Issue>> {
  const { status } = parseIssueFilter(filter);
  await projectWith(deps, access, project, 'issues.list');
  return deps.issues.list(project, options, status);
}

export async function updateIssue(deps: IssueDeps, access: Access, project: string, n: number, body: unknown, mask: string | undefined, ifMatch: string | undefined): Promise<IssueAggregate> {
  const agg = await loadIssue(deps, access, project, n, 'issues.update');
  const patch = parse(IssuePatch, body);
  const fields = resolveUpdateMask(mask, patch, MUTABLE);
  checkEtag(issueName(project, n), agg.issue.version, ifMatch, patch.etag);
  if (fields.length === 0) return agg;
  const now = deps.now().toISOString();
  const next: Partial<Issue> = { updateTime: now };
  if (fields.includes('title')) next.title = patch.title!;
  if (fields.includes('description')) next.description = patch.description!;
  await deps.issues.updateIssue(project, n, next, agg.issue.version);
  await deps.issues.appendActivity({ project, issue: n, type: 'ISSUE_UPDATED', actor: access.user.id, time: now, comment: `updated ${fields.join(', ')}` });
  return (await deps.issues.get(project, n))!;
}

/**
 * Marks the issue CANCELED (conditional: still OPEN), every unfinished stage, and each RUNNING
 * task (so its runner's outcome write fails and it keeps CANCELED). Unstarted tasks are not
 * written: they show CANCELED (shownStatus), and the runner runs nothing for an issue that is
 * not OPEN.
 */
async function markCanceled(deps: IssueDeps, agg: IssueAggregate, actor: number, comment?: string): Promise<void> {
  const { issue } = agg;
  const now = deps.now().toISOString();
  await deps.issues.updateIssue(issue.project, issue.number, { status: 'CANCELED', updateTime: now }, issue.version, { status: 'OPEN' });
  await Promise.all([
    ...agg.tasks.filter((t) => t.status === 'RUNNING').map((t) => deps.issues.updateTask(t, { status: 'CANCELED' }, { status: ['RUNNING'] })),
    ...agg.stages
      .filter((s) => s.status !== 'DONE' && s.status !== 'CANCELED')
      .map((s) => deps.issues.updateStage(s, { status: 'CANCELED' }, ['approvalToken', 'failureToken'], { status: ['NOT_STARTED', 'PENDING_APPROVAL', 'RUNNING', 'FAILED'] })),
  ]);
  await deps.issues.appendActivity({ project: issue.project, issue: issue.number, type: 'ISSUE_CANCELED', actor, time: now, ...(comment ? { comment } : {}) });
}

export async function cancelIssue(deps: IssueDeps, access: Access, project: string, n: number): Promise<IssueAggregate> {
  const agg = await loadIssue(deps, access, project, n, 'issues.cancel');
  if (agg.issue.status !== 'OPEN') throw new FailedPreconditionError(`${issueName(project, n)} is ${agg.issue.status} and cannot be canceled`);
  const name = issueName(project, n);
  await deps.orchestrator.stopExecution(pipelineExecutionName(name), `canceled by ${access.member}`);
  await markCanceled(deps, agg, access.user.id);
  return (await deps.issues.get(project, n))!;
}

function stageOf(agg: IssueAggregate, stage: string): Stage {
  const s = agg.stages.find((x) => x.id === stage);
  if (!s || !USER_CHOSEN_ID.test(stage)) throw new NotFoundError(stageName(agg.issue.project, agg.issue.number, stage));
  return s;
}

function requireOpen(agg: IssueAggregate): void {
  if (agg.issue.status !== 'OPEN') throw new FailedPreconditionError(`${issueName(agg.issue.project, agg.issue.number)} is ${agg.issue.status}`);
}

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
class LostGateError extends SluiceError {
  override readonly name: string = 'LostGateError';
  constructor(stage: string) {
    super(409, 'ABORTED', `${stage} was resolved concurrently by someone else; read the issue again`);
  }
}

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
export async function runTask(deps: IssueDeps, access: Access, project: string, n: number, stage: string, taskId: number, body: unknown): Promise<IssueAggregate> {
  const agg = await loadIssue(deps, access, project, n, 'issues.runTask');
  const { comment } = parse(RunTaskRequest, body ?? {});
  const { s, t, token } = failedTask(agg, stage, taskId);
  if (!(await deps.issues.resolveFailure(t, { status: 'NOT_STARTED', runRequestedBy: access.user.id }, s, token))) throw new LostGateError(stageName(project, n, stage));
  await deps.orchestrator.sendTaskSuccess(token, { taskIds: [String(t.id)] });
  await deps.issues.appendActivity({ project, issue: n, type: 'TASK_RETRIED', actor: access.user.id, time: deps.now().toISOString(), target: taskName(t), ...(comment ? { comment } : {}) });
  return (await deps.issues.get(project, n))!;
}

/** Skips a FAILED task with a reason; the pipeline goes on. */
export async function skipTask(deps: IssueDeps, access: Access, project: string, n: number, stage: string, taskId: number, body: unknown): Promise<IssueAggregate> {
  const agg = await loadIssue(deps, access, project, n, 'issues.runTask');
  const { reason } = parse(SkipTaskRequest, body ?? {});
  const { s, t, token } = failedTask(agg, stage, taskId);
  if (!(await deps.issues.resolveFailure(t, { status: 'SKIPPED', skipReason: reason }, s, token))) throw new LostGateError(stageName(project, n, stage));
  await deps.orchestrator.sendTaskSuccess(token, { taskIds: [] });
  await deps.issues.appendActivity({ project, issue: n, type: 'TASK_SKIPPED', actor: access.user.id, time: deps.now().toISOString(), target: taskName(t), comment: reason });
  return (await deps.issues.get(project, n))!;
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

/** A stage's tasks (status as shown, with each one's latest run), in id order, filtered by status, a page at a time. */
export async function listStageTasks(
  deps: IssueDeps, access: Access, project: string, n: number, stage: string, filter: string | undefined, options: ListOptions,
): Promise<Page<z.infer<typeof TaskResource>>> {
  const { status } = parseTaskFilter(filter);
  const agg = await loadIssue(deps, access, project, n, 'issues.get');
  const s = stageOf(agg, stage);
  const runs = new Map(agg.latestRuns.map((r) => [r.task, r]));
  const all = agg.tasks.filter((t) => t.stage === s.id && (status === undefined || shownStatus(agg.issue, t, s) === status));
  const page = pageAfter(all, (t) => t.id, options);
  return { items: page.items.map((t) => toTaskResource(agg.issue, t, s, runs.get(t.id))), ...(page.next !== undefined ? { next: page.next } : {}) };
}

/** A database's change history (databases.get in the database's project), newest first. */
export async function listChangeHistories(deps: Deps & Pick<IssueDeps, 'issues'>, access: Access, instance: string, database: string, options: ListOptions): Promise<Page<ChangeHistory>> {
  await requireDatabase(deps, access, instance, database);
  return deps.issues.listChangeHistories(instance, database, options);
}

export async function getChangeHistory(deps: Deps & Pick<IssueDeps, 'issues'>, access: Access, instance: string, database: string, id: string): Promise<ChangeHistory> {
  await requireDatabase(deps, access, instance, database);
  const h = /^[A-Za-z0-9-]{1,200}$/.test(id) ? await deps.issues.getChangeHistory(instance, database, id) : undefined;
  if (!h) throw new NotFoundError(`${databaseName(instance, database)}/changeHistories/${id}`);
  return h;
}

async function requireDatabase(deps: Deps, access: Access, instance: string, database: string): Promise<void> {
  const d = await deps.databases.get(instance, database);
  if (!d) throw new NotFoundError(databaseName(instance, database));
  await projectWith(deps, access, d.project, 'databases.get', databaseName(instance, database));
}

// ---------------------------------------------------------------------------------------------
// The state machine's Lambdas (docs/pipeline-state-machine.md): ids in, ids out.

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

