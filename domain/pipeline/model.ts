// Issues and their pipelines: the entities, names and limits, and the storage port. One DynamoDB
// item collection per issue (issue, stages, task counters, tasks, task runs, activities).
import type { ListOptions, Page } from '../common/values.js';
import { fieldError } from '../common/errors.js';
import type { ApprovalStatus, StageApproval } from '../approval/flow.js';
import type { PriorBackupRecord } from '../backup/model.js';
import type { Advice } from '../review/rule.js';
import type { ReviewEngine, StatementType } from '../review/model.js';

export type { ApprovalStatus, StageApproval };

export type IssueType = 'DATABASE_CREATE' | 'DATABASE_SCHEMA_UPDATE' | 'DATABASE_DATA_UPDATE';
export type IssueStatus = 'OPEN' | 'DONE' | 'CANCELED';
/**
 * REJECTED: a step of its approval was rejected; the execution stays parked at the approval gate.
 * BLOCKED: the plan checks found an ERROR; nothing runs until the statement is changed or the checks are overridden.
 */
export type StageStatus = 'NOT_STARTED' | 'PENDING_APPROVAL' | 'RUNNING' | 'DONE' | 'FAILED' | 'CANCELED' | 'REJECTED' | 'BLOCKED';
export type TaskStatus = 'NOT_STARTED' | 'PENDING' | 'RUNNING' | 'DONE' | 'FAILED' | 'SKIPPED' | 'CANCELED';
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
  /** DATABASE_DATA_UPDATE: copy the rows each statement changes before it runs (the project's `priorBackup` when not given). */
  enablePriorBackup?: boolean;
  /** The project's priorBackupMaxRows when the issue was made. */
  priorBackupMaxRows?: number;
  /** A rollback issue: the issue whose changes it undoes. */
  rollbackOf?: string;
  /** The plan checks' summary; absent until they first run. */
  planCheck?: IssuePlanCheck;
  /** The token of the checks gate while the pipeline waits there (an ERROR was found). */
  checksToken?: string;
  createTime: string;
  updateTime: string;
  version: number;
}

export type PlanCheckStatus = 'RUNNING' | 'SUCCESS' | 'WARNING' | 'ERROR';

export interface IssuePlanCheck {
  status: PlanCheckStatus;
  errorCount: number;
  warningCount: number;
  /** The statement's types per engine, as the checks parsed them (approval rules read them). */
  types?: Partial<Record<ReviewEngine, StatementType[]>>;
  /** `:overrideChecks`: who let the ERROR through, why, and for which statement (its checksum). */
  override?: { reason: string; actor: number; time: string; checksum: string };
}

/** One task's plan check: the advices for its target, and the EXPLAIN estimate for UPDATE/DELETE. */
export interface TaskPlanCheck {
  status: Exclude<PlanCheckStatus, 'RUNNING'>;
  affectedRowsEstimate?: number;
  advices: Advice[];
  /** Advices left out past MAX_TASK_ADVICES (the counts still include them). */
  omittedAdvices?: number;
  checkTime: string;
  /** The issue checksum the check was made for: a result for an earlier statement counts as missing. */
  checksum?: string;
}

export interface Stage {
  project: string;
  issue: number;
  /** The environment id; stages are ordered by `order`. */
  id: string;
  order: number;
  /** The environment's rollout policy when the issue was made: the approval flow when no rule matches. */
  requireApproval: boolean;
  /** Decided when the stage is reached (NOT_DECIDED until then): domain/approval/flow.ts. */
  approval: StageApproval;
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
  /**
   * The task's own statement, where it differs from the issue's (a rollback issue's restore
   * statements): stored on the task item, in the issue's partition, read with the tasks.
   */
  statement?: string;
  /** sha256 of `statement`, hex. */
  checksum?: string;
  /** While PENDING for a lower version of its database (versions.ts): what it waits for. */
  waitDetail?: string;
  /** Read from its plan-check item (keys.planCheck), not stored on the task item. */
  planCheck?: TaskPlanCheck;
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
  result: { affectedRows?: number; changeHistory?: string; priorBackup?: PriorBackupRecord };
}

export type ActivityType =
  | 'ISSUE_CREATED'
  | 'ISSUE_UPDATED'
  /** One step of a multi-step approval, not the last (the last is STAGE_APPROVED). */
  | 'STEP_APPROVED'
  | 'STAGE_APPROVED'
  | 'STAGE_REJECTED'
  /** `:requestApproval` after a rejection: every step waits again. */
  | 'APPROVAL_REREQUESTED'
  | 'TASK_RUN_STARTED'
  | 'TASK_RUN_DONE'
  | 'TASK_RUN_FAILED'
  | 'TASK_RETRIED'
  | 'TASK_SKIPPED'
  | 'ISSUE_CANCELED'
  | 'ISSUE_DONE'
  /** GitOps: the task's version was applied to its database with other content; nothing ran. */
  | 'MIGRATION_DRIFT'
  /** The plan checks found an ERROR: every stage is BLOCKED. */
  | 'PLAN_CHECK_ERROR'
  /** `:overrideChecks` let an issue with ERROR advices run. */
  | 'CHECKS_OVERRIDDEN';

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
  /** BASELINE: :acceptDrift made the live schema the baseline (no statement ran; issue and taskRun are empty). */
  type: 'MIGRATE' | 'DATA' | 'BASELINE';
  statement: string;
  version: string;
  /** `projects/p/issues/n`, and the task run's name. */
  issue: string;
  taskRun: string;
  createTime: string;
  checksum: string;
  /** Schema checksums before and after (a schema update the runner read them for; BASELINE: the old and new baseline). */
  schemaBefore?: string;
  schemaAfter?: string;
  /** BASELINE: who accepted the drift (users/{id}). */
  creator?: string;
}

