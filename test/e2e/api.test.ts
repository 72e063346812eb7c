// End to end over HTTP against the local server: every route's success and each error class.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../domain/api/routes.js';
import { startApi, type Api, type CallResult } from '../support/http.js';

let api: Api;
beforeAll(async () => {
  api = await startApi();
  // A DBA and a plain member, made through the API like any admin would.
  await api.call('POST', '/v1/users', { body: { email: 'dba@example.com', title: 'DBA', role: 'workspaceDBA' } });
  await api.call('POST', '/v1/users', { body: { email: 'member@example.com', role: 'workspaceMember' } });
});
afterAll(async () => api.server.close());

function expectError(r: CallResult, code: number, status: string) {
  expect(r.status).toBe(code);
  expect(r.json).toMatchObject({ error: { code, status, message: expect.any(String), details: expect.any(Array) } });
  expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  expect(r.text).not.toMatch(/at .*\.ts:\d+|node_modules|Exception/);
}

describe('public routes', () => {
  it('GET /healthz answers without a token', async () => {
    const r = await api.call('GET', '/healthz', { as: null });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true });
  });

  it('GET /v1/openapi.json documents every route of the route table', async () => {
    const r = await api.call('GET', '/v1/openapi.json', { as: null });
    expect(r.status).toBe(200);
    expect(r.json.openapi).toBe('3.1.0');
    for (const route of ROUTES) expect(r.json.paths[route.path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
  });

  it('an unknown path is a 404 in the API error shape', async () => {
    expectError(await api.call('GET', '/v2/nothing', { as: null }), 404, 'NOT_FOUND');
    expectError(await api.call('POST', '/v1/users/3:explode'), 404, 'NOT_FOUND');
  });
});

