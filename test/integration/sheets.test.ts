// Sheets and the SQL editor end to end, through the local server (startApi) on DynamoDB Local
// and the real PostgreSQL: a 1 MiB sheet round-trips byte for byte, visibility hides what a
// caller may not see (404), only the creator or an owner changes a sheet, `:query` and `:run`
// answer read-only, and an issue made from a sheet runs the sheet as it was when the issue was made.
import { waitForOperation } from '../support/operations.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanTable, type Body } from '../support/api.js';
import { startApi, type Api } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';

const pg = postgresServer();
const db = testDatabaseName();
const PROJECT = 'sheets-shop';
const OWNER = 'owner@sheets.test';
const DEV = 'dev@sheets.test';
const DEV2 = 'dev2@sheets.test';
const OUTSIDER = 'outsider@sheets.test';
const DATABASE = `instances/pg-sheets/databases/${db}`;
let api: Api;
let secretsDir: string | undefined;

async function ok(method: string, path: string, body?: unknown, as: string = 'admin@example.com'): Promise<Body> {
  const r = await api.call(method, path, { as, ...(body === undefined ? {} : { body }) });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.json;
}
const sheets = `/v1/projects/${PROJECT}/sheets`;
const path = (name: string) => `/v1/${name}`;

beforeAll(async () => {
  if (!process.env.SLUICE_SECRETS_DIR) process.env.SLUICE_SECRETS_DIR = secretsDir = mkdtempSync(join(tmpdir(), 'sluice-sheets-'));
  api = await startApi();
  await adminQuery(pg, `CREATE DATABASE ${db}`);
  await adminQuery(pg, 'CREATE TABLE t (id int PRIMARY KEY)', db);
  await adminQuery(pg, 'INSERT INTO t SELECT generate_series(1, 30)', db);
  const ids: Record<string, string> = {};
  for (const email of [OWNER, DEV, DEV2, OUTSIDER]) ids[email] = (await ok('POST', '/v1/users', { email, role: 'workspaceMember' })).name;
  await ok('POST', '/v1/projects', { id: PROJECT, title: 'Sheets' });
  const policy = await ok('GET', `/v1/projects/${PROJECT}:getIamPolicy`);
  await ok('POST', `/v1/projects/${PROJECT}:setIamPolicy`, {
    policy: { etag: policy.etag, bindings: [...policy.bindings, { role: 'projectOwner', members: [ids[OWNER]] }, { role: 'projectDeveloper', members: [ids[DEV], ids[DEV2]] }] },
  });
  await ok('POST', '/v1/instances', {
    id: 'pg-sheets', title: 'PG', engine: 'POSTGRES', environment: 'environments/test',
    dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }],
  });
  await waitForOperation((path) => ok('GET', path), (await ok('POST', '/v1/instances/pg-sheets:sync')).name);
  await ok('PATCH', `/v1/${DATABASE}?updateMask=project`, { project: `projects/${PROJECT}` });
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, [db]);
  await adminQuery(pg, `DELETE FROM sluice_history.applied WHERE task_key LIKE 'projects/${PROJECT}/issues/%'`).catch(() => undefined);
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
});

describe('sheet content', () => {
  it('round-trips 1 MiB with multibyte characters byte for byte, and no stored item nears 400 KB', async () => {
    // Prepare: as much UTF-8 as a 1 MiB request body carries (API.md: a body over 1 MiB is a 413),
    // with 2-, 3- and 4-byte characters straddling the chunk edges
    const envelope = Buffer.byteLength(JSON.stringify({ title: 'Big', content: '', visibility: 'PROJECT' }));
    const size = 1024 * 1024 - envelope;
    const unit = 'SELECT 1; /* é€😀 */ '; // nothing JSON escapes, so bytes in the body = bytes of content
    let content = unit.repeat(Math.floor(size / Buffer.byteLength(unit)));
    content += 'x'.repeat(size - Buffer.byteLength(content));
    expect(Buffer.byteLength(content)).toBe(size);

    // Act
    const made = await ok('POST', sheets, { title: 'Big', content, visibility: 'PROJECT' }, DEV);
    const got = await ok('GET', path(made.name), undefined, DEV);
    const edited = content.slice(0, -3) + '€';
    await ok('PATCH', `${path(made.name)}?updateMask=content`, { content: edited }, DEV);
    const again = await ok('GET', path(made.name), undefined, DEV);

    // Assess
    expect(Buffer.from(got.content, 'utf8').equals(Buffer.from(content, 'utf8'))).toBe(true);
    expect(got.contentBytes).toBe(size);
    expect(again.content).toBe(edited);
    const items = await scanTable(api.table.store);
    const largest = Math.max(...items.map((i) => JSON.stringify(i, (_k, v: unknown) => (v instanceof Uint8Array ? 'x'.repeat(v.length) : v)).length));
    expect(largest).toBeLessThan(350_000);
    // The old version's chunks are gone: 1 MiB in 300 KB chunks is 4 items, of this version only
    expect(items.filter((i) => String(i.pk).startsWith(`SHEET#${PROJECT}#`))).toHaveLength(4);
  });

  it('refuses content over 1 MiB', async () => {
    // Act
    const r = await api.call('POST', sheets, { as: DEV, body: { title: 'Too big', content: 'é'.repeat(512 * 1024 + 1) } });
    // Assess (the body is over 1 MiB too: 413 from the stack, or the field's 400)
    expect([400, 413]).toContain(r.status);
  });
});

