// Idempotency-Key on creates against DynamoDB Local, through the real handlers.
import { beforeAll, describe, expect, it } from 'vitest';
import { apiClient, importHandlers, scanTable, type Api } from '../support/api.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
let api: Api;

beforeAll(async () => {
  t = await freshTable();
  api = apiClient(await importHandlers());
  await api('POST', '/v1/users', { body: { email: 'dba@example.com', role: 'workspaceDBA' } });
});

const withKey = (key: string, body: unknown, as?: string) => ({ body, headers: { 'idempotency-key': key }, ...(as ? { as } : {}) });
const ofType = (items: Record<string, unknown>[], type: string) => items.filter((i) => i.type === type);

describe('Idempotency-Key', () => {
  it('replays the first response to a retry with the same key and body, and writes nothing new', async () => {
    // Prepare
    const first = await api('POST', '/v1/environments', withKey('key-1', { id: 'dev', title: 'Dev' }));
    const before = await scanTable(t.store);

    // Act
    const retry = await api('POST', '/v1/environments', withKey('key-1', { id: 'dev', title: 'Dev' }));

    // Assess
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await scanTable(t.store)).toEqual(before);
    expect(ofType(before, 'Environment')).toHaveLength(3);
  });

  it('replays a user create without allocating another id', async () => {
    // Prepare
    const first = await api('POST', '/v1/users', withKey('key-u', { email: 'ivy@example.com' }));
    const before = await scanTable(t.store);

    // Act
    const retry = await api('POST', '/v1/users', withKey('key-u', { email: 'ivy@example.com' }));

    // Assess
    expect(first.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.body.name).toBe(first.body.name);
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('refuses the same key with another body with 409, writing nothing', async () => {
    // Prepare
    await api('POST', '/v1/environments', withKey('key-2', { id: 'qa', title: 'QA' }));
    const before = await scanTable(t.store);

    // Act
    const res = await api('POST', '/v1/environments', withKey('key-2', { id: 'qa2', title: 'QA 2' }));

    // Assess
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ status: 'ABORTED', message: 'Idempotency-Key was already used with a different request body' });
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('does not burn the key on a failed create', async () => {
    // Prepare
    const before = await scanTable(t.store);

    // Act
    const failed = await api('POST', '/v1/environments', withKey('key-3', { id: 'Bad Id', title: 'Bad' }));
    const afterFailure = await scanTable(t.store);
    const corrected = await api('POST', '/v1/environments', withKey('key-3', { id: 'uat', title: 'UAT' }));

    // Assess
    expect(failed.status).toBe(400);
    expect(afterFailure).toEqual(before);
    expect(corrected.status).toBe(201);
    expect(corrected.body.name).toBe('environments/uat');
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
  });

  it("keeps each caller's keys apart", async () => {
    // Prepare
    const mine = await api('POST', '/v1/environments', withKey('key-4', { id: 'perf', title: 'Perf' }));

    // Act
    const theirs = await api('POST', '/v1/environments', withKey('key-4', { id: 'perf', title: 'Perf' }, 'dba@example.com'));

    // Assess
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(409);
    expect(theirs.body.error.status).toBe('ALREADY_EXISTS');
  });

  it('refuses an empty key', async () => {
    // Prepare
    const before = await scanTable(t.store);

    // Act
    const res = await api('POST', '/v1/environments', withKey('', { id: 'empty', title: 'Empty' }));

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: 'Idempotency-Key', description: 'must be 1 to 256 characters' }]);
    expect(await scanTable(t.store)).toEqual(before);
  });
});
