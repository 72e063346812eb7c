// Versions in order, per database, over HTTP on the local runtime (the same state machine
// definition as deployed, run by the local Step Functions runner) against the real PostgreSQL:
// a later version waits inside the pipeline for a lower one made earlier, is released when that one
// is applied or skipped, and a version below one already applied is refused unless the project
// allows out-of-order versions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, waitFor, type Api, type CallResult } from '../support/http.js';
import { adminQuery, client, dropDatabases, postgresServer, testDatabaseName, type SqlServer } from '../support/postgres.js';

const DBA = 'dba@versions.test';
const PROJECT = `ver-${Date.now().toString(36)}`;
const pg: SqlServer = postgresServer();
const DB = { order: testDatabaseName(), skip: testDatabaseName() };
let api: Api;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;
const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};
const target = (db: string) => `instances/pg-ver/databases/${db}`;
const create = (db: string, version: string, statement: string) =>
  api.call('POST', `/v1/projects/${PROJECT}/issues`, { body: { title: `V${version}`, type: 'DATABASE_SCHEMA_UPDATE', statement, targets: [target(db)], migrationVersion: version } });
const getIssue = async (name: string): Promise<Body> => ok(await api.call('GET', `/v1/${name}`));
const taskOf = (issue: Body): Body => issue.pipeline.stages[0].tasks[0];
const waitIssue = (name: string, what: string, done: (i: Body) => boolean) => waitFor(what, () => getIssue(name), done, 60_000);
const columns = async (db: string, table: string): Promise<string[]> =>
  (await adminQuery<{ c: string }>(pg, `SELECT column_name AS c FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`, db)).map((r) => r.c);
const database = async (db: string): Promise<Body> => ok(await api.call('GET', `/v1/${target(db)}`));

