// Database groups and table groups over HTTP on DynamoDB Local (the local server), matched
// against databases and tables that sync recorded from the run's real PostgreSQL.
import { waitForOperation } from '../support/operations.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseItem } from '../../functions/adapters/dynamo/databases.js';
import { startApi, type Api, type CallResult } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, type SqlServer } from '../support/postgres.js';
import { randomId } from '../support/inventory.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

const pg: SqlServer = postgresServer();
const PREFIX = randomId('sluice_t');
const TENANTS = [1, 2, 3].map((n) => `${PREFIX}_tenant_${n}`);
const OTHER = `${PREFIX}_billing`;
const PROJECT = 'groups';
const BASE = `/v1/projects/${PROJECT}/databaseGroups`;
const dbName = (db: string) => `instances/pg/databases/${db}`;
let api: Api;

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};

beforeAll(async () => {
  // tenant_1 and tenant_2 have orders tables, tenant_3 has none; every database has users.
  for (const db of [...TENANTS, OTHER]) {
    await adminQuery(pg, `CREATE DATABASE "${db}"`);
    await adminQuery(pg, 'CREATE TABLE users (id int)', db);
  }
  for (const db of TENANTS.slice(0, 2)) await adminQuery(pg, 'CREATE SCHEMA sales; CREATE TABLE sales.orders (id int); CREATE TABLE public.orders_archive (id int)', db);
  api = await startApi();
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Groups' } }), 201);
  ok(
    await api.call('POST', '/v1/instances', {
      body: { id: 'pg', title: 'pg', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] },
    }),
    201,
  );
  await waitForOperation(async (path) => ok(await api.call('GET', path)), ok(await api.call('POST', '/v1/instances/pg:sync')).name);
  for (const db of [...TENANTS, OTHER]) ok(await api.call('PATCH', `/v1/instances/pg/databases/${db}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
  ok(await api.call('PATCH', `/v1/instances/pg/databases/${TENANTS[0]}?updateMask=labels`, { body: { labels: { tier: 'gold' } } }));
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, [...TENANTS, OTHER]);
});

describe('database groups', () => {
  it('are created, read, listed, updated with an etag and deleted', async () => {
    // Act
    const created = ok(await api.call('POST', BASE, { body: { id: 'crud', title: 'Tenants', databaseExpr: 'resource.database_name.startsWith("x")' } }), 201);
    const listed = ok(await api.call('GET', BASE));
    const stale = await api.call('PATCH', `${BASE}/crud?updateMask=title`, { body: { title: 'Late' }, headers: { 'if-match': 'bm9wZQ' } });
    const renamed = ok(await api.call('PATCH', `${BASE}/crud?updateMask=title,databaseExpr`, { body: { title: 'Renamed', databaseExpr: 'true' }, headers: { 'if-match': created.etag } }));
    const again = await api.call('POST', BASE, { body: { id: 'crud', title: 'Twice', databaseExpr: 'true' } });
    ok(await api.call('DELETE', `${BASE}/crud`, { headers: { 'if-match': renamed.etag } }));
    const gone = await api.call('GET', `${BASE}/crud`);

    // Assess
    expect(created).toMatchObject({ name: `projects/${PROJECT}/databaseGroups/crud`, title: 'Tenants', databaseExpr: 'resource.database_name.startsWith("x")' });
    expect(created).not.toHaveProperty('matchedDatabases');
    expect(listed.databaseGroups.map((g: Body) => g.name)).toContain(created.name);
    expect(stale.status).toBe(409);
    expect(renamed).toMatchObject({ title: 'Renamed', databaseExpr: 'true' });
    expect(renamed.etag).not.toBe(created.etag);
    expect(again.status).toBe(409);
    expect(gone.status).toBe(404);
  });

  it('refuses an expression that does not parse or type-check, with its position, and writes nothing', async () => {
    // Act
    const syntax = await api.call('POST', BASE, { body: { id: 'bad', title: 'Bad', databaseExpr: 'resource.database_name ==' } });
    const unknown = await api.call('POST', BASE, { body: { id: 'bad', title: 'Bad', databaseExpr: 'resource.database_name == "a" && resource.owner == "b"' } });

    // Assess
    expect(syntax.status).toBe(400);
    expect(syntax.json.error.details[0]).toMatchObject({ field: 'databaseExpr', description: expect.stringMatching(/^line 1, column 26 \(offset 25\): Unexpected token/) });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.details[0].description).toMatch(/^line 1, column 43 \(offset 42\): No such key: owner/);
    expect((await api.call('GET', `${BASE}/bad`)).status).toBe(404);
  });

  it('with view=FULL lists the matched and unmatched databases of the project', async () => {
    // Prepare
    ok(await api.call('POST', BASE, { body: { id: 'tenants', title: 'Tenants', databaseExpr: `resource.database_name.startsWith("${PREFIX}_tenant_") && resource.environment_name == "test"` } }), 201);
    ok(await api.call('POST', BASE, { body: { id: 'gold', title: 'Gold', databaseExpr: '"tier" in resource.labels && resource.labels["tier"] == "gold" || resource.database_name.endsWith("_billing")' } }), 201);

    // Act
    const tenants = ok(await api.call('GET', `${BASE}/tenants?view=FULL`));
    const gold = ok(await api.call('GET', `${BASE}/gold?view=FULL`));

    // Assess
    expect(tenants.matchedDatabases).toEqual(TENANTS.map(dbName));
    expect(tenants.unmatchedDatabases).toEqual([dbName(OTHER)]);
    expect(gold.matchedDatabases).toEqual([dbName(OTHER), dbName(TENANTS[0]!)].sort());
  });
});

describe('table groups', () => {
  it('match the tables sync recorded, per matched database, and go away with their database group', async () => {
    // Prepare
    ok(await api.call('POST', BASE, { body: { id: 'shops', title: 'Shops', databaseExpr: `resource.database_name.startsWith("${PREFIX}_tenant_")` } }), 201);
    const bad = await api.call('POST', `${BASE}/shops/tableGroups`, { body: { id: 'bad', title: 'Bad', tableExpr: 'resource.database_name == "x"' } });

    // Act
    const created = ok(await api.call('POST', `${BASE}/shops/tableGroups`, { body: { id: 'orders', title: 'Orders', tableExpr: 'resource.table_name.startsWith("orders")' } }), 201);
    const full = ok(await api.call('GET', `${BASE}/shops/tableGroups/orders?view=FULL`));
    const sales = ok(await api.call('PATCH', `${BASE}/shops/tableGroups/orders?updateMask=tableExpr`, { body: { tableExpr: 'resource.schema_name == "sales"' } }));
    const salesFull = ok(await api.call('GET', `${BASE}/shops/tableGroups/orders?view=FULL`));
    const listed = ok(await api.call('GET', `${BASE}/shops/tableGroups`));
    ok(await api.call('DELETE', `${BASE}/shops`));
    const orphan = await api.call('GET', `${BASE}/shops/tableGroups/orders`);

    // Assess
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0]).toMatchObject({ field: 'tableExpr', description: expect.stringMatching(/No such key: database_name/) });
    expect(created).toMatchObject({ name: `projects/${PROJECT}/databaseGroups/shops/tableGroups/orders`, tableExpr: 'resource.table_name.startsWith("orders")' });
    expect(full.matchedTables).toEqual([
      { database: dbName(TENANTS[0]!), tables: ['public.orders_archive', 'sales.orders'] },
      { database: dbName(TENANTS[1]!), tables: ['public.orders_archive', 'sales.orders'] },
    ]);
    expect(sales.tableExpr).toBe('resource.schema_name == "sales"');
    expect(salesFull.matchedTables.map((m: Body) => m.tables)).toEqual([['sales.orders'], ['sales.orders']]);
    expect(listed.tableGroups.map((g: Body) => g.name)).toEqual([created.name]);
    expect(orphan.status).toBe(404);
  });
});

describe('issues on a database group', () => {
  it('plans a group larger than one DynamoDB transaction holds in one request, one task per database', async () => {
    // Prepare: 120 databases recorded in another project (written directly: planning never connects).
    ok(await api.call('POST', '/v1/projects', { body: { id: 'big', title: 'Big' } }), 201);
    const time = new Date().toISOString();
    await api.table.store.batchWrite(
      Array.from({ length: 120 }, (_, i) => ({
        PutRequest: { Item: databaseItem({ instance: 'pg', name: `big_${String(i).padStart(3, '0')}`, project: 'big', labels: {}, schemaVersion: '', syncState: 'OK', createTime: time, updateTime: time, version: 1 }) },
      })),
    );
    ok(await api.call('POST', '/v1/projects/big/databaseGroups', { body: { id: 'all', title: 'All', databaseExpr: 'resource.database_name.startsWith("big_")' } }), 201);

    // Act
    const res = await api.call('POST', '/v1/projects/big/issues', {
      body: { title: 'Many', type: 'DATABASE_SCHEMA_UPDATE', statement: 'SELECT 1', databaseGroup: 'projects/big/databaseGroups/all' },
    });

    // Assess
    const issue = ok(res, 201);
    const stage = issue.pipeline.stages[0];
    expect([stage.taskCount, stage.tasks.length]).toEqual([120, 120]);
    expect(stage.tasks.map((t: { database: string }) => t.database)).toEqual(Array.from({ length: 120 }, (_, i) => `instances/pg/databases/big_${String(i).padStart(3, '0')}`));
    expect(ok(await api.call('GET', '/v1/projects/big/issues')).issues.map((i: { name: string }) => i.name)).toEqual([issue.name]);
  });
});
