// The task runner (a Lambda the pipeline invokes per batch, {issue, taskIds} → {rest}, and per task,
// {issue, task} → {status}). Step Functions delivers at least once, so every step is safe to repeat
// (RELIABILITY.md):
//   1. a task that is DONE, SKIPPED or CANCELED runs nothing;
//   2. the claim (task → RUNNING, attempts + 1, a new RUNNING task run) is one conditional
//      transaction: of two copies at once, one runs and the other returns;
//   3. the change runs through the ChangeExecutor, which on PostgreSQL commits the statement with
//      its marker and never runs a committed change again;
//   4. the outcome (task, task run, change history) is one transaction, then the activity.
// A failing statement is a FAILED return, never a throw.
// A batch keeps every one of these per task, only sending fewer requests (runBatch below): one read
// of the issue and all its tasks, one id allocation, one claim transaction per chunk (each task's
// update conditional on its exact status, as alone), the tasks run one after another, their
// outcomes recorded together in conditional transactions. What may run twice is what may run twice
// alone: a lost or duplicated batch is held off by the claims' leases, and past them by the marker.
import type { Database } from '../../domain/inventory/databases.js';
import { connectionTarget } from '../../domain/inventory/instances.js';
import type { Activity, ActivityType, ChangeHistory, Issue, TaskRun, TaskStatus } from '../../domain/pipeline/model.js';
import { VersionWaitingError, type RunBatchOutput, type RunTaskInput, type RunTaskOutput } from '../../domain/pipeline/orchestrator.js';
import type { DatabaseRepo, InstanceRepo, SqlDriver } from '../../domain/inventory/ports.js';
import type { SecretStore } from '../../domain/common/ports.js';
import { DEFAULT_PROJECT, PRIOR_BACKUP } from '../../domain/inventory/projects.js';
import { SETTLED, SYSTEM_BOT, batchLeases, parseRunBatchInput, sessionOf, type BatchOutcome, changeHistoryId, historyStatement, changeType, changeVersion, issueNameOf, leaseMs, parseRunTaskInput, targetDatabase, taskKey, taskRunName, type AppliedVersion, type ChangeExecutor, type ChangeOutcome, type ChangeRequest, type StoredTask, type TaskRunStore } from '../../domain/pipeline/task-run.js';
import { createDatabaseStatement } from '../../domain/inventory/instances.js';
import { versionOrder } from '../../domain/pipeline/versions.js';
import { sha256 } from '../../domain/common/hash.js';
import { databaseName } from '../../domain/common/names.js';
import type { Project, ProjectRepo } from '../../domain/inventory/projects.js';
import { baselineCheck, baselineOf, headKey, type DriftNotifier, type SchemaHead, type SchemaRepo } from '../../domain/schema/ports.js';
import { isModel } from '../../domain/schema/model.js';
import { describeDrift, driftSummary, observeSchema, recordOwnChange } from '../../domain/schema/drift.js';
import { DEFAULT_STATEMENT_TIMEOUT_MS, SqlChangeExecutor } from '../shared/wiring-runner.js';

/** Where a test makes the runner die, as a crashed Lambda would: a hook that throws stops the run there. */
export interface RunTaskHooks {
  /** After the claim is written, before the statement runs. */
  afterClaim?(run: ClaimedRun): Promise<void> | void;
  /** After the target committed (or reported) the change, before Sluice records the outcome. */
  afterCommit?(run: ClaimedRun, outcome: ChangeOutcome): Promise<void> | void;
  /** A batch: after one task's outcome is handed to the record (not necessarily written yet), before the next claimed task starts. */
  betweenTasks?(done: ClaimedRun, next: ClaimedRun): Promise<void> | void;
}

