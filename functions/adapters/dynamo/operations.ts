// Long-running operations, one item each. The summary of a sync names every created or vanished
// database (10,000 names pass DynamoDB's 400 KB item limit as JSON), so it is stored gzipped.
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Operation, OperationRepo, SyncSummary } from '../../../domain/schema/sync.js';
import type { SyncScheduleRepo } from '../../../domain/schema/ports.js';
import { keys } from './keys.js';
import { toItem } from './item.js';
import type { DynamoStore } from './store.js';

type Stored = Omit<Operation, 'summary'> & { summary: Uint8Array };

export class DynamoOperationRepo implements OperationRepo {
  constructor(private readonly store: DynamoStore) {}

  private item(op: Operation) {
    const { summary, ...rest } = op;
    return toItem('Operation', keys.operation(op.id), { ...rest, summary: gzipSync(JSON.stringify(summary)) });
  }

  async create(op: Operation): Promise<void> {
    await this.store.doc.send(new PutCommand({ TableName: this.store.tableName, Item: this.item(op), ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  async get(id: string): Promise<Operation | undefined> {
    const stored = await this.store.get<Stored>(keys.operation(id));
    if (!stored) return undefined;
    return { ...stored, summary: JSON.parse(gunzipSync(Buffer.from(stored.summary)).toString('utf8')) as SyncSummary };
  }

  async put(op: Operation): Promise<void> {
    await this.store.doc.send(new PutCommand({ TableName: this.store.tableName, Item: this.item(op) }));
  }
}

/** The scheduled sync's last round: one item, claimed with a condition on its time. */
export class DynamoSyncScheduleRepo implements SyncScheduleRepo {
  constructor(private readonly store: DynamoStore) {}

  async claim(time: string, dueBefore: string): Promise<boolean> {
    const put = (condition: string, values?: Record<string, string>) =>
      this.store.doc.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: toItem('SyncSchedule', keys.syncSchedule(), { lastRun: time }),
          ConditionExpression: condition,
          ...(values ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    try {
      await put('attribute_exists(pk) AND lastRun <= :due', { ':due': dueBefore });
      return true;
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
    // Not due, or the first tick ever: that one starts the clock.
    await put('attribute_not_exists(pk)').catch((e: unknown) => {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    });
    return false;
  }
}
