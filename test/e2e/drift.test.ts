// Schema drift over HTTP on the local runtime, against the real PostgreSQL and MariaDB: the first
// sync records the baseline; a column added by hand is drift at the next sync (the database listed
// by filter=drifted == true, GET .../drift's diff naming the column, SCHEMA_DRIFT at a project
// webhook); a schema-update task refuses to run on it with a detail naming the column, unless the
// project allows drifted rollouts; :acceptDrift (not for a developer) makes the live schema the
// baseline with a BASELINE history entry, and the task then runs, its history entry carrying the
// schema checksums before and after and, with view=FULL, the diff naming the column it added.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, waitFor, type Api, type CallResult } from '../support/http.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName, type SqlServer } from '../support/postgres.js';
import { waitForOperation } from '../support/operations.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

const pg: SqlServer = postgresServer();
const maria = mysqlServer();
const PROJECT = `drift-${Date.now().toString(36)}`;
const DEV = 'dev@drift.test';
const PG_DB = testDatabaseName();
const MY_DB = testDatabaseName();
let api: Api;

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};

/** A webhook receiver on loopback: every request body, as JSON. */
const received: Body[] = [];
let receiver: Server;
let receiverUrl = '';

interface Engine {
  engine: 'POSTGRES' | 'MYSQL';
  instance: string;
  db: string;
  server: SqlServer;
  sql(statement: string): Promise<unknown>;
  /** The column names of `staff`, in order. */
  columns(): Promise<string[]>;
}

const engines: Engine[] = [
  {
    engine: 'POSTGRES', instance: 'pg-drift', db: PG_DB, server: pg,
    sql: (s) => adminQuery(pg, s, PG_DB),
    columns: async () => (await adminQuery<{ c: string }>(pg, "SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'staff' ORDER BY ordinal_position", PG_DB)).map((r) => r.c),
  },
  ...(maria
    ? [{
        engine: 'MYSQL' as const, instance: 'my-drift', db: MY_DB, server: maria,
        sql: (s: string) => mysqlQuery(maria, s.replace(/\bstaff\b/g, `\`${MY_DB}\`.staff`)),
        columns: async () => (await mysqlQuery<{ c: string }>(maria, 'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [MY_DB, 'staff'])).map((r) => r.c),
      }]
    : []),
];

const dbPath = (e: Engine) => `/v1/instances/${e.instance}/databases/${e.db}`;
const sync = async (e: Engine): Promise<Body> => {
  const op = ok(await api.call('POST', `/v1/instances/${e.instance}:sync`));
  const done = await waitForOperation(async (p) => ok(await api.call('GET', p)), op.name, 300_000);
  expect((done as Body).response.failures.filter((f: Body) => f.database.endsWith(`/${e.db}`))).toEqual([]);
  return done;
};
// Only this file's database: the instance is the shared server, whose other databases other test files change meanwhile.
const drifted = async (e: Engine): Promise<string[]> =>
  (ok(await api.call('GET', `/v1/instances/${e.instance}/databases?filter=${encodeURIComponent('drifted == true')}&pageSize=1000`)).databases as Body[])
    .map((d) => d.name as string)
    .filter((n) => n.endsWith(`/databases/${e.db}`));
const taskOf = (issue: Body): Body => issue.pipeline.stages[0].tasks[0];
const waitTask = (name: string, what: string, done: (t: Body) => boolean): Promise<Body> =>
  waitFor(what, async () => taskOf(ok(await api.call('GET', `/v1/${name}`))), done, 120_000);
const schemaIssue = async (e: Engine, statement: string): Promise<Body> =>
  ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { body: { title: 'Add a column', type: 'DATABASE_SCHEMA_UPDATE', statement, targets: [`instances/${e.instance}/databases/${e.db}`] } }), 201);
/** The issue whose task refused to run, per engine. */
const refusedIssue = new Map<string, string>();
const history = async (e: Engine, view = ''): Promise<Body[]> => ok(await api.call('GET', `${dbPath(e)}/changeHistories?pageSize=100${view}`)).changeHistories;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  await adminQuery(pg, `CREATE DATABASE "${PG_DB}"`);
  if (maria) await mysqlQuery(maria, `CREATE DATABASE \`${MY_DB}\``);
  for (const e of engines) await e.sql('CREATE TABLE staff (id int PRIMARY KEY, name varchar(50) NOT NULL)');
  api = await startApi();
  const dev = ok(await api.call('POST', '/v1/users', { body: { email: DEV, title: 'Dev', role: 'workspaceMember' } }), 201);
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Drift' } }), 201);
  const policy = ok(await api.call('GET', `/v1/projects/${PROJECT}:getIamPolicy`));
  ok(await api.call('POST', `/v1/projects/${PROJECT}:setIamPolicy`, { body: { policy: { bindings: [...policy.bindings, { role: 'projectDeveloper', members: [dev.name] }], etag: policy.etag } } }));
  ok(await api.call('POST', `/v1/projects/${PROJECT}/webhooks`, { body: { id: 'drift', title: 'drift', type: 'GENERIC', url: `${receiverUrl}/drift`, events: ['SCHEMA_DRIFT'] } }), 201);
  for (const e of engines) {
    const s = e.server;
    ok(await api.call('POST', '/v1/instances', {
      body: { id: e.instance, title: e.instance, engine: e.engine, environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: s.host, port: s.port, username: s.username, ...(s.password ? { password: s.password } : {}) }] },
    }), 201);
    // The first sync records the baseline.
    await sync(e);
    ok(await api.call('PATCH', `${dbPath(e)}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
  }
}, 600_000);

afterAll(async () => {
  await api?.server.close();
  await new Promise((r) => receiver?.close(r));
  await dropDatabases(pg, [PG_DB]);
  if (maria) {
    await mysqlQuery(maria, `DROP DATABASE IF EXISTS \`${MY_DB}\``);
    await mysqlQuery(maria, 'DELETE FROM sluice_history.applied WHERE task_key LIKE ?', [`projects/${PROJECT}/%`]).catch(() => undefined);
  }
});