export interface RunTaskDeps {
  store: TaskRunStore;
  instances: InstanceRepo;
  databases: DatabaseRepo;
  secrets: SecretStore;
  executor: ChangeExecutor;
  now(): Date;
  /** The statement timeout the executor uses; the claim's lease is derived from it. */
  statementTimeoutMs: number;
  hooks?: RunTaskHooks;
  /**
   * Schema updates: the recorded schemas (the drift check's baseline; the after-schema becomes the
   * new one) and the project's allowDriftedRollout. Without them no schema is read.
   */
  schemas?: SchemaRepo;
  projects?: Pick<ProjectRepo, 'get'>;
  drift?: DriftNotifier;
  /**
   * How long one batch invoke may go on claiming (default DEFAULT_BATCH_BUDGET_MS, under the
   * 15-minute invoke timeout): it claims only tasks that surely finish before it runs out, and
   * hands the others back, unclaimed, as `rest`.
   */
  batchBudgetMs?: number;
  /** How often a batch writes the outcomes it holds, at the latest (default RECORD_EVERY_MS): progress a person can follow. */
  recordEveryMs?: number;
}

/** A batch claims tasks only while they surely finish within this (the invoke's timeout is 15 minutes). */
export const DEFAULT_BATCH_BUDGET_MS = 13 * 60_000;
/** A batch writes its finished tasks' outcomes at least this often (and whenever a transaction's worth has piled up). */
export const RECORD_EVERY_MS = 1_500;
/** Outcomes held before a write: ≤ 5 items each, so one transaction of at most 100 items. */
const RECORD_BUFFER = 19;

export interface ClaimedRun {
  task: StoredTask;
  issue: Issue;
  runId: number;
  attempt: number;
  creator: number;
  startTime: string;
}

type Status = RunTaskOutput['status'];
/** A batch's read of its schema updates' heads (SchemaRepo.headsOf), one database at a time. */
type BatchHead = (instance: string, database: string) => Promise<SchemaHead | undefined>;

/** connectionTarget reads the secret store only; the runner connects through its ChangeExecutor. */
const NO_DRIVER = undefined as unknown as SqlDriver;

/** The handler's answer for a task someone else holds or resolved: its status as it stands. */
const statusOf = (s: TaskStatus): Status => (s === 'NOT_STARTED' || s === 'PENDING' ? 'FAILED' : s);

export type RunBatchInput = { issue: string; taskIds: string[] };

/** The runner: one task (`{issue, task}`), or a batch (`{issue, taskIds}`). */
export interface TaskRunnerFn {
  (input: RunTaskInput): Promise<RunTaskOutput>;
  (input: RunBatchInput): Promise<RunBatchOutput>;
  (input: RunTaskInput | RunBatchInput): Promise<RunTaskOutput | RunBatchOutput>;
}

