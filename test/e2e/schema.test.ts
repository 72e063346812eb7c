// Schemas over HTTP on the local server: :sync runs on the local sync state machine and records
// each database's schema from the real PostgreSQL; GET .../schema shows it as JSON and as DDL;
// :diffSchema's statement, applied to the target and synced again, makes both checksums equal;
// :checkConsistency names the tenant that differs.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type Api, type CallResult } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, type SqlServer } from '../support/postgres.js';
import { randomId } from '../support/inventory.js';
import { waitForOperation } from '../support/operations.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

const pg: SqlServer = postgresServer();
const PREFIX = randomId('sluice_t');
const PROD = `${PREFIX}_hr_prod`;
const TEST = `${PREFIX}_hr_test`;
const TENANTS = [1, 2, 3].map((n) => `${PREFIX}_tenant_${n}`);
const HR = readFileSync(new URL('../../infra/local/samples/hr.sql', import.meta.url), 'utf8');
const PROJECT = 'schemas';
let api: Api;

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};
const path = (db: string) => `/v1/instances/pg/databases/${db}`;
const sync = async (): Promise<Body> => {
  const op = ok(await api.call('POST', '/v1/instances/pg:sync'));
  expect(op).toMatchObject({ name: expect.stringMatching(/^operations\//), done: false, metadata: { databasesTotal: expect.any(Number), databasesDone: 0 } });
  return waitForOperation(async (p) => ok(await api.call('GET', p)), op.name);
};

beforeAll(async () => {
  for (const db of [PROD, TEST, ...TENANTS]) await adminQuery(pg, `CREATE DATABASE "${db}"`);
  await adminQuery(pg, HR, PROD);
  // hr_test: a column and an index prod does not have, a looser column, a table prod dropped.
  await adminQuery(pg, `${HR}; ALTER TABLE employees ADD COLUMN nickname text; CREATE INDEX salaries_amount ON salaries (amount);
    ALTER TABLE departments ALTER COLUMN cost_center DROP NOT NULL; CREATE TABLE scratch (id int)`, TEST);
  for (const db of TENANTS) await adminQuery(pg, 'CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL)', db);
  await adminQuery(pg, 'ALTER TABLE accounts ADD COLUMN plan text', TENANTS[2]!);
  api = await startApi();
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Schemas' } }), 201);
  ok(
    await api.call('POST', '/v1/instances', {
      body: { id: 'pg', title: 'pg', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] },
    }),
    201,
  );
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, [PROD, TEST, ...TENANTS]);
});

describe('schemas', () => {
  it(':sync answers with an operation at once; when done, every database has its schema', async () => {
    const op = await sync();
    expect(op.done).toBe(true);
    expect(op.metadata.databasesDone).toBe(op.metadata.databasesTotal);
    expect(op.response.failures.filter((f: Body) => f.database.includes(PREFIX))).toEqual([]);

    const schema = ok(await api.call('GET', `${path(PROD)}/schema`));
    expect(schema).toMatchObject({ name: `instances/pg/databases/${PROD}/schema`, engine: 'POSTGRES', checksum: expect.stringMatching(/^[0-9a-f]{64}$/), syncTime: op.response.syncTime });
    const pub = schema.schemas.find((s: Body) => s.name === 'public');
    const employees = pub.tables.find((t: Body) => t.name === 'employees');
    expect(employees.rowEstimate).toBeGreaterThanOrEqual(0);
    expect(employees.columns[0]).toEqual({ name: 'id', position: 1, type: 'integer', nullable: false });
    expect(employees.constraints.map((k: Body) => k.type).sort()).toEqual(['FOREIGN KEY', 'FOREIGN KEY', 'PRIMARY KEY', 'UNIQUE']);

    const ddl = ok(await api.call('GET', `${path(PROD)}/schema?format=SQL`));
    expect(ddl.checksum).toBe(schema.checksum);
    expect(ddl.ddl).toContain('CREATE TABLE "public"."employees" (');
    expect(ddl.schemas).toBeUndefined();
    expect((await api.call('GET', `${path(PROD)}/schema?format=XML`)).status).toBe(400);
  });

  it(':diffSchema gives the diff and the statement that makes the target equal; applied, the checksums match', async () => {
    const res = ok(await api.call('POST', `${path(PROD)}:diffSchema`, { body: { target: `instances/pg/databases/${TEST}` } }));
    expect(res.diff).toMatch(/^--- instances\/pg\/databases\/.*_hr_test/m);
    expect(res.diff).toMatch(/^- {2}"nickname" text$/m);
    expect(res.statement).toContain('ALTER TABLE "public"."employees" DROP COLUMN "nickname";');
    expect(res.statement).toContain('DROP TABLE "public"."scratch";');

    await adminQuery(pg, res.statement, TEST);
    await sync();
    const [prod, test] = await Promise.all([PROD, TEST].map(async (db) => ok(await api.call('GET', `${path(db)}/schema`))));
    expect(test.checksum).toBe(prod.checksum);
    expect(ok(await api.call('POST', `${path(PROD)}:diffSchema`, { body: { target: `instances/pg/databases/${TEST}` } }))).toEqual({ diff: '', statement: '' });

    expect((await api.call('POST', `${path(PROD)}:diffSchema`, { body: { target: 'hr_test' } })).status).toBe(400);
    expect((await api.call('POST', `${path(PROD)}:diffSchema`, { body: { target: 'instances/pg/databases/nope' } })).status).toBe(404);
  });

  it(':checkConsistency groups the tenants by checksum and names the one that differs', async () => {
    for (const db of TENANTS) ok(await api.call('PATCH', `${path(db)}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
    ok(await api.call('POST', `/v1/projects/${PROJECT}/databaseGroups`, { body: { id: 'tenants', title: 'Tenants', databaseExpr: `resource.database_name.startsWith("${PREFIX}_tenant_")` } }), 201);
    const res = ok(await api.call('GET', `/v1/projects/${PROJECT}/databaseGroups/tenants:checkConsistency`));
    const names = TENANTS.map((db) => `instances/pg/databases/${db}`);
    expect(res.schemas.map((s: Body) => s.databases)).toEqual([names.slice(0, 2), [names[2]]]);
    expect(res).toMatchObject({ mostCommonChecksum: res.schemas[0].checksum, differing: [names[2]], notSynced: [] });
  });
});
