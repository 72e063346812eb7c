// The task runner's writes in DynamoDB: the claim and the outcome, each one conditional
// transaction in the issue's item collection (plus the change history in the instance's), each
// with its activity. Five requests per run (six with the instance read): a batch is thousands of
// runs, and every request counts.
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Activity, ChangeHistory, Issue, TaskRun } from '../../../domain/pipeline/model.js';
import type { AppliedVersion, StoredTask, TaskRunStore } from '../../../domain/pipeline/task-run.js';
import { appendActivity, entityItem, readEntity } from './issues.js';
import { readIssueCached } from './statement-cache.js';
import { keys, type Key } from './keys.js';
import { toItem } from './item.js';
import { countMove, transact } from './task-counts.js';
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

  async getTaskAndIssue(project: string, issue: number, task: number): Promise<{ task?: StoredTask; issue?: Issue }> {
    const taskKey = keys.task(project, issue, task);
    const issueKey = keys.issue(project, issue);
    const out = await this.store.doc.send(
      new BatchGetCommand({ RequestItems: { [this.store.tableName]: { Keys: [taskKey, issueKey], ConsistentRead: true } } }),
    );
    // Unprocessed keys (throttling) are read one by one.
    if (Object.keys(out.UnprocessedKeys ?? {}).length > 0) {
      const [t, i] = await Promise.all([this.getTask(project, issue, task), this.getIssue(project, issue)]);
      return { ...(t ? { task: t } : {}), ...(i ? { issue: i } : {}) };
    }
    const items = out.Responses?.[this.store.tableName] ?? [];
    const found = (key: Key) => items.find((it) => it.pk === key.pk && it.sk === key.sk);
    const t = found(taskKey);
    const i = found(issueKey);
    return { ...(t ? { task: readEntity<StoredTask>(t) } : {}), ...(i ? { issue: await readIssueCached(this.store, i) } : {}) };
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
        // A takeover (RUNNING → RUNNING) moves no count.
        ...(from === 'RUNNING' ? [] : [countMove(table, task, from, 'RUNNING')]),
      ]);
      if (codes === undefined) break;
      if (codes[0] !== 'ConditionalCheckFailed' || round >= 4) return false;
      const current = await this.getTask(task.project, task.issue, task.id);
      if (!claimable(current) || current.status === from) return false;
      from = current.status;
    }
    // The run a dead runner left RUNNING (taken over past its lease, or reset by `:run`) ends FAILED.
    if (task.attempts > 0) {
      await this.store.doc
        .send(new UpdateCommand({
          TableName: table,
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
    return true;
  }

  getAppliedVersion = (instance: string, database: string, version: string): Promise<AppliedVersion | undefined> =>
    this.store.get<AppliedVersion>(keys.appliedVersion(instance, database, version));

  async record(run: TaskRun, history: ChangeHistory | undefined, finished: Omit<Activity, 'seq'>, applied: AppliedVersion | undefined, stage: string): Promise<boolean> {
    const table = this.store.tableName;
    const activity = this.activityPut({ ...finished, seq: await this.nextActivitySeq(run.project, run.issue) });
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
    // The version applied moves the database's schemaVersion, forward only (after the outcome: a
    // crash in between leaves it behind until the next version, never ahead of what ran).
    const advance = async () => {
      if (applied) await this.versions.advanceSchemaVersion(applied.instance, applied.database, applied.version);
    };
    // RUNNING → the outcome, in the stage's counter too (the condition names RUNNING: exact).
    const counted = [taskUpdate, runUpdate, ...rest, activity, countMove(table, { project: run.project, issue: run.issue, stage, id: run.task }, 'RUNNING', run.status)];
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

  async appendActivity(activity: Omit<Activity, 'seq'>): Promise<void> {
    await appendActivity(this.store, activity);
  }
}
