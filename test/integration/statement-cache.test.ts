// The runner reads a large issue statement (kept in chunks beside the issue item) once per
// container: the second task of the issue gets it from the cache, byte for byte, without its chunks.
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../domain/common/hash.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { chunkContent } from '../../functions/adapters/dynamo/sheets.js';
import { readIssueCached } from '../../functions/adapters/dynamo/statement-cache.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
beforeAll(async () => {
  t = await freshTable();
});

/** An issue item whose statement is stored in chunks, as DynamoIssueRepo.create stores a large one. */
async function givenChunkedIssue(n: number, statement: string): Promise<Record<string, unknown>> {
  const chunks = chunkContent(statement);
  const item = { ...keys.issue('cache', n), type: 'Issue', project: 'cache', number: n, title: 'big', statement: '', checksum: sha256(statement), statementChunks: chunks.length, version: 1 };
  await t.store.doc.send(new PutCommand({ TableName: t.tableName, Item: item }));
  for (const [index, data] of chunks.entries()) {
    await t.store.doc.send(new PutCommand({ TableName: t.tableName, Item: { ...keys.statementChunk('cache', n, index), type: 'StatementChunk', index, data } }));
  }
  return item;
}

async function dropChunks(n: number, count: number): Promise<void> {
  for (let index = 0; index < count; index++) await t.store.doc.send(new DeleteCommand({ TableName: t.tableName, Key: keys.statementChunk('cache', n, index) }));
}

describe('a chunked issue statement', () => {
  it('is read from its chunks once, then from the cache, for as long as its lifetime', async () => {
    // Prepare
    const statement = `-- ${'é'.repeat(150_000)}\nUPDATE t SET v = 1;`;
    const item = await givenChunkedIssue(1, statement);
    let clock = Date.now();

    // Act: the first task reads the chunks; then they are gone (only the cache can answer)
    const first = await readIssueCached(t.store, item, () => clock);
    await dropChunks(1, Number(item.statementChunks));
    const second = await readIssueCached(t.store, item, () => clock);
    clock += 10 * 60_000 + 1;
    const expired = readIssueCached(t.store, item, () => clock);

    // Assess
    expect(first.statement).toBe(statement);
    expect(second.statement).toBe(statement);
    expect(second).toEqual(first);
    await expect(expired).rejects.toThrow(/0 of \d+ statement chunks found/);
  });

  it('is never taken from another issue: the cache is keyed by the issue and its checksum', async () => {
    // Prepare
    const a = await givenChunkedIssue(2, `SELECT '${'a'.repeat(250_000)}'`);
    const b = await givenChunkedIssue(3, `SELECT '${'b'.repeat(250_000)}'`);

    // Act
    const [ra, rb] = [await readIssueCached(t.store, a), await readIssueCached(t.store, b)];

    // Assess
    expect(ra.statement.slice(8, 10)).toBe('aa');
    expect(rb.statement.slice(8, 10)).toBe('bb');
  });
});
