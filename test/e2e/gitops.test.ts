// GitOps end to end over HTTP on the local runtime: a connector pointing at a fake GitHub (and a
// fake GitLab) on loopback, signed push webhooks, the worker reading files from the fake provider
// at the pushed commit, and the issues it makes run by the pipeline against the run's PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogSink } from '../../functions/shared/logger.js';
import type { VcsWorkerInput } from '../../domain/gitops/vcs.js';
import { setVcsDispatcher } from '../../functions/shared/vcs-dispatch.js';
import { scanTable } from '../support/api.js';
import { findPasswords } from '../support/capture.js';
import { fakeProvider, githubHeaders, gitlabHeaders, pushPayload, type FakeProvider } from '../support/fake-vcs.js';
import { startApi, waitFor, type Api, type CallResult, syncInstance } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName, type SqlServer } from '../support/postgres.js';

const DBA = 'dba@gitops.test';
const PROJECT = `git-${Date.now().toString(36)}`;
const LAB_PROJECT = `lab-${Date.now().toString(36)}`;
const SECRET = 'gh-webhook-secret-0123456789';
const TOKEN = 'ghp_fake_access_token_abcdef';
const LAB_SECRET = 'gl-webhook-secret-0123456789';
const LAB_TOKEN = 'glpat-fake-access-token';
const pg: SqlServer = postgresServer();
const DB = { app: testDatabaseName(), prodApp: testDatabaseName(), lab: testDatabaseName() };

let api: Api;
let github: FakeProvider;
let gitlab: FakeProvider;
const logLines: string[] = [];
let previousLogLevel: string | undefined;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};

const hook = (project: string, body: string, headers: Record<string, string>) => api.call('POST', `/v1/hooks/vcs/${project}`, { as: null, raw: body, headers });
const issues = async (project = PROJECT): Promise<Body[]> => ok(await api.call('GET', `/v1/projects/${project}/issues?pageSize=1000`)).issues;
const getIssue = async (name: string): Promise<Body> => ok(await api.call('GET', `/v1/${name}`));
const waitIssue = (name: string, what: string, done: (i: Body) => boolean) => waitFor(what, () => getIssue(name), done);
const stage = (issue: Body, env: string): Body => issue.pipeline.stages.find((s: Body) => s.environment === `environments/${env}`);
const tasksOf = (issue: Body): Body[] => issue.pipeline.stages.flatMap((s: Body) => s.tasks);
const history = async (instance: string, db: string): Promise<Body[]> => ok(await api.call('GET', `/v1/instances/${instance}/databases/${db}/changeHistories?pageSize=1000`)).changeHistories;
const connector = async (project = PROJECT): Promise<Body> => ok(await api.call('GET', `/v1/projects/${project}/vcsConnector`));
const tables = async (db: string): Promise<string[]> =>
  (await adminQuery<{ t: string }>(pg, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", db)).map((r) => r.t);

async function registerInstance(id: string, environment: string, databases: [string, string][]): Promise<void> {
  ok(await api.call('POST', '/v1/instances', {
    body: { id, title: id, engine: 'POSTGRES', environment: `environments/${environment}`, dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] },
  }), 201);
  await syncInstance(api, id);
  for (const [db, project] of databases) ok(await api.call('PATCH', `/v1/instances/${id}/databases/${db}?updateMask=project`, { body: { project: `projects/${project}` } }));
}

const FILES = {
  v1: `migrations/${DB.app}/V1__create_orders.sql`,
  v2: `migrations/${DB.app}/V2__add_email.sql`,
  v3: 'migrations/@app/V3__create_audit.sql',
  badName: `migrations/${DB.app}/create_things.sql`,
  noDb: 'migrations/no_such_db/V4__x.sql',
};
let firstPush: { sha: string; body: string; delivery: string };

beforeAll(async () => {
  for (const db of Object.values(DB)) {
    await adminQuery(pg, `CREATE DATABASE "${db}"`);
    await adminQuery(pg, 'CREATE TABLE users (id int PRIMARY KEY, name text)', db);
  }
  // Every log line of this file is kept, debug lines included (the webhook's and the worker's),
  // and checked for secrets at the end, in every form the secrets scan knows.
  previousLogLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'debug';
  setLogSink((line) => logLines.push(line));
  process.env.SLUICE_SECRETS_DIR ??= (await import('node:fs')).mkdtempSync((await import('node:path')).join((await import('node:os')).tmpdir(), 'sluice-gitops-'));
  api = await startApi();
  github = await fakeProvider('GITHUB', 'acme/shop', TOKEN);
  gitlab = await fakeProvider('GITLAB', 'acme/platform/lab', LAB_TOKEN);
  ok(await api.call('POST', '/v1/users', { body: { email: DBA, title: 'DBA', role: 'workspaceDBA' } }), 201);
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'GitOps' } }), 201);
  ok(await api.call('POST', '/v1/projects', { body: { id: LAB_PROJECT, title: 'GitLab' } }), 201);
  await registerInstance('pg-test', 'test', [[DB.app, PROJECT], [DB.lab, LAB_PROJECT]]);
  await registerInstance('pg-prod', 'prod', [[DB.prodApp, PROJECT]]);
  ok(await api.call('POST', `/v1/projects/${PROJECT}/databaseGroups`, {
    body: { id: 'app', title: 'App', databaseExpr: `resource.database_name == "${DB.app}" || resource.database_name == "${DB.prodApp}"` },
  }), 201);
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await Promise.all([github?.close(), gitlab?.close()]);
  setLogSink((line) => process.stdout.write(line + '\n'));
  if (previousLogLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = previousLogLevel;
  await dropDatabases(pg, Object.values(DB));
});

