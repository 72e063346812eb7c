// DynamoDB implementations of the domain's ports. Every write that must not be lost or doubled
// is conditional: creates on attribute_not_exists, updates on the stored version.
import { BatchWriteItemCommand, ConditionalCheckFailedException, TransactionCanceledException, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, DeleteCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ListOptions, Page } from '../../../domain/common/values.js';
import type { Environment } from '../../../domain/inventory/environments.js';
import { AlreadyExistsError, ConcurrentModificationError } from '../../../domain/common/errors.js';
import { environmentName, userName } from '../../../domain/common/names.js';
import type { EnvironmentRepo, Repos } from '../../../domain/inventory/ports.js';
import type { UserRepo, WorkspaceRepo } from '../../../domain/access/ports.js';
import type { User } from '../../../domain/access/users.js';
import type { Workspace } from '../../../domain/access/workspace.js';
import { keys, type EntityType, type Key } from './keys.js';
import { fromItem, toItem, type Item } from './item.js';
import { DynamoProjectRepo } from './projects.js';
import { DynamoInstanceRepo } from './instances.js';
import { DynamoDatabaseRepo } from './databases.js';

const cancelCodes = (e: unknown): string[] =>
  e instanceof TransactionCanceledException ? (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None') : [];

export class DynamoStore {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * BatchWriteItem over any number of put/delete requests: 25 per call, `inFlight` calls at a
   * time, unprocessed items retried with jittered backoff (throttling), then an error.
   */
  batchWrite(requests: readonly Record<string, unknown>[], inFlight = 4): Promise<void> {
    return this.batches(requests, inFlight, async (pending) => {
      const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
      return (out.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
    });
  }

  /** batchWrite of requests whose items are already in wire form (wire.ts), past the document client's marshalling. */
  batchWriteWire(requests: readonly WriteRequest[], inFlight = 4): Promise<void> {
    return this.batches(requests, inFlight, async (pending) => {
      const out = await this.doc.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
      return out.UnprocessedItems?.[this.tableName] ?? [];
    });
  }

  private async batches<R>(requests: readonly R[], inFlight: number, write: (batch: R[]) => Promise<R[]>): Promise<void> {
    const batches: R[][] = [];
    for (let i = 0; i < requests.length; i += 25) batches.push(requests.slice(i, i + 25));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        let pending = batches[next++]!;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 8) throw new Error(`BatchWriteItem left ${pending.length} items unprocessed after 8 retries`);
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2)));
          pending = await write(pending);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, batches.length) }, worker));
  }

  async get<T>(key: Key): Promise<T | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return fromItem<T>(out.Item);
  }

  /**
   * The items of `wanted` that exist, by consistent BatchGetItems of at most 100 keys, unprocessed
   * keys sent again with backoff. Only for the task runner: no other function is granted BatchGetItem
   * (infra/lib/table.ts). `what` names the keys in the error when throttling outlasts the retries;
   * `projection`: only these attributes (a ProjectionExpression and its names).
   */
  async batchGetConsistent(wanted: readonly Key[], what: string, projection?: { expression: string; names: Record<string, string> }): Promise<Item[]> {
    const project = projection ? { ProjectionExpression: projection.expression, ExpressionAttributeNames: projection.names } : {};
    const items: Item[] = [];
    for (let i = 0; i < wanted.length; i += 100) {
      let pending: Key[] = wanted.slice(i, i + 100);
      for (let round = 1; pending.length > 0; round++) {
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true, ...project } } }));
        items.push(...((out.Responses?.[this.tableName] ?? []) as Item[]));
        pending = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Key[];
        if (pending.length === 0) break;
        if (round >= 10) throw new Error(`${pending.length} keys of ${what} stayed unprocessed after ${round} reads (throttled)`);
        await new Promise((r) => setTimeout(r, Math.min(1_000, 25 * 2 ** round) * (0.5 + Math.random())));
      }
    }
    return items;
  }

  /** The items of `wanted` that exist: consistent GetItems, `inFlight` at a time (no BatchGetItem: not among the functions' grants). */
  async getMany(wanted: readonly Key[], inFlight = 16): Promise<Item[]> {
    const out: Item[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < wanted.length) {
        const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: wanted[next++], ConsistentRead: true }));
        if (res.Item) out.push(res.Item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, wanted.length) }, worker));
    return out;
  }

  /** Every item of the partition with a sort key from `from` to `to`. */
  async queryRange(pk: string, from: string, to: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': pk, ':from': from, ':to': to },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async queryAll(pk: string, prefix: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.doc.send(new QueryCommand(this.prefixQuery(pk, prefix, start)));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private prefixQuery(pk: string, prefix: string, start: Item | undefined, limit?: number): QueryCommandInput {
    return {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
      ConsistentRead: true,
      ...(start ? { ExclusiveStartKey: start } : {}),
      ...(limit ? { Limit: limit } : {}),
    };
  }

  /** One page of a collection, skipping deleted items unless asked; `next` is the last key returned. */
  async page<T extends { state?: string }>(pk: string, prefix: string, options: ListOptions): Promise<Page<T>> {
    const kept: Item[] = [];
    let start = options.cursor as Item | undefined;
    for (;;) {
      const out = await this.doc.send(new QueryCommand(this.prefixQuery(pk, prefix, start, options.limit + 1)));
      for (const item of out.Items ?? []) {
        if (options.showDeleted || item.state !== 'DELETED') kept.push(item);
      }
      if (kept.length > options.limit) {
        const last = kept[options.limit - 1]!;
        return { items: kept.slice(0, options.limit).map((i) => fromItem<T>(i)!), next: { pk: last.pk, sk: last.sk } };
      }
      start = out.LastEvaluatedKey;
      if (!start) return { items: kept.map((i) => fromItem<T>(i)!) };
    }
  }

  /** Replaces an item only if its stored version is `expectedVersion`; bumps the version. */
  async putVersioned<T extends { version: number }>(type: EntityType, key: Key, next: T, expectedVersion: number, name: string): Promise<T> {
    const written = { ...next, version: expectedVersion + 1 };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(type, key, written),
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': expectedVersion },
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new ConcurrentModificationError(name);
      throw e;
    }
    return written;
  }

  /** Creates an item unless its key exists; false when it did. */
  async putIfAbsent(type: EntityType, key: Key, entity: object): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: toItem(type, key, entity), ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async delete(key: Key): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: key }));
  }
}

