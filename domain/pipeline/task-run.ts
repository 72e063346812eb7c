// The task runner's pure rules: names, the claim, what a change-history entry says, and the port
// through which a statement reaches a database exactly once (functions/adapters/sql/execute.ts).
import type { ConnectionTarget } from '../inventory/ports.js';
import type { PriorBackupRecord } from '../backup/model.js';
import type { Activity, ChangeHistory, Issue, IssueType, Task, TaskRun, TaskStatus } from './model.js';
import type { VersionedTaskState } from './versions.js';
import type { DatabaseSchema, KnownSchema } from '../schema/model.js';

/** The user automatic runs are made by. */
export const SYSTEM_BOT = 1;

/** A task as the runner stores it: the entity plus the runner's own bookkeeping attributes. */
export type StoredTask = Task & {
  /** Set by `:run` (the user who pressed it); the claim removes it, so it names one run only. */
  runRequestedBy?: number;
  /** While RUNNING: until when the claim holds; a RUNNING task past it was left by a dead runner. */
  leaseUntil?: string;
  /** While RUNNING: the id of the task run that holds the claim. */
  runId?: number;
  /** While PENDING for a lower version (versions.ts): since when (the claim removes it, and `waitDetail`). */
  waitingSince?: string;
};

/** Statuses a runner may claim from (besides a RUNNING task whose lease has run out). */
export const CLAIMABLE: readonly TaskStatus[] = ['NOT_STARTED', 'PENDING', 'FAILED'];
/** Statuses that mean there is nothing to run. */
export const SETTLED: readonly TaskStatus[] = ['DONE', 'SKIPPED', 'CANCELED'];

const ISSUE = /^projects\/([a-z][a-z0-9-]{1,62})\/issues\/([1-9][0-9]{0,9})$/;
const TASK = /^[1-9][0-9]{0,5}$/;

/** `{issue: "projects/p/issues/12", task: "3"}` → ids; throws on anything else (a wiring bug, not a task failure). */
export function parseRunTaskInput(input: { issue?: unknown; task?: unknown }): { project: string; issue: number; task: number } {
  const m = typeof input.issue === 'string' ? ISSUE.exec(input.issue) : null;
  const task = typeof input.task === 'number' ? String(input.task) : input.task;
  if (!m || typeof task !== 'string' || !TASK.test(task)) {
    throw new Error(`runTask expects {issue: "projects/{p}/issues/{n}", task: "{id}"}, got ${JSON.stringify(input)}`);
  }
  return { project: m[1]!, issue: Number(m[2]), task: Number(task) };
}

export const issueNameOf = (project: string, issue: number): string => `projects/${project}/issues/${issue}`;
/**
 * The marker key in `sluice_history.applied`: one per task, whatever the attempt. The issue's
 * createTime makes it unique per issue ever made, so another Sluice (or a reset data folder) that
 * reuses the same project and numbers on the same server is never mistaken for "already applied".
 */
export const taskKey = (project: string, issue: number, task: number, issueCreateTime?: string): string =>
  `${issueNameOf(project, issue)}/tasks/${task}${issueCreateTime ? `@${issueCreateTime}` : ''}`;
export const taskRunName = (t: Pick<Task, 'project' | 'issue' | 'stage' | 'id'>, runId: number): string =>
  `${issueNameOf(t.project, t.issue)}/stages/${t.stage}/tasks/${t.id}/taskRuns/${runId}`;


export const changeType = (type: IssueType): 'MIGRATE' | 'DATA' => (type === 'DATABASE_DATA_UPDATE' ? 'DATA' : 'MIGRATE');


/** The database a task changes (DATABASE_CREATE: the one it creates). */
export const targetDatabase = (task: Task): string => ('database' in task.target ? task.target.database : task.target.databaseName);

/**
 * How long a claim holds: the statement's own timeout plus connecting and recording. A RUNNING task
 * past it was left by a runner that died (Lambda timeout, crash): the next delivery may take it over.
 */
export const leaseMs = (statementTimeoutMs: number): number => statementTimeoutMs + 2 * 60_000;

/** A change-history id: sorts by time (newest last), unique per task run. */
export const changeHistoryId = (time: Date, project: string, issue: number, task: number, attempt: number): string =>
  `${time.toISOString().replace(/[-:.TZ]/g, '')}-${project}-${issue}-${task}-${attempt}`;

/** The change history's version: the time of the change, `YYYYMMDDhhmmss`. */
/** A change history item holds at most this much of the statement (the 400 KB item limit). */
export const HISTORY_STATEMENT_BYTES = 64 * 1024;

/** The statement as a change history keeps it: whole, or its head and a note naming its checksum. */
export function historyStatement(statement: string, checksum: string): string {
  if (Buffer.byteLength(statement, 'utf8') <= HISTORY_STATEMENT_BYTES) return statement;
  let head = statement.slice(0, HISTORY_STATEMENT_BYTES);
  while (Buffer.byteLength(head, 'utf8') > HISTORY_STATEMENT_BYTES) head = head.slice(0, Math.floor(head.length * 0.9));
  return `${head}\n-- [sluice] truncated: ${Buffer.byteLength(statement, 'utf8')} bytes in all, sha256 ${checksum}; the full text is the issue's statement\n`;
}

export const changeVersion = (time: Date): string => time.toISOString().replace(/[-:TZ]/g, '').slice(0, 14);

