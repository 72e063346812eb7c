// A batch change over a database group, end to end over HTTP on the local runtime: tenant
// databases made for this file on the run's PostgreSQL, grouped by a CEL expression, changed by
// one issue whose target is the group (one task per tenant, a stage per environment), then
// checked in every tenant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columns as columnsIn, dbOf, ok, registerInstance as register, stage, waitIssue as waitFor, type Body } from '../support/batch.js';
import { startApi, type Api } from '../support/http.js';
import { randomId } from '../support/inventory.js';
import { adminQuery, dropDatabases, postgresServer, type SqlServer } from '../support/postgres.js';

const DBA = 'dba@example.com';
const PROJECT = `saas-${Date.now().toString(36)}`;
const pg: SqlServer = postgresServer();
const PREFIX = randomId('sluice_t');
/** Ten tenants: eight on the test instance, two on the prod one (same server, different projects' view). */
const TENANTS = Array.from({ length: 10 }, (_, i) => `${PREFIX}_tenant_${i + 1}`);
const TEST_TENANTS = TENANTS.slice(0, 8);
const PROD_TENANTS = TENANTS.slice(8);
const GROUP = `projects/${PROJECT}/databaseGroups/tenants`;
let api: Api;

const waitIssue = (name: string, what: string, done: (issue: Body) => boolean): Promise<Body> => waitFor(api, name, what, done);
const columns = (db: string): Promise<string[]> => columnsIn(pg, db);
const registerInstance = (id: string, environment: string, databases: string[]): Promise<void> => register(api, pg, id, environment, PROJECT, databases);

beforeAll(async () => {
  for (const db of TENANTS) {
    await adminQuery(pg, `CREATE DATABASE "${db}"`);
    await adminQuery(pg, 'CREATE TABLE accounts (id int PRIMARY KEY, name text)', db);
  }
  api = await startApi();
  ok(await api.call('POST', '/v1/users', { body: { email: DBA, title: 'DBA', role: 'workspaceDBA' } }), 201);
  // The column added by hand to one tenant is to make the statement fail there, not drift (test/e2e/drift.test.ts covers drift).
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'SaaS', allowDriftedRollout: true } }), 201);
  await registerInstance('pg-test', 'test', TEST_TENANTS);
  await registerInstance('pg-prod', 'prod', PROD_TENANTS);
  ok(await api.call('POST', `/v1/projects/${PROJECT}/databaseGroups`, { body: { id: 'tenants', title: 'Tenants', databaseExpr: `resource.database_name.startsWith("${PREFIX}_tenant_")` } }), 201);
}, 180_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, TENANTS);
});

describe('a batch change over a database group', () => {
  it('plans one task per tenant, staged by environment, and adds the column in every tenant', async () => {
    // Act
    const created = ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, {
      body: { title: 'Add plan', type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE accounts ADD COLUMN plan text', databaseGroup: GROUP },
    }), 201);
    const waiting = await waitIssue(created.name, 'prod to wait for approval', (i) => stage(i, 'prod').status === 'PENDING_APPROVAL');
    ok(await api.call('POST', `/v1/${stage(waiting, 'prod').name}:approve`, { as: DBA, body: {} }));
    const done = await waitIssue(created.name, 'the issue to be DONE', (i) => i.status === 'DONE');

    // Assess
    expect(created.pipeline.stages.map((s: Body) => s.environment)).toEqual(['environments/test', 'environments/prod']);
    expect(stage(created, 'test').tasks.map(dbOf).sort()).toEqual([...TEST_TENANTS].sort());
    expect(stage(created, 'prod').tasks.map(dbOf).sort()).toEqual([...PROD_TENANTS].sort());
    expect(stage(waiting, 'test').tasks.every((t: Body) => t.status === 'DONE')).toBe(true);
    expect(done.pipeline.stages.flatMap((s: Body) => s.tasks).map((t: Body) => t.status)).toEqual(Array(10).fill('DONE'));
    for (const db of TENANTS) expect(await columns(db), db).toContain('plan');
  });

  it('one failing tenant does not stop the others in its stage: the stage ends FAILED and waits for a skip', async () => {
    // Prepare: the column exists already in one tenant, so the change fails there.
    const broken = TEST_TENANTS[3]!;
    await adminQuery(pg, 'ALTER TABLE accounts ADD COLUMN region text', broken);

    // Act
    const created = ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, {
      body: { title: 'Add region', type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE accounts ADD COLUMN region text', databaseGroup: GROUP },
    }), 201);
    const failed = await waitIssue(created.name, 'the test stage to fail', (i) => stage(i, 'test').status === 'FAILED');

    // Assess
    const byDb = new Map<string, string>(stage(failed, 'test').tasks.map((t: Body) => [dbOf(t), t.status]));
    expect(byDb.get(broken)).toBe('FAILED');
    expect([...byDb].filter(([db]) => db !== broken).map(([, s]) => s)).toEqual(Array(7).fill('DONE'));
    expect(stage(failed, 'prod').status).toBe('NOT_STARTED');
    expect(failed.status).toBe('OPEN');
    for (const db of TEST_TENANTS) expect(await columns(db), db).toContain('region');
    for (const db of PROD_TENANTS) expect(await columns(db), db).not.toContain('region');

    // Act: skipping the failed tenant lets the pipeline go on to prod.
    const task = stage(failed, 'test').tasks.find((t: Body) => dbOf(t) === broken);
    ok(await api.call('POST', `/v1/${task.name}:skip`, { as: DBA, body: { reason: 'column added by hand' } }));
    const next = await waitIssue(created.name, 'prod to wait for approval', (i) => stage(i, 'prod').status === 'PENDING_APPROVAL');

    // Assess
    expect(stage(next, 'test').tasks.find((t: Body) => dbOf(t) === broken).status).toBe('SKIPPED');
  });

  it('refuses a group of another project or one matching no database, and names the count of a group too large for one issue', async () => {
    // Prepare
    ok(await api.call('POST', `/v1/projects/${PROJECT}/databaseGroups`, { body: { id: 'nobody', title: 'Nobody', databaseExpr: 'false' } }), 201);
    const body = (databaseGroup: string) => ({ body: { title: 'X', type: 'DATABASE_DATA_UPDATE', statement: 'SELECT 1', databaseGroup } });

    // Act
    const empty = await api.call('POST', `/v1/projects/${PROJECT}/issues`, body(`projects/${PROJECT}/databaseGroups/nobody`));
    const foreign = await api.call('POST', `/v1/projects/${PROJECT}/issues`, body('projects/other/databaseGroups/tenants'));
    const both = await api.call('POST', `/v1/projects/${PROJECT}/issues`, { body: { ...body(GROUP).body, targets: [`instances/pg-test/databases/${TENANTS[0]}`] } });

    // Assess
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toMatch(/matches no database/);
    expect(foreign.status).toBe(400);
    expect(foreign.json.error.message).toMatch(/belongs to projects\/other/);
    expect(both.status).toBe(400);
  });
});