describe('the VCS connector', () => {
  it('is made by PUT, answers with the webhookUrl, and never shows, logs or stores its secrets in the table', async () => {
    const put = await api.call('PUT', `/v1/projects/${PROJECT}/vcsConnector`, {
      body: { provider: 'GITHUB', apiUrl: github.apiUrl, repository: 'acme/shop', branch: 'main', baseDirectory: 'migrations', webhookSecret: SECRET, accessToken: TOKEN },
    });
    const made = ok(put);
    expect(made).toMatchObject({ name: `projects/${PROJECT}/vcsConnector`, provider: 'GITHUB', repository: 'acme/shop', branch: 'main', baseDirectory: 'migrations' });
    expect(made.webhookUrl).toBe(`${api.server.url}/v1/hooks/vcs/${PROJECT}`);
    const got = await api.call('GET', `/v1/projects/${PROJECT}/vcsConnector`);
    for (const text of [put.text, got.text, JSON.stringify(await scanTable(api.table.store, { audit: true }))]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(TOKEN);
    }
  });

  it('refuses a connector without secrets on create, plain http off loopback, and a DBA changing it', async () => {
    const body = { provider: 'GITLAB', repository: 'acme/platform/lab', apiUrl: gitlab.apiUrl };
    const before = await scanTable(api.table.store);
    expect(ok(await api.call('PUT', `/v1/projects/${LAB_PROJECT}/vcsConnector`, { body }), 400).error.details[0].field).toBe('webhookSecret');
    const plain = await api.call('PUT', `/v1/projects/${LAB_PROJECT}/vcsConnector`, { body: { ...body, apiUrl: 'http://gitlab.example.com/api/v4', webhookSecret: LAB_SECRET, accessToken: LAB_TOKEN } });
    expect(ok(plain, 400).error.details[0].field).toBe('apiUrl');
    const byDba = await api.call('PUT', `/v1/projects/${LAB_PROJECT}/vcsConnector`, { as: DBA, body: { ...body, webhookSecret: LAB_SECRET, accessToken: LAB_TOKEN } });
    expect(ok(byDba, 403).error.details[0].permission).toBe('vcsConnectors.update');
    expect(await scanTable(api.table.store)).toEqual(before);
  });
});

