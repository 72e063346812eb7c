// Recorded schemas: each snapshot is the model's JSON, gzipped (a 2,000-table schema of a few MB
// shrinks about tenfold) and cut into binary chunks under the database's own schema partition,
// keyed by checksum; then the head item names it. Chunks are written before the head, so a
// reader that finds a head always finds its chunks.
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DatabaseSchema } from '../../../domain/schema/model.js';
import type { SchemaHead, SchemaRepo } from '../../../domain/schema/ports.js';
import { keys } from './keys.js';
import { toItem } from './item.js';
import type { DynamoStore } from './store.js';
import { CHUNK_BYTES } from './sheets.js';

export class DynamoSchemaRepo implements SchemaRepo {
  constructor(private readonly store: DynamoStore) {}

  async head(instance: string, database: string): Promise<SchemaHead | undefined> {
    const item = await this.store.get<SchemaHead>(keys.schemaHead(instance, database));
    return item
      ? { checksum: item.checksum, syncTime: item.syncTime, ...(item.fingerprint ? { fingerprint: item.fingerprint } : {}), ...(item.baseline ? { baseline: item.baseline } : {}) }
      : undefined;
  }

  async snapshot(instance: string, database: string, checksum: string): Promise<DatabaseSchema | undefined> {
    const items = await this.store.queryAll(keys.schemaPartition(instance, database), keys.schemaChunkPrefix(checksum));
    if (items.length === 0 || items.length !== Number(items[0]!.of)) return undefined;
    const bytes = Buffer.concat(items.map((i) => Buffer.from(i.data as Uint8Array)));
    return JSON.parse(gunzipSync(bytes).toString('utf8')) as DatabaseSchema;
  }

  async record(instance: string, database: string, model: DatabaseSchema | undefined, head: SchemaHead, known?: { head: SchemaHead | undefined }): Promise<void> {
    if (model) {
      const current = known ? known.head : await this.head(instance, database);
      if (current?.checksum !== head.checksum) await this.storeSnapshot(instance, database, model, head.checksum);
    }
    await this.store.doc.send(new PutCommand({ TableName: this.store.tableName, Item: toItem('SchemaHead', keys.schemaHead(instance, database), { instance, database, ...head }) }));
  }

  async storeSnapshot(instance: string, database: string, model: DatabaseSchema, checksum: string): Promise<void> {
    const zipped = gzipSync(JSON.stringify(model));
    const parts: Buffer[] = [];
    for (let i = 0; i < zipped.length; i += CHUNK_BYTES) parts.push(zipped.subarray(i, i + CHUNK_BYTES));
    await this.store.batchWrite(
      parts.map((data, index) => ({
        PutRequest: { Item: toItem('SchemaChunk', keys.schemaChunk(instance, database, checksum, index), { instance, database, of: parts.length, data }) },
      })),
    );
  }
}
