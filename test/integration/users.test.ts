// Users against DynamoDB Local, through the real handlers.
import { beforeAll, describe, expect, it } from 'vitest';
import { apiClient, importHandlers, scanTable, type Api, type Body } from '../support/api.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
let api: Api;

beforeAll(async () => {
  t = await freshTable();
  api = apiClient(await importHandlers());
});

const names = (list: Body): string[] => list.users.map((u: Body) => u.name);

describe('users', () => {
  it('creates, reads, updates, soft-deletes and undeletes a user', async () => {
    // Prepare
    const created = await api('POST', '/v1/users', { body: { email: 'Carol@Example.com', title: 'Carol', role: 'workspaceDBA' } });
    const name: string = created.body.name;

    // Act
    const got = await api('GET', `/v1/${name}`);
    const patched = await api('PATCH', `/v1/${name}?updateMask=title`, { body: { title: 'Carol K', role: 'workspaceAdmin' }, headers: { 'if-match': got.body.etag } });
    const deleted = await api('DELETE', `/v1/${name}`);
    const listed = await api('GET', '/v1/users');
    const listedAll = await api('GET', '/v1/users?showDeleted=true');
    const stillReadable = await api('GET', `/v1/${name}`);
    const restored = await api('POST', `/v1/${name}:undelete`);
    const relisted = await api('GET', '/v1/users');

    // Assess
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'carol@example.com', title: 'Carol', role: 'workspaceDBA', userType: 'USER', state: 'ACTIVE' });
    expect(name).toMatch(/^users\/\d+$/);
    expect(got.body).toEqual(created.body);
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ title: 'Carol K', role: 'workspaceDBA' });
    expect(patched.body.etag).not.toBe(got.body.etag);
    expect(deleted.body.state).toBe('DELETED');
    expect(names(listed.body)).not.toContain(name);
    expect(listedAll.body.users.find((u: Body) => u.name === name)?.state).toBe('DELETED');
    expect(stillReadable.body.state).toBe('DELETED');
    expect(restored.body).toMatchObject({ state: 'ACTIVE', title: 'Carol K' });
    expect(names(relisted.body)).toContain(name);
  });

  it('lists the system bot and the seeded admin', async () => {
    // Act
    const res = await api('GET', '/v1/users');

    // Assess
    expect(res.body.users.slice(0, 2)).toEqual([
      expect.objectContaining({ name: 'users/1', title: 'Sluice', userType: 'SYSTEM_BOT', email: 'bot@sluice.invalid' }),
      expect.objectContaining({ name: 'users/2', email: 'admin@example.com', role: 'workspaceAdmin', userType: 'USER' }),
    ]);
  });

  it('refuses a duplicate email, whatever its case, and writes nothing', async () => {
    // Prepare
    await api('POST', '/v1/users', { body: { email: 'dup@example.com' } });
    const before = await scanTable(t.store);

    // Act
    const res = await api('POST', '/v1/users', { body: { email: 'DUP@example.com', title: 'Other' } });

    // Assess
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 409, status: 'ALREADY_EXISTS', message: 'user with email dup@example.com already exists' });
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('refuses to change an email, and a stale If-Match, writing nothing', async () => {
    // Prepare
    const user = (await api('POST', '/v1/users', { body: { email: 'erin@example.com' } })).body;
    await api('PATCH', `/v1/${user.name}`, { body: { title: 'Erin' } });
    const before = await scanTable(t.store);

    // Act
    const email = await api('PATCH', `/v1/${user.name}`, { body: { email: 'erin2@example.com' } });
    const stale = await api('PATCH', `/v1/${user.name}`, { body: { title: 'Stale' }, headers: { 'if-match': user.etag } });

    // Assess
    expect(email.status).toBe(400);
    expect(email.body.error.details).toEqual([{ field: 'email', description: 'cannot be changed' }]);
    expect(stale.status).toBe(409);
    expect(stale.body.error.status).toBe('ABORTED');
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('never changes or deletes users/1', async () => {
    // Prepare
    const before = await scanTable(t.store);

    // Act
    const patch = await api('PATCH', '/v1/users/1', { body: { title: 'Hacked' } });
    const del = await api('DELETE', '/v1/users/1');

    // Assess
    expect([patch.status, del.status]).toEqual([400, 400]);
    expect(patch.body.error.status).toBe('FAILED_PRECONDITION');
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('keeps the last workspaceAdmin', async () => {
    // Prepare
    const before = await scanTable(t.store);

    // Act
    const demote = await api('PATCH', '/v1/users/2?updateMask=role', { body: { role: 'workspaceMember' } });
    const del = await api('DELETE', '/v1/users/2');

    // Assess
    expect(demote.status).toBe(400);
    expect(demote.body.error.message).toContain('last workspaceAdmin');
    expect(del.status).toBe(400);
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('lets a deleted user sign in no more, and again once undeleted', async () => {
    // Prepare
    const user = (await api('POST', '/v1/users', { body: { email: 'frank@example.com' } })).body;
    await api('DELETE', `/v1/${user.name}`);

    // Act
    const whileDeleted = await api('GET', '/v1/workspace', { as: 'frank@example.com' });
    await api('POST', `/v1/${user.name}:undelete`);
    const afterUndelete = await api('GET', '/v1/workspace', { as: 'frank@example.com' });

    // Assess
    expect(whileDeleted.status).toBe(403);
    expect(afterUndelete.status).toBe(200);
  });

  it('lets only a workspaceAdmin manage users; every member reads them', async () => {
    // Prepare
    await api('POST', '/v1/users', { body: { email: 'gina@example.com', role: 'workspaceDBA' } });
    const before = await scanTable(t.store);

    // Act
    const create = await api('POST', '/v1/users', { as: 'gina@example.com', body: { email: 'h@example.com' } });
    const read = await api('GET', '/v1/users/2', { as: 'gina@example.com' });

    // Assess
    expect(create.status).toBe(403);
    expect(create.body.error.details).toEqual([{ description: 'requires users.create', permission: 'users.create' }]);
    expect(read.status).toBe(200);
    expect(await scanTable(t.store)).toEqual(before);
  });
});
