// `sluice migrate` against the local server and real PostgreSQL databases: a folder in the GitOps
// layout becomes issues in version order (watched to their end), a second run changes nothing, a
// file changed after it was applied is drift (exit 1, named, nothing created), refused files too.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type Api, type CallResult } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';
import { sluice, type Run } from './run.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

const PROJECT = `mig-${Date.now().toString(36)}`;
const pg = postgresServer();
const DB = { a: testDatabaseName(), b: testDatabaseName() };
const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-migrate-'));
const migrations = join(dir, 'migrations');
let api: Api;
let env: Record<string, string>;

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};
const expectRun = (r: Run, code: number): Run => {
  expect(r.code, `exit code; stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
  return r;
};
const put = (path: string, content: string) => {
  mkdirSync(join(migrations, path, '..'), { recursive: true });
  writeFileSync(join(migrations, path), content);
};
const issues = async (): Promise<Body[]> => ok(await api.call('GET', `/v1/projects/${PROJECT}/issues`)).issues;
const migrate = (...args: string[]) => sluice(['migrate', '-p', PROJECT, '--dir', migrations, ...args], { env });

beforeAll(async () => {
  for (const db of Object.values(DB)) await adminQuery(pg, `CREATE DATABASE "${db}"`);
  api = await startApi();
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Migrations' } }), 201);
  ok(await api.call('POST', '/v1/instances', { body: { id: 'pg-test', title: 'test', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] } }), 201);
  ok(await api.call('POST', '/v1/instances/pg-test:sync'));
  for (const db of Object.values(DB)) ok(await api.call('PATCH', `/v1/instances/pg-test/databases/${db}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
  ok(await api.call('POST', `/v1/projects/${PROJECT}/databaseGroups`, { body: { id: 'tenants', title: 'Tenants', databaseExpr: `resource.database_name in ["${DB.a}", "${DB.b}"]` } }), 201);
  env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg'), SLUICE_URL: api.server.url, SLUICE_TOKEN: await api.token('admin@example.com') };
  put('@tenants/V1__create_badges.sql', 'CREATE TABLE badges (id int PRIMARY KEY);\n');
  put('@tenants/V1.1__seed.sql', '-- sluice:type=data\nINSERT INTO badges VALUES (1);\n');
  put(`${DB.a}/V2__index.sql`, 'CREATE INDEX badges_by_id ON badges (id);\n');
  put('README.md', 'not a migration');
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, Object.values(DB));
  rmSync(dir, { recursive: true, force: true });
});

