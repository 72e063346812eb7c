// The shared middy stack, with DynamoDB mocked: authentication, permissions, bodies, routing, logs.
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setLogSink } from '../../functions/shared/logger.js';
import { apiClient, importHandlers, type Api } from '../support/api.js';
import { USERS, auditPuts, givenUsers } from '../support/mock-store.js';

const ddb = mockClient(DynamoDBDocumentClient);
let api: Api;

beforeAll(async () => {
  process.env.TABLE_NAME = 'sluice-mocked';
  api = apiClient(await importHandlers());
});

beforeEach(() => {
  ddb.reset();
  givenUsers(ddb);
});

/** Writes of anything but an audit entry (a refused request still leaves its entry). */
const writes = () => ddb.commandCalls(PutCommand).length - auditPuts(ddb).length + ddb.commandCalls(UpdateCommand).length + ddb.commandCalls(TransactWriteCommand).length;
const WORKSPACE_ITEM = {
  pk: 'WORKSPACE', sk: 'WORKSPACE', type: 'Workspace', title: 'Acme', allowSelfApproval: false,
  createTime: '2026-01-01T00:00:00Z', updateTime: '2026-01-01T00:00:00Z', version: 4,
};

describe('authentication', () => {
  it('answers 401 to a token without an email claim, before reading anything', async () => {
    // Act
    const res = await api('GET', '/v1/users', { as: null });

    // Assess
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({ code: 401, status: 'UNAUTHENTICATED', message: 'the token carries no email claim', details: [] });
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    { who: 'an unknown email', email: 'stranger@example.com', message: 'no active Sluice user has the email stranger@example.com' },
    { who: 'a deleted user', email: USERS.gone.email, message: `no active Sluice user has the email ${USERS.gone.email}` },
    { who: 'the system bot', email: 'bot@sluice.invalid', message: 'the system bot cannot sign in' },
    { who: 'the system bot in capitals', email: 'BOT@sluice.invalid', message: 'the system bot cannot sign in' },
  ])('answers 403 to $who', async ({ email, message }) => {
    // Act
    const res = await api('GET', '/v1/workspace', { as: email });

    // Assess
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: 403, status: 'PERMISSION_DENIED', message, details: [] });
    expect(ddb.commandCalls(GetCommand, { Key: { pk: 'WORKSPACE', sk: 'WORKSPACE' } })).toHaveLength(0);
  });

  it('matches the email claim whatever its case, and shows no storage keys', async () => {
    // Prepare
    ddb.on(GetCommand, { Key: { pk: 'WORKSPACE', sk: 'WORKSPACE' } }).resolves({ Item: WORKSPACE_ITEM });

    // Act
    const res = await api('GET', '/v1/workspace', { as: 'Member@Example.COM' });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      name: 'workspace', title: 'Acme', allowSelfApproval: false, auditRetention: '7776000s', outboundAllowlist: [], syncInterval: '1800s', createTime: '2026-01-01T00:00:00Z', updateTime: '2026-01-01T00:00:00Z', etag: expect.any(String),
    });
  });

  it('refuses a token whose email is marked unverified', async () => {
    // Act
    const res = await api('GET', '/v1/workspace', { claims: { email_verified: false } });

    // Assess
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe('the email admin@example.com is not verified');
  });

  it('needs no token for the public routes', async () => {
    // Act
    const res = await api('GET', '/healthz', { as: null });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });
});

describe('permissions', () => {
  it.each([
    { role: 'workspaceMember', email: USERS.member.email, method: 'POST', path: '/v1/environments', body: { id: 'dev', title: 'Dev' }, permission: 'environments.create' },
    { role: 'workspaceMember', email: USERS.member.email, method: 'POST', path: '/v1/environments:reorder', body: { environments: [] }, permission: 'environments.reorder' },
    { role: 'workspaceMember', email: USERS.member.email, method: 'DELETE', path: '/v1/users/2', body: undefined, permission: 'users.delete' },
    { role: 'workspaceDBA', email: USERS.dba.email, method: 'POST', path: '/v1/users', body: { email: 'x@example.com' }, permission: 'users.create' },
    { role: 'workspaceDBA', email: USERS.dba.email, method: 'PATCH', path: '/v1/workspace', body: { title: 'X' }, permission: 'workspace.update' },
  ])('refuses a $role $method $path with 403 naming $permission, and writes nothing', async ({ role, email, method, path, body, permission }) => {
    // Act
    const res = await api(method, path, { as: email, body });

    // Assess
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED', details: [{ permission, description: `requires ${permission}` }] });
    expect(res.body.error.message).toContain(`(${role}) lacks ${permission}`);
    expect(writes()).toBe(0);
    // ...but the attempt is on record, as auditors want it.
    const user = Object.values(USERS).find((u) => u.email === email)!;
    expect(auditPuts(ddb)).toEqual([
      expect.objectContaining({ actor: `users/${user.id}`, httpMethod: method, status: { code: 403, status: 'PERMISSION_DENIED' }, detail: expect.objectContaining({ error: { permission } }) }),
    ]);
  });
});

