// The task runner's writes in DynamoDB: the claim and the outcome, each one conditional
// transaction in the issue's item collection (plus the change history in the instance's), each
// with its activity. Five requests per run (six with the instance read): a batch is thousands of
// runs, and every request counts.
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Activity, ChangeHistory, Issue, TaskRun } from '../../../domain/pipeline/model.js';
import type { AppliedVersion, BatchClaim, BatchOutcome, StoredTask, TaskRunStore } from '../../../domain/pipeline/task-run.js';
import { issueNameOf as issueKeyName } from '../../../domain/pipeline/task-run.js';
import { appendActivity, entityItem, readEntity } from './issues.js';
import { readIssueCached } from './statement-cache.js';
import { keys, type Key } from './keys.js';
import { toItem } from './item.js';
import { countMove, countMoves, transact } from './task-counts.js';
import type { DynamoStore } from './store.js';
import { DynamoVersionOrder } from './versions.js';
import type { VersionedTaskState } from '../../../domain/pipeline/versions.js';

/** A run that took a prior backup is indexed under its instance, for the scheduled cleanup (backups.ts). */
function backupIndexPut(table: string, run: TaskRun, history: ChangeHistory | undefined) {
  const backup = run.result.priorBackup;
  if (!backup || backup.tables.length === 0 || !history) return undefined;
  const entry = {
    instance: history.instance, database: history.database, project: run.project, issue: run.issue, task: run.task, attempt: run.attempt,
    createTime: backup.createTime, tables: backup.tables.map((t) => t.backup),
  };
  return { Put: { TableName: table, Item: toItem('BackupIndex', keys.backupIndex(entry.instance, entry.createTime, run.project, run.issue, run.task, run.attempt), entry) } };
}

/** DynamoDB's limit of items per TransactWriteItems. */
export const TRANSACTION_ITEMS = 100;

/**
 * Indexes in order, cut into chunks whose items (`size` each, plus one summed counter update per
 * stage in the chunk: countMoves) stay within TRANSACTION_ITEMS.
 */
function chunked(indexes: number[], size: (i: number) => number, stageOf: (i: number) => string): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let used = 0;
  let stages = new Set<string>();
  for (const i of indexes) {
    const more = size(i) + (stages.has(stageOf(i)) ? 0 : 1);
    if (current.length > 0 && used + more > TRANSACTION_ITEMS) {
      out.push(current);
      current = [];
      used = 0;
      stages = new Set();
    }
    used += size(i) + (stages.has(stageOf(i)) ? 0 : 1);
    stages.add(stageOf(i));
    current.push(i);
  }
  if (current.length > 0) out.push(current);
  return out;
}

export class DynamoTaskRunStore implements TaskRunStore {
  private readonly versions: DynamoVersionOrder;
  constructor(private readonly store: DynamoStore) {
    this.versions = new DynamoVersionOrder(store);
  }

  lowerVersions = (instance: string, database: string, version: string): Promise<VersionedTaskState[]> => this.versions.lowerVersions(instance, database, version);
  markWaiting = (task: StoredTask, detail: string, now: string): Promise<string | undefined> => this.versions.markWaiting(task, detail, now);

  getTask = (project: string, issue: number, task: number): Promise<StoredTask | undefined> => this.read<StoredTask>(keys.task(project, issue, task));
  async getIssue(project: string, issue: number): Promise<Issue | undefined> {
    const out = await this.store.doc.send(new GetCommand({ TableName: this.store.tableName, Key: keys.issue(project, issue), ConsistentRead: true }));
    return out.Item ? readIssueCached(this.store, out.Item) : undefined;
  }

  /** Issues and tasks keep their own `type` as `issueType` (see entityItem in issues.ts). */
  private async read<T>(key: Key): Promise<T | undefined> {
    const out = await this.store.doc.send(new GetCommand({ TableName: this.store.tableName, Key: key, ConsistentRead: true }));
    return out.Item ? readEntity<T>(out.Item) : undefined;
  }

