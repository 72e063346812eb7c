// Environments against DynamoDB Local, through the real handlers. Tests run in file order and
// build on each other's pipeline, which each one states before acting.
import { beforeAll, describe, expect, it } from 'vitest';
import { apiClient, importHandlers, scanTable, type Api, type Body } from '../support/api.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
let api: Api;

beforeAll(async () => {
  t = await freshTable();
  api = apiClient(await importHandlers());
  await api('POST', '/v1/users', { body: { email: 'dba@example.com', role: 'workspaceDBA' } });
  await api('POST', '/v1/users', { body: { email: 'member@example.com' } });
});

/** The pipeline as [id, order] pairs. */
async function pipeline(query = ''): Promise<[string, number | undefined][]> {
  const res = await api('GET', `/v1/environments${query}`, { as: 'member@example.com' });
  expect(res.status).toBe(200);
  return res.body.environments.map((e: Body) => [e.name.replace('environments/', ''), e.order]);
}

describe('environments', () => {
  it('lists the seeded pipeline in order, prod requiring approval', async () => {
    // Act
    const res = await api('GET', '/v1/environments');

    // Assess
    expect(res.body.environments).toEqual([
      expect.objectContaining({ name: 'environments/test', title: 'Test', order: 0, rolloutPolicy: { requireApproval: false }, state: 'ACTIVE' }),
      expect.objectContaining({ name: 'environments/prod', title: 'Prod', order: 1, rolloutPolicy: { requireApproval: true }, state: 'ACTIVE' }),
    ]);
    expect(res.body).not.toHaveProperty('nextPageToken');
  });

  it('creates at the end, or inserts at `order`', async () => {
    // Act
    const dev = await api('POST', '/v1/environments', { as: 'dba@example.com', body: { id: 'dev', title: 'Dev' } });
    const staging = await api('POST', '/v1/environments', { body: { id: 'staging', title: 'Staging', order: 1, rolloutPolicy: { requireApproval: true } } });
    const got = await api('GET', '/v1/environments/staging');

    // Assess
    expect(dev.status).toBe(201);
    expect(dev.body).toMatchObject({ name: 'environments/dev', order: 2, rolloutPolicy: { requireApproval: false } });
    expect(staging.status).toBe(201);
    expect(staging.body).toMatchObject({ name: 'environments/staging', order: 1, rolloutPolicy: { requireApproval: true } });
    expect(got.body).toEqual(staging.body);
    expect(await pipeline()).toEqual([['test', 0], ['staging', 1], ['prod', 2], ['dev', 3]]);
  });

  it('refuses a duplicate id, a bad id and a member, writing nothing', async () => {
    // Prepare
    const before = await scanTable(t.store);

    // Act
    const dup = await api('POST', '/v1/environments', { body: { id: 'prod', title: 'Prod 2' } });
    const bad = await api('POST', '/v1/environments', { body: { id: 'Prod_2', title: 'Prod 2' } });
    const member = await api('POST', '/v1/environments', { as: 'member@example.com', body: { id: 'qa', title: 'QA' } });

    // Assess
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ status: 'ALREADY_EXISTS', message: 'environments/prod already exists' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ field: 'id', description: 'must match ^[a-z][a-z0-9-]{1,62}$' }]);
    expect(member.status).toBe(403);
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('reorders, and refuses a reorder that does not list every active environment once', async () => {
    // Prepare: test, staging, prod, dev
    const list = (...ids: string[]) => ({ environments: ids.map((id) => `environments/${id}`) });

    // Act
    const ok = await api('POST', '/v1/environments:reorder', { body: list('dev', 'test', 'staging', 'prod') });
    const before = await scanTable(t.store);
    const missing = await api('POST', '/v1/environments:reorder', { body: list('prod', 'test', 'staging') });
    const twice = await api('POST', '/v1/environments:reorder', { body: list('prod', 'test', 'staging', 'dev', 'prod') });

    // Assess
    expect(ok.status).toBe(200);
    expect(ok.body.environments.map((e: Body) => [e.name, e.order])).toEqual([
      ['environments/dev', 0], ['environments/test', 1], ['environments/staging', 2], ['environments/prod', 3],
    ]);
    expect(await pipeline()).toEqual([['dev', 0], ['test', 1], ['staging', 2], ['prod', 3]]);
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([{ field: 'environments', description: 'must list every active environment; missing environments/dev' }]);
    expect(twice.status).toBe(400);
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('patches only the fields in updateMask, and refuses fields outside the mutable set', async () => {
    // Prepare
    const staging = (await api('GET', '/v1/environments/staging')).body;

    // Act
    const patched = await api('PATCH', '/v1/environments/staging?updateMask=rolloutPolicy.requireApproval', {
      body: { title: 'Not applied', rolloutPolicy: { requireApproval: false } },
      headers: { 'if-match': staging.etag },
    });
    const before = await scanTable(t.store);
    const outside = await api('PATCH', '/v1/environments/staging?updateMask=title,createTime', { body: { title: 'X', createTime: '2020-01-01T00:00:00Z' } });
    const order = await api('PATCH', '/v1/environments/staging?updateMask=order', { body: { order: 0 } });

    // Assess
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ title: 'Staging', rolloutPolicy: { requireApproval: false }, order: 2 });
    expect(patched.body.etag).not.toBe(staging.etag);
    expect(patched.body.updateTime > staging.updateTime).toBe(true);
    expect(outside.status).toBe(400);
    expect(outside.body.error.details).toEqual([{ field: 'updateMask', description: 'createTime is not mutable' }]);
    expect(order.status).toBe(400);
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('refuses a stale If-Match with 409 ABORTED and writes nothing', async () => {
    // Prepare
    const old = (await api('GET', '/v1/environments/test')).body;
    await api('PATCH', '/v1/environments/test', { body: { title: 'Test v2' } });
    const before = await scanTable(t.store);

    // Act
    const patch = await api('PATCH', '/v1/environments/test', { body: { title: 'Lost' }, headers: { 'if-match': old.etag } });
    const echoed = await api('PATCH', '/v1/environments/test', { body: { ...old, title: 'Lost' } });
    const del = await api('DELETE', '/v1/environments/test', { headers: { 'if-match': old.etag } });

    // Assess
    for (const res of [patch, echoed, del]) {
      expect(res.status).toBe(409);
      expect(res.body.error.status).toBe('ABORTED');
    }
    expect(await scanTable(t.store)).toEqual(before);
    expect((await api('GET', '/v1/environments/test')).body.title).toBe('Test v2');
  });

  it('soft-deletes (hidden unless showDeleted) and undeletes at the end of the pipeline', async () => {
    // Prepare: dev, test, staging, prod

    // Act
    const deleted = await api('DELETE', '/v1/environments/test');
    const afterDelete = await pipeline();
    const withDeleted = await pipeline('?showDeleted=true');
    const got = await api('GET', '/v1/environments/test');
    const again = await api('DELETE', '/v1/environments/test');
    const restored = await api('POST', '/v1/environments/test:undelete');

    // Assess
    expect(deleted.status).toBe(200);
    expect(deleted.body.state).toBe('DELETED');
    expect(deleted.body).not.toHaveProperty('order');
    expect(afterDelete).toEqual([['dev', 0], ['staging', 1], ['prod', 2]]);
    expect(withDeleted).toEqual([['dev', 0], ['staging', 1], ['prod', 2], ['test', undefined]]);
    expect(got.body.state).toBe('DELETED');
    expect(again.status).toBe(400);
    expect(again.body.error.status).toBe('FAILED_PRECONDITION');
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ state: 'ACTIVE', order: 3 });
    expect(await pipeline()).toEqual([['dev', 0], ['staging', 1], ['prod', 2], ['test', 3]]);
  });

  it('answers 404 for an environment that does not exist', async () => {
    // Act
    const res = await api('GET', '/v1/environments/nowhere');

    // Assess
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ status: 'NOT_FOUND', message: 'environments/nowhere not found' });
  });
});
