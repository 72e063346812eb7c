// Databases through the real handlers on DynamoDB Local, discovered by syncing a real
// PostgreSQL: lists per instance and per project (each caller sees only its projects'), labels,
// and moving between projects, which needs databases.update in both.
import { syncAndWait } from '../support/operations.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Binding } from '../../domain/access/access.js';
import { DynamoProjectRepo } from '../../functions/adapters/dynamo/projects.js';
import { scanTable, type Api, type Body } from '../support/api.js';
import { inventoryApi, pgDatabases, pgRole, randomId } from '../support/inventory.js';
import { postgresServer } from '../support/postgres.js';
import { freshTable, type TestTable } from '../support/table.js';

let t: TestTable;
let api: Api;
let role: Awaited<ReturnType<typeof pgRole>>;
let drop: () => Promise<unknown>;
const ONE = randomId('sluice_t');
const TWO = randomId('sluice_t');
const server = postgresServer();

// Members, by what they hold in the projects `src` (where ONE will be) and `dst`.
const OWNER_DST = 'owner-dst@example.com';
const DEV_SRC_OWNER_DST = 'dev-src@example.com';
const OWNER_SRC_VIEWER_DST = 'owner-src@example.com';
const OWNER_SRC_ONLY = 'owner-src-only@example.com';
const OWNER_BOTH = 'owner-both@example.com';
const OUTSIDER = 'outsider@example.com';

beforeAll(async () => {
  t = await freshTable();
  api = await inventoryApi();
  role = await pgRole(server, randomId('pw'));
  drop = await pgDatabases(server, role.name, { [ONE]: [], [TWO]: [] });

  const ids = new Map<string, string>();
  for (const email of [OWNER_DST, DEV_SRC_OWNER_DST, OWNER_SRC_VIEWER_DST, OWNER_SRC_ONLY, OWNER_BOTH, OUTSIDER]) {
    ids.set(email, (await api('POST', '/v1/users', { body: { email } })).body.name);
  }
  const members = (...emails: string[]) => emails.map((e) => ids.get(e)!);
  const projects = new DynamoProjectRepo(t.store);
  const time = new Date().toISOString();
  const project = (id: string, bindings: Binding[], state: 'ACTIVE' | 'DELETED' = 'ACTIVE') =>
    projects.create({ id, title: id, state, bindings, createTime: time, updateTime: time });
  await project('src', [
    { role: 'projectOwner', members: members(OWNER_SRC_VIEWER_DST, OWNER_SRC_ONLY, OWNER_BOTH) },
    { role: 'projectDeveloper', members: members(DEV_SRC_OWNER_DST) },
  ]);
  await project('dst', [
    { role: 'projectOwner', members: members(OWNER_DST, DEV_SRC_OWNER_DST, OWNER_BOTH) },
    { role: 'projectViewer', members: members(OWNER_SRC_VIEWER_DST) },
  ]);
  await project('archived', [{ role: 'projectOwner', members: members(OWNER_BOTH) }], 'DELETED');

  await api('POST', '/v1/instances', {
    body: { id: 'pg', title: 'PG', engine: 'POSTGRES', environment: 'environments/prod', dataSources: [{ type: 'ADMIN', ...role.source }] },
  });
  const synced = await syncAndWait((m, p) => api(m, p), 'pg');
  if (synced.status !== 200) throw new Error(`setup sync: ${JSON.stringify(synced.body)}`);
  await api('PATCH', `/v1/instances/pg/databases/${ONE}`, { body: { project: 'projects/src' } });
});

afterAll(async () => {
  await drop?.();
  await role?.drop();
});

const names = (res: { body: Body }): string[] => (res.body.databases ?? []).map((d: Body) => d.name.split('/').pop());
const patch = (as: string, db: string, body: unknown, query = '') => api('PATCH', `/v1/instances/pg/databases/${db}${query}`, { as, body });

