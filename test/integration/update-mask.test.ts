// updateMask=* against DynamoDB Local: it replaces every mutable field, so a partial body is a
// 400 and never a record with fields wiped out.
import { beforeAll, describe, expect, it } from 'vitest';
import { apiClient, importHandlers, scanTable, type Api } from '../support/api.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
let api: Api;

beforeAll(async () => {
  t = await freshTable();
  api = apiClient(await importHandlers());
  await api('POST', '/v1/users', { body: { email: 'mia@example.com', role: 'workspaceDBA' } });
});

describe('updateMask=*', () => {
  it('refuses a body missing a mutable field, for every resource, and writes nothing', async () => {
    // Prepare
    const before = await scanTable(t.store);

    // Act
    const user = await api('PATCH', '/v1/users/3?updateMask=*', { body: { title: 'Mia' } });
    const env = await api('PATCH', '/v1/environments/test?updateMask=*', { body: { title: 'Test' } });
    const ws = await api('PATCH', '/v1/workspace?updateMask=*', { body: { title: 'Acme' } });
    const signIn = await api('GET', '/v1/environments', { as: 'mia@example.com' });

    // Assess
    expect(user.status).toBe(400);
    expect(user.body.error.details).toEqual([{ field: 'role', description: 'required when updateMask is *' }]);
    expect(env.status).toBe(400);
    expect(env.body.error.details).toEqual([{ field: 'rolloutPolicy', description: 'required when updateMask is *' }]);
    expect(ws.status).toBe(400);
    expect(ws.body.error.details).toEqual([{ field: 'allowSelfApproval', description: 'required when updateMask is *' }]);
    expect(signIn.status).toBe(200);
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('replaces every mutable field when the body has them all', async () => {
    // Act
    const res = await api('PATCH', '/v1/environments/prod?updateMask=*', { body: { title: 'Production', rolloutPolicy: { requireApproval: false } } });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ title: 'Production', rolloutPolicy: { requireApproval: false }, order: 1 });
  });
});
