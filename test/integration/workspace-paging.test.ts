// The workspace and list paging against DynamoDB Local, through the real handlers.
import { beforeAll, describe, expect, it } from 'vitest';
import { etagOf } from '../../domain/common/values.js';
import { apiClient, importHandlers, scanTable, type Api, type Body } from '../support/api.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
let api: Api;

beforeAll(async () => {
  t = await freshTable();
  api = apiClient(await importHandlers());
});

describe('workspace', () => {
  it('reads and patches the workspace, changing its etag', async () => {
    // Prepare
    const ws = (await api('GET', '/v1/workspace')).body;

    // Act
    const patched = await api('PATCH', '/v1/workspace?updateMask=allowSelfApproval', { body: { title: 'Ignored', allowSelfApproval: true }, headers: { 'if-match': ws.etag } });
    const retitled = await api('PATCH', '/v1/workspace', { body: { title: 'Acme' } });
    const got = await api('GET', '/v1/workspace');

    // Assess
    expect(ws).toMatchObject({ name: 'workspace', title: 'Sluice', allowSelfApproval: false });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ title: 'Sluice', allowSelfApproval: true });
    expect(got.body).toEqual(retitled.body);
    expect(got.body).toMatchObject({ title: 'Acme', allowSelfApproval: true });
    expect(new Set([ws.etag, patched.body.etag, got.body.etag]).size).toBe(3);
  });

  it('refuses a stale etag, an unknown field and a non-admin, writing nothing', async () => {
    // Prepare
    await api('POST', '/v1/users', { body: { email: 'dba@example.com', role: 'workspaceDBA' } });
    const before = await scanTable(t.store);

    // Act
    const stale = await api('PATCH', '/v1/workspace', { body: { title: 'X', etag: etagOf('workspace', 1) } });
    const unknown = await api('PATCH', '/v1/workspace', { body: { owner: 'me' } });
    const dba = await api('PATCH', '/v1/workspace', { as: 'dba@example.com', body: { title: 'X' } });

    // Assess
    expect(stale.status).toBe(409);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ field: 'owner', description: 'unknown field' }]);
    expect(dba.status).toBe(403);
    expect(await scanTable(t.store)).toEqual(before);
  });
});

describe('paging', () => {
  let all: string[];

  beforeAll(async () => {
    for (let i = 0; i < 6; i++) await api('POST', '/v1/users', { body: { email: `pager${i}@example.com` } });
    // A deleted user in the middle must not leave a hole or a short page behind.
    await api('DELETE', '/v1/users/6');
    all = (await api('GET', '/v1/users?pageSize=1000')).body.users.map((u: Body) => u.name);
  });

  it('visits every user exactly once with pageSize=2', async () => {
    // Act
    const seen: string[] = [];
    const sizes: number[] = [];
    let token: string | undefined;
    do {
      const res = await api('GET', `/v1/users?pageSize=2${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.users.map((u: Body) => u.name));
      sizes.push(res.body.users.length);
      token = res.body.nextPageToken;
    } while (token);

    // Assess
    expect(all).toHaveLength(8);
    expect(all).not.toContain('users/6');
    expect(seen).toEqual(all);
    expect(sizes).toEqual([2, 2, 2, 2]);
  });

  it('refuses a tampered token, and a token used on another list, with 400', async () => {
    // Prepare
    const token: string = (await api('GET', '/v1/users?pageSize=2')).body.nextPageToken;
    const [payload, sig] = token.split('.');
    const decoded = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { c: { sk: string } };
    decoded.c.sk = 'USER#0000000005';
    const tampered = `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${sig}`;

    // Act
    const responses = [
      await api('GET', `/v1/users?pageSize=2&pageToken=${encodeURIComponent(tampered)}`),
      await api('GET', `/v1/users?pageSize=2&showDeleted=true&pageToken=${encodeURIComponent(token)}`),
      await api('GET', `/v1/environments?pageToken=${encodeURIComponent(token)}`),
    ];

    // Assess
    for (const res of responses) {
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ status: 'INVALID_ARGUMENT', details: [{ field: 'pageToken', description: 'invalid or not issued for this list' }] });
    }
  });

  it('includes deleted users only with showDeleted=true', async () => {
    // Act
    const res = await api('GET', '/v1/users?showDeleted=true&pageSize=1000');

    // Assess
    expect(res.body.users.map((u: Body) => u.name)).toEqual([...all.slice(0, 5), 'users/6', ...all.slice(5)]);
  });

  it('pages environments too', async () => {
    // Act
    const first = await api('GET', '/v1/environments?pageSize=1');
    const second = await api('GET', `/v1/environments?pageSize=1&pageToken=${encodeURIComponent(first.body.nextPageToken)}`);

    // Assess
    expect(first.body.environments.map((e: Body) => e.name)).toEqual(['environments/test']);
    expect(second.body.environments.map((e: Body) => e.name)).toEqual(['environments/prod']);
    expect(second.body).not.toHaveProperty('nextPageToken');
  });
});
