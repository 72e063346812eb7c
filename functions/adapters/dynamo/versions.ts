// Versions in order, per database (domain/pipeline/versions.ts) in DynamoDB: each versioned task is
// indexed in its database's instance partition when its issue is made, sorted by version, so the
// runner finds the lower versions made for that database with one Query and their status with one
// BatchGet. An entry whose task is settled for good is deleted when first seen so: the index stays
// as small as the versions still in flight.
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { versionSortKey } from '../../../domain/common/migrations.js';
import type { Issue, IssueStatus, Task, TaskStatus } from '../../../domain/pipeline/model.js';
import type { StoredTask } from '../../../domain/pipeline/task-run.js';
import { isSettled, type VersionedTask, type VersionedTaskState } from '../../../domain/pipeline/versions.js';
import { keys, type Key } from './keys.js';
import { fromItem, toItem } from './item.js';
import type { DynamoStore } from './store.js';
import { countMove, transact } from './task-counts.js';

type Item = Record<string, unknown>;

/** The index items of a versioned issue's tasks (none for an issue without a migrationVersion). */
export function versionedTaskItems(issue: Issue, tasks: readonly Task[]): Item[] {
  const version = issue.migrationVersion;
  if (version === undefined) return [];
  return tasks.flatMap((t) => {
    if (!('database' in t.target)) return [];
    const entry: VersionedTask = { instance: t.target.instance, database: t.target.database, version, project: issue.project, issue: issue.number, task: t.id, createTime: issue.createTime };
    return [toItem('VersionedTask', keys.versionedTask(entry.instance, entry.database, version, entry.project, entry.issue, entry.task), entry)];
  });
}

const keyOf = (e: VersionedTask): Key => keys.versionedTask(e.instance, e.database, e.version, e.project, e.issue, e.task);

export class DynamoVersionOrder {
  constructor(private readonly store: DynamoStore) {}

  /** The database's versioned tasks below `version`, with their issue's and task's status; settled ones are forgotten. */
  async lowerVersions(instance: string, database: string, version: string): Promise<VersionedTaskState[]> {
    const { from, to } = keys.versionedTasksBelow(database, version);
    const entries: VersionedTask[] = [];
    let start: Item | undefined;
    do {
      const out = await this.store.doc.send(new QueryCommand({
        TableName: this.store.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': keys.instancePartition(instance), ':from': from, ':to': to },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }));
      for (const item of out.Items ?? []) entries.push(fromItem<VersionedTask>(item)!);
      start = out.LastEvaluatedKey;
    } while (start);
    if (entries.length === 0) return [];
    const states = await this.statesOf(entries);
    const settled = states.filter(isSettled).map((s) => s.entry);
    if (settled.length > 0) await this.store.batchWrite(settled.map((e) => ({ DeleteRequest: { Key: keyOf(e) } })));
    return states;
  }

  /** Issue and task status of each entry: consistent reads of the two items, their status only. */
  private async statesOf(entries: VersionedTask[]): Promise<VersionedTaskState[]> {
    const status = new Map<string, string>();
    const wanted = new Map<string, Key>();
    for (const e of entries) {
      for (const k of [keys.issue(e.project, e.issue), keys.task(e.project, e.issue, e.task)]) wanted.set(`${k.pk}|${k.sk}`, k);
    }
    const items = await this.store.batchGetConsistent([...wanted.values()], 'the versioned tasks and their issues', { expression: 'pk, sk, #s', names: { '#s': 'status' } });
    for (const item of items) status.set(`${String(item.pk)}|${String(item.sk)}`, String(item.status));
    return entries.map((entry) => {
      const i = keys.issue(entry.project, entry.issue);
      const t = keys.task(entry.project, entry.issue, entry.task);
      const issueStatus = status.get(`${i.pk}|${i.sk}`) as IssueStatus | undefined;
      const taskStatus = status.get(`${t.pk}|${t.sk}`) as TaskStatus | undefined;
      return { entry, ...(issueStatus ? { issueStatus } : {}), ...(taskStatus ? { taskStatus } : {}) };
    });
  }

  /**
   * The task PENDING with what it waits for; `waitingSince` set by the first wait only. Answers
   * waitingSince, or undefined when the task moved on (claimed, settled) since it was read. From
   * NOT_STARTED or FAILED the stage's counter moves with it (one transaction, conditional on that
   * exact status; tried again from where it is should it have moved within those since).
   */
  async markWaiting(task: StoredTask, detail: string, now: string): Promise<string | undefined> {
    const waitable: TaskStatus[] = ['NOT_STARTED', 'PENDING', 'FAILED'];
    let current: StoredTask | undefined = task;
    for (let round = 0; round < 5 && current && current.attempts === task.attempts && waitable.includes(current.status); round++) {
      const from: TaskStatus = current.status;
      const update = {
        TableName: this.store.tableName,
        Key: keys.task(task.project, task.issue, task.id),
        UpdateExpression: 'SET #s = :pending, waitDetail = :detail, waitingSince = if_not_exists(waitingSince, :now)',
        ConditionExpression: '#s = :from AND attempts = :attempts',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':from': from, ':detail': detail, ':now': now, ':attempts': task.attempts },
      };
      if (from === 'PENDING') {
        try {
          const out = await this.store.doc.send(new UpdateCommand({ ...update, ReturnValues: 'ALL_NEW' }));
          return String(out.Attributes!.waitingSince);
        } catch (e) {
          if (!(e instanceof ConditionalCheckFailedException)) throw e;
        }
      } else if ((await transact(this.store, [{ Update: update }, countMove(this.store.tableName, task, from, 'PENDING')])) === undefined) {
        // Not PENDING before, so no wait was recorded unless one was kept from an earlier one.
        return current.waitingSince ?? now;
      }
      const out = await this.store.doc.send(new GetCommand({ TableName: this.store.tableName, Key: keys.task(task.project, task.issue, task.id), ConsistentRead: true }));
      // Status, attempts and waitingSince are all this reads (its `type` is the entity's, unused here).
      const again = fromItem<StoredTask>(out.Item);
      if (again?.status === from) return undefined;
      current = again;
    }
    return undefined;
  }

  /** The database's schemaVersion moves to `version` only if that is higher (a conditional write: concurrent appliers cannot move it back). */
  async advanceSchemaVersion(instance: string, database: string, version: string): Promise<void> {
    const order = versionSortKey(version);
    try {
      await this.store.doc.send(new UpdateCommand({
        TableName: this.store.tableName,
        Key: keys.database(instance, database),
        UpdateExpression: 'SET schemaVersion = :v, schemaVersionOrder = :k',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(schemaVersionOrder) OR schemaVersionOrder < :k)',
        ExpressionAttributeValues: { ':v': version, ':k': order },
      }));
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }
}