describe('visibility', () => {
  it('PRIVATE: the creator alone; PROJECT: members; PUBLIC: every signed-in user, even outside the project', async () => {
    // Prepare
    const priv = await ok('POST', sheets, { title: 'Mine', content: 'SELECT 1', visibility: 'PRIVATE' }, DEV);
    const proj = await ok('POST', sheets, { title: 'Ours', content: 'SELECT 2', visibility: 'PROJECT' }, DEV);
    const pub = await ok('POST', sheets, { title: 'Everyone', content: 'SELECT 3', visibility: 'PUBLIC' }, DEV);
    const status = async (name: string, as: string) => (await api.call('GET', path(name), { as })).status;
    const listed = async (as: string) => ((await ok('GET', `${sheets}?pageSize=1000`, undefined, as)).sheets as Body[]).map((s) => s.name);

    // Act
    const seen = {
      creator: [await status(priv.name, DEV), await status(proj.name, DEV), await status(pub.name, DEV)],
      member: [await status(priv.name, DEV2), await status(proj.name, DEV2), await status(pub.name, DEV2)],
      outsider: [await status(priv.name, OUTSIDER), await status(proj.name, OUTSIDER), await status(pub.name, OUTSIDER)],
    };
    const lists = { member: await listed(DEV2), outsider: await listed(OUTSIDER) };

    // Assess
    expect(seen).toEqual({ creator: [200, 200, 200], member: [404, 200, 200], outsider: [404, 404, 200] });
    expect(lists.member).toEqual(expect.arrayContaining([proj.name, pub.name]));
    expect(lists.member).not.toContain(priv.name);
    expect(lists.outsider).toContain(pub.name);
    expect(lists.outsider).not.toContain(proj.name);
    expect(lists.outsider).not.toContain(priv.name);
    const list = await ok('GET', `${sheets}?pageSize=1000`, undefined, DEV2);
    expect(list.sheets[0].content).toBeUndefined();
  });

  it('only the creator or a projectOwner changes or deletes a sheet', async () => {
    // Prepare
    const made = await ok('POST', sheets, { title: 'Ours', content: 'SELECT 1', visibility: 'PROJECT' }, DEV);

    // Act
    const byOtherDev = await api.call('PATCH', `${path(made.name)}?updateMask=title`, { as: DEV2, body: { title: 'Hijacked' } });
    const byOutsider = await api.call('DELETE', path(made.name), { as: OUTSIDER });
    const byOwner = await api.call('PATCH', `${path(made.name)}?updateMask=title`, { as: OWNER, body: { title: 'Renamed' } });
    const deleted = await api.call('DELETE', path(made.name), { as: DEV });
    const after = await api.call('GET', path(made.name), { as: DEV });

    // Assess
    expect([byOtherDev.status, byOutsider.status, byOwner.status, deleted.status, after.status]).toEqual([403, 404, 200, 200, 404]);
    expect(byOwner.json.title).toBe('Renamed');
  });

  it('ids count up per project, and a database outside the project is refused', async () => {
    // Act
    const a = await ok('POST', sheets, { title: 'A', content: '' }, DEV);
    const b = await ok('POST', sheets, { title: 'B', content: '' }, DEV);
    const foreign = await api.call('POST', sheets, { as: DEV, body: { title: 'C', content: '', database: 'instances/pg-sheets/databases/postgres' } });
    // Assess
    expect(Number(b.name.split('/').pop())).toBe(Number(a.name.split('/').pop()) + 1);
    expect(foreign.status).toBe(400);
  });
});