describe('reading databases', () => {
  it('shows a database with its project, the instance environment and engine', async () => {
    // Act
    const res = await api('GET', `/v1/instances/pg/databases/${ONE}`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: `instances/pg/databases/${ONE}`, project: 'projects/src', environment: 'environments/prod', engine: 'POSTGRES', syncState: 'OK' });
  });

  it('lists per instance only what the caller may see', async () => {
    // Act
    const admin = await api('GET', '/v1/instances/pg/databases?pageSize=1000');
    const owner = await api('GET', '/v1/instances/pg/databases', { as: OWNER_SRC_ONLY });
    const outsider = await api('GET', '/v1/instances/pg/databases', { as: OUTSIDER });

    // Assess
    expect(names(admin)).toEqual(expect.arrayContaining([ONE, TWO]));
    expect(names(owner)).toEqual([ONE]);
    expect(outsider.status).toBe(200);
    expect(names(outsider)).toEqual([]);
  });

  it('lists per project, in pages, and hides a project the caller cannot see', async () => {
    // Act
    const first = await api('GET', '/v1/projects/default/databases?pageSize=1');
    const second = await api('GET', `/v1/projects/default/databases?pageSize=1&pageToken=${first.body.nextPageToken}`);
    const src = await api('GET', '/v1/projects/src/databases', { as: DEV_SRC_OWNER_DST });
    const hidden = await api('GET', '/v1/projects/src/databases', { as: OWNER_DST });

    // Assess
    expect(first.body.databases).toHaveLength(1);
    expect(first.body.nextPageToken).toEqual(expect.any(String));
    expect(second.body.databases).toHaveLength(1);
    expect(second.body.databases[0].name).not.toBe(first.body.databases[0].name);
    expect(names(src)).toEqual([ONE]);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.message).toBe('projects/src not found');
  });

  it('answers 404 for a database in a project the caller cannot see', async () => {
    // Act
    const res = await api('GET', `/v1/instances/pg/databases/${ONE}`, { as: OWNER_DST });

    // Assess
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe(`instances/pg/databases/${ONE} not found`);
  });
});

describe('moving a database between projects', () => {
  it.each([
    ['owns only the target: 404, it cannot see the database', OWNER_DST, 404, `instances/pg/databases/${ONE} not found`],
    ['is a developer in the source: 403', DEV_SRC_OWNER_DST, 403, 'lacks databases.update in projects/src'],
    ['only views the target: 403', OWNER_SRC_VIEWER_DST, 403, 'lacks databases.update in projects/dst'],
    ['has no role in the target: 404 for the target', OWNER_SRC_ONLY, 404, 'projects/dst not found'],
  ])('a member who %s, and nothing is written', async (_case, as, status, message) => {
    // Prepare
    const before = await scanTable(t.store);

    // Act
    const res = await patch(as, ONE, { project: 'projects/dst' });

    // Assess
    expect(res.status).toBe(status);
    expect(res.body.error.message).toContain(message);
    expect(await scanTable(t.store)).toEqual(before);
  });

  it('refuses a target that is deleted or missing', async () => {
    // Act
    const archived = await patch(OWNER_BOTH, ONE, { project: 'projects/archived' });
    const missing = await patch('admin@example.com', ONE, { project: 'projects/nowhere' });

    // Assess
    expect(archived.status).toBe(400);
    expect(archived.body.error).toMatchObject({ status: 'FAILED_PRECONDITION', message: 'projects/archived is deleted; a database can only move to an active project' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('projects/nowhere not found');
  });

  it('a member who may update both moves it: it leaves one list and joins the other', async () => {
    // Prepare
    const before = (await api('GET', `/v1/instances/pg/databases/${ONE}`)).body;

    // Act
    const res = await patch(OWNER_BOTH, ONE, { project: 'projects/dst' }, '?updateMask=project');
    const src = await api('GET', '/v1/projects/src/databases');
    const dst = await api('GET', '/v1/projects/dst/databases');

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ project: 'projects/dst', lastSuccessfulSyncTime: before.lastSuccessfulSyncTime });
    expect(res.body.etag).not.toBe(before.etag);
    expect(names(src)).toEqual([]);
    expect(names(dst)).toEqual([ONE]);
  });

  it('a sync leaves the project a database was moved to', async () => {
    // Act
    await syncAndWait((m, p) => api(m, p), 'pg');

    // Assess
    expect((await api('GET', `/v1/instances/pg/databases/${ONE}`)).body.project).toBe('projects/dst');
  });
});

describe('labels', () => {
  it('replaces the labels, keeping the project, with the etag checked', async () => {
    // Prepare
    const current = (await api('GET', `/v1/instances/pg/databases/${ONE}`)).body;

    // Act
    const res = await patch(OWNER_DST, ONE, { labels: { tenant: 'acme', region: 'eu-west-1' } }, '?updateMask=labels');
    const stale = await patch(OWNER_DST, ONE, { labels: {}, etag: current.etag });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ project: 'projects/dst', labels: { tenant: 'acme', region: 'eu-west-1' } });
    expect(stale.status).toBe(409);
  });

  it('refuses a bad label key or value, naming it', async () => {
    // Act
    const key = await patch('admin@example.com', ONE, { labels: { '9lives': 'x' } });
    const value = await patch('admin@example.com', ONE, { labels: { tier: 1 } });
    const output = await patch('admin@example.com', ONE, { syncState: 'OK' }, '?updateMask=syncState');

    // Assess
    expect(key.body.error.details).toEqual([{ field: 'labels.9lives', description: 'label keys must match ^[A-Za-z][A-Za-z0-9_.-]{0,62}$' }]);
    expect(value.body.error.details).toEqual([{ field: 'labels.tier', description: 'must be string' }]);
    expect(output.body.error.details).toEqual([{ field: 'updateMask', description: 'syncState is not mutable' }]);
  });
});