describe('the GitHub webhook', () => {
  it('checks the signature: a good ping is acknowledged; a bad or missing one, or an unknown project, is a 401 that writes nothing', async () => {
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    expect(ok(await hook(PROJECT, ping, githubHeaders(SECRET, ping, 'ping'))).message).toMatch(/pong/);

    const sha = github.commit({ [FILES.v1]: 'CREATE TABLE orders (id int PRIMARY KEY);' });
    const body = pushPayload('GITHUB', { after: sha, commits: [{ id: sha, added: [FILES.v1] }] });
    const before = await scanTable(api.table.store);
    const wrong = await hook(PROJECT, body, githubHeaders('not-the-secret-at-all', body));
    const missing = await hook(PROJECT, body, githubHeaders(undefined, body));
    // A different first character whatever the sha starts with (a sha starting with 'f' once made this no tampering at all).
    const tampered = await hook(PROJECT, body.replace(sha, (sha[0] === 'f' ? 'e' : 'f') + sha.slice(1)), githubHeaders(SECRET, body));
    const unknown = await hook('no-such-project', body, githubHeaders(SECRET, body));
    for (const r of [wrong, missing, tampered, unknown]) expect([r.status, r.json.error.status]).toEqual([401, 'UNAUTHENTICATED']);
    await api.vcsWorker.idle();
    expect(await scanTable(api.table.store)).toEqual(before);
    expect(await issues()).toEqual([]);
  });

  it('acknowledges other events, pushes to another branch and pushes without migration files, doing nothing', async () => {
    const before = await scanTable(api.table.store);
    const star = '{"action":"created"}';
    expect(ok(await hook(PROJECT, star, githubHeaders(SECRET, star, 'star'))).message).toMatch(/acknowledged/);
    const sha = github.commit({ 'README.md': '# shop', [FILES.v1]: 'CREATE TABLE orders (id int PRIMARY KEY);' });
    const other = pushPayload('GITHUB', { ref: 'refs/heads/feature', after: sha, commits: [{ id: sha, added: [FILES.v1] }] });
    expect(ok(await hook(PROJECT, other, githubHeaders(SECRET, other))).message).toMatch(/ignored: a push to refs\/heads\/feature/);
    const docs = pushPayload('GITHUB', { after: sha, commits: [{ id: sha, added: ['README.md'] }] });
    expect(ok(await hook(PROJECT, docs, githubHeaders(SECRET, docs))).message).toMatch(/ignored: no file under migrations/);
    await api.vcsWorker.idle();
    expect(await scanTable(api.table.store)).toEqual(before);
  });

  it('a push of three migration files makes three issues in version order, by the system bot, run through test and, after approval, prod', async () => {
    const c1 = github.commit({ [FILES.v2]: 'ALTER TABLE users ADD COLUMN email text;', [FILES.badName]: 'SELECT 1;' });
    const c2 = github.commit({
      [FILES.v1]: 'CREATE TABLE orders (id int PRIMARY KEY);',
      [FILES.v3]: 'CREATE TABLE audit (id int PRIMARY KEY, what text);',
      [FILES.noDb]: 'SELECT 1;',
      'README.md': '# shop',
    });
    const body = pushPayload('GITHUB', {
      after: c2,
      commits: [
        { id: c1, added: [FILES.v2, FILES.badName] },
        { id: c2, added: [FILES.v3, FILES.v1, FILES.noDb], modified: ['README.md'], author: { name: 'Grace Hopper', email: 'grace@example.com' } },
      ],
    });
    const delivery = 'delivery-three-files';
    firstPush = { sha: c2, body, delivery };
    const accepted = await hook(PROJECT, body, githubHeaders(SECRET, body, 'push', delivery));
    expect(ok(accepted, 202)).toMatchObject({ delivery, files: 5 });
    await api.vcsWorker.idle();

    // Files were read at the pushed head, with the token.
    expect(github.requests.filter((r) => r.ref === c2).map((r) => r.path).sort()).toEqual([FILES.v1, FILES.v2, FILES.v3].sort());
    expect(github.requests.every((r) => r.authorized)).toBe(true);
    const made = (await issues()).sort((a, b) => Number(a.name.split('/').pop()) - Number(b.name.split('/').pop()));
    expect(made.map((i) => i.title)).toEqual(['V1 create orders', 'V2 add email', 'V3 create audit']);
    for (const i of made) expect(i.creator).toBe('users/1');
    expect(made[0].description).toContain(c2);
    expect(made[0].description).toContain('Grace Hopper');
    expect(made[0].description).toContain(FILES.v1);
    expect(made[1].description).toContain(c1);

    const delivered = (await connector()).recentDeliveries[0];
    expect(delivered).toMatchObject({ id: delivery, status: 'PROCESSED', commit: c2, issues: made.map((i) => i.name), unchanged: [] });
    expect(delivered.rejectedFiles.map((f: Body) => f.path).sort()).toEqual([FILES.badName, FILES.noDb].sort());
    expect(delivered.rejectedFiles.find((f: Body) => f.path === FILES.noDb).reason).toMatch(/no database named no_such_db/);

    // V1 and V2 target the test database only; V3's group spans test and prod.
    for (const i of made.slice(0, 2)) await waitIssue(i.name, `${i.title} to be DONE`, (x) => x.status === 'DONE');
    const v3 = await waitIssue(made[2].name, 'V3 to wait for approval on prod', (x) => stage(x, 'prod')?.status === 'PENDING_APPROVAL');
    expect(stage(v3, 'test').status).toBe('DONE');
    expect(await tables(DB.prodApp)).not.toContain('audit');
    ok(await api.call('POST', `/v1/${stage(v3, 'prod').name}:approve`, { as: DBA, body: {} }));
    await waitIssue(made[2].name, 'V3 to be DONE', (x) => x.status === 'DONE');

    expect(await tables(DB.app)).toEqual(['audit', 'orders', 'users']);
    expect(await tables(DB.prodApp)).toEqual(['audit', 'users']);
    expect((await history('pg-test', DB.app)).map((h) => [h.version, h.status]).sort()).toEqual([['1', 'DONE'], ['2', 'DONE'], ['3', 'DONE']]);
    expect((await history('pg-prod', DB.prodApp)).map((h) => [h.version, h.status])).toEqual([['3', 'DONE']]);
  }, 90_000);

  it('the same push delivered twice changes nothing: the same delivery id is a no-op 200, a new one finds every file unchanged', async () => {
    const before = await scanTable(api.table.store);
    const again = await hook(PROJECT, firstPush.body, githubHeaders(SECRET, firstPush.body, 'push', firstPush.delivery));
    expect(ok(again).message).toMatch(/duplicate/);
    await api.vcsWorker.idle();
    expect(await scanTable(api.table.store)).toEqual(before);

    ok(await hook(PROJECT, firstPush.body, githubHeaders(SECRET, firstPush.body, 'push', 'delivery-redelivered')), 202);
    await api.vcsWorker.idle();
    expect(await issues()).toHaveLength(3);
    const delivered = (await connector()).recentDeliveries[0];
    expect(delivered).toMatchObject({ id: 'delivery-redelivered', status: 'PROCESSED', issues: [] });
    expect(delivered.unchanged.sort()).toEqual([FILES.v1, FILES.v2, FILES.v3].sort());
    expect((await history('pg-test', DB.app))).toHaveLength(3);
  });

  it('a file changed after its version was applied is not run again: drift, in the issue activities and the change history; a copy under another name is skipped', async () => {
    const copy = `migrations/${DB.app}/V2__add_email_again.sql`;
    const sha = github.commit({ [FILES.v1]: 'CREATE TABLE orders (id int PRIMARY KEY, note text);', [copy]: 'ALTER TABLE users ADD COLUMN email text;' });
    const body = pushPayload('GITHUB', { after: sha, commits: [{ id: sha, modified: [FILES.v1], added: [copy] }] });
    ok(await hook(PROJECT, body, githubHeaders(SECRET, body)), 202);
    await api.vcsWorker.idle();
    const fresh = (await issues()).filter((i) => Number(i.name.split('/').pop()) > 3).sort((a, b) => (a.title < b.title ? -1 : 1));
    expect(fresh.map((i) => i.title)).toEqual(['V1 create orders', 'V2 add email again']);
    const [changed, copied] = await Promise.all(fresh.map((i) => waitIssue(i.name, `${i.title} to be DONE`, (x) => x.status === 'DONE')));

    // Drift: nothing ran (the CREATE TABLE would have failed), reported three ways.
    expect(tasksOf(changed)[0].latestTaskRun.detail).toMatch(/^drift: version 1 was applied .* by projects\/.*\/issues\/1 /);
    const activities = ok(await api.call('GET', `/v1/${changed.name}/activities`)).activities;
    expect(activities.find((a: Body) => a.type === 'MIGRATION_DRIFT')?.comment).toMatch(/drift: version 1/);
    const entries = await history('pg-test', DB.app);
    expect(entries.filter((h) => h.status === 'DRIFT')).toEqual([
      expect.objectContaining({ version: '1', issue: changed.name, statement: 'CREATE TABLE orders (id int PRIMARY KEY, note text);' }),
    ]);
    expect(await adminQuery(pg, "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY 1", DB.app)).toEqual([{ column_name: 'id' }]);

    // The same version under another name: applied already, so not run again (ADD COLUMN would fail).
    expect(tasksOf(copied)[0].latestTaskRun.detail).toMatch(/version 2 was applied .* already by projects\/.*\/issues\/2 .*not run again/);
    expect(entries.filter((h) => h.version === '2')).toHaveLength(1);
  }, 60_000);
});

