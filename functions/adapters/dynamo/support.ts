import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ConfigRepo, IdempotencyRecord, IdempotencyRepo, StoredResponse } from '../../../domain/common/ports.js';
import { keys } from './keys.js';
import { toItem } from './item.js';
import type { DynamoStore } from './store.js';

const epoch = (d: Date): number => Math.floor(d.getTime() / 1000);

export class DynamoIdempotencyRepo implements IdempotencyRepo {
  constructor(private readonly store: DynamoStore) {}

  async claim(scope: string, requestHash: string, expiresAt: Date): Promise<IdempotencyRecord | undefined> {
    const key = keys.idempotency(scope);
    try {
      // An expired record (TTL deletion lags) counts as absent.
      await this.store.doc.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: toItem('Idempotency', key, { state: 'IN_PROGRESS', requestHash, ttl: epoch(expiresAt) }),
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': epoch(new Date()) },
        }),
      );
      return undefined;
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
    const out = await this.store.doc.send(new GetCommand({ TableName: this.store.tableName, Key: key, ConsistentRead: true }));
    const item = out.Item;
    if (!item) return this.claim(scope, requestHash, expiresAt);
    return item.state === 'COMPLETED'
      ? { state: 'COMPLETED', requestHash: String(item.requestHash), response: item.response as StoredResponse }
      : { state: 'IN_PROGRESS', requestHash: String(item.requestHash) };
  }

  async complete(scope: string, requestHash: string, response: StoredResponse, expiresAt: Date): Promise<void> {
    await this.store.doc.send(
      new PutCommand({
        TableName: this.store.tableName,
        Item: toItem('Idempotency', keys.idempotency(scope), { state: 'COMPLETED', requestHash, response, ttl: epoch(expiresAt) }),
      }),
    );
  }

  release = (scope: string): Promise<void> => this.store.delete(keys.idempotency(scope));

  async extend(scope: string, requestHash: string, expiresAt: Date): Promise<void> {
    try {
      await this.store.doc.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: keys.idempotency(scope),
          UpdateExpression: 'SET #ttl = :ttl',
          ConditionExpression: '#state = :progress AND requestHash = :hash',
          ExpressionAttributeNames: { '#ttl': 'ttl', '#state': 'state' },
          ExpressionAttributeValues: { ':ttl': epoch(expiresAt), ':progress': 'IN_PROGRESS', ':hash': requestHash },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }
}

export class DynamoConfigRepo implements ConfigRepo {
  private key: Promise<Buffer> | undefined;
  constructor(private readonly store: DynamoStore) {}

  /** Read once per container; the key never changes after the seed wrote it. */
  pageTokenKey(): Promise<Buffer> {
    this.key ??= this.store.get<{ value: string }>(keys.config('pageTokenKey')).then((item) => {
      if (!item) {
        this.key = undefined;
        throw new Error('page token key missing: the seed has not run');
      }
      return Buffer.from(item.value, 'base64');
    });
    return this.key;
  }

  async ensurePageTokenKey(value: Buffer): Promise<void> {
    await this.store.putIfAbsent('Config', keys.config('pageTokenKey'), { value: value.toString('base64') });
  }
}