describe('request bodies', () => {
  it('answers 413 to a body over 1 MiB', async () => {
    // Prepare
    const body = JSON.stringify({ id: 'big', title: 'x'.repeat(1024 * 1024) });

    // Act
    const res = await api('POST', '/v1/environments', { body, headers: { 'content-type': 'application/json' } });

    // Assess
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 413, status: 'INVALID_ARGUMENT' });
    expect(writes()).toBe(0);
  });

  it('answers 415 to a body that is not application/json', async () => {
    // Act
    const form = await api('POST', '/v1/environments', { body: 'id=dev&title=Dev', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const untyped = await api('POST', '/v1/environments', { body: '{"id":"dev","title":"Dev"}' });

    // Assess
    for (const res of [form, untyped]) {
      expect(res.status).toBe(415);
      expect(res.body.error).toEqual({ code: 415, status: 'INVALID_ARGUMENT', message: 'request body must be application/json', details: [] });
    }
    expect(writes()).toBe(0);
  });

  it('answers 400 naming the body to malformed JSON and to JSON that is not an object', async () => {
    // Act
    const malformed = await api('POST', '/v1/environments', { body: '{"id": "dev",', headers: { 'content-type': 'application/json; charset=utf-8' } });
    const array = await api('POST', '/v1/environments', { body: '[1]', headers: { 'content-type': 'application/json' } });

    // Assess
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.status).toBe('INVALID_ARGUMENT');
    expect(malformed.body.error.details).toEqual([{ field: '(body)', description: expect.stringMatching(/^malformed JSON: /) }]);
    expect(array.status).toBe(400);
    expect(array.body.error.details).toEqual([{ field: '(body)', description: 'must be a JSON object' }]);
    expect(writes()).toBe(0);
  });

  it('answers 400 with a detail per field to a body that fails validation', async () => {
    // Act
    const res = await api('POST', '/v1/users', { body: { email: 'x@example.com', role: 'root', extra: 1 } });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.error.details).toHaveLength(2);
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([
        { field: 'role', description: 'must be one of "workspaceAdmin", "workspaceDBA", "workspaceMember"' },
        { field: 'extra', description: 'unknown field' },
      ]),
    );
    expect(writes()).toBe(0);
  });
});

describe('routing', () => {
  it('answers 404 in the error shape to a path outside the route table', async () => {
    // Act
    const unknownVerb = await api('POST', '/v1/users/3:explode');
    const outside = await api('GET', '/v1/nothing-here');

    // Assess
    expect(unknownVerb.status).toBe(404);
    expect(unknownVerb.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    expect(outside.status).toBe(404);
    expect(outside.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND', message: 'GET /v1/nothing-here not found' });
    expect(outside.headers['x-request-id']).toBe(outside.requestId);
  });

  it('answers 405 with Allow to a known path asked with a method it does not take, in the gateway\'s $default and in a family', async () => {
    // Act
    const viaDefault = await api('DELETE', '/v1/environments', { as: null });
    const inFamily = await api('GET', '/v1/users/3:undelete');

    // Assess
    expect(viaDefault.status).toBe(405);
    expect(viaDefault.headers.allow).toBe('GET, POST');
    expect(viaDefault.body.error).toEqual({ code: 405, status: 'UNIMPLEMENTED', message: 'DELETE is not allowed on /v1/environments; it takes GET, POST', details: [] });
    expect(viaDefault.headers['x-request-id']).toBe(viaDefault.requestId);
    expect(inFamily.status).toBe(405);
    expect(inFamily.headers.allow).toBe('POST');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 400 to a user id that is not a positive integer and 404 to one that does not exist', async () => {
    // Act
    const bad = await api('GET', '/v1/users/abc');
    const missing = await api('GET', '/v1/users/99');

    // Assess
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ field: 'id', description: 'must be a user id (a positive integer)' }]);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('users/99 not found');
  });
});

describe('structured logs', () => {
  const lines: string[] = [];
  const level = process.env.LOG_LEVEL;

  beforeEach(() => {
    lines.length = 0;
    process.env.LOG_LEVEL = 'info';
    setLogSink((line) => lines.push(line));
  });
  afterEach(() => {
    process.env.LOG_LEVEL = level;
    setLogSink(() => undefined);
  });

  it('writes JSON lines that each carry the request id of the response header, and no body', async () => {
    // Prepare
    ddb.on(GetCommand, { Key: { pk: 'WORKSPACE', sk: 'WORKSPACE' } }).rejects(new Error('disk on fire'));

    // Act
    const responses = [
      await api('GET', '/v1/users/2'),
      await api('GET', '/v1/users', { as: null }),
      await api('POST', '/v1/users', { body: { email: 'not-an-email', title: 'top-secret-title' } }),
      await api('GET', '/v1/workspace'),
      await api('GET', '/v1/nothing-here'),
    ];

    // Assess
    expect(responses.map((r) => r.status)).toEqual([200, 401, 400, 500, 404]);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of responses) {
      expect(r.headers['x-request-id']).toBe(r.requestId);
      const access = logged.filter((l) => l.requestId === r.requestId && l.msg === 'request');
      expect(access).toEqual([expect.objectContaining({ level: 'info', status: r.status })]);
    }
    expect(logged.filter((l) => !responses.some((r) => r.requestId === l.requestId))).toEqual([]);
    expect(logged.find((l) => l.msg === 'unhandled error')).toMatchObject({ level: 'error', requestId: responses[3]!.requestId, message: 'disk on fire' });
    expect(lines.join('\n')).not.toContain('top-secret-title');
  });

  it('is silent below the configured level', async () => {
    // Prepare
    process.env.LOG_LEVEL = 'warn';

    // Act
    const res = await api('GET', '/v1/users/2');

    // Assess
    expect(res.status).toBe(200);
    expect(lines).toEqual([]);
  });
});