describe('the hand-off to the worker', () => {
  it('when the worker cannot be queued, the delivery is forgotten (500), so the provider\'s retry is taken as new', async () => {
    const file = `migrations/${DB.app}/V5__create_notes.sql`;
    const sha = github.commit({ [file]: 'CREATE TABLE notes (id int PRIMARY KEY);' });
    const body = pushPayload('GITHUB', { after: sha, commits: [{ id: sha, added: [file] }] });
    const before = await scanTable(api.table.store);
    setVcsDispatcher({ dispatch: async () => Promise.reject(new Error('Lambda is throttling')) });
    try {
      const failed = await hook(PROJECT, body, githubHeaders(SECRET, body, 'push', 'delivery-retried'));
      expect([failed.status, failed.json.error.status]).toEqual([500, 'INTERNAL']);
      expect(failed.text).not.toContain('throttling');
    } finally {
      setVcsDispatcher(api.vcsWorker);
    }
    expect(await scanTable(api.table.store)).toEqual(before);
    ok(await hook(PROJECT, body, githubHeaders(SECRET, body, 'push', 'delivery-retried')), 202);
    await api.vcsWorker.idle();
    const delivered = (await connector()).recentDeliveries[0];
    expect(delivered).toMatchObject({ id: 'delivery-retried', status: 'PROCESSED', issues: [expect.stringMatching(/issues\/6$/)] });
    await waitIssue(delivered.issues[0], 'V5 to be DONE', (x) => x.status === 'DONE');
    expect(await tables(DB.app)).toContain('notes');
  });
});

