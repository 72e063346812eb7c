// Recorded schemas: each snapshot is the model's JSON, gzipped (a 2,000-table schema of a few MB
// shrinks about tenfold) and cut into binary chunks under the database's own schema partition,
// keyed by checksum; then the head item names it. Chunks are written before the head (or with it,
// in one transaction), so a reader that finds a head always finds its chunks.
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DatabaseSchema } from '../../../domain/schema/model.js';
import { headKey, type SchemaHead, type SchemaRepo } from '../../../domain/schema/ports.js';
import { keys } from './keys.js';
import { fromItem, toItem } from './item.js';
import type { DynamoStore } from './store.js';
import { CHUNK_BYTES } from './sheets.js';

/** A transaction holds at most 4 MB: 13 chunks of CHUNK_BYTES do not fit with their head. */
const TRANSACTION_CHUNKS = 13;

const headOf = (item: SchemaHead): SchemaHead => ({
  checksum: item.checksum, syncTime: item.syncTime, ...(item.fingerprint ? { fingerprint: item.fingerprint } : {}), ...(item.baseline ? { baseline: item.baseline } : {}),
});

export class DynamoSchemaRepo implements SchemaRepo {
  constructor(private readonly store: DynamoStore) {}

  async head(instance: string, database: string): Promise<SchemaHead | undefined> {
    const item = await this.store.get<SchemaHead>(keys.schemaHead(instance, database));
    return item ? headOf(item) : undefined;
  }

  /** One consistent BatchGetItem per 100 databases (the task runner's grant). */
  async headsOf(targets: readonly { instance: string; database: string }[]): Promise<Map<string, SchemaHead>> {
    const wanted = [...new Map(targets.map((t) => [headKey(t.instance, t.database), keys.schemaHead(t.instance, t.database)])).values()];
    const items = await this.store.batchGetConsistent(wanted, 'the schema heads');
    return new Map(items.map((i) => [headKey(String(i.instance), String(i.database)), headOf(fromItem<SchemaHead>(i)!)]));
  }

  async snapshot(instance: string, database: string, checksum: string): Promise<DatabaseSchema | undefined> {
    const items = await this.store.queryAll(keys.schemaPartition(instance, database), keys.schemaChunkPrefix(checksum));
    if (items.length === 0 || items.length !== Number(items[0]!.of)) return undefined;
    const bytes = Buffer.concat(items.map((i) => Buffer.from(i.data as Uint8Array)));
    return JSON.parse(gunzipSync(bytes).toString('utf8')) as DatabaseSchema;
  }

  async record(instance: string, database: string, model: DatabaseSchema | undefined, head: SchemaHead, known?: { head: SchemaHead | undefined }): Promise<void> {
    const headPut = { TableName: this.store.tableName, Item: toItem('SchemaHead', keys.schemaHead(instance, database), { instance, database, ...head }) };
    if (model) {
      const current = known ? known.head : await this.head(instance, database);
      if (current?.checksum !== head.checksum) {
        const chunks = this.chunkItems(instance, database, model, head.checksum);
        // A snapshot that fits one transaction goes with its head: one request, never one without the other.
        if (chunks.length < TRANSACTION_CHUNKS) {
          await this.store.doc.send(new TransactWriteCommand({ TransactItems: [...chunks.map((Item) => ({ Put: { TableName: this.store.tableName, Item } })), { Put: headPut }] }));
          return;
        }
        await this.store.batchWrite(chunks.map((Item) => ({ PutRequest: { Item } })));
      }
    }
    await this.store.doc.send(new PutCommand(headPut));
  }

  async storeSnapshot(instance: string, database: string, model: DatabaseSchema, checksum: string): Promise<void> {
    await this.store.batchWrite(this.chunkItems(instance, database, model, checksum).map((Item) => ({ PutRequest: { Item } })));
  }

  private chunkItems(instance: string, database: string, model: DatabaseSchema, checksum: string) {
    const zipped = gzipSync(JSON.stringify(model));
    const parts: Buffer[] = [];
    for (let i = 0; i < zipped.length; i += CHUNK_BYTES) parts.push(zipped.subarray(i, i + CHUNK_BYTES));
    return parts.map((data, index) => toItem('SchemaChunk', keys.schemaChunk(instance, database, checksum, index), { instance, database, of: parts.length, data }));
  }
}