export function taskRunner(deps: RunTaskDeps): TaskRunnerFn {
  const { store } = deps;

  async function claim(task: StoredTask, issue: Issue): Promise<ClaimedRun | undefined> {
    const now = deps.now();
    // Task run ids count up per issue; a claim that then loses leaves a gap, never a duplicate.
    const { runId, activitySeq } = await store.nextRunId(task.project, task.issue);
    const run: ClaimedRun = {
      task, issue, runId, attempt: task.attempts + 1, creator: task.runRequestedBy ?? SYSTEM_BOT, startTime: now.toISOString(),
    };
    const taskRun: TaskRun = {
      project: task.project, issue: task.issue, task: task.id, id: runId, attempt: run.attempt, status: 'RUNNING',
      creator: run.creator, startTime: run.startTime, detail: '', result: {},
    };
    const lease = new Date(now.getTime() + leaseMs(deps.statementTimeoutMs)).toISOString();
    const started = { ...activity(run, 'TASK_RUN_STARTED', now), seq: activitySeq };
    return (await store.claim(task, taskRun, lease, now.toISOString(), started)) ? run : undefined;
  }

  /** Written with the claim (started) and with the outcome (done or failed). */
  function activity(run: ClaimedRun, type: ActivityType, time: Date, comment?: string): Omit<Activity, 'seq'> {
    return {
      project: run.task.project, issue: run.task.issue, type, actor: run.creator, time: time.toISOString(),
      target: taskRunName(run.task, run.runId), ...(comment === undefined ? {} : { comment }),
    };
  }

  /** Connects with the instance's ADMIN data source and applies the change. Failures are outcomes. */
  async function execute(run: ClaimedRun, change: ChangeRequest, executor: ChangeExecutor): Promise<ChangeOutcome> {
    const instanceId = run.task.target.instance;
    const instance = await deps.instances.get(instanceId);
    if (!instance || instance.state === 'DELETED') return { status: 'FAILED', error: `instances/${instanceId} does not exist or is deleted` };
    let target;
    try {
      target = await connectionTarget({ secrets: deps.secrets, sql: NO_DRIVER }, instance);
    } catch (e) {
      return { status: 'FAILED', error: (e as Error).message };
    }
    if (run.task.type === 'DATABASE_CREATE') return executor.createDatabase(target, change);
    return executor.apply({ ...target, database: change.database }, change);
  }

  /** DATABASE_CREATE: the new database joins the issue's project (a sync may have found it first). */
  async function register(run: ClaimedRun, name: string): Promise<void> {
    const time = deps.now().toISOString();
    const { instance } = run.task.target;
    const created: Database = {
      instance, name, project: run.task.project, labels: {}, schemaVersion: '', syncState: 'OK', createTime: time, updateTime: time, version: 1,
    };
    await deps.databases.applySync(instance, { time, create: [created], setState: [], stamp: [], addTables: [], removeTables: [] });
    const stored = await deps.databases.get(instance, name);
    if (stored && stored.project === DEFAULT_PROJECT && run.task.project !== DEFAULT_PROJECT) {
      await deps.databases.update({ ...stored, project: run.task.project, updateTime: time }, stored.version);
    }
  }

  /**
   * Task, task run and change history in one transaction, conditional on our claim still holding.
   * `earlier`: a GitOps version applied before (nothing ran); the same checksum points at that
   * change, another one is drift, recorded as a DRIFT change-history entry and activity.
   */
  async function record(run: ClaimedRun, change: ChangeRequest, outcome: ChangeOutcome, earlier?: AppliedVersion, schema?: { before?: string; after: string }): Promise<Status> {
    const { finished, history, applied, finishedActivity, drift, detail, time } = outcomeOf(run, change, outcome, earlier, schema);
    let final: Status = finished.status as Status;
    if (!(await store.record(finished, history, finishedActivity, applied, run.task.stage))) {
      // The task moved on without us (canceled, or taken over past our lease): it keeps its status.
      const current = await store.getTask(run.task.project, run.task.issue, run.task.id);
      final = statusOf(current?.status ?? 'FAILED');
    }
    if (drift) await store.appendActivity(activity(run, 'MIGRATION_DRIFT', time, detail));
    return final;
  }

  /** What the outcome transaction writes: the finished run, the change history, the applied version (GitOps), the activity. */
  function outcomeOf(run: ClaimedRun, change: ChangeRequest, outcome: ChangeOutcome, earlier?: AppliedVersion, schema?: { before?: string; after: string }) {
    const { task } = run;
    const time = deps.now();
    const status = outcome.status;
    const database = targetDatabase(task);
    const history: ChangeHistory = {
      instance: task.target.instance, database, id: changeHistoryId(time, task.project, task.issue, task.id, run.attempt), status,
      type: changeType(task.type), statement: historyStatement(change.statement, change.checksum), version: run.issue.migrationVersion ?? changeVersion(time), issue: issueNameOf(task.project, task.issue),
      taskRun: taskRunName(task, run.runId), createTime: time.toISOString(), checksum: change.checksum,
      ...(schema?.before !== undefined ? { schemaBefore: schema.before } : {}),
      ...(schema ? { schemaAfter: schema.after } : {}),
    };
    const drift = earlier !== undefined && earlier.checksum !== change.checksum;
    if (drift) history.status = 'DRIFT';
    const historyName = `instances/${history.instance}/databases/${database}/changeHistories/${history.id}`;
    const applied: AppliedVersion | undefined = !earlier && status === 'DONE' && run.issue.migrationVersion !== undefined && task.type !== 'DATABASE_CREATE'
      ? { instance: history.instance, database, version: run.issue.migrationVersion, checksum: change.checksum, issue: history.issue, changeHistory: historyName, time: history.createTime }
      : undefined;
    const detail = outcome.status === 'DONE' ? outcome.detail : outcome.error;
    const finished: TaskRun = {
      project: task.project, issue: task.issue, task: task.id, id: run.runId, attempt: run.attempt, status, creator: run.creator,
      startTime: run.startTime, endTime: time.toISOString(), detail,
      result: {
        changeHistory: earlier && !drift ? earlier.changeHistory : historyName,
        ...(outcome.status === 'DONE' && outcome.affectedRows !== undefined ? { affectedRows: outcome.affectedRows } : {}),
        ...(outcome.status === 'DONE' && outcome.priorBackup ? { priorBackup: outcome.priorBackup } : {}),
      },
    };
    const finishedActivity = activity(run, status === 'DONE' ? 'TASK_RUN_DONE' : 'TASK_RUN_FAILED', time, detail);
    return { finished, history: earlier && !drift ? undefined : history, applied, finishedActivity, drift, detail, time };
  }

  async function runOne(input: RunTaskInput): Promise<RunTaskOutput> {
    const ids = parseRunTaskInput(input);
    const { task, issue } = await store.getTaskAndIssue(ids.project, ids.issue, ids.task);
    if (!task || !issue) throw new Error(`${taskKey(ids.project, ids.issue, ids.task)} does not exist`);
    if (SETTLED.includes(task.status)) return { status: statusOf(task.status) };
    // A canceled issue's unstarted tasks are not written one by one (shownStatus): nothing runs for it.
    if (issue.status !== 'OPEN') return { status: 'CANCELED' };
    if (task.status === 'RUNNING' && !(task.leaseUntil !== undefined && task.leaseUntil < deps.now().toISOString())) {
      // Another copy holds it: let it finish; stageResult sees RUNNING as unfinished.
      return { status: 'RUNNING' };
    }

    // Versions in order (domain/pipeline/versions.ts): nothing is claimed while a lower version comes first.
    const order = await versionOrder(store, task, issue, deps.now());
    if (order.kind === 'WAIT') {
      // Thrown, not returned: RunTask's retrier for it waits with backoff (infra/lib/pipeline.ts).
      if (await store.markWaiting(task, order.detail, deps.now().toISOString())) throw new VersionWaitingError(order.detail);
      return { status: statusOf((await store.getTask(ids.project, ids.issue, ids.task))?.status ?? 'FAILED') };
    }
    const run = await claim(task, issue);
    if (!run) {
      const current = await store.getTask(ids.project, ids.issue, ids.task);
      return { status: statusOf(current?.status ?? 'FAILED') };
    }
    await deps.hooks?.afterClaim?.(run);

    const change = await changeOf(run);
    if (order.kind === 'EXPIRED') return { status: await record(run, change, { status: 'FAILED', error: order.detail }) };
    // GitOps: a version applied to this database before is never run again (drift when its content differs).
    const earlier = issue.migrationVersion !== undefined && task.type !== 'DATABASE_CREATE'
      ? await store.getAppliedVersion(task.target.instance, change.database, issue.migrationVersion)
      : undefined;
    if (earlier) return { status: await record(run, change, appliedBefore(issue.migrationVersion!, change, earlier), earlier) };
    const { outcome, schema } = await perform(run, change);
    return { status: await record(run, change, outcome, undefined, schema) };
  }

  /** The change a claimed task applies. A task of its own (a rollback issue's) runs its own statement; the others run the issue's. */
  async function changeOf(run: ClaimedRun): Promise<ChangeRequest> {
    const { task, issue } = run;
    const engineStatement = task.type === 'DATABASE_CREATE' ? undefined : (task.statement ?? issue.statement);
    const instance = task.type === 'DATABASE_CREATE' ? await deps.instances.get(task.target.instance) : undefined;
    const statement = engineStatement ?? createDatabaseStatement(instance?.engine ?? 'POSTGRES', targetDatabase(task));
    const ownChecksum = task.statement !== undefined ? task.checksum : issue.checksum;
    return {
      taskKey: taskKey(task.project, task.issue, task.id, issue.createTime),
      attempt: run.attempt,
      checksum: engineStatement !== undefined && ownChecksum ? ownChecksum : sha256(statement),
      statement,
      database: targetDatabase(task),
      kind: task.type === 'DATABASE_DATA_UPDATE' ? 'DML' : 'DDL',
      ...priorBackupOf(issue, task),
    };
  }

  /**
   * The change on the target (the drift check first, for a schema update), then what follows it
   * before the record: the recorded schema, a created database registered. `project`: the batch's
   * one read of the project (the drift check's allowDriftedRollout); `executor`: the batch's session.
   */
  async function perform(
    run: ClaimedRun, change: ChangeRequest, project?: () => Promise<Project | undefined>, executor: ChangeExecutor = deps.executor, batchHead?: BatchHead,
  ): Promise<{ outcome: ChangeOutcome; schema?: { before?: string; after: string } }> {
    const { task } = run;
    let checked = await withSchemaCheck(task, change, project, batchHead);
    let outcome = await execute(run, change, executor);
    if (checked?.fromBatch && outcome.status === 'FAILED' && outcome.drifted) {
      // The batch read the head before this task's turn: a baseline moved since (:acceptDrift) is
      // not drift. Checked again with the head as it is now; the refused attempt ran nothing.
      const before = change.schemaCheck;
      const fresh = await withSchemaCheck(task, change, project);
      if (fresh && (change.schemaCheck?.expected !== before?.expected || change.schemaCheck?.fingerprint !== before?.fingerprint)) {
        checked = fresh;
        outcome = await execute(run, change, executor);
      }
    }
    await deps.hooks?.afterCommit?.(run, outcome);
    let schema: { before?: string; after: string } | undefined;
    if (outcome.status === 'FAILED' && outcome.drifted) outcome = await refusedForDrift(run, change, outcome.drifted);
    else if (outcome.status === 'DONE' && outcome.schema) {
      const { current, wasDrifted, fromBatch } = checked ?? {};
      // A head the batch read may predate a sync that flagged drift: its wasDrifted is trusted only
      // when this task found the baseline itself (its fingerprint matched, so no full read before);
      // otherwise it is left out and the flag is written.
      const trusted = !fromBatch || (outcome.schema.before !== undefined && !isModel(outcome.schema.before));
      const flag = trusted && wasDrifted !== undefined ? { wasDrifted } : {};
      // Before the outcome is recorded: a crash in between is retried, finds its marker, and records this again.
      schema = await recordOwnChange(driftDeps(), { instance: task.target.instance, database: change.database, ...outcome.schema, time: deps.now().toISOString(), ...(current ? { current } : {}), ...flag });
      const expected = change.schemaCheck?.expected;
      if (expected !== undefined && schema.before !== undefined && schema.before !== expected) {
        outcome = { ...outcome, detail: `${outcome.detail}; the schema had drifted from the recorded one (${expected}), run as the project allows drifted rollouts` };
      }
    }

    if (outcome.status === 'DONE' && task.type === 'DATABASE_CREATE') {
      try {
        await register(run, change.database);
      } catch (e) {
        outcome = { status: 'FAILED', error: `database created, but registering it failed: ${(e as Error).message}; run the task again` };
      }
    }
    return { outcome, ...(schema ? { schema } : {}) };
  }

  /**
   * A batch (RunStage's child: RunTask with `{issue, taskIds}`). Per task it decides, claims, runs
   * and records exactly as runOne does; only the requests are shared:
   *   - one read of the issue and every task (BatchGetItem);
   *   - settled tasks and tasks another copy holds are left alone, as runOne answers them;
   *   - a versioned issue's tasks go back to the state machine (`rest`): one may have to WAIT for a
   *     lower version, which only the per-task path's retrier can do; so do tasks not found;
   *   - one counter update gives every task its run id and its two activity ids;
   *   - one read of every schema update's recorded head (the drift check's baseline), on first use;
   *     a task refused for drift against it is checked again with its head as it is then;
   *   - claims in transactions of up to 100 items (claimBatch), each task conditional on the exact
   *     status it was read in; only as many tasks as surely finish before the batch's budget ends,
   *     each with a lease covering its place in the line (batchLeases): a task is never held by a
   *     batch that will not run it, and a claimed task's lease never runs out while it waits its turn;
   *   - the tasks run one after another, each one's outcome held and written together with others
   *     (recordBatch) once a transaction's worth piled up, every RECORD_EVERY_MS, and at the end.
   *   - through one executor session: on MySQL the tasks on one instance share a connection, reset
   *     between them (the marker is per task either way); closed when the batch ends or throws.
   * A crash before a write leaves those tasks RUNNING under their leases, as a crash of a single
   * task does: a later delivery takes them over past the lease, and the marker keeps any statement
   * that committed from running again (the task ends DONE "already applied").
   */
  async function runBatch(input: RunBatchInput): Promise<RunBatchOutput> {
    const ids = parseRunBatchInput(input);
    const deadline = deps.now().getTime() + (deps.batchBudgetMs ?? DEFAULT_BATCH_BUDGET_MS);
    const { tasks, issue } = await store.getTasksAndIssue(ids.project, ids.issue, ids.tasks);
    if (!issue) throw new Error(`${issueNameOf(ids.project, ids.issue)} does not exist`);
    const found = new Set(tasks.map((t) => t.id));
    // Not found: the per-task path throws for it, as it always did (caught as TaskErrored).
    const rest = ids.tasks.filter((id) => !found.has(id)).map(String);
    // A canceled issue's unstarted tasks are not written one by one (shownStatus): nothing runs for it.
    if (issue.status !== 'OPEN') return { rest };
    const readAt = deps.now().toISOString();
    const todo = tasks.filter((t) => !SETTLED.includes(t.status) && !(t.status === 'RUNNING' && !(t.leaseUntil !== undefined && t.leaseUntil < readAt)));
    if (issue.migrationVersion !== undefined) return { rest: [...rest, ...todo.map((t) => String(t.id))] };
    if (todo.length === 0) return { rest };
    // A statement timeout longer than the budget: not one task fits; no ids, no claims, all handed back.
    if (batchLeases(deps.now().getTime(), deadline, deps.statementTimeoutMs, 1, 1).length === 0) return { rest: [...rest, ...todo.map((t) => String(t.id))] };

    // Ids for every task to claim: those not claimed in the end leave gaps, as a lost claim does.
    const { runIds, activitySeqs } = await store.nextRunIds(ids.project, ids.issue, todo.length);
    let projectRead: Promise<Project | undefined> | undefined;
    const project = () => (projectRead ??= Promise.resolve(deps.projects?.get(issue.project)));
    const recorder = outcomeRecorder();
    // The schema updates' heads (the drift check's baseline): one BatchGetItem for the batch, on first use.
    let headsRead: Promise<Map<string, SchemaHead>> | undefined;
    const heads = deps.schemas?.headsOf?.bind(deps.schemas);
    const batchHead: BatchHead | undefined = heads
      ? async (instance, database) => {
        headsRead ??= heads(todo.filter((x) => x.type === 'DATABASE_SCHEMA_UPDATE').map((x) => ({ instance: x.target.instance, database: targetDatabase(x) })));
        return (await headsRead).get(headKey(instance, database));
      }
      : undefined;
    // MySQL: the batch's tasks on one instance share a connection (ChangeExecutor.session).
    const executor = sessionOf(deps.executor);
    let next = 0;
    let previous: ClaimedRun | undefined;
    /** Claims and runs the tasks, chunk by chunk, while the budget lasts; `next`: how many of `todo` it got to (claimed or lost). */
    const runClaims = async (): Promise<void> => {
      while (next < todo.length) {
        const now = deps.now();
        const leases = batchLeases(now.getTime(), deadline, deps.statementTimeoutMs, todo.length - next, todo.length);
        if (leases.length === 0) break;
        const chunk = leases.map((leaseUntil, k) => {
          const i = next + k;
          const task = todo[i]!;
          const run: ClaimedRun = { task, issue, runId: runIds[i]!, attempt: task.attempts + 1, creator: task.runRequestedBy ?? SYSTEM_BOT, startTime: now.toISOString() };
          const taskRun: TaskRun = {
            project: task.project, issue: task.issue, task: task.id, id: run.runId, attempt: run.attempt, status: 'RUNNING', creator: run.creator, startTime: run.startTime, detail: '', result: {},
          };
          return { run, finishedSeq: activitySeqs[2 * i + 1]!, claim: { task, run: taskRun, leaseUntil, started: { ...activity(run, 'TASK_RUN_STARTED', now), seq: activitySeqs[2 * i]! } } };
        });
        next += chunk.length;
        const claimed = await store.claimBatch(chunk.map((c) => c.claim), now.toISOString());
        for (const [k, c] of chunk.entries()) {
          // Not claimed: another copy claimed or resolved it first; it answers for it.
          if (!claimed[k]) continue;
          if (previous) await deps.hooks?.betweenTasks?.(previous, c.run);
          await deps.hooks?.afterClaim?.(c.run);
          const change = await changeOf(c.run);
          const { outcome, schema } = await perform(c.run, change, project, executor, batchHead);
          const { finished, history, finishedActivity } = outcomeOf(c.run, change, outcome, undefined, schema);
          await recorder.add({ run: finished, history, finished: { ...finishedActivity, seq: c.finishedSeq }, stage: c.run.task.stage });
          previous = c.run;
        }
      }
    };
    try {
      await runClaims();
    } catch (e) {
      recorder.abandon();
      throw e;
    } finally {
      await executor.close();
    }
    await recorder.flush();
    return { rest: [...rest, ...todo.slice(next).map((t) => String(t.id))] };
  }

  /**
   * A batch's outcomes, held until a transaction's worth piled up, and written at the latest
   * `recordEveryMs` after the last write, by a timer if the next task runs long. Writes go one after
   * another; one that fails fails the batch at its next outcome or at its end. `abandon`: the batch
   * threw; nothing more is written (as a dead Lambda writes nothing): the leases and the marker
   * take care of what it held.
   */
  function outcomeRecorder() {
    const every = deps.recordEveryMs ?? RECORD_EVERY_MS;
    let held: BatchOutcome[] = [];
    let lastWrite = deps.now().getTime();
    let writing: Promise<void> = Promise.resolve();
    let failed: { error: unknown } | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const write = (): Promise<void> => {
      clearTimeout(timer);
      timer = undefined;
      lastWrite = deps.now().getTime();
      const outcomes = held;
      held = [];
      if (outcomes.length > 0) {
        writing = writing.then(async () => {
          if (!failed) await store.recordBatch(outcomes);
        }).catch((error: unknown) => {
          failed ??= { error };
        });
      }
      return writing.then(() => {
        if (failed) throw failed.error;
      });
    };
    return {
      flush: write,
      abandon() {
        clearTimeout(timer);
        held = [];
      },
      async add(o: BatchOutcome) {
        if (failed) throw failed.error;
        held.push(o);
        if (held.length >= RECORD_BUFFER || deps.now().getTime() - lastWrite >= every) return write();
        timer ??= setTimeout(() => void write().catch(() => undefined), every);
      },
    };
  }

  const run = (input: RunTaskInput | RunBatchInput): Promise<RunTaskOutput | RunBatchOutput> =>
    'taskIds' in input ? runBatch(input) : runOne(input);
  return run as TaskRunnerFn;

  function driftDeps() {
    return { schemas: deps.schemas!, databases: deps.databases, ...(deps.drift ? { drift: deps.drift } : {}) };
  }

  /**
   * A schema update reads the live schema just before it runs: the baseline to compare with (one
   * GetItem, or in a batch its share of the batch's one read of every head: `fromBatch`; kept for
   * the record after the change) and whether the project lets a drifted database be changed. Data
   * updates read no catalog.
   */
  async function withSchemaCheck(task: StoredTask, change: ChangeRequest, projectOf?: () => Promise<Project | undefined>, batchHead?: BatchHead) {
    if (task.type !== 'DATABASE_SCHEMA_UPDATE' || !deps.schemas) return undefined;
    const [head, project] = await Promise.all([
      batchHead ? batchHead(task.target.instance, change.database) : deps.schemas.head(task.target.instance, change.database),
      projectOf ? projectOf() : deps.projects?.get(task.project),
    ]);
    change.schemaCheck = { ...(head ? baselineCheck(head) : {}), allowDrift: project?.allowDriftedRollout === true };
    // For the record after the change: the head as read here, and whether it left the database drifted.
    return { current: { head }, wasDrifted: head !== undefined && baselineOf(head).checksum !== head.checksum, fromBatch: batchHead !== undefined };
  }

  /** The drift the executor found: recorded (the database marked drifted, SCHEMA_DRIFT) and named in the task's error. */
  async function refusedForDrift(run: ClaimedRun, change: ChangeRequest, live: NonNullable<Extract<ChangeOutcome, { status: 'FAILED' }>['drifted']>): Promise<ChangeOutcome> {
    const { instance } = run.task.target;
    const time = deps.now().toISOString();
    const seen = await observeSchema(driftDeps(), { instance, database: change.database, project: run.task.project, model: live, time });
    const recorded = await deps.schemas!.snapshot(instance, change.database, seen.baseline);
    const name = databaseName(instance, change.database);
    return {
      status: 'FAILED',
      error:
        `schema drift on ${name}: ${driftSummary(recorded ? describeDrift(recorded, live) : [])} (recorded schema ${seen.baseline}, live ${seen.checksum}); ` +
        `nothing ran. See GET /v1/${name}/drift; accept the live schema with POST /v1/${name}:acceptDrift, or set the project's allowDriftedRollout`,
    };
  }
}