describe('a delivery run twice by the worker', () => {
  it('makes each issue once, and both runs report it as theirs', async () => {
    const file = `migrations/${DB.app}/V6__create_tags.sql`;
    const sha = github.commit({ [file]: 'CREATE TABLE tags (id int PRIMARY KEY);' });
    const body = pushPayload('GITHUB', { after: sha, commits: [{ id: sha, added: [file] }] });
    const queued: VcsWorkerInput[] = [];
    setVcsDispatcher({ dispatch: async (input) => void queued.push(input) });
    try {
      ok(await hook(PROJECT, body, githubHeaders(SECRET, body, 'push', 'delivery-twice')), 202);
    } finally {
      setVcsDispatcher(api.vcsWorker);
    }
    const { handler } = await import('../../functions/workflow/vcs-worker.js');
    const count = (await issues()).length;
    // As Lambda may deliver one Event invocation twice, at the same time.
    await Promise.all([handler(queued[0]!), handler(queued[0]!)]);
    const made = await issues();
    expect(made).toHaveLength(count + 1);
    const delivered = (await connector()).recentDeliveries[0];
    expect(delivered).toMatchObject({ id: 'delivery-twice', status: 'PROCESSED', issues: [expect.stringMatching(/issues\/7$/)], unchanged: [] });
    await waitIssue(delivered.issues[0], 'V6 to be DONE', (x) => x.status === 'DONE');
  });
});