/** The whole aggregate: the issue, its stages, every task and each task's latest run. */
export interface IssueAggregate {
  issue: Issue;
  stages: Stage[];
  tasks: Task[];
  /** The latest run of each task that has one. */
  latestRuns: TaskRun[];
}

/** How many tasks are in each stored status (statuses with none left out, or 0). */
export type TaskCounts = Partial<Record<TaskStatus, number>>;

/** A stage's tasks in numbers: counts by stored status, and the range of their ids (contiguous per stage: planning.ts). */
export interface StageTasks {
  counts: TaskCounts;
  /** First and last task id of the stage, when known to be contiguous. */
  first?: number;
  last?: number;
}

/**
 * An issue as GET, Advance and StageResult read it: the issue, its stages and each stage's task
 * counts (counters kept in the same transactions as the task statuses, so a handful of items
 * whatever the number of tasks); the tasks themselves and their latest runs only when asked for
 * and the issue has few enough (or was made before the counters existed: then its counts are
 * counted from its tasks).
 */
export interface IssueView {
  issue: Issue;
  stages: Stage[];
  /** Per stage id. */
  stageTasks: Record<string, StageTasks>;
  tasks?: Task[];
  latestRuns?: TaskRun[];
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
  /** The issue with its whole pipeline and each task's latest run (every task read: see `view`). */
  get(project: string, number: number): Promise<IssueAggregate | undefined>;
  /**
   * The issue, its stages and their task counts (one bounded read); with its tasks, their plan
   * checks and latest runs too when it has at most `inlineTasks` tasks, or was made before the
   * task counters (its counts are then its tasks').
   */
  view(project: string, number: number, inlineTasks: number): Promise<IssueView | undefined>;
  /** The ids and stored statuses of the tasks `first`..`last` (one stage's range), in id order. */
  taskStates(project: string, number: number, first: number, last: number): Promise<{ id: number; status: TaskStatus }[]>;
  /**
   * Up to `limit` tasks of ids `from`..`to` (one stage's range) whose stored status is one of
   * `statuses` (any when not given), in id order, with their plan checks and latest runs: the
   * tasks' range is read, the runs and checks of the tasks returned only.
   */
  taskPage(project: string, number: number, range: { from: number; to: number; statuses?: readonly TaskStatus[]; limit: number }): Promise<{ tasks: Task[]; latestRuns: TaskRun[] }>;
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
  /** Plan checks (items in the issue's partition): written by the checks, overwritten by a re-check. */
  putStatementChecks(project: string, number: number, checks: StatementCheck[]): Promise<void>;
  getStatementChecks(project: string, number: number): Promise<StatementCheck[]>;
  putTaskChecks(project: string, number: number, checks: { task: number; check: TaskPlanCheck }[]): Promise<void>;
  /** Task checks in task order, paged. */
  listTaskChecks(project: string, number: number, options: ListOptions): Promise<Page<{ task: number; check: TaskPlanCheck }>>;
  listChangeHistories(instance: string, database: string, options: ListOptions): Promise<Page<ChangeHistory>>;
  getChangeHistory(instance: string, database: string, id: string): Promise<ChangeHistory | undefined>;
  /** Writes an entry that no task run makes (BASELINE); an entry with its id already there is left alone. */
  putChangeHistory(history: ChangeHistory): Promise<void>;
  /** Whether this migration version was applied to the database (its GitOps applied-version record). */
  isVersionApplied(instance: string, database: string, version: string): Promise<boolean>;
}

/** The statement-only advices for one engine and environment (checked once for all its targets). */
export interface StatementCheck {
  engine: ReviewEngine;
  environment: string;
  advices: Advice[];
  types: StatementType[];
  /** The issue checksum checked: a re-check of another statement overwrites it. */
  checksum: string;
}

export interface StageCondition {
  status?: StageStatus[];
  /** The stage item's version: a write based on what was read (an approval step) loses to any write since. */
  version?: number;
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
/** Stage statuses with work still ahead: cancel ends them, the gates and StageResult write over them. */
export const UNFINISHED_STAGE_STATUSES = ['NOT_STARTED', 'PENDING_APPROVAL', 'RUNNING', 'FAILED', 'REJECTED', 'BLOCKED'] as const satisfies readonly StageStatus[];
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
/** A task's own statement (kept on its item, beside the issue's): at most this many UTF-8 bytes. */
export const MAX_OWN_TASK_STATEMENT_BYTES = 64 * 1024;

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

export const DATABASE_TARGET = /^instances\/([a-z][a-z0-9-]{1,62})\/databases\/([^/]{1,128})$/;
export const INSTANCE_REF = /^instances\/([a-z][a-z0-9-]{1,62})$/;
/** A new database's name: what both engines accept unquoted, so nobody is surprised by case. */
export const NEW_DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
