// Instances on a real PostgreSQL, through the real handlers on DynamoDB Local: register (and
// validateOnly, which writes nothing), test connections (good and bad, quickly, leaking no
// connection), and sync databases made for this file. Tests build on each other, in file order.
import { syncAndWait } from '../support/operations.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDatabaseRepo } from '../../functions/adapters/dynamo/databases.js';
import { scanTable, type Api, type Body } from '../support/api.js';
import { inventoryApi, pgDatabases, pgRole, randomId, secretFiles } from '../support/inventory.js';
import { postgresServer, postgresWithPasswords } from '../support/postgres.js';
import { freshTable, type TestTable } from '../support/table.js';

const PASSWORD = `pg-${randomId('pw')}`;
let t: TestTable;
let api: Api;
let role: Awaited<ReturnType<typeof pgRole>>;
let dropDatabases: (...names: string[]) => Promise<unknown>;
const SHOP = randomId('sluice_t');
const CRM = randomId('sluice_t');
const server = postgresServer();

beforeAll(async () => {
  t = await freshTable();
  api = await inventoryApi();
  role = await pgRole(server, PASSWORD);
  dropDatabases = await pgDatabases(server, role.name, { [SHOP]: ['public.orders', 'audit.log'], [CRM]: [] });
});

afterAll(async () => {
  await dropDatabases?.();
  await role?.drop();
});

const instanceBody = (id: string, source: Record<string, unknown>) => ({
  id, title: id, engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', ...source }],
});
const mine = (databases: Body[]) => databases.filter((d: Body) => d.name.endsWith(SHOP) || d.name.endsWith(CRM));
/** Items about this file's databases, without the sync stamp. */
const ownItems = async () =>
  (await scanTable(t.store))
    .filter((i) => String(i.sk).includes(SHOP) || String(i.sk).includes(CRM))
    .map(({ lastSuccessfulSyncTime: _stamp, ...rest }) => rest);

describe('registering a PostgreSQL instance', () => {
  it('with validateOnly checks the connection, answers 200 with the would-be instance, and writes nothing', async () => {
    // Prepare
    const before = { table: await scanTable(t.store), secrets: secretFiles() };

    // Act
    const ok = await api('POST', '/v1/instances?validateOnly=true', { body: instanceBody('pg', role.source) });
    const refused = await api('POST', '/v1/instances?validateOnly=true', { body: instanceBody('pg', { ...role.source, port: 1 }) });

    // Assess
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ name: 'instances/pg', engine: 'POSTGRES', environment: 'environments/test', state: 'ACTIVE' });
    expect(ok.body.dataSources).toEqual([{ type: 'ADMIN', host: server.host, port: server.port, username: role.name, hasPassword: true }]);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe('dataSources[0]: cannot connect: connection refused at 127.0.0.1:1 (is the server running and listening on that port?)');
    expect(await scanTable(t.store)).toEqual(before.table);
    expect(secretFiles()).toEqual(before.secrets);
  });

  it('creates it, keeps the password encrypted in the secrets folder, and lists it', async () => {
    // Act
    const created = await api('POST', '/v1/instances', { body: instanceBody('pg', role.source) });
    const list = await api('GET', '/v1/instances');

    // Assess
    expect(created.status).toBe(201);
    expect(created.body.dataSources[0].hasPassword).toBe(true);
    expect(list.body.instances.map((i: Body) => i.name)).toEqual(['instances/pg']);
    expect(Object.keys(secretFiles())).toEqual(['secrets.json.enc', 'secrets.key']);
    expect(Buffer.from(secretFiles()['secrets.json.enc']!, 'base64').toString()).not.toContain(PASSWORD);
  });

  it('tests the connection: ok with the engine version, and no connection left open', async () => {
    // Act
    const res = await api('POST', '/v1/instances/pg:testConnection');

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, engineVersion: expect.stringMatching(/^\d+(\.\d+)*$/) });
    expect(await role.settledSessions()).toBe(0);
  });
});