describe('the GitLab webhook', () => {
  it('checks X-Gitlab-Token, reads files through the repository files API, and a data file makes a data update', async () => {
    ok(await api.call('PUT', `/v1/projects/${LAB_PROJECT}/vcsConnector`, {
      body: { provider: 'GITLAB', apiUrl: gitlab.apiUrl, repository: 'acme/platform/lab', webhookSecret: LAB_SECRET, accessToken: LAB_TOKEN },
    }));
    const file = `migrations/${DB.lab}/V2026.1__seed_users.sql`;
    const sha = gitlab.commit({ [file]: "-- sluice:type=data\nINSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bo');" });
    const body = pushPayload('GITLAB', { after: sha, commits: [{ id: sha, added: [file] }] });
    const before = await scanTable(api.table.store);
    expect((await hook(LAB_PROJECT, body, gitlabHeaders('wrong-token-wrong-token'))).status).toBe(401);
    expect((await hook(LAB_PROJECT, body, gitlabHeaders(undefined))).status).toBe(401);
    // A GitHub-style signature is no GitLab token.
    expect((await hook(LAB_PROJECT, body, githubHeaders(LAB_SECRET, body))).status).toBe(401);
    expect(await scanTable(api.table.store)).toEqual(before);

    ok(await hook(LAB_PROJECT, body, gitlabHeaders(LAB_SECRET)), 202);
    await api.vcsWorker.idle();
    expect(gitlab.requests.map((r) => [r.path, r.ref, r.authorized])).toEqual([[file, sha, true]]);
    const [made] = await issues(LAB_PROJECT);
    expect(made).toMatchObject({ title: 'V2026.1 seed users', type: 'DATABASE_DATA_UPDATE', creator: 'users/1' });
    const done = await waitIssue(made.name, 'the data update to be DONE', (x) => x.status === 'DONE');
    expect(tasksOf(done)[0].latestTaskRun.result.affectedRows).toBe(2);
    expect((await history('pg-test', DB.lab))[0]).toMatchObject({ version: '2026.1', type: 'DATA', status: 'DONE' });
  }, 60_000);

  it('DELETE removes the connector and its secrets: the webhook answers 401 from then on', async () => {
    ok(await api.call('DELETE', `/v1/projects/${LAB_PROJECT}/vcsConnector`));
    expect((await api.call('GET', `/v1/projects/${LAB_PROJECT}/vcsConnector`)).status).toBe(404);
    const body = pushPayload('GITLAB', { after: 'a'.repeat(40), commits: [] });
    expect((await hook(LAB_PROJECT, body, gitlabHeaders(LAB_SECRET))).status).toBe(401);
  });
});

