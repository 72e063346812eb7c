// The prior-backup index (keys.backupIndex): one item per task run that took a backup, in its
// instance's partition, sorted by time; the scheduled cleanup reads it and, once it dropped a
// backup's tables, records the drop on the task run and removes the item in one transaction.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { BackupIndex, BackupIndexEntry } from '../../../domain/backup/cleanup.js';
import { fromItem } from './item.js';
import { keys } from './keys.js';
import type { DynamoStore } from './store.js';

export class DynamoBackupIndex implements BackupIndex {
  constructor(private readonly store: DynamoStore) {}

  async listBefore(instance: string, before: string): Promise<BackupIndexEntry[]> {
    const out: BackupIndexEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.store.doc.send(
        new QueryCommand({
          TableName: this.store.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': keys.backupIndexPartition(instance), ':from': 'BACKUP#', ':to': keys.backupIndexBefore(before) },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push(fromItem<BackupIndexEntry>(item)!);
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async markDropped(e: BackupIndexEntry, dropTime: string): Promise<void> {
    const { tableName } = this.store;
    const entryKey = keys.backupIndex(e.instance, e.createTime, e.project, e.issue, e.task, e.attempt);
    const dropped = {
      Update: {
        TableName: tableName,
        Key: keys.taskRun(e.project, e.issue, e.task, e.attempt),
        UpdateExpression: 'SET #result.#backup.#drop = :t',
        ConditionExpression: 'attribute_exists(#result.#backup)',
        ExpressionAttributeNames: { '#result': 'result', '#backup': 'priorBackup', '#drop': 'dropTime' },
        ExpressionAttributeValues: { ':t': dropTime },
      },
    };
    try {
      await this.store.doc.send(new TransactWriteCommand({ TransactItems: [dropped, { Delete: { TableName: tableName, Key: entryKey } }] }));
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      // The task run is gone (its issue was discarded): the entry goes alone.
      await this.store.doc.send(new DeleteCommand({ TableName: tableName, Key: entryKey }));
    }
  }
}