describe('sluice migrate', () => {
  it('makes one issue per version, in order, each watched to DONE; the runner records the versions', async () => {
    const r = expectRun(await migrate('--watch'), 0);
    const created = r.stdout.split('\n').filter((l) => / created projects\//.test(l));
    expect(created).toEqual([
      expect.stringMatching(/^@tenants\/V1__create_badges\.sql +V1 +created projects\/\S+\/issues\/1 \(2 databases\)$/),
      expect.stringMatching(/^@tenants\/V1\.1__seed\.sql +V1\.1 +created projects\/\S+\/issues\/2 \(2 databases\)$/),
      expect.stringMatching(new RegExp(`^${DB.a}/V2__index\\.sql +V2 +created projects/\\S+/issues/3 \\(1 database\\)$`)),
    ]);
    expect(r.stdout).toContain('3 created, 0 applied already, 0 in progress.');
    const made = await issues();
    expect(made.map((i: Body) => [i.title, i.status, i.type, i.migrationVersion]).sort()).toEqual([
      ['V1 create badges', 'DONE', 'DATABASE_SCHEMA_UPDATE', '1'],
      ['V1.1 seed', 'DONE', 'DATABASE_DATA_UPDATE', '1.1'],
      ['V2 index', 'DONE', 'DATABASE_SCHEMA_UPDATE', '2'],
    ]);
    for (const db of Object.values(DB)) expect(await adminQuery(pg, 'SELECT id FROM badges', db)).toEqual([{ id: 1 }]);
    const history = ok(await api.call('GET', `/v1/instances/pg-test/databases/${DB.a}/changeHistories`)).changeHistories;
    expect(history.map((h: Body) => [h.version, h.status])).toEqual([['2', 'DONE'], ['1.1', 'DONE'], ['1', 'DONE']]);
  });

  it('a second run changes nothing: every version applied already', async () => {
    const before = await issues();
    const r = expectRun(await migrate(), 0);
    expect(r.stdout).toContain('0 created, 3 applied already, 0 in progress.');
    const json = JSON.parse(expectRun(await migrate('--json'), 0).stdout);
    expect(json.files.map((f: Body) => [f.path, f.status])).toEqual([
      ['@tenants/V1__create_badges.sql', 'APPLIED'],
      ['@tenants/V1.1__seed.sql', 'APPLIED'],
      [`${DB.a}/V2__index.sql`, 'APPLIED'],
    ]);
    expect(await issues()).toEqual(before);
  });

  it('a file changed after it was applied is drift: exit 1, the file and databases named, nothing created', async () => {
    const before = await issues();
    put('@tenants/V1__create_badges.sql', 'CREATE TABLE badges (id bigint PRIMARY KEY);\n');
    put('@tenants/V3__more.sql', 'ALTER TABLE badges ADD COLUMN name text;\n');
    const r = expectRun(await migrate(), 1);
    const drift = r.stdout.split('\n').find((l) => l.startsWith('@tenants/V1__create_badges.sql'))!;
    expect(drift).toMatch(/ V1 +DRIFT: changed after it was applied: /);
    for (const db of Object.values(DB)) expect(drift).toContain(`instances/pg-test/databases/${db} ran sha256:`);
    expect(r.stdout).toMatch(/@tenants\/V3__more\.sql +V3 +to create \(2 databases\)/);
    expect(r.stderr).toBe('sluice migrate: 1 file(s) changed after they were applied (drift); nothing created. Restore a drifted file as it was applied, and put the change in a new version.\n');
    expect(await issues()).toEqual(before);

    // Restored, the new version goes through; run again at once, it is not made twice.
    put('@tenants/V1__create_badges.sql', 'CREATE TABLE badges (id int PRIMARY KEY);\n');
    expect(expectRun(await migrate('--dry-run'), 0).stdout).toMatch(/V3 +to create/);
    expect(await issues()).toHaveLength(before.length);
    expect(expectRun(await migrate(), 0).stdout).toContain('1 created, 3 applied already, 0 in progress.');
    expect(expectRun(await migrate(), 0).stdout).toMatch(/V3 +(in progress: projects\/\S+\/issues\/4 \(OPEN\)|applied already)/);
    expect(await issues()).toHaveLength(before.length + 1);
  });

  it('refuses files that break the naming or name nothing of the project: exit 1, nothing created', async () => {
    const before = await issues();
    put('@nosuch/V9__x.sql', 'SELECT 1;\n');
    put(`${DB.b}/add_column.sql`, 'SELECT 1;\n');
    const r = expectRun(await migrate(), 1);
    expect(r.stdout).toMatch(/@nosuch\/V9__x\.sql +V9 +REJECTED: projects\/\S+ has no database group nosuch/);
    expect(r.stdout).toMatch(new RegExp(`${DB.b}/add_column\\.sql +- +REJECTED: file name does not follow V\\{version\\}__\\{description\\}\\.sql`));
    expect(r.stderr).toContain('2 file(s) refused; nothing created.');
    expect(await issues()).toEqual(before);
  });

  it('refuses a version below one a database applied already, unless the project allows out-of-order versions', async () => {
    const before = await issues();
    put(`${DB.a}/V1.5__late.sql`, 'ALTER TABLE badges ADD COLUMN late int;\n');
    const r = expectRun(await migrate('--dry-run'), 1);
    expect(r.stdout).toMatch(new RegExp(`${DB.a}/V1\\.5__late\\.sql +V1\\.5 +REJECTED: version 1\\.5 is lower than version 3, already applied to instances/pg-test/databases/${DB.a}`));
    ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=allowOutOfOrderVersions`, { body: { allowOutOfOrderVersions: true } }));
    // Still exit 1: the previous test's refused files are still in the folder.
    expect(expectRun(await migrate('--dry-run'), 1).stdout).toMatch(/V1\.5 +to create \(1 database\)/);
    ok(await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=allowOutOfOrderVersions`, { body: { allowOutOfOrderVersions: false } }));
    rmSync(join(migrations, DB.a, 'V1.5__late.sql'));
    expect(await issues()).toEqual(before);
  });

  it('the API checks migrationVersion like a GitOps version', async () => {
    const res = await api.call('POST', `/v1/projects/${PROJECT}/issues`, { body: { title: 'x', type: 'DATABASE_SCHEMA_UPDATE', statement: 'SELECT 1', databaseGroup: `projects/${PROJECT}/databaseGroups/tenants`, migrationVersion: 'V01' } });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('migrationVersion: must be a version like 1, 2.1 or 20261125');
  });
});