describe('versions in order', () => {
  it('V10 and V11 in one push run in order on their database: V11 waits for the V10 it needs, and a lower version after them is a rejected file', async () => {
    const v10 = `migrations/${DB.app}/V10__ledger.sql`;
    const v11 = `migrations/${DB.app}/V11__ledger_note.sql`;
    // V10 is slow, and V11 fails unless V10 ran first.
    const sha = github.commit({ [v10]: 'SELECT pg_sleep(2); CREATE TABLE ledger (id int PRIMARY KEY);', [v11]: 'ALTER TABLE ledger ADD COLUMN note text;' });
    const body = pushPayload('GITHUB', { after: sha, commits: [{ id: sha, added: [v11, v10] }] });
    ok(await hook(PROJECT, body, githubHeaders(SECRET, body)), 202);
    await api.vcsWorker.idle();
    const delivered = (await connector()).recentDeliveries[0];
    expect(delivered.rejectedFiles).toEqual([]);
    const [first, second] = await Promise.all(delivered.issues.map((n: string) => getIssue(n)));
    expect([first.title, second.title]).toEqual(['V10 ledger', 'V11 ledger note']);
    const done = await waitIssue(second.name, 'V11 to be DONE', (x) => x.status === 'DONE');
    expect(tasksOf(done)[0].latestTaskRun).toMatchObject({ status: 'DONE', attempt: 1 });
    expect((await getIssue(first.name)).status).toBe('DONE');
    expect((await adminQuery<{ c: string }>(pg, "SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'ledger' ORDER BY 1", DB.app)).map((r) => r.c)).toEqual(['id', 'note']);

    const late = `migrations/${DB.app}/V9__too_late.sql`;
    const sha2 = github.commit({ [late]: 'CREATE TABLE late (id int);' });
    const body2 = pushPayload('GITHUB', { after: sha2, commits: [{ id: sha2, added: [late] }] });
    ok(await hook(PROJECT, body2, githubHeaders(SECRET, body2)), 202);
    await api.vcsWorker.idle();
    const refused = (await connector()).recentDeliveries[0];
    expect(refused.issues).toEqual([]);
    expect(refused.rejectedFiles).toEqual([{ path: late, reason: expect.stringContaining(`version 9 is lower than version 11, already applied to instances/pg-test/databases/${DB.app}`) }]);
  }, 120_000);
});

describe('secrets', () => {
  it('appear in no log line, debug lines included, in any encoding', () => {
    const levels = new Set(logLines.map((l) => (JSON.parse(l) as { level: string }).level));
    expect([...levels]).toEqual(expect.arrayContaining(['debug', 'info', 'warn']));
    expect(findPasswords([SECRET, TOKEN, LAB_SECRET, LAB_TOKEN], { logs: logLines })).toEqual([]);
  });
});

// Last: it leaves an issue and a delivery behind that the tests above count.
describe('plan checks of pushed files', () => {
  it('a pushed file with an ERROR advice is checked like any issue: every stage BLOCKED, and the ERROR shows in the delivery\'s record too', async () => {
    const config = ok(await api.call('POST', '/v1/reviewConfigs', { as: DBA, body: { id: 'git-guard', rules: [{ type: 'statement.where.require', level: 'ERROR' }], resources: [`projects/${PROJECT}`] } }), 201);
    try {
      const path = `migrations/${DB.app}/V20__wipe_users.sql`;
      const sha = github.commit({ [path]: '-- sluice:type=data\nDELETE FROM users;' });
      const body = pushPayload('GITHUB', { after: sha, commits: [{ id: sha, added: [path] }] });
      ok(await hook(PROJECT, body, githubHeaders(SECRET, body, 'push', 'delivery-wipe')), 202);
      await api.vcsWorker.idle();
      const made = (await issues()).find((i) => i.title === 'V20 wipe users')!;
      const blocked = await waitIssue(made.name, 'V20 to be blocked by its plan checks', (x) => x.pipeline.stages.every((st: Body) => st.status === 'BLOCKED'));
      expect(tasksOf(blocked)[0].planCheck.advices).toEqual([expect.objectContaining({ rule: 'statement.where.require', line: 2, column: 1 })]);
      const delivered = (await connector()).recentDeliveries.find((d: Body) => d.id === 'delivery-wipe');
      expect(delivered.planChecks).toEqual([{ issue: made.name, status: 'ERROR', errorCount: 1, warningCount: 0 }]);
      ok(await api.call('POST', `/v1/${made.name}:cancel`, { as: DBA }));
    } finally {
      ok(await api.call('DELETE', `/v1/${config.name}`, { as: DBA }));
    }
  }, 60_000);
});