/**
 * Prior backup (issue 14): a data update whose issue has it on copies the rows each statement
 * changes first, or refuses to run (functions/adapters/sql/backup-execute.ts). Issues made before
 * the setting existed have none.
 */
function priorBackupOf(issue: Issue, task: StoredTask): Pick<ChangeRequest, 'priorBackup'> {
  if (task.type !== 'DATABASE_DATA_UPDATE' || issue.enablePriorBackup !== true) return {};
  return { priorBackup: { project: task.project, issue: task.issue, task: task.id, maxRows: issue.priorBackupMaxRows ?? PRIOR_BACKUP.maxRows } };
}

/** The outcome of a GitOps task whose version the database has already: nothing ran. */
function appliedBefore(version: string, change: ChangeRequest, earlier: AppliedVersion): ChangeOutcome {
  const detail = earlier.checksum === change.checksum
    ? `version ${version} was applied to ${change.database} already by ${earlier.issue} (${earlier.changeHistory}); not run again`
    : `drift: version ${version} was applied to ${change.database} by ${earlier.issue} with checksum ${earlier.checksum}; this statement (checksum ${change.checksum}) differs and was not run`;
  return { status: 'DONE', alreadyApplied: true, detail };
}

/** SLUICE_STATEMENT_TIMEOUT_MS: each statement's timeout (default 5 min). */
export const statementTimeoutFrom = (env: NodeJS.ProcessEnv): number => {
  const ms = Number(env.SLUICE_STATEMENT_TIMEOUT_MS);
  return Number.isInteger(ms) && ms > 0 ? ms : DEFAULT_STATEMENT_TIMEOUT_MS;
};

