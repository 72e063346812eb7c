// Instances on a real MariaDB (MYSQL engine), through the real handlers on DynamoDB Local.
// Skipped only on a developer's machine without MariaDB (one line says so); CI requires it.
import { syncAndWait } from '../support/operations.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDatabaseRepo } from '../../functions/adapters/dynamo/databases.js';
import { scanTable, type Api, type Body } from '../support/api.js';
import { inventoryApi, mysqlUser, randomId, secretFiles } from '../support/inventory.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { freshTable, type TestTable } from '../support/table.js';

const server = mysqlServer();
const PASSWORD = `my-${randomId('pw')}`;
const SHOP = randomId('sluice_t');
const CRM = randomId('sluice_t');

describe.skipIf(server === null)('a MariaDB instance', () => {
  let t: TestTable;
  let api: Api;
  let user: Awaited<ReturnType<typeof mysqlUser>>;
  const admin = server!;

  beforeAll(async () => {
    t = await freshTable();
    api = await inventoryApi();
    user = await mysqlUser(admin, PASSWORD);
    await mysqlQuery(admin, `CREATE DATABASE ${SHOP}`);
    await mysqlQuery(admin, `CREATE TABLE ${SHOP}.orders (id int)`);
    await mysqlQuery(admin, `CREATE TABLE ${SHOP}.customers (id int)`);
    await mysqlQuery(admin, `CREATE DATABASE ${CRM}`);
  });

  afterAll(async () => {
    for (const db of [SHOP, CRM]) await mysqlQuery(admin, `DROP DATABASE IF EXISTS ${db}`);
    await user?.drop();
  });

  const body = (id: string, source: Record<string, unknown>) => ({
    id, title: id, engine: 'MYSQL', environment: 'environments/test', dataSources: [{ type: 'ADMIN', ...source }],
  });
  const mine = (list: Body[]) => list.map((d: Body) => d.name.split('/').pop()).filter((n: string) => n === SHOP || n === CRM).sort();

  it('with validateOnly checks the connection and writes nothing', async () => {
    // Prepare
    const before = { table: await scanTable(t.store), secrets: secretFiles() };

    // Act
    const ok = await api('POST', '/v1/instances?validateOnly=true', { body: body('maria', user.source) });
    const denied = await api('POST', '/v1/instances?validateOnly=true', { body: body('maria', { ...user.source, password: 'wrong' }) });

    // Assess
    expect(ok.status).toBe(200);
    expect(denied.status).toBe(400);
    expect(denied.body.error.message).toMatch(new RegExp(`^dataSources\\[0\\]: cannot connect: Access denied for user '${user.name}'@'[^']+' \\(using password: YES\\)$`));
    expect(await scanTable(t.store)).toEqual(before.table);
    expect(secretFiles()).toEqual(before.secrets);
  });

  it('registers it and tests the connection: the MariaDB version, no session left', async () => {
    // Act
    const created = await api('POST', '/v1/instances', { body: body('maria', user.source) });
    const tested = await api('POST', '/v1/instances/maria:testConnection');

    // Assess
    expect(created.status).toBe(201);
    expect(tested.body).toEqual({ ok: true, engineVersion: expect.stringMatching(/^\d+\.\d+\.\d+(-MariaDB)?$/) });
    expect(await user.settledSessions()).toBe(0);
  });

  it.each([
    ['a wrong password', () => ({ ...user.source, password: 'nope' }), /^Access denied for user /],
    ['a closed port', () => ({ ...user.source, port: 1 }), /^connection refused at 127\.0\.0\.1:1 /],
  ])('answers ok:false for %s within 10 s, leaving no session', async (_case, source, message) => {
    // Prepare
    const id = randomId('bad').replace(/_/g, '-');
    await api('POST', '/v1/instances', { body: body(id, source()) });
    const started = Date.now();

    // Act
    const res = await api('POST', `/v1/instances/${id}:testConnection`);

    // Assess
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.body).toEqual({ ok: false, error: expect.stringMatching(message) });
    expect(await user.settledSessions()).toBe(0);
  });

  it('syncs: the databases the user sees, their tables (schema ""), no system database', async () => {
    // Act
    const res = await syncAndWait((m, p) => api(m, p), 'maria');
    const list = await api('GET', '/v1/instances/maria/databases');

    // Assess
    expect(res.status).toBe(200);
    expect(mine(list.body.databases)).toEqual([CRM, SHOP].sort());
    expect(list.body.databases.map((d: Body) => d.name)).not.toContain('instances/maria/databases/information_schema');
    expect(list.body.databases[0]).toMatchObject({ engine: 'MYSQL', project: 'projects/default', syncState: 'OK' });
    expect((await new DynamoDatabaseRepo(t.store).listTables('maria', SHOP)).map((x) => [x.schema, x.name]).sort()).toEqual([['', 'customers'], ['', 'orders']]);
  });

  it('syncs again without a change, then marks a dropped database NOT_FOUND', async () => {
    // Prepare
    const own = async () => (await scanTable(t.store)).filter((i) => String(i.sk).includes(SHOP) || String(i.sk).includes(CRM)).map(({ lastSuccessfulSyncTime: _s, ...rest }) => rest);
    const before = await own();

    // Act
    await syncAndWait((m, p) => api(m, p), 'maria');
    const unchanged = await own();
    await mysqlQuery(admin, `DROP DATABASE ${CRM}`);
    const res = await syncAndWait((m, p) => api(m, p), 'maria');

    // Assess
    expect(unchanged).toEqual(before);
    expect(res.body.databases.notFound).toContain(`instances/maria/databases/${CRM}`);
    expect(res.body.databases.notFound).not.toContain(`instances/maria/databases/${SHOP}`);
  });
});
