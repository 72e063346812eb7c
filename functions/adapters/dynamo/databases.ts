// Databases and their tables live in their instance's partition: `DB#name` and
// `TABLE#db#schema.table` items, so sync reads an instance's whole inventory with one Query.
// gsi1 (`PROJECT#p`) lists a project's databases across instances.
import { ConditionalCheckFailedException, QueryCommand, TransactionCanceledException, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { eachLimit, type ListOptions, type Page } from '../../../domain/common/values.js';
import type { Database, SyncPlan, Table } from '../../../domain/inventory/databases.js';
import { ConcurrentModificationError } from '../../../domain/common/errors.js';
import { databaseName } from '../../../domain/common/names.js';
import type { DatabaseFilter, DatabaseRepo } from '../../../domain/inventory/ports.js';
import { keys } from './keys.js';
import { GSI1 } from './table.js';
import { KEY_ATTRIBUTES, fromItem, toItem } from './item.js';
import { fromAttr, fromWire, toWire, type WireItem } from './wire.js';
import type { DynamoStore } from './store.js';

type Item = Record<string, unknown>;

/** DynamoDB's limit of items per transaction. */
const TRANSACTION_MAX = 100;
/** Single-item writes in flight at once during a sync. */
const WRITE_CONCURRENCY = 16;

const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

export const databaseItem = (d: Database): Item => ({
  ...toItem('Database', keys.database(d.instance, d.name), d),
  ...keys.databaseInProject(d.project, d.instance, d.name),
});

const tableItem = (instance: string, t: Table): Item =>
  toItem('Table', keys.table(instance, t.database, t.schema, t.name), { instance, database: t.database, schema: t.schema, name: t.name });

export class DynamoDatabaseRepo implements DatabaseRepo {
  constructor(private readonly store: DynamoStore) {}

  get = (instance: string, name: string): Promise<Database | undefined> => this.store.get<Database>(keys.database(instance, name));

  listByInstance(instance: string, options: ListOptions, keep: DatabaseFilter): Promise<Page<Database>> {
    return this.page(
      {
        TableName: this.store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: keys.instancePartition(instance) }, ':prefix': { S: keys.databasePrefix } },
        ConsistentRead: true,
      },
      ['pk', 'sk'],
      options,
      keep,
    );
  }

  listByProject(project: string, options: ListOptions, keep: DatabaseFilter): Promise<Page<Database>> {
    const { gsi1pk, prefix } = keys.projectDatabases(project);
    return this.page(
      {
        TableName: this.store.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: gsi1pk }, ':prefix': { S: prefix } },
      },
      ['pk', 'sk', 'gsi1pk', 'gsi1sk'],
      options,
      keep,
    );
  }

  /**
   * One page of kept databases; `next` is the key of the last one returned. Read in wire form and
   * converted by hand (wire.ts): planning a large group reads every database of the project.
   */
  private async page(query: QueryCommandInput, keyAttributes: string[], options: ListOptions, keep: DatabaseFilter): Promise<Page<Database>> {
    const kept: WireItem[] = [];
    const entities: Database[] = [];
    let start = options.cursor === undefined ? undefined : toWire(options.cursor as Item);
    for (;;) {
      const out = await this.store.doc.send(new QueryCommand({ ...query, Limit: options.limit + 1, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const item of out.Items ?? []) {
        const d = fromWire(item, KEY_ATTRIBUTES) as unknown as Database;
        if (keep(d)) {
          kept.push(item);
          entities.push(d);
        }
      }
      if (kept.length > options.limit) {
        const last = kept[options.limit - 1]!;
        return {
          items: entities.slice(0, options.limit),
          next: Object.fromEntries(keyAttributes.map((k) => [k, fromAttr(last[k]!)])),
        };
      }
      start = out.LastEvaluatedKey;
      if (!start) return { items: entities };
    }
  }

  async listAllByInstance(instance: string): Promise<Database[]> {
    const items = await this.store.queryAll(keys.instancePartition(instance), keys.databasePrefix);
    return items.map((i) => fromItem<Database>(i)!);
  }

  async listTables(instance: string, database?: string): Promise<Table[]> {
    const items = await this.store.queryAll(keys.instancePartition(instance), keys.tablePrefix(database));
    return items
      .filter((i) => database === undefined || i.database === database)
      .map((i) => ({ database: String(i.database), schema: String(i.schema), name: String(i.name) }));
  }

  async update(next: Database, expectedVersion: number): Promise<Database> {
    const written: Database = { ...next, version: expectedVersion + 1 };
    const gsi = keys.databaseInProject(next.project, next.instance, next.name);
    try {
      // Only the fields a PATCH owns: a concurrent sync's stamp is never overwritten.
      await this.store.doc.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: keys.database(next.instance, next.name),
          UpdateExpression: 'SET #project = :project, labels = :labels, updateTime = :t, gsi1pk = :gpk, gsi1sk = :gsk, version = :next',
          ConditionExpression: 'version = :v',
          ExpressionAttributeNames: { '#project': 'project' },
          ExpressionAttributeValues: {
            ':project': next.project, ':labels': next.labels, ':t': next.updateTime, ':gpk': gsi.gsi1pk, ':gsk': gsi.gsi1sk,
            ':next': written.version, ':v': expectedVersion,
          },
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new ConcurrentModificationError(databaseName(next.instance, next.name));
      throw e;
    }
    return written;
  }

  async applySync(instance: string, plan: SyncPlan): Promise<void> {
    await this.createAll(plan.create);
    const stamped = new Set(plan.stamp);
    await eachLimit(plan.setState, WRITE_CONCURRENCY, (change) => this.setState(instance, change, stamped.has(change.name) ? plan.time : undefined, plan.time));
    const changed = new Set(plan.setState.map((c) => c.name));
    await eachLimit(plan.stamp.filter((n) => !changed.has(n)), WRITE_CONCURRENCY, (name) => this.stamp(instance, name, plan.time));
    await this.batchWrite([
      ...plan.addTables.map((t) => ({ PutRequest: { Item: tableItem(instance, t) } })),
      ...plan.removeTables.map((t) => ({ DeleteRequest: { Key: keys.table(instance, t.database, t.schema, t.name) } })),
    ]);
  }

  /** New databases, never overwriting one that a concurrent sync created (and a user moved since). */
  private async createAll(created: Database[]): Promise<void> {
    const put = (d: Database) => ({
      TableName: this.store.tableName,
      Item: databaseItem(d),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    for (const chunk of chunks(created, TRANSACTION_MAX)) {
      try {
        await this.store.doc.send(new TransactWriteCommand({ TransactItems: chunk.map((d) => ({ Put: put(d) })) }));
      } catch (e) {
        if (!(e instanceof TransactionCanceledException)) throw e;
        // Some exist already (or a conflict): one by one, keeping whatever is there.
        await eachLimit(chunk, WRITE_CONCURRENCY, async (d) => {
          try {
            await this.store.doc.send(new PutCommand(put(d)));
          } catch (err) {
            if (!(err instanceof ConditionalCheckFailedException)) throw err;
          }
        });
      }
    }
  }

  private async setState(instance: string, change: SyncPlan['setState'][number], stamp: string | undefined, time: string): Promise<void> {
    try {
      await this.store.doc.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: keys.database(instance, change.name),
          UpdateExpression: `SET syncState = :to, updateTime = :t, version = version + :one${stamp ? ', lastSuccessfulSyncTime = :t' : ''}`,
          // Another sync that got there first has made the same change: nothing to do.
          ConditionExpression: 'syncState = :from',
          ExpressionAttributeValues: { ':to': change.to, ':from': change.from, ':t': time, ':one': 1 },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  private async stamp(instance: string, name: string, time: string): Promise<void> {
    try {
      await this.store.doc.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: keys.database(instance, name),
          UpdateExpression: 'SET lastSuccessfulSyncTime = :t',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':t': time },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  async setDrift(instance: string, name: string, drifted: boolean, time: string): Promise<boolean> {
    try {
      // No version bump: drift is the schema's state, not an edit of the database (an etag a client holds stays good).
      await this.store.doc.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: keys.database(instance, name),
          UpdateExpression: drifted ? 'SET drifted = :d, driftTime = :t' : 'SET drifted = :d REMOVE driftTime',
          ConditionExpression: drifted ? 'attribute_exists(pk) AND (attribute_not_exists(drifted) OR drifted = :no)' : 'drifted = :yes',
          ExpressionAttributeValues: drifted ? { ':d': true, ':t': time, ':no': false } : { ':d': false, ':yes': true },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  /** BatchWriteItem in chunks of 25, retrying unprocessed items with backoff. */
  private batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    return this.store.batchWrite(requests, 4);
  }

}