  /** One task and its issue: the batch read (getTasksAndIssue) of the one task. */
  async getTaskAndIssue(project: string, issue: number, task: number): Promise<{ task?: StoredTask; issue?: Issue }> {
    const read = await this.getTasksAndIssue(project, issue, [task]);
    return { ...(read.tasks[0] ? { task: read.tasks[0] } : {}), ...(read.issue ? { issue: read.issue } : {}) };
  }

  /** A batch's issue and tasks: consistent BatchGetItems of at most 100 keys, unprocessed keys sent again with backoff. */
  async getTasksAndIssue(project: string, issue: number, tasks: readonly number[]): Promise<{ tasks: StoredTask[]; issue?: Issue }> {
    const wanted: Key[] = [keys.issue(project, issue), ...tasks.map((id) => keys.task(project, issue, id))];
    const items = await this.store.batchGetConsistent(wanted, issueKeyName(project, issue));
    const issueItem = items.find((it) => it.sk === '#ISSUE');
    const byId = new Map(items.filter((it) => it !== issueItem).map((it) => { const t = readEntity<StoredTask>(it); return [t.id, t] as const; }));
    return {
      tasks: tasks.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])),
      ...(issueItem ? { issue: await readIssueCached(this.store, issueItem) } : {}),
    };
  }

  async nextRunIds(project: string, issue: number, n: number): Promise<{ runIds: number[]; activitySeqs: number[] }> {
    const out = await this.store.doc.send(
      new UpdateCommand({
        TableName: this.store.tableName,
        Key: keys.issue(project, issue),
        UpdateExpression: 'ADD taskRunSeq :n, activitySeq :twice',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':n': n, ':twice': 2 * n },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const lastRun = Number(out.Attributes!.taskRunSeq);
    const lastActivity = Number(out.Attributes!.activitySeq);
    return {
      runIds: Array.from({ length: n }, (_, i) => lastRun - n + 1 + i),
      activitySeqs: Array.from({ length: 2 * n }, (_, i) => lastActivity - 2 * n + 1 + i),
    };
  }

  async nextRunId(project: string, issue: number): Promise<{ runId: number; activitySeq: number }> {
    const out = await this.store.doc.send(
      new UpdateCommand({
        TableName: this.store.tableName,
        Key: keys.issue(project, issue),
        UpdateExpression: 'ADD taskRunSeq :one, activitySeq :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return { runId: Number(out.Attributes!.taskRunSeq), activitySeq: Number(out.Attributes!.activitySeq) };
  }

  /** The next activity id of the issue (the counter appendActivity uses). */
  private async nextActivitySeq(project: string, issue: number): Promise<number> {
    const out = await this.store.doc.send(
      new UpdateCommand({
        TableName: this.store.tableName,
        Key: keys.issue(project, issue),
        UpdateExpression: 'ADD activitySeq :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes!.activitySeq);
  }

  private activityPut(activity: Activity) {
    const written = Object.fromEntries(Object.entries(activity).filter(([, v]) => v !== undefined)) as Activity;
    return {
      Put: {
        TableName: this.store.tableName,
        Item: entityItem('Activity', keys.activity(activity.project, activity.issue, activity.seq), written),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /**
   * The claim's task update names the exact status it moves from, so the stage's counter moves in
   * the same transaction (task-counts.ts). Claimable is as before: NOT_STARTED, PENDING, FAILED, or
   * RUNNING past its lease, still at `task.attempts`; should the status have moved between those
   * since it was read (a :run reset, a late outcome), the claim is tried from where it is now.
   */
  async claim(task: StoredTask, run: TaskRun, leaseUntil: string, now: string, started: Activity): Promise<boolean> {
    const table = this.store.tableName;
    const claimable = (t: StoredTask | undefined): t is StoredTask =>
      t !== undefined && t.attempts === task.attempts && (['NOT_STARTED', 'PENDING', 'FAILED'].includes(t.status) || (t.status === 'RUNNING' && t.leaseUntil !== undefined && t.leaseUntil < now));
    let from = task.status;
    for (let round = 0; ; round++) {
      const codes = await transact(this.store, [
        ...this.claimItems({ task, run, leaseUntil, started }, from, now),
        // A takeover (RUNNING → RUNNING) moves no count.
        ...(from === 'RUNNING' ? [] : [countMove(table, task, from, 'RUNNING')]),
      ]);
      if (codes === undefined) break;
      if (codes[0] !== 'ConditionalCheckFailed' || round >= 4) return false;
      const current = await this.getTask(task.project, task.issue, task.id);
      if (!claimable(current) || current.status === from) return false;
      from = current.status;
    }
    await this.endDeadRun(task, run, now);
    return true;
  }

  /** The task's claim update (from `from` exactly, at `task.attempts`), its run and its started activity. */
  private claimItems({ task, run, leaseUntil, started }: BatchClaim, from: StoredTask['status'], now: string): Record<string, unknown>[] {
    const table = this.store.tableName;
    return [
      {
        Update: {
          TableName: table,
          Key: keys.task(task.project, task.issue, task.id),
          // A wait for a lower version (versions.ts) is over once the task runs.
          UpdateExpression: 'SET #status = :running, attempts = :attempt, leaseUntil = :lease, runId = :run, version = version + :one REMOVE runRequestedBy, waitDetail, waitingSince',
          // Still as read: nobody claimed or resolved it since (RUNNING: its runner's lease ran out).
          ConditionExpression: from === 'RUNNING' ? '#status = :from AND leaseUntil < :now AND attempts = :attempts' : '#status = :from AND attempts = :attempts',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':running': 'RUNNING', ':attempt': run.attempt, ':attempts': task.attempts, ':one': 1, ':run': run.id, ':lease': leaseUntil, ':from': from,
            ...(from === 'RUNNING' ? { ':now': now } : {}),
          },
        },
      },
      { Put: { TableName: table, Item: entityItem('TaskRun', keys.taskRun(task.project, task.issue, task.id, run.attempt), run), ConditionExpression: 'attribute_not_exists(pk)' } },
      this.activityPut(started),
    ];
  }

  /** The run a dead runner left RUNNING (taken over past its lease, or reset by `:run`) ends FAILED. */
  private async endDeadRun(task: StoredTask, run: TaskRun, now: string): Promise<void> {
    if (task.attempts === 0) return;
    await this.store.doc
      .send(new UpdateCommand({
        TableName: this.store.tableName,
        Key: keys.taskRun(task.project, task.issue, task.id, task.attempts),
        UpdateExpression: 'SET #status = :failed, endTime = :now, detail = :detail',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':failed': 'FAILED', ':running': 'RUNNING', ':now': now, ':detail': `the runner stopped before recording the outcome; attempt ${run.attempt} took over`,
        },
      }))
      .catch((e: unknown) => {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      });
  }

  /**
   * A batch's claims: one transaction per chunk of at most TRANSACTION_ITEMS items (3 per task and
   * one counter update per stage, the moves summed: countMoves). Each task's update names the exact
   * status it moves from, so the summed counter moves exactly with the tasks the transaction claims.
   * A cancellation names the items that failed (CancellationReasons, in item order): those tasks are
   * re-read and, if still claimable at the same attempts from another status, tried again from it
   * (as `claim` does); otherwise they are lost to another copy. The others go again, since nothing
   * of a canceled transaction was written. A conflict with another transaction (a counter shard
   * another batch writes) is retried by `transact`, never read as a lost claim.
   */
  async claimBatch(claims: readonly BatchClaim[], now: string): Promise<boolean[]> {
    const claimed = claims.map(() => false);
    const from = claims.map((c) => c.task.status);
    const chunks = chunked(claims.map((_, i) => i), () => 3, (i) => claims[i]!.task.stage);
    for (const chunk of chunks) {
      let open = chunk;
      for (let round = 0; open.length > 0; round++) {
        const items = open.flatMap((i) => this.claimItems(claims[i]!, from[i]!, now));
        const counters = countMoves(this.store.tableName, open.map((i) => ({ task: claims[i]!.task, from: from[i]!, to: 'RUNNING' as const })));
        const codes = await transact(this.store, [...items, ...counters]);
        if (codes === undefined) {
          for (const i of open) claimed[i] = true;
          break;
        }
        if (round >= 4 + chunk.length) break;
        const next: number[] = [];
        const reread: number[] = [];
        open.forEach((i, k) => {
          const mine = codes.slice(3 * k, 3 * k + 3);
          if (!mine.includes('ConditionalCheckFailed')) next.push(i);
          // Only the task's own condition can be retried from where it is now (the run or the
          // activity already there means another copy got this attempt: lost, as in `claim`).
          else if (mine[0] === 'ConditionalCheckFailed' && mine[1] !== 'ConditionalCheckFailed' && mine[2] !== 'ConditionalCheckFailed') reread.push(i);
        });
        if (next.length === open.length) throw new Error(`a batch claim was canceled by a condition on no task's item: ${codes.join(', ')}`);
        const current = await Promise.all(reread.map((i) => this.getTask(claims[i]!.task.project, claims[i]!.task.issue, claims[i]!.task.id)));
        reread.forEach((i, k) => {
          const t = current[k];
          const task = claims[i]!.task;
          const claimable = t !== undefined && t.attempts === task.attempts && (['NOT_STARTED', 'PENDING', 'FAILED'].includes(t.status) || (t.status === 'RUNNING' && t.leaseUntil !== undefined && t.leaseUntil < now));
          if (claimable && t.status !== from[i]) {
            from[i] = t.status;
            next.push(i);
          }
        });
        open = next.sort((a, b) => a - b);
      }
    }
    await Promise.all(claims.map((c, i) => (claimed[i] ? this.endDeadRun(c.task, c.run, now) : undefined)));
    return claimed;
  }

  getAppliedVersion = (instance: string, database: string, version: string): Promise<AppliedVersion | undefined> =>
    this.store.get<AppliedVersion>(keys.appliedVersion(instance, database, version));

  async record(run: TaskRun, history: ChangeHistory | undefined, finished: Omit<Activity, 'seq'>, applied: AppliedVersion | undefined, stage: string): Promise<boolean> {
    const activity = this.activityPut({ ...finished, seq: await this.nextActivitySeq(run.project, run.issue) });
    const { taskUpdate, runUpdate, rest } = this.outcomeItems(run, history, applied);
    // The version applied moves the database's schemaVersion, forward only (after the outcome: a
    // crash in between leaves it behind until the next version, never ahead of what ran).
    const advance = async () => {
      if (applied) await this.versions.advanceSchemaVersion(applied.instance, applied.database, applied.version);
    };
    // RUNNING → the outcome, in the stage's counter too (the condition names RUNNING: exact).
    const counted = [taskUpdate, runUpdate, ...rest, activity, countMove(this.store.tableName, { project: run.project, issue: run.issue, stage, id: run.task }, 'RUNNING', run.status)];
    if ((await transact(this.store, counted)) === undefined) {
      await advance();
      return true;
    }
    // The task moved on without this run: what happened on the target is still recorded.
    try {
      await this.store.doc.send(new TransactWriteCommand({ TransactItems: [runUpdate, ...rest, activity] }));
      await advance();
    } catch (e) {
      if (!(e instanceof TransactionCanceledException)) throw e;
      // The run was ended by the attempt that took over: the activity still says what happened.
      await this.store.doc.send(new TransactWriteCommand({ TransactItems: [activity] })).catch((err: unknown) => {
        if (!(err instanceof TransactionCanceledException)) throw err;
      });
    }
    return false;
  }

  /**
   * A batch's outcomes: one transaction per chunk of at most TRANSACTION_ITEMS items (the task, the
   * run, the history, the activity and a backup index entry per task, one summed counter update
   * per stage), conditional per task on its claim still holding, exactly as `record`. A task whose
   * condition fails (canceled, taken over past its lease) is taken out and recorded alone by
   * `record` (the run, history and activity still written, the task keeping its status); the rest
   * go again. No GitOps versions here: a versioned issue's tasks run one by one (run-task.ts).
   */
  async recordBatch(outcomes: readonly BatchOutcome[]): Promise<boolean[]> {
    const recorded = outcomes.map(() => false);
    const built = outcomes.map((o) => {
      const { taskUpdate, runUpdate, rest } = this.outcomeItems(o.run, o.history, undefined);
      return [taskUpdate, runUpdate, ...rest, this.activityPut(o.finished)];
    });
    const alone: number[] = [];
    for (const chunk of chunked(outcomes.map((_, i) => i), (i) => built[i]!.length, (i) => outcomes[i]!.stage)) {
      let open = chunk;
      for (let round = 0; open.length > 0; round++) {
        const counters = countMoves(this.store.tableName, open.map((i) => ({ task: { project: outcomes[i]!.run.project, issue: outcomes[i]!.run.issue, stage: outcomes[i]!.stage, id: outcomes[i]!.run.task }, from: 'RUNNING' as const, to: outcomes[i]!.run.status })));
        const codes = await transact(this.store, [...open.flatMap((i) => built[i]!), ...counters]);
        if (codes === undefined) {
          for (const i of open) recorded[i] = true;
          break;
        }
        let at = 0;
        const next: number[] = [];
        for (const i of open) {
          const mine = codes.slice(at, at + built[i]!.length);
          at += built[i]!.length;
          if (mine.includes('ConditionalCheckFailed')) alone.push(i);
          else next.push(i);
        }
        if (next.length === open.length || round > chunk.length) throw new Error(`a batch record was canceled by a condition on no task's item: ${codes.join(', ')}`);
        open = next;
      }
    }
    // The task moved on without this run: `record` writes what happened, alone (a fresh activity id; this one's is a gap).
    for (const i of alone) {
      const { seq: _seq, ...finished } = outcomes[i]!.finished;
      recorded[i] = await this.record(outcomes[i]!.run, outcomes[i]!.history, finished, undefined, outcomes[i]!.stage);
    }
    return recorded;
  }

  /** An outcome's items: the task (conditional on this run's claim), the run (still RUNNING), the history, the applied version, the backup index entry. */
  private outcomeItems(run: TaskRun, history: ChangeHistory | undefined, applied: AppliedVersion | undefined) {
    const table = this.store.tableName;
    const runUpdate = {
      Update: {
        TableName: table,
        Key: keys.taskRun(run.project, run.issue, run.task, run.attempt),
        UpdateExpression: 'SET #status = :status, endTime = :t, detail = :detail, #result = :result',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
        ExpressionAttributeValues: { ':status': run.status, ':t': run.endTime, ':detail': run.detail, ':result': run.result, ':running': 'RUNNING' },
      },
    };
    const historyPut = history && {
      Put: {
        TableName: table,
        Item: entityItem('ChangeHistory', keys.changeHistory(history.instance, history.database, history.id), history),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    // GitOps: the version now applied to the database (the runner's skip and drift check reads it).
    const appliedPut = applied && { Put: { TableName: table, Item: toItem('AppliedVersion', keys.appliedVersion(applied.instance, applied.database, applied.version), applied) } };
    const backupPut = backupIndexPut(table, run, history);
    const rest = [historyPut, appliedPut, backupPut].filter((x) => x !== undefined);
    const taskUpdate = {
      Update: {
        TableName: table,
        Key: keys.task(run.project, run.issue, run.task),
        UpdateExpression: 'SET #status = :status, version = version + :one REMOVE leaseUntil, runId',
        ConditionExpression: '#status = :running AND runId = :run',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': run.status, ':running': 'RUNNING', ':run': run.id, ':one': 1 },
      },
    };
    return { taskUpdate, runUpdate, rest };
  }

  async appendActivity(activity: Omit<Activity, 'seq'>): Promise<void> {
    await appendActivity(this.store, activity);
  }
}