describe('a wrong method on a known path', () => {
  it('DELETE /v1/environments is a 405 with Allow: GET, POST, token or not', async () => {
    for (const as of [null, undefined]) {
      const r = await api.call('DELETE', '/v1/environments', as === null ? { as } : {});
      expectError(r, 405, 'UNIMPLEMENTED');
      expect(r.headers.get('allow')).toBe('GET, POST');
      expect(r.json.error.message).toBe('DELETE is not allowed on /v1/environments; it takes GET, POST');
    }
  });

  it.each([
    ['PUT', '/v1/users/3', 'GET, PATCH, DELETE'],
    ['GET', '/v1/users/3:undelete', 'POST'],
    ['GET', '/v1/environments:reorder', 'POST'],
    ['POST', '/healthz', 'GET'],
    ['GET', '/v1/hooks/vcs/shop', 'POST'],
    ['PATCH', '/v1/projects/shop/vcsConnector', 'GET, PUT, DELETE'],
    ['HEAD', '/v1/workspace', 'GET, PATCH'],
  ])('%s %s is a 405 with Allow: %s', async (method, path, allow) => {
    const r = await api.call(method, path);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe(allow);
  });

  it('every path of the route table answers each method it lacks with 405 and the methods it takes', async () => {
    const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
    const byPath = new Map<string, string[]>();
    for (const r of ROUTES) {
      const path = r.path.replace(/\{\w+\}/g, 'x1');
      byPath.set(path, [...(byPath.get(path) ?? []), r.method]);
    }
    const wrong: string[] = [];
    for (const [path, methods] of byPath) {
      const allow = METHODS.filter((m) => methods.includes(m)).join(', ');
      for (const method of METHODS.filter((m) => !methods.includes(m))) {
        const r = await api.call(method, path);
        if (r.status !== 405 || r.headers.get('allow') !== allow || r.json?.error?.status !== 'UNIMPLEMENTED') wrong.push(`${method} ${path}: ${r.status} allow=${r.headers.get('allow')}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('authentication', () => {
  it('no token, a garbage token, an expired token and another key\'s token are 401', async () => {
    expectError(await api.call('GET', '/v1/users', { as: null }), 401, 'UNAUTHENTICATED');
    expectError(await api.call('GET', '/v1/users', { as: null, headers: { authorization: 'Bearer nope' } }), 401, 'UNAUTHENTICATED');
    const expired = await api.keys.sign('admin@example.com', -60);
    expectError(await api.call('GET', '/v1/users', { as: null, headers: { authorization: `Bearer ${expired}` } }), 401, 'UNAUTHENTICATED');
    const { generateJwk, keysFromJwk } = await import('../../infra/local/jwt.js');
    const other = await (await keysFromJwk(await generateJwk())).sign('admin@example.com');
    expectError(await api.call('GET', '/v1/users', { as: null, headers: { authorization: `Bearer ${other}` } }), 401, 'UNAUTHENTICATED');
  });

  it('a valid token for an email that is no Sluice user is 403', async () => {
    expectError(await api.call('GET', '/v1/users', { as: 'stranger@example.com' }), 403, 'PERMISSION_DENIED');
  });

  it('the system bot cannot sign in', async () => {
    expectError(await api.call('GET', '/v1/workspace', { as: 'bot@sluice.invalid' }), 403, 'PERMISSION_DENIED');
  });
});

describe('workspace', () => {
  it('every member reads it; only an admin changes it, with updateMask and etag', async () => {
    const read = await api.call('GET', '/v1/workspace', { as: 'member@example.com' });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ name: 'workspace', allowSelfApproval: false });

    const denied = await api.call('PATCH', '/v1/workspace?updateMask=title', { as: 'dba@example.com', body: { title: 'x' } });
    expectError(denied, 403, 'PERMISSION_DENIED');
    expect(denied.json.error.details[0].permission).toBe('workspace.update');

    const ok = await api.call('PATCH', '/v1/workspace?updateMask=allowSelfApproval', { body: { allowSelfApproval: true, etag: read.json.etag } });
    expect(ok.status).toBe(200);
    expect(ok.json.allowSelfApproval).toBe(true);
    expect(ok.json.etag).not.toBe(read.json.etag);

    expectError(await api.call('PATCH', '/v1/workspace', { body: { title: 'stale' }, headers: { 'if-match': read.json.etag } }), 409, 'ABORTED');
    expect((await api.call('GET', '/v1/workspace')).json.title).not.toBe('stale');
  });
});

describe('users', () => {
  it('create, get, list, update, delete and undelete', async () => {
    const created = await api.call('POST', '/v1/users', { body: { email: 'Dev@Example.com', title: 'Dev' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ email: 'dev@example.com', role: 'workspaceMember', userType: 'USER', state: 'ACTIVE' });
    const name: string = created.json.name;
    expect(name).toMatch(/^users\/\d+$/);

    expect((await api.call('GET', `/v1/${name}`, { as: 'member@example.com' })).json.email).toBe('dev@example.com');
    const patched = await api.call('PATCH', `/v1/${name}?updateMask=role`, { body: { role: 'workspaceDBA' } });
    expect(patched.json.role).toBe('workspaceDBA');

    const deleted = await api.call('DELETE', `/v1/${name}`);
    expect(deleted.json.state).toBe('DELETED');
    const names = async (q = '') => ((await api.call('GET', `/v1/users${q}`)).json.users as { name: string }[]).map((u) => u.name);
    expect(await names()).not.toContain(name);
    expect(await names('?showDeleted=true')).toContain(name);
    expectError(await api.call('GET', '/v1/users', { as: 'dev@example.com' }), 403, 'PERMISSION_DENIED');

    expect((await api.call('POST', `/v1/${name}:undelete`)).json.state).toBe('ACTIVE');
    expect(await names()).toContain(name);
  });

  it('rejects bad input with field details and writes nothing', async () => {
    const before = (await api.call('GET', '/v1/users?showDeleted=true')).json.users.length;
    const bad = await api.call('POST', '/v1/users', { body: { email: 'not-an-email', role: 'king', extra: 1 } });
    expectError(bad, 400, 'INVALID_ARGUMENT');
    expect(bad.json.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['email', 'extra', 'role']);
    expectError(await api.call('POST', '/v1/users', { raw: '{"email":', headers: { 'content-type': 'application/json' } }), 400, 'INVALID_ARGUMENT');
    expectError(await api.call('POST', '/v1/users', { raw: 'email=a@b.c', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'INVALID_ARGUMENT');
    const huge = JSON.stringify({ email: 'big@example.com', title: 'x'.repeat(1024 * 1024) });
    expectError(await api.call('POST', '/v1/users', { raw: huge, headers: { 'content-type': 'application/json' } }), 413, 'INVALID_ARGUMENT');
    expectError(await api.call('GET', '/v1/users/abc'), 400, 'INVALID_ARGUMENT');
    expect((await api.call('GET', '/v1/users?showDeleted=true')).json.users.length).toBe(before);
  });

  it('a duplicate email is 409 ALREADY_EXISTS; a missing user 404; users/1 cannot change', async () => {
    expectError(await api.call('POST', '/v1/users', { body: { email: 'dba@example.com' } }), 409, 'ALREADY_EXISTS');
    expectError(await api.call('GET', '/v1/users/999999'), 404, 'NOT_FOUND');
    expectError(await api.call('PATCH', '/v1/users/1?updateMask=title', { body: { title: 'x' } }), 400, 'FAILED_PRECONDITION');
    expectError(await api.call('DELETE', '/v1/users/1'), 400, 'FAILED_PRECONDITION');
  });

  it('Idempotency-Key replays the first answer and refuses another body', async () => {
    const headers = { 'idempotency-key': 'create-ops-1' };
    const first = await api.call('POST', '/v1/users', { body: { email: 'ops@example.com' }, headers });
    const again = await api.call('POST', '/v1/users', { body: { email: 'ops@example.com' }, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expectError(await api.call('POST', '/v1/users', { body: { email: 'ops2@example.com' }, headers }), 409, 'ABORTED');
  });

  it('pages through users with tamper-evident tokens', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const r = await api.call('GET', `/v1/users?pageSize=2${token ? `&pageToken=${token}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.json.users.length).toBeLessThanOrEqual(2);
      seen.push(...r.json.users.map((u: { name: string }) => u.name));
      token = r.json.nextPageToken;
      if (token) {
        const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
        expectError(await api.call('GET', `/v1/users?pageSize=2&pageToken=${forged}`), 400, 'INVALID_ARGUMENT');
        expectError(await api.call('GET', `/v1/users?pageSize=2&showDeleted=true&pageToken=${token}`), 400, 'INVALID_ARGUMENT');
      }
    } while (token);
    const all = (await api.call('GET', '/v1/users')).json.users.map((u: { name: string }) => u.name);
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('environments', () => {
  const order = async () => ((await api.call('GET', '/v1/environments', { as: 'member@example.com' })).json.environments as { name: string; order: number }[]).map((e) => `${e.order}:${e.name}`);

  it('the seed made test then prod, prod requiring approval', async () => {
    const list = (await api.call('GET', '/v1/environments')).json.environments;
    expect(list.slice(0, 2)).toMatchObject([
      { name: 'environments/test', order: 0, rolloutPolicy: { requireApproval: false } },
      { name: 'environments/prod', order: 1, rolloutPolicy: { requireApproval: true } },
    ]);
  });

  it('a DBA creates, inserts, reorders, updates, deletes and undeletes', async () => {
    const dba = 'dba@example.com';
    const staging = await api.call('POST', '/v1/environments', { as: dba, body: { id: 'staging', title: 'Staging', order: 1 } });
    expect(staging.status).toBe(201);
    expect(staging.json).toMatchObject({ name: 'environments/staging', order: 1 });
    expect(await order()).toEqual(['0:environments/test', '1:environments/staging', '2:environments/prod']);

    const re = await api.call('POST', '/v1/environments:reorder', { as: dba, body: { environments: ['environments/staging', 'environments/test', 'environments/prod'] } });
    expect(re.status).toBe(200);
    expect(await order()).toEqual(['0:environments/staging', '1:environments/test', '2:environments/prod']);
    expectError(await api.call('POST', '/v1/environments:reorder', { as: dba, body: { environments: ['environments/test'] } }), 400, 'INVALID_ARGUMENT');

    const got = await api.call('GET', '/v1/environments/staging', { as: dba });
    const upd = await api.call('PATCH', '/v1/environments/staging?updateMask=rolloutPolicy.requireApproval', {
      as: dba, body: { rolloutPolicy: { requireApproval: true } }, headers: { 'if-match': got.json.etag },
    });
    expect(upd.json.rolloutPolicy.requireApproval).toBe(true);
    expectError(await api.call('PATCH', '/v1/environments/staging?updateMask=order', { as: dba, body: { order: 0 } }), 400, 'INVALID_ARGUMENT');
    expectError(await api.call('PATCH', '/v1/environments/staging', { as: dba, body: { title: 'Old' }, headers: { 'if-match': got.json.etag } }), 409, 'ABORTED');

    expect((await api.call('DELETE', '/v1/environments/staging', { as: dba })).json.state).toBe('DELETED');
    expect(await order()).toEqual(['0:environments/test', '1:environments/prod']);
    expectError(await api.call('POST', '/v1/environments', { as: dba, body: { id: 'staging', title: 'Again' } }), 409, 'ALREADY_EXISTS');
    expect((await api.call('POST', '/v1/environments/staging:undelete', { as: dba })).json.order).toBe(2);
  });

  it('a member reads but cannot manage; bad ids are 400, missing ones 404', async () => {
    const denied = await api.call('POST', '/v1/environments', { as: 'member@example.com', body: { id: 'qa', title: 'QA' } });
    expectError(denied, 403, 'PERMISSION_DENIED');
    expect(denied.json.error.details[0].permission).toBe('environments.create');
    expectError(await api.call('POST', '/v1/environments', { body: { id: 'Bad_Id', title: 'x' } }), 400, 'INVALID_ARGUMENT');
    expectError(await api.call('GET', '/v1/environments/nowhere'), 404, 'NOT_FOUND');
    expect((await api.call('GET', '/v1/environments/qa')).status).toBe(404);
  });
});