describe('a connection that cannot be made', () => {
  const checks = postgresWithPasswords();
  let checked: Awaited<ReturnType<typeof pgRole>>;
  beforeAll(async () => {
    checked = await pgRole(checks, PASSWORD);
  });
  afterAll(async () => {
    await checked?.drop();
  });

  it.each([
    ['a wrong password', () => ({ ...checked.source, password: 'not-the-password' }), new RegExp(`^password authentication failed for user "${'sluice_t_[0-9a-f]+'}"$`)],
    ['a closed port', () => ({ ...checked.source, host: '127.0.0.1', port: 1 }), /^connection refused at 127\.0\.0\.1:1 \(/],
    ['an unknown host', () => ({ ...checked.source, host: 'nope.invalid' }), /^host not found: nope\.invalid \(/],
  ])('answers ok:false for %s within 10 s, with a message to act on and no session left', async (_case, source, message) => {
    // Prepare
    const id = randomId('bad').replace(/_/g, '-');
    expect((await api('POST', '/v1/instances', { body: instanceBody(id, source()) })).status).toBe(201);
    const started = Date.now();

    // Act
    const res = await api('POST', `/v1/instances/${id}:testConnection`);

    // Assess
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.error).toMatch(message);
    expect(await checked.settledSessions()).toBe(0);
  });
});

describe('sync', () => {
  const repo = () => new DynamoDatabaseRepo(t.store);

  it('creates the databases in the default project, records their tables, and leaves out system databases', async () => {
    // Act
    const res = await syncAndWait((m, p) => api(m, p), 'pg');
    const list = await api('GET', '/v1/instances/pg/databases?pageSize=1000');

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.databases.created).toEqual(expect.arrayContaining([`instances/pg/databases/${CRM}`, `instances/pg/databases/${SHOP}`]));
    // The server is shared: another test file's database dropped mid-sync is its own failure, not ours.
    expect(res.body.failures.filter((f: Body) => [CRM, SHOP].some((db) => f.database.endsWith(`/${db}`)))).toEqual([]);
    const names = list.body.databases.map((d: Body) => d.name.split('/').pop());
    expect(names).not.toContain('postgres');
    expect(names.filter((n: string) => n.startsWith('template'))).toEqual([]);
    expect(mine(list.body.databases)).toEqual([CRM, SHOP].sort().map((db) => ({
      name: `instances/pg/databases/${db}`, project: 'projects/default', environment: 'environments/test', engine: 'POSTGRES',
      labels: {}, schemaVersion: '', syncState: 'OK', lastSuccessfulSyncTime: res.body.syncTime, drifted: false, etag: expect.any(String),
    })));
    expect((await repo().listTables('pg', SHOP)).sort((a, b) => a.schema.localeCompare(b.schema))).toEqual([
      { database: SHOP, schema: 'audit', name: 'log' },
      { database: SHOP, schema: 'public', name: 'orders' },
    ]);
    expect(await role.settledSessions()).toBe(0);
  });

  it('a second time changes nothing but the stamps: no new version, no duplicate', async () => {
    // Prepare
    const before = await ownItems();

    // Act
    const res = await syncAndWait((m, p) => api(m, p), 'pg');

    // Assess
    expect(res.body.databases.created).not.toContain(`instances/pg/databases/${SHOP}`);
    expect(await ownItems()).toEqual(before);
    const shop = await api('GET', `/v1/instances/pg/databases/${SHOP}`);
    expect(shop.body.lastSuccessfulSyncTime).toBe(res.body.syncTime);
  });

  it('records tables added and dropped since', async () => {
    // Prepare
    const { adminQuery } = await import('../support/postgres.js');
    await adminQuery(server, 'CREATE TABLE public.refunds (id int); DROP TABLE audit.log', SHOP);

    // Act
    await syncAndWait((m, p) => api(m, p), 'pg');

    // Assess
    expect((await repo().listTables('pg', SHOP)).map((x) => `${x.schema}.${x.name}`).sort()).toEqual(['public.orders', 'public.refunds']);
  });

  it('marks a database that vanished NOT_FOUND, and OK again when it is back', async () => {
    // Prepare
    const before = (await api('GET', `/v1/instances/pg/databases/${CRM}`)).body;
    await dropDatabases(CRM);

    // Act
    const gone = await syncAndWait((m, p) => api(m, p), 'pg');
    const missing = (await api('GET', `/v1/instances/pg/databases/${CRM}`)).body;
    await pgDatabases(server, role.name, { [CRM]: [] });
    const back = await syncAndWait((m, p) => api(m, p), 'pg');
    const restored = (await api('GET', `/v1/instances/pg/databases/${CRM}`)).body;

    // Assess
    expect(gone.body.databases.notFound).toContain(`instances/pg/databases/${CRM}`);
    expect(missing).toMatchObject({ syncState: 'NOT_FOUND', lastSuccessfulSyncTime: before.lastSuccessfulSyncTime });
    expect(missing.etag).not.toBe(before.etag);
    expect(back.body.databases.restored).toContain(`instances/pg/databases/${CRM}`);
    expect(restored).toMatchObject({ syncState: 'OK', lastSuccessfulSyncTime: back.body.syncTime, project: 'projects/default' });
  });

  it('answers 400 naming the cause when the server cannot be reached, writing nothing', async () => {
    // Prepare
    await api('POST', '/v1/instances', { body: instanceBody('pg-closed', { ...role.source, port: 1 }) });
    const before = await scanTable(t.store);

    // Act
    const res = await syncAndWait((m, p) => api(m, p), 'pg-closed');

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringMatching(/^cannot sync instances\/pg-closed: connection refused at 127\.0\.0\.1:1/) });
    expect(await scanTable(t.store)).toEqual(before);
  });
});