describe('the SQL editor', () => {
  it(':query answers columns, rows, rowCount, truncated and elapsedMs, with the limit', async () => {
    // Act
    const r = await ok('POST', `/v1/${DATABASE}:query`, { statement: 'SELECT id FROM t ORDER BY id', limit: 5 }, DEV);
    // Assess
    expect(r).toEqual({ columns: [{ name: 'id', type: 'integer' }], rows: [[1], [2], [3], [4], [5]], rowCount: 5, truncated: true, elapsedMs: expect.any(Number) });
  });

  it(':query refuses a write with a 400 from the database, and the data is unchanged', async () => {
    // Act
    const r = await api.call('POST', `/v1/${DATABASE}:query`, { as: DEV, body: { statement: 'DELETE FROM t' } });
    const count = await ok('POST', `/v1/${DATABASE}:query`, { statement: 'SELECT count(*)::int AS n FROM t' }, DEV);
    // Assess
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/read-only transaction/);
    expect(count.rows).toEqual([[30]]);
  });

  it(':query limit is at most 10,000; the timeout comes from SLUICE_QUERY_TIMEOUT_MS', async () => {
    // Prepare
    process.env.SLUICE_QUERY_TIMEOUT_MS = '300';
    try {
      // Act
      const tooMany = await api.call('POST', `/v1/${DATABASE}:query`, { as: DEV, body: { statement: 'SELECT 1', limit: 10_001 } });
      const slow = await api.call('POST', `/v1/${DATABASE}:query`, { as: DEV, body: { statement: 'SELECT pg_sleep(3)' } });
      // Assess
      expect(tooMany.status).toBe(400);
      expect(slow.status).toBe(400);
      expect(slow.json.error.message).toMatch(/300 ms statement timeout/);
    } finally {
      delete process.env.SLUICE_QUERY_TIMEOUT_MS;
    }
  });

  it(':run runs the sheet on its database; an outsider gets 404 even for a PUBLIC sheet (sql.query: the database decides)', async () => {
    // Prepare
    const made = await ok('POST', sheets, { title: 'Count', content: 'SELECT count(*) AS n FROM t', database: DATABASE, visibility: 'PUBLIC' }, DEV);
    // Act
    const r = await ok('POST', `${path(made.name)}:run`, {}, DEV2);
    const outsider = await api.call('POST', `${path(made.name)}:run`, { as: OUTSIDER, body: {} });
    // Assess
    expect(r.columns).toEqual([{ name: 'n', type: 'bigint' }]);
    expect(r.rows).toEqual([['30']]);
    expect(outsider.status).toBe(404);
  });
});

describe('an issue made from a sheet', () => {
  it('runs the sheet as it was when the issue was made, even after the sheet changed', async () => {
    // Prepare
    const made = await ok('POST', sheets, { title: 'Change', content: 'INSERT INTO t VALUES (100)', visibility: 'PROJECT' }, DEV);

    // Act
    const issue = await ok('POST', `/v1/projects/${PROJECT}/issues`, { title: 'From a sheet', type: 'DATABASE_DATA_UPDATE', sheet: made.name, targets: [DATABASE] }, DEV);
    await ok('PATCH', `${path(made.name)}?updateMask=content`, { content: 'INSERT INTO t VALUES (200)' }, DEV);
    let status = issue.status;
    for (let i = 0; i < 200 && status === 'OPEN'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await ok('GET', path(issue.name), undefined, DEV)).status;
    }

    // Assess
    expect(status).toBe('DONE');
    expect(issue.pipeline.stages[0].tasks[0].statement).toBe('INSERT INTO t VALUES (100)');
    const rows = await adminQuery<{ id: number }>(pg, 'SELECT id FROM t WHERE id >= 100 ORDER BY id', db);
    expect(rows.map((r) => r.id)).toEqual([100]);
  });

  it('refuses a sheet and a statement together, and a sheet the creator may not see', async () => {
    // Prepare
    const priv = await ok('POST', sheets, { title: 'Private', content: 'SELECT 1', visibility: 'PRIVATE' }, DEV2);
    // Act
    const both = await api.call('POST', `/v1/projects/${PROJECT}/issues`, { as: DEV, body: { title: 'x', type: 'DATABASE_DATA_UPDATE', sheet: priv.name, statement: 'SELECT 1', targets: [DATABASE] } });
    const hidden = await api.call('POST', `/v1/projects/${PROJECT}/issues`, { as: DEV, body: { title: 'x', type: 'DATABASE_DATA_UPDATE', sheet: priv.name, targets: [DATABASE] } });
    // Assess
    expect([both.status, hidden.status]).toEqual([400, 400]);
    expect(hidden.json.error.details[0].field).toBe('sheet');
  });
});