let wired: TaskRunnerFn | undefined;

/**
 * What the Lambda wires, from module-scope clients. Also for bench/batch-change's `--schema-cost`,
 * which runs a second runner without `schemas` (no schema bookkeeping) in the same process to
 * measure what it costs: not reachable from the API.
 */
export async function wiredDeps(): Promise<RunTaskDeps> {
  const [{ store, deps }, { secrets }, { DynamoTaskRunStore, runnerCache }, { observeTaskRunStore }, { lateSink, emitLog }, { schemaRepo }, { driftNotifier }] = await Promise.all([
    import('../shared/wiring.js'), import('../shared/wiring-sql.js'), import('../shared/wiring-runner.js'), import('../../domain/notify/events.js'), import('../shared/wiring-events.js'),
    import('../shared/wiring-repos.js'), import('../shared/wiring-drift.js'),
  ]);
  const statementTimeoutMs = statementTimeoutFrom(process.env);
  // The instance and its password, cached per container with a bounded lifetime (runner-cache.ts).
  const cached = runnerCache(deps.instances, secrets);
  return {
    // Every run's start, outcome and failure also goes on the event bus (TASK_FAILED for webhooks).
    store: observeTaskRunStore(new DynamoTaskRunStore(store), lateSink, emitLog), instances: cached.instances, databases: deps.databases, secrets: cached.secrets, executor: new SqlChangeExecutor({ statementTimeoutMs }), now: () => new Date(), statementTimeoutMs,
    schemas: schemaRepo, projects: deps.projects, drift: driftNotifier,
  };
}

/** The Lambda: module-scope clients, wired on first use. */
export const handler = async (input: RunTaskInput | RunBatchInput): Promise<RunTaskOutput | RunBatchOutput> => {
  wired ??= taskRunner(await wiredDeps());
  return wired(input);
};