describe.each(engines.map((e) => [e.engine, e] as const))('schema drift on %s', (_engine, e) => {
  it('a first sync is the baseline: not drifted, an empty diff', async () => {
    // Assess
    const db = ok(await api.call('GET', dbPath(e)));
    expect(db.drifted).toBe(false);
    expect(db.driftTime).toBeUndefined();
    const drift = ok(await api.call('GET', `${dbPath(e)}/drift`));
    expect(drift).toMatchObject({ drifted: false, diff: '' });
    expect(drift.actualChecksum).toBe(drift.expectedChecksum);
  }, 300_000);

  it('a column added by hand is drift at the next sync: listed by the filter, named by the diff and the SCHEMA_DRIFT event', async () => {
    // Arrange
    await e.sql('ALTER TABLE staff ADD COLUMN nickname varchar(40)');

    // Act
    await sync(e);

    // Assess
    const name = `instances/${e.instance}/databases/${e.db}`;
    expect(await drifted(e)).toEqual([name]);
    expect((ok(await api.call('GET', `/v1/instances/${e.instance}/databases?filter=${encodeURIComponent('drifted == false')}&pageSize=1000`)).databases as Body[]).map((d) => d.name)).not.toContain(name);
    expect((await api.call('GET', `/v1/instances/${e.instance}/databases?filter=${encodeURIComponent('drifted ~ 1')}`)).status).toBe(400);
    const db = ok(await api.call('GET', dbPath(e)));
    expect(db).toMatchObject({ drifted: true, driftTime: expect.any(String) });
    const drift = ok(await api.call('GET', `${dbPath(e)}/drift`));
    expect(drift.drifted).toBe(true);
    expect(drift.actualChecksum).not.toBe(drift.expectedChecksum);
    expect(drift.diff).toMatch(/^\+.*nickname.*$/m);
    const event = await waitFor('SCHEMA_DRIFT at the webhook', async () => received.find((r) => r.event === 'SCHEMA_DRIFT' && r.database === name), (r) => r !== undefined);
    expect(JSON.stringify(event)).toContain('nickname');
  }, 300_000);

  it('a schema-update task refuses to run on the drifted database, naming the drift; nothing ran', async () => {
    // Act
    const issue = await schemaIssue(e, 'ALTER TABLE staff ADD COLUMN email varchar(100)');
    refusedIssue.set(e.engine, issue.name);
    const task = await waitTask(issue.name, 'the task to fail', (t) => t.status === 'FAILED');

    // Assess
    expect(task.latestTaskRun.detail).toMatch(/schema drift/);
    expect(task.latestTaskRun.detail).toContain('column nickname added');
    expect(await e.columns()).toEqual(['id', 'name', 'nickname']);
    expect((await history(e)).filter((h) => h.status === 'DONE')).toEqual([]);
  }, 300_000);

  it(':acceptDrift is refused to a developer, makes the live schema the baseline for a DBA with a BASELINE entry; the task then runs', async () => {
    // Arrange
    const before = ok(await api.call('GET', `${dbPath(e)}/drift`));

    // Act
    const denied = await api.call('POST', `${dbPath(e)}:acceptDrift`, { as: DEV });
    const accepted = ok(await api.call('POST', `${dbPath(e)}:acceptDrift`));
    const again = await api.call('POST', `${dbPath(e)}:acceptDrift`);

    // Assess
    expect(denied.status).toBe(403);
    expect(accepted).toMatchObject({ type: 'BASELINE', status: 'DONE', schemaBefore: before.expectedChecksum, schemaAfter: before.actualChecksum, creator: expect.stringMatching(/^users\//) });
    expect(again.status).toBe(400);
    expect(ok(await api.call('GET', dbPath(e))).drifted).toBe(false);
    expect(await drifted(e)).toEqual([]);
    expect((await history(e)).map((h) => h.type)).toContain('BASELINE');

    // The failed task, run again, now runs.
    const failed = refusedIssue.get(e.engine)!;
    const task = taskOf(ok(await api.call('GET', `/v1/${failed}`)));
    await waitFor('the :run to be accepted', async () => (await api.call('POST', `/v1/${task.name}:run`, { body: {} })).status, (s) => s === 200);
    const done = await waitTask(failed, 'the task to be DONE', (t) => t.status === 'DONE');
    expect(done.latestTaskRun.status).toBe('DONE');
    expect(await e.columns()).toEqual(['id', 'name', 'nickname', 'email']);
  }, 300_000);

  it('the DONE history entry has the schema before and after; view=FULL adds the diff naming the added column; Sluice\'s own change is no drift', async () => {
    // Act
    const entries = await history(e);
    const full = await history(e, '&view=FULL');
    await sync(e);

    // Assess
    const done = entries.find((h) => h.status === 'DONE' && h.type === 'MIGRATE');
    expect(done).toMatchObject({ schemaBefore: expect.stringMatching(/^[0-9a-f]{64}$/), schemaAfter: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(done.schemaAfter).not.toBe(done.schemaBefore);
    expect(done.schemaDiff).toBeUndefined();
    const diffed = full.find((h) => h.name === done.name);
    expect(diffed.schemaDiff).toMatch(/^\+.*email.*$/m);
    // The change added email; nickname (accepted before it) is only the line before it, gaining a comma.
    expect(diffed.schemaDiff).not.toMatch(/^-.*email.*$/m);
    expect(diffed.schemaDiff).not.toMatch(/^\+.*nickname[^,]*$/m);
    const one = ok(await api.call('GET', `/v1/${done.name}?view=FULL`));
    expect(one.schemaDiff).toBe(diffed.schemaDiff);
    expect((await api.call('GET', `/v1/${done.name}?view=EVERYTHING`)).status).toBe(400);
    const drift = ok(await api.call('GET', `${dbPath(e)}/drift`));
    expect(drift).toMatchObject({ drifted: false, expectedChecksum: done.schemaAfter, actualChecksum: done.schemaAfter });
  }, 300_000);

  it('the runner finds drift itself (no sync between); allowDriftedRollout lets the task run, and a drift undone by hand clears at the next sync', async () => {
    // Arrange: drift nobody synced.
    await e.sql('ALTER TABLE staff ADD COLUMN scratch int');
    const refused = await schemaIssue(e, 'ALTER TABLE staff ADD COLUMN phone varchar(20)');
    const failed = await waitTask(refused.name, 'the task to fail', (t) => t.status === 'FAILED');
    expect(failed.latestTaskRun.detail).toContain('column scratch added');
    expect(ok(await api.call('GET', dbPath(e))).drifted).toBe(true);

    // Act: the project allows drifted rollouts.
    ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=allowDriftedRollout`, { body: { allowDriftedRollout: true } }));
    await waitFor('the :run to be accepted', async () => (await api.call('POST', `/v1/${failed.name}:run`, { body: {} })).status, (s) => s === 200);
    const done = await waitTask(refused.name, 'the task to be DONE', (t) => t.status === 'DONE');
    ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=allowDriftedRollout`, { body: { allowDriftedRollout: false } }));

    // Assess: it ran, said so, and its result is the new baseline.
    expect(done.latestTaskRun.detail).toMatch(/drifted/);
    expect(await e.columns()).toEqual(['id', 'name', 'nickname', 'email', 'scratch', 'phone']);
    expect(ok(await api.call('GET', dbPath(e))).drifted).toBe(false);

    // Drift by hand, then undone by hand: cleared when the schema is equal again.
    await e.sql('ALTER TABLE staff ADD COLUMN temp int');
    await sync(e);
    expect(ok(await api.call('GET', dbPath(e))).drifted).toBe(true);
    await e.sql('ALTER TABLE staff DROP COLUMN temp');
    await sync(e);
    expect(ok(await api.call('GET', dbPath(e))).drifted).toBe(false);
    expect(await drifted(e)).toEqual([]);
  }, 300_000);
});

describe('the workspace syncInterval', () => {
  it('defaults to 1800s; a workspaceAdmin sets it; a bad one is a 400 and a developer a 403, with nothing written', async () => {
    // Arrange
    const before = ok(await api.call('GET', '/v1/workspace'));

    // Act
    const bad = await Promise.all(['30s', '1800', '9999999s'].map((syncInterval) => api.call('PATCH', '/v1/workspace?updateMask=syncInterval', { body: { syncInterval } })));
    const denied = await api.call('PATCH', '/v1/workspace?updateMask=syncInterval', { as: DEV, body: { syncInterval: '60s' } });
    const unchanged = ok(await api.call('GET', '/v1/workspace'));
    const set = ok(await api.call('PATCH', '/v1/workspace?updateMask=syncInterval', { body: { syncInterval: '60s' } }));
    ok(await api.call('PATCH', '/v1/workspace?updateMask=syncInterval', { body: { syncInterval: '1800s' } }));

    // Assess
    expect(before.syncInterval).toBe('1800s');
    expect(bad.map((r) => [r.status, r.json.error.details[0].field])).toEqual([[400, 'syncInterval'], [400, 'syncInterval'], [400, 'syncInterval']]);
    expect(denied.status).toBe(403);
    expect(unchanged).toEqual(before);
    expect(set.syncInterval).toBe('60s');
  });
});