/** What to apply, and the marker that makes it exactly once. */
export interface ChangeRequest {
  /** `projects/p/issues/n/tasks/t`: the marker's primary key. */
  taskKey: string;
  attempt: number;
  /** sha256 of the statement, hex. */
  checksum: string;
  statement: string;
  /** The database to run it in (DATABASE_CREATE: the database to create). */
  database: string;
  /** DDL (schema update) or DML (data update): MySQL commits DDL implicitly. */
  kind: 'DDL' | 'DML';
  /** Data updates with prior backup on: the rows each statement changes are copied first (functions/adapters/sql/backup-execute.ts). */
  priorBackup?: PriorBackupRequest;
  /** Schema updates: the executor reads the schema just before the statement (drift check) and just after. */
  schemaCheck?: SchemaCheck;
}

/** The drift check a schema update carries (domain/schema/drift.ts has the baseline). */
export interface SchemaCheck {
  /** The baseline's checksum; absent when no schema was ever recorded for the database (nothing to compare). */
  expected?: string;
  /** A catalog fingerprint recorded with the baseline: a live one equal to it is the baseline, no full read. */
  fingerprint?: string;
  /** The project's allowDriftedRollout: a drifted schema is reported, not refused. */
  allowDrift: boolean;
}


/** What the executor needs to name and bound a task's backup tables. */
export interface PriorBackupRequest {
  project: string;
  issue: number;
  task: number;
  /** The project's priorBackupMaxRows. */
  maxRows: number;
}

export type ChangeOutcome =
  /** `alreadyApplied`: a marker showed an earlier attempt committed it; nothing ran now. */
  | { status: 'DONE'; affectedRows?: number; alreadyApplied: boolean; detail: string; priorBackup?: PriorBackupRecord; schema?: SchemaRead }
  /** A message a DBA can act on: the database's own words, the password scrubbed. `drifted`: the live schema that refused the change. */
  | { status: 'FAILED'; error: string; drifted?: DatabaseSchema };

/**
 * A schema update's schema just before and just after it ran (before: absent when an earlier
 * attempt had applied it). Each is the model read, or only its checksum where the catalog
 * fingerprint showed it is a schema already recorded (the baseline, or `before` unchanged).
 */
export interface SchemaRead {
  before?: DatabaseSchema | KnownSchema;
  after: DatabaseSchema | KnownSchema;
  /** The catalog fingerprint of `after`, recorded with it. */
  fingerprint?: string;
}

/**
 * Runs changes on database servers. Never throws for a database's refusal or an unreachable
 * server: those are FAILED outcomes. Opens one connection per call and always closes it.
 */
export interface ChangeExecutor {
  apply(target: ConnectionTarget, change: ChangeRequest): Promise<ChangeOutcome>;
  createDatabase(target: ConnectionTarget, change: ChangeRequest): Promise<ChangeOutcome>;
}

/** A migration version applied to a database (GitOps issues), with the checksum of what ran. */
export interface AppliedVersion {
  instance: string;
  database: string;
  version: string;
  checksum: string;
  /** The issue and the change-history entry that applied it. */
  issue: string;
  changeHistory: string;
  time: string;
}

/**
 * What the runner stores: the issue's task, its runs and change histories (one DynamoDB table).
 * A run costs five requests here: the task with its issue (one read), the ids (one counter
 * update), the claim, the outcome's activity id, and the outcome (the instance read makes six).
 */
export interface TaskRunStore {
  getTask(project: string, issue: number, task: number): Promise<StoredTask | undefined>;
  getIssue(project: string, issue: number): Promise<Issue | undefined>;
  /** The task and its issue, read together (consistently). */
  getTaskAndIssue(project: string, issue: number, task: number): Promise<{ task?: StoredTask; issue?: Issue }>;
  /**
   * The next task-run id of the issue, and the activity id of its TASK_RUN_STARTED (atomic
   * counters, one update: gaps possible, duplicates never).
   */
  nextRunId(project: string, issue: number): Promise<{ runId: number; activitySeq: number }>;
  /**
   * In one transaction: the task RUNNING with attempts = run.attempt (only if it is claimable, or
   * RUNNING past its lease, and still at `task.attempts`), `run` created and the `started`
   * activity written; then the run a dead runner left RUNNING ends FAILED. False when someone else
   * claimed or resolved it first (and then no activity is written).
   */
  claim(task: StoredTask, run: TaskRun, leaseUntil: string, now: string, started: Activity): Promise<boolean>;
  /**
   * In one transaction: the task's outcome (only while this run holds it), the run's outcome,
   * the change history (if any), the applied version (GitOps, if any) and the `finished`
   * activity (its id allocated first). When the task moved on without this run (canceled, taken
   * over), still records the run, the history and the activity, and answers false. `stage`: the
   * task's, whose task counts move with it.
   */
  record(run: TaskRun, history: ChangeHistory | undefined, finished: Omit<Activity, 'seq'>, applied: AppliedVersion | undefined, stage: string): Promise<boolean>;
  /** GitOps: the version as applied to the database, if it was (written by `record` with `applied`). */
  getAppliedVersion(instance: string, database: string, version: string): Promise<AppliedVersion | undefined>;
  appendActivity(activity: Omit<Activity, 'seq'>): Promise<void>;
  /** Versions in order (versions.ts): the database's versioned tasks below `version`, with their issue's and task's status. */
  lowerVersions(instance: string, database: string, version: string): Promise<VersionedTaskState[]>;
  /**
   * The task PENDING with `detail` (what it waits for), if it is still unclaimed at `task.attempts`;
   * answers since when it waits (kept from its first wait), or undefined when it moved on.
   */
  markWaiting(task: StoredTask, detail: string, now: string): Promise<string | undefined>;
}