export class DynamoWorkspaceRepo implements WorkspaceRepo {
  constructor(private readonly store: DynamoStore) {}
  get = (): Promise<Workspace | undefined> => this.store.get<Workspace>(keys.workspace());
  update = (next: Workspace, expectedVersion: number): Promise<Workspace> =>
    this.store.putVersioned('Workspace', keys.workspace(), next, expectedVersion, 'workspace');
}

export class DynamoUserRepo implements UserRepo {
  constructor(private readonly store: DynamoStore) {}

  get = (id: number): Promise<User | undefined> => this.store.get<User>(keys.user(id));

  async getByEmail(email: string): Promise<User | undefined> {
    const ref = await this.store.get<{ userId: number }>(keys.userEmail(email));
    return ref ? this.get(ref.userId) : undefined;
  }

  list = (options: ListOptions): Promise<Page<User>> => this.store.page<User>(keys.usersPartition, keys.userPrefix, options);

  async create(user: Omit<User, 'id' | 'version'>): Promise<User> {
    const { doc, tableName } = this.store;
    if (await this.store.get(keys.userEmail(user.email))) throw new AlreadyExistsError(`user with email ${user.email}`);
    // The counter only moves forward; a create that then loses the email race leaves a gap.
    const counter = await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.counter('users'),
        UpdateExpression: 'ADD n :one SET #type = :type',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':one': 1, ':type': 'Counter' },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const created: User = { ...user, id: Number(counter.Attributes!.n), version: 1 };
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: toItem('User', keys.user(created.id), created), ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Put: {
                TableName: tableName,
                Item: toItem('UserEmail', keys.userEmail(created.email), { userId: created.id }),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (e) {
      if (cancelCodes(e)[1] === 'ConditionalCheckFailed') throw new AlreadyExistsError(`user with email ${user.email}`);
      // A concurrent transaction on the same email item: a lost race (409), not a 500.
      if (cancelCodes(e).includes('TransactionConflict')) throw new ConcurrentModificationError('users');
      throw e;
    }
    return created;
  }

  update = (next: User, expectedVersion: number): Promise<User> =>
    this.store.putVersioned('User', keys.user(next.id), next, expectedVersion, userName(next.id));

  async countActiveAdmins(): Promise<number> {
    const items = await this.store.queryAll(keys.usersPartition, keys.userPrefix);
    return items.filter((u) => u.role === 'workspaceAdmin' && u.state === 'ACTIVE' && u.userType === 'USER').length;
  }
}

export class DynamoEnvironmentRepo implements EnvironmentRepo {
  constructor(private readonly store: DynamoStore) {}

  get = (id: string): Promise<Environment | undefined> => this.store.get<Environment>(keys.environment(id));

  async listAll(): Promise<Environment[]> {
    const items = await this.store.queryAll(keys.environmentsPartition, keys.environmentPrefix);
    return items.map((i) => fromItem<Environment>(i)!);
  }

  private versionedPut(e: Environment) {
    return {
      Put: {
        TableName: this.store.tableName,
        Item: toItem('Environment', keys.environment(e.id), { ...e, version: e.version + 1 }),
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': e.version },
      },
    };
  }

  async create(created: Omit<Environment, 'version'>, shifted: Environment[]): Promise<Environment> {
    const env: Environment = { ...created, version: 1 };
    try {
      await this.store.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.store.tableName, Item: toItem('Environment', keys.environment(env.id), env), ConditionExpression: 'attribute_not_exists(pk)' } },
            ...shifted.map((e) => this.versionedPut(e)),
          ],
        }),
      );
    } catch (e) {
      const codes = cancelCodes(e);
      if (codes[0] === 'ConditionalCheckFailed') throw new AlreadyExistsError(environmentName(env.id));
      if (codes.includes('ConditionalCheckFailed') || codes.includes('TransactionConflict')) throw new ConcurrentModificationError('environments');
      throw e;
    }
    return env;
  }

  async updateMany(next: Environment[]): Promise<Environment[]> {
    try {
      await this.store.doc.send(new TransactWriteCommand({ TransactItems: next.map((e) => this.versionedPut(e)) }));
    } catch (e) {
      const codes = cancelCodes(e);
      if (codes.includes('ConditionalCheckFailed') || codes.includes('TransactionConflict')) {
        throw new ConcurrentModificationError(next.length === 1 ? environmentName(next[0]!.id) : 'environments');
      }
      throw e;
    }
    return next.map((e) => ({ ...e, version: e.version + 1 }));
  }
}

export const dynamoRepos = (store: DynamoStore): Repos => ({
  workspace: new DynamoWorkspaceRepo(store),
  users: new DynamoUserRepo(store),
  environments: new DynamoEnvironmentRepo(store),
  projects: new DynamoProjectRepo(store),
  instances: new DynamoInstanceRepo(store),
  databases: new DynamoDatabaseRepo(store),
});