beforeAll(async () => {
  for (const db of Object.values(DB)) await adminQuery(pg, `CREATE DATABASE "${db}"`);
  api = await startApi();
  ok(await api.call('POST', '/v1/users', { body: { email: DBA, title: 'DBA', role: 'workspaceDBA' } }), 201);
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Versions' } }), 201);
  ok(await api.call('POST', '/v1/instances', {
    body: { id: 'pg-ver', title: 'pg', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] },
  }), 201);
  ok(await api.call('POST', '/v1/instances/pg-ver:sync'));
  for (const db of Object.values(DB)) ok(await api.call('PATCH', `/v1/${target(db)}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, Object.values(DB));
});

describe('versions in order, per database', () => {
  it('V3 made while V2 still runs waits (PENDING, its detail naming V2), and runs once V2 is DONE', async () => {
    ok(await create(DB.order, '1', 'CREATE TABLE ledger (id int PRIMARY KEY)'), 201);
    // Hold V1's next statement on a lock, so V1 is still running when V2 comes.
    const holder = client(pg, DB.order);
    await holder.connect();
    try {
      await waitIssue(`projects/${PROJECT}/issues/1`, 'V1 to be DONE', (i) => i.status === 'DONE');
      await holder.query('BEGIN; LOCK TABLE ledger IN ACCESS EXCLUSIVE MODE');
      const v2a = ok(await create(DB.order, '2', 'ALTER TABLE ledger ADD COLUMN amount int'), 201);
      const v2aRunning = await waitIssue(v2a.name, 'V2 to be running (blocked on the lock)', (i) => taskOf(i).status === 'RUNNING');
      expect(v2aRunning.status).toBe('OPEN');
      const v3 = ok(await create(DB.order, '3', 'ALTER TABLE ledger ADD COLUMN note text'), 201);
      const waiting = await waitIssue(v3.name, 'V3 to wait for V2', (i) => taskOf(i).detail !== undefined);
      expect(taskOf(waiting).status).toBe('PENDING');
      expect(taskOf(waiting).detail).toContain(`waits for V2 (${v2a.name})`);
      expect(taskOf(waiting).latestTaskRun).toBeUndefined();
      // Still waiting a few polls later: nothing ran, V2 is still held.
      await new Promise((r) => setTimeout(r, 3000));
      expect(taskOf(await getIssue(v3.name))).toMatchObject({ status: 'PENDING', detail: expect.stringContaining('V2') });
      expect(taskOf(await getIssue(v2a.name)).status).toBe('RUNNING');
      await holder.query('COMMIT');
      const done = await waitIssue(v3.name, 'V3 to be DONE', (i) => i.status === 'DONE');
      expect(taskOf(done).detail).toBeUndefined();
      expect(taskOf(done).latestTaskRun).toMatchObject({ status: 'DONE', attempt: 1 });
      expect(taskOf(await getIssue(v2a.name)).status).toBe('DONE');
      expect(await columns(DB.order, 'ledger')).toEqual(['id', 'amount', 'note']);
      const history = ok(await api.call('GET', `/v1/${target(DB.order)}/changeHistories?pageSize=100`)).changeHistories as Body[];
      expect(history.map((h) => h.version).reverse()).toEqual(['1', '2', '3']);
      expect((await database(DB.order)).schemaVersion).toBe('3');
    } finally {
      await holder.end();
    }
  }, 120_000);

  it('a failed V1 holds V2 back; skipping V1 releases it', async () => {
    const v1 = ok(await create(DB.skip, '1', 'ALTER TABLE no_such_table ADD COLUMN x int'), 201);
    const failed = await waitIssue(v1.name, 'V1 to fail', (i) => taskOf(i).status === 'FAILED');
    const v2 = ok(await create(DB.skip, '2', 'CREATE TABLE things (id int PRIMARY KEY)'), 201);
    const waiting = await waitIssue(v2.name, 'V2 to wait for V1', (i) => taskOf(i).detail !== undefined);
    expect(taskOf(waiting)).toMatchObject({ status: 'PENDING', detail: expect.stringContaining(`waits for V1 (${v1.name})`) });
    await waitFor('the :skip to be accepted', async () => (await api.call('POST', `/v1/${taskOf(failed).name}:skip`, { as: DBA, body: { reason: 'not needed' } })).status, (s) => s === 200);
    await waitIssue(v2.name, 'V2 to be DONE', (i) => i.status === 'DONE');
    expect(await columns(DB.skip, 'things')).toEqual(['id']);
    expect((await database(DB.skip)).schemaVersion).toBe('2');
  }, 120_000);

  it('a version below one already applied is refused with both versions named, unless the project allows out-of-order versions; schemaVersion stays', async () => {
    const before = ok(await api.call('GET', `/v1/projects/${PROJECT}/issues?pageSize=100`)).issues.length;
    const refused = ok(await create(DB.order, '2.5', 'ALTER TABLE ledger ADD COLUMN late int'), 400);
    expect(refused.error.details[0].field).toBe('migrationVersion');
    expect(refused.error.message).toContain(`version 2.5 is lower than version 3, already applied to ${target(DB.order)}`);
    expect(ok(await api.call('GET', `/v1/projects/${PROJECT}/issues?pageSize=100`)).issues).toHaveLength(before);

    const project = ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=allowOutOfOrderVersions`, { body: { allowOutOfOrderVersions: true } }));
    expect(project.allowOutOfOrderVersions).toBe(true);
    const late = ok(await create(DB.order, '2.5', 'ALTER TABLE ledger ADD COLUMN late int'), 201);
    await waitIssue(late.name, 'V2.5 to be DONE', (i) => i.status === 'DONE');
    expect(await columns(DB.order, 'ledger')).toEqual(['id', 'amount', 'note', 'late']);
    expect((await database(DB.order)).schemaVersion).toBe('3');
    ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=allowOutOfOrderVersions`, { body: { allowOutOfOrderVersions: false } }));
  }, 120_000);
});
