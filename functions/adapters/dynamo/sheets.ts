// Sheets in DynamoDB. The sheet item (no content) sits in its project's sheets partition; its
// content, as UTF-8 bytes, is cut into chunks of CHUNK_BYTES stored as binary items under the
// sheet's own partition, keyed by the sheet's version. A create or update writes the new chunks
// and the sheet item in one transaction; the old version's chunks are deleted afterwards. A
// reader reads the sheet item, then the chunks of exactly that version; if those are gone (an
// update got in between), it reads again. So a 1 MiB sheet round-trips byte for byte, no item
// comes near the 400 KB limit, and a reader never mixes chunks of two versions.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModificationError } from '../../../domain/common/errors.js';
import { sheetName, type Sheet, type SheetRepo, type SheetSummary } from '../../../domain/sheets/sheets.js';
import { keys } from './keys.js';
import { fromItem, toItem } from './item.js';
import type { DynamoStore } from './store.js';

/** Bytes per chunk item: well under DynamoDB's 400 KB item limit. */
export const CHUNK_BYTES = 300_000;

/** Cuts `content` into UTF-8 byte chunks (a multibyte character may straddle two chunks). */
export function chunkContent(content: string, size = CHUNK_BYTES): Buffer[] {
  const bytes = Buffer.from(content, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** Joins chunks back (in index order) into the exact text. */
export const joinChunks = (chunks: readonly Uint8Array[]): string => Buffer.concat(chunks.map((c) => Buffer.from(c))).toString('utf8');

type Stored = SheetSummary & { chunks: number };

export class DynamoSheetRepo implements SheetRepo {
  constructor(private readonly store: DynamoStore) {}

  private chunkPuts(project: string, id: number, version: number, content: string) {
    return chunkContent(content).map((data, index) => ({
      Put: { TableName: this.store.tableName, Item: toItem('SheetChunk', keys.sheetChunk(project, id, version, index), { index, data }) },
    }));
  }

  async get(project: string, id: number): Promise<Sheet | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.store.get<Stored>(keys.sheet(project, id));
      if (!stored) return undefined;
      const items = await this.store.queryAll(keys.sheetChunkPartition(project, id), keys.sheetChunkPrefix(stored.version));
      if (items.length !== stored.chunks) continue; // an update replaced this version meanwhile: read again
      const { chunks: _chunks, contentBytes: _bytes, ...sheet } = stored;
      return { ...sheet, content: joinChunks(items.map((i) => i.data as Uint8Array)) };
    }
    throw new ConcurrentModificationError(sheetName(project, id));
  }

  async listAll(project: string): Promise<SheetSummary[]> {
    const items = await this.store.queryAll(keys.sheetsPartition(project), keys.sheetPrefix);
    return items.map((i) => {
      const { chunks: _chunks, ...summary } = fromItem<Stored>(i)!;
      return summary;
    });
  }

  async create(sheet: Omit<Sheet, 'id' | 'version'>): Promise<Sheet> {
    const counted = await this.store.doc.send(
      new UpdateCommand({
        TableName: this.store.tableName,
        Key: keys.sheetCounter(sheet.project),
        UpdateExpression: 'ADD #n :one',
        ExpressionAttributeNames: { '#n': 'next' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const id = Number(counted.Attributes?.next);
    const created: Sheet = { ...sheet, id, version: 1 };
    await this.store.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.store.tableName, Item: toItem('Sheet', keys.sheet(sheet.project, id), this.summary(created)), ConditionExpression: 'attribute_not_exists(pk)' } },
          ...this.chunkPuts(sheet.project, id, 1, sheet.content),
        ],
      }),
    );
    return created;
  }

  private summary(s: Sheet): Stored {
    const { content, ...rest } = s;
    return { ...rest, contentBytes: Buffer.byteLength(content, 'utf8'), chunks: chunkContent(content).length };
  }

  async update(next: Sheet, expectedVersion: number): Promise<Sheet> {
    const written: Sheet = { ...next, version: expectedVersion + 1 };
    try {
      await this.store.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.store.tableName,
                Item: toItem('Sheet', keys.sheet(next.project, next.id), this.summary(written)),
                ConditionExpression: 'version = :v',
                ExpressionAttributeValues: { ':v': expectedVersion },
              },
            },
            ...this.chunkPuts(next.project, next.id, written.version, next.content),
          ],
        }),
      );
    } catch (e) {
      if (e instanceof TransactionCanceledException) throw new ConcurrentModificationError(sheetName(next.project, next.id));
      throw e;
    }
    await this.deleteChunks(next.project, next.id, (v) => v !== written.version);
    return written;
  }

  async delete(project: string, id: number, expectedVersion: number): Promise<void> {
    try {
      await this.store.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.store.tableName,
                Key: keys.sheet(project, id),
                ConditionExpression: 'version = :v',
                ExpressionAttributeValues: { ':v': expectedVersion },
              },
            },
          ],
        }),
      );
    } catch (e) {
      if (e instanceof TransactionCanceledException) throw new ConcurrentModificationError(sheetName(project, id));
      throw e;
    }
    await this.deleteChunks(project, id, () => true);
  }

  /** Removes the chunks of versions `drop` selects (the version is the sort key's second part). */
  private async deleteChunks(project: string, id: number, drop: (version: number) => boolean): Promise<void> {
    const items = await this.store.queryAll(keys.sheetChunkPartition(project, id), keys.sheetChunkPrefix());
    const doomed = items.filter((i) => drop(Number(String(i.sk).split('#')[1])));
    // Transactions of up to 100 deletes (no BatchWriteItem grant needed); a leftover is harmless.
    for (let i = 0; i < doomed.length; i += 100) {
      const items = doomed.slice(i, i + 100).map((d) => ({ Delete: { TableName: this.store.tableName, Key: { pk: d.pk, sk: d.sk } } }));
      await this.store.doc.send(new TransactWriteCommand({ TransactItems: items }));
    }
  }
}
