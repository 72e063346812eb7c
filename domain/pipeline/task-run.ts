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

/** `{issue, taskIds: [...]}` (a RunStage batch, at most MAX_BATCH_TASKS ids) → ids; throws on anything else. */
export function parseRunBatchInput(input: { issue?: unknown; taskIds?: unknown }): { project: string; issue: number; tasks: number[] } {
  const m = typeof input.issue === 'string' ? ISSUE.exec(input.issue) : null;
  const ids = Array.isArray(input.taskIds) ? input.taskIds.map((t: unknown) => (typeof t === 'number' ? String(t) : t)) : undefined;
  if (!m || !ids || ids.length === 0 || ids.length > MAX_BATCH_TASKS || !ids.every((t): t is string => typeof t === 'string' && TASK.test(t)) || new Set(ids).size !== ids.length) {
    throw new Error(`runTask expects {issue: "projects/{p}/issues/{n}", taskIds: ["{id}", …]} (1 to ${MAX_BATCH_TASKS} distinct ids), got ${JSON.stringify(input).slice(0, 500)}`);
  }
  return { project: m[1]!, issue: Number(m[2]), tasks: ids.map(Number) };
}

/** The most task ids one batch invoke takes (RunStage's batches hold at most 25). */
export const MAX_BATCH_TASKS = 100;

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

/**
 * The longest one task of a batch may take, from its start to its outcome handed to the record:
 * connect, the drift check's reads, the statement (bounded by its timeout), the after-read. A batch
 * claims only as many tasks as this bound lets it finish before its own deadline (batchLeases).
 */
export const batchTaskBoundMs = (statementTimeoutMs: number): number => statementTimeoutMs + 60_000;

/**
 * A batch's claim: how many of its next tasks to claim together, and each one's lease. The tasks run
 * one after another, so the one at position i starts at worst i task-bounds after the claim: its lease
 * is that plus the single task's lease (position 0 gets exactly the lease a single claim gets). Only
 * tasks that surely finish before `deadline` (each taking its whole bound) are claimed, so a batch that runs out of time never holds
 * a task it will not run (the rest goes back to the state machine, unclaimed).
 */
export function batchLeases(now: number, deadline: number, statementTimeoutMs: number, remaining: number, max: number): string[] {
  const bound = batchTaskBoundMs(statementTimeoutMs);
  const fit = Math.floor((deadline - now) / bound);
  const n = Math.max(0, Math.min(remaining, max, fit));
  return Array.from({ length: n }, (_, i) => new Date(now + i * bound + leaseMs(statementTimeoutMs)).toISOString());
}

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
  /** An executor for one batch's tasks, run one after another: it may keep connections between them until `close`. */
  session?(): ChangeSession;
}

/** A batch's executor (ChangeExecutor.session); `close` ends what it kept open. */
export interface ChangeSession extends ChangeExecutor {
  close(): Promise<void>;
}

/** The executor's session for a batch, or the executor itself (nothing kept) when it has none. */
export const sessionOf = (executor: ChangeExecutor): ChangeSession =>
  executor.session?.() ?? { apply: (t, c) => executor.apply(t, c), createDatabase: (t, c) => executor.createDatabase(t, c), close: async () => undefined };

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

/** One task of a batch claim: what `claim` takes for one task. */
export interface BatchClaim {
  task: StoredTask;
  run: TaskRun;
  leaseUntil: string;
  started: Activity;
}

/** One task's outcome in a batch record: what `record` takes for one task, its activity id allocated already. */
export interface BatchOutcome {
  run: TaskRun;
  history: ChangeHistory | undefined;
  finished: Activity;
  stage: string;
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
  /**
   * A batch: the issue and the tasks (consistent reads; tasks not found are left out), in as few
   * requests as the store allows.
   */
  getTasksAndIssue(project: string, issue: number, tasks: readonly number[]): Promise<{ tasks: StoredTask[]; issue?: Issue }>;
  /** `n` task-run ids and `2n` activity ids (a started and a finished activity per run), in one counter update: ascending, gaps possible, duplicates never. */
  nextRunIds(project: string, issue: number, n: number): Promise<{ runIds: number[]; activitySeqs: number[] }>;
  /**
   * Claims each task as `claim` does (same conditions, same writes), in as few transactions as the
   * store allows; answers, per claim, whether this runner holds the task now. A task some other
   * copy claimed or resolved is false; a conflict with another transaction is never read as such.
   */
  claimBatch(claims: readonly BatchClaim[], now: string): Promise<boolean[]>;
  /**
   * Records each outcome as `record` does (conditional on the claim still holding), in as few
   * transactions as the store allows; a task that moved on without its run goes the `record` way
   * (the run, history and activity still written) and answers false.
   */
  recordBatch(outcomes: readonly BatchOutcome[]): Promise<boolean[]>;
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
