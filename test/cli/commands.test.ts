// `sluice` as a child process against the local server (test/support/http.ts: the handlers, the
// pipeline state machine and real PostgreSQL databases): each command's output and exit code, the
// newcomer story (create --watch, approve as the releaser), watch in both modes, a failing task
// retried and skipped, a reject, bad tokens, no server, and the Cognito sign-in against a fake
// identity provider on loopback (AWS itself is out of reach here).
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamo-local.js';
import { startApi, waitFor, type Api, type CallResult, syncInstance } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';
import { sluice, start, stripAnsi, type Run } from './run.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

const PROJECT = `cli-${Date.now().toString(36)}`;
const REL = 'rel@example.com';
const pg = postgresServer();
const DB = { test: testDatabaseName(), prod: testDatabaseName() };
const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
let api: Api;
let env: Record<string, string>;
let relEnv: Record<string, string>;

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};
const target = (env: 'test' | 'prod') => `instances/pg-${env}/databases/${DB[env]}`;
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const issueOf = (n: string | number): Promise<Body> => api.call('GET', `/v1/projects/${PROJECT}/issues/${n}`).then((r) => ok(r));
const stageOf = (issue: Body, env: string): Body => issue.pipeline.stages.find((s: Body) => s.environment === `environments/${env}`);
const expectRun = (r: Run, code: number): Run => {
  expect(r.code, `exit code; stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
  return r;
};
/** Creates an issue through the CLI; its number. */
async function create(...args: string[]): Promise<string> {
  const r = expectRun(await sluice(['issue', 'create', '-p', PROJECT, '-q', ...args], { env }), 0);
  return r.stdout.trim();
}

beforeAll(async () => {
  for (const db of Object.values(DB)) {
    await adminQuery(pg, `CREATE DATABASE "${db}"`);
    await adminQuery(pg, 'CREATE TABLE employees (id int PRIMARY KEY, name text)', db);
  }
  api = await startApi();
  const rel = ok(await api.call('POST', '/v1/users', { body: { email: REL, title: 'Releaser' } }), 201);
  ok(await api.call('POST', '/v1/users', { body: { email: 'dev@example.com', title: 'Dev' } }), 201);
  // Tables made by hand here are the test's setup, not drift (test/e2e/drift.test.ts covers drift).
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'CLI', allowDriftedRollout: true } }), 201);
  for (const e of ['test', 'prod'] as const) {
    ok(await api.call('POST', '/v1/instances', { body: { id: `pg-${e}`, title: e, engine: 'POSTGRES', environment: `environments/${e}`, dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] } }), 201);
    await syncInstance(api, `pg-${e}`);
    ok(await api.call('PATCH', `/v1/instances/pg-${e}/databases/${DB[e]}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
  }
  ok(await api.call('POST', `/v1/projects/${PROJECT}/databaseGroups`, { body: { id: 'hr', title: 'HR', databaseExpr: `resource.database_name in ["${DB.test}", "${DB.prod}"]` } }), 201);
  const policy = ok(await api.call('GET', `/v1/projects/${PROJECT}:getIamPolicy`));
  ok(await api.call('POST', `/v1/projects/${PROJECT}:setIamPolicy`, { body: { policy: { bindings: [...policy.bindings, { role: 'projectReleaser', members: [rel.name] }], etag: policy.etag } } }));
  const base = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg'), NO_COLOR: '1' };
  env = { ...base, SLUICE_URL: api.server.url, SLUICE_TOKEN: await api.token('admin@example.com') };
  relEnv = { ...env, SLUICE_TOKEN: await api.token(REL) };
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, Object.values(DB));
  rmSync(dir, { recursive: true, force: true });
});

describe('login and whoami', () => {
  const home = () => ({ HOME: dir, XDG_CONFIG_HOME: join(dir, 'login') });
  const configFile = () => join(dir, 'login', 'sluice', 'config.json');

  it('login checks the token with the API, then saves it 0600 and says when it expires; whoami reads it', async () => {
    const token = await api.token('admin@example.com');
    const r = expectRun(await sluice(['login', '--url', api.server.url, '--token', token], { env: home() }), 0);
    expect(r.stdout).toContain(`Signed in to ${api.server.url} as admin@example.com (users/2, workspaceAdmin).`);
    expect(r.stdout).toMatch(/The token expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 1[12] h \d+ min\)\./);
    expect(statSync(configFile()).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'login', 'sluice')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(configFile(), 'utf8'))).toMatchObject({ url: api.server.url, token, email: 'admin@example.com', via: 'token' });

    const who = expectRun(await sluice(['whoami'], { env: home() }), 0);
    expect(who.stdout).toContain(`admin@example.com (users/2, workspaceAdmin) at ${api.server.url}`);
    expect(who.stdout).toContain(`Token from ${configFile()}, expires`);
    const json = JSON.parse(expectRun(await sluice(['whoami', '--json'], { env: home() }), 0).stdout);
    const listed = ok(await api.call('GET', '/v1/users')).users.find((u: Body) => u.email === 'admin@example.com');
    expect(json).toEqual(listed);
  });

  it('a refused token is exit 2 with the API\'s message, and the saved login stays as it was', async () => {
    const before = readFileSync(configFile(), 'utf8');
    const r = expectRun(await sluice(['login', '--url', api.server.url, '--token', 'not-a-token'], { env: home() }), 2);
    expect(r.stderr.trim()).toBe('sluice: GET /v1/users: 401 UNAUTHENTICATED: invalid token: Invalid Compact JWS (sign in again: sluice login)');
    expect(readFileSync(configFile(), 'utf8')).toBe(before);
  });

  it('--token - reads the token from stdin; SLUICE_TOKEN outranks the saved one', async () => {
    const r = expectRun(await sluice(['login', '--url', `${api.server.url}/`, '--token', '-'], { env: home(), input: `${await api.token(REL)}\n` }), 0);
    expect(r.stdout).toContain(`as ${REL}`);
    const who = expectRun(await sluice(['whoami'], { env: { ...home(), SLUICE_TOKEN: await api.token('admin@example.com') } }), 0);
    expect(who.stdout).toContain('admin@example.com');
    expect(who.stdout).toContain('Token from SLUICE_TOKEN');
  });
});

describe('errors', () => {
  it('a bad token: exit 2, the API\'s error on one line of stderr', async () => {
    const r = expectRun(await sluice(['issue', 'list', '-p', PROJECT], { env: { ...env, SLUICE_TOKEN: 'not-a-token' } }), 2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`sluice: GET /v1/projects/${PROJECT}/issues: 401 UNAUTHENTICATED: invalid token: Invalid Compact JWS (sign in again: sluice login)\n`);
  });

  it('no server at the address: exit 2, one clear line, no stack', async () => {
    const port = await freePort();
    const r = expectRun(await sluice(['--url', `http://127.0.0.1:${port}`, 'issue', 'get', '-p', PROJECT, '1'], { env }), 2);
    expect(r.stderr).toBe(`sluice: cannot reach http://127.0.0.1:${port} (connection refused); is the server running? Check --url, SLUICE_URL or sluice login\n`);
  });

  it('bad usage: exit 2 with what is wrong', async () => {
    const missing = expectRun(await sluice(['issue', 'list'], { env }), 2);
    expect(missing.stderr).toContain("required option '-p, --project <id>' not specified");
    expect(expectRun(await sluice(['issue', 'get', '-p', PROJECT, 'twelve'], { env }), 2).stderr).toContain('"twelve" is not an issue number');
    expect(expectRun(await sluice(['issue', 'create', '-p', PROJECT, '--group', 'hr'], { env }), 2).stderr).toContain('give --file <file.sql> or --sheet <sheet>');
    // The API's own refusal keeps its words.
    const refused = expectRun(await sluice(['issue', 'create', '-p', PROJECT, '--file', file('x.sql', 'SELECT 1'), '--target', 'pg-test/nope'], { env }), 2);
    expect(refused.stderr).toContain(`400 INVALID_ARGUMENT: targets[0]: instances/pg-test/databases/nope not found`);
  });
});

// Each `sluice` is a new Node process (about a second on a quiet machine, several on a busy one):
// a test of ten of them and a pipeline gets more than the default 30 s.
describe('issues', { timeout: 120_000 }, () => {
  it('create, list, get and cancel; --json prints exactly what the API answers', async () => {
    const n = await create('--file', file('add_c1.sql', 'ALTER TABLE employees ADD COLUMN c1 text;'), '--target', target('test'), target('prod'), '--title', 'Add c1');
    expect(n).toMatch(/^\d+$/);
    await waitFor('prod to wait for approval', () => issueOf(n), (i) => stageOf(i, 'prod').status === 'PENDING_APPROVAL');

    const list = expectRun(await sluice(['issue', 'list', '-p', PROJECT], { env }), 0).stdout;
    expect(list.split('\n')[0]).toMatch(/^# +STATUS +TYPE +CREATED +TITLE$/);
    expect(list).toMatch(new RegExp(`^${n} +OPEN +DATABASE_SCHEMA_UPDATE +\\S+ +Add c1$`, 'm'));
    expect(JSON.parse(expectRun(await sluice(['issue', 'list', '-p', PROJECT, '--json'], { env }), 0).stdout)).toEqual(ok(await api.call('GET', `/v1/projects/${PROJECT}/issues`)));
    expect(JSON.parse(expectRun(await sluice(['issue', 'get', '-p', PROJECT, n, '--json'], { env }), 0).stdout)).toEqual(await issueOf(n));

    const shown = expectRun(await sluice(['issue', 'get', '-p', PROJECT, n], { env }), 0).stdout;
    expect(shown).toContain(`#${n} Add c1`);
    expect(shown).toMatch(/test +DONE +█+ +1\/1 done/);
    expect(shown).toMatch(/prod +PENDING_APPROVAL +░+ +0\/1 done, 1 pending/);
    expect(shown).toContain('waiting for approval by projectOwner, projectReleaser, workspaceDBA or workspaceAdmin');
    expect(shown).toContain(`prod/2  PENDING     ${target('prod')}`);
    expect(shown).toContain('ALTER TABLE employees ADD COLUMN c1 text;');

    expect(expectRun(await sluice(['issue', 'cancel', '-p', PROJECT, n], { env }), 0).stdout).toBe(`Canceled projects/${PROJECT}/issues/${n}: CANCELED\n`);
    expect(expectRun(await sluice(['issue', 'cancel', '-p', PROJECT, n, '--json'], { env }), 2).stderr).toContain(`400 FAILED_PRECONDITION: projects/${PROJECT}/issues/${n} is CANCELED and cannot be canceled`);
    const watched = expectRun(await sluice(['issue', 'watch', '-p', PROJECT, n], { env }), 1);
    expect(watched.stdout).toContain(`projects/${PROJECT}/issues/${n} CANCELED`);
  });

  it('create --watch, one plain line per change: test runs, prod waits for the releaser, exit 0 when DONE', async () => {
    const watching = start(['issue', 'create', '-p', PROJECT, '--file', file('add_phone.sql', 'ALTER TABLE employees ADD COLUMN phone text;'), '--group', 'hr', '--watch'], { env });
    await waitFor('the watch to show the approval wait', async () => watching.out.stdout, (s) => s.includes('waiting for approval by'));
    const n = /Created projects\/[^/]+\/issues\/(\d+) "add phone"/.exec(watching.out.stdout)![1]!;

    // Not by its creator (the workspace does not allow self-approval).
    expect(expectRun(await sluice(['approve', '-p', PROJECT, n, '--stage', 'prod'], { env }), 2).stderr).toContain('403 PERMISSION_DENIED: users/2 created');
    expect(expectRun(await sluice(['approve', '-p', PROJECT, n, '--stage', 'prod'], { env: relEnv }), 0).stdout).toBe(`Approved stage prod of projects/${PROJECT}/issues/${n}; the pipeline goes on.\n`);

    const r = expectRun(await watching.done, 0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual([`Created projects/${PROJECT}/issues/${n} "add phone" (DATABASE_SCHEMA_UPDATE)`, '  test: 1 task', '  prod: 1 task']); // approvals are decided when the pipeline reaches a stage
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d+:\d\d\] stage test DONE: 1\/1 done$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d+:\d\d\] stage prod PENDING_APPROVAL: 0\/1 done, 1 pending; waiting for approval by projectOwner, projectReleaser, workspaceDBA or workspaceAdmin$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d+:\d\d\] stage prod DONE: 1\/1 done; approved by users\/3$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d+:\d\d\] issue DONE$/));
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^projects/${PROJECT}/issues/${n} DONE in \\d+:\\d\\d$`));
    // A log, not a screen: no escape sequence.
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/\u001b/);
    expect((await issueOf(n)).status).toBe('DONE');
  });

  it('watch --live redraws in place (forced, no terminal needed), fits COLUMNS, no colour under NO_COLOR; a reject ends the watch: exit 1', async () => {
    const n = await create('--file', file('add_c2.sql', 'ALTER TABLE employees ADD COLUMN c2 text;'), '--group', 'hr');
    const watching = start(['issue', 'watch', '-p', PROJECT, n, '--live'], { env: { ...env, COLUMNS: '60' } });
    await waitFor('the live view to show the approval wait', async () => watching.out.stdout, (s) => s.includes('PENDING_APPROVAL') && s.includes('waiting for'));
    expect(expectRun(await sluice(['reject', '-p', PROJECT, n, '--stage', 'prod', '--reason', 'not today'], { env: relEnv }), 0).stdout).toBe(`Rejected stage prod of projects/${PROJECT}/issues/${n}: the stage is REJECTED and the issue OPEN; its creator may change the statement, request approval again, or cancel it.\n`);
    const r = expectRun(await watching.done, 1);
    expect(r.stdout).toContain('\u001b[2K\u001b[1A'); // erased and drawn again
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/\u001b\[\d+m/); // NO_COLOR
    const text = stripAnsi(r.stdout);
    for (const line of text.split('\n')) expect([...line.replace(/\r$/, '')].length, line).toBeLessThanOrEqual(60);
    expect(text).toContain(`#${n} add c2`);
    expect(text).toMatch(/prod +REJECTED/);
    expect(text.trim().split('\n').slice(-3)[0]).toBe(`projects/${PROJECT}/issues/${n} REJECTED at stage prod.`);
    expect((await issueOf(n)).status).toBe('OPEN');

    // SLUICE_FORCE_TTY=1 does the same as --live.
    const forced = expectRun(await sluice(['issue', 'watch', '-p', PROJECT, n], { env: { ...env, SLUICE_FORCE_TTY: '1' } }), 1);
    expect(stripAnsi(forced.stdout)).toMatch(/test +DONE +█+ +1\/1 done/);
  });

  it('a failing task: watch exits 1 and names it; task run retries it, approve --wait, task skip, then DONE', async () => {
    // A schema change its plan check passes (no config attached) and the target refuses: no table yet.
    const n = await create('--file', file('audit.sql', 'ALTER TABLE audit ADD COLUMN what int'), '--target', target('test'), target('prod'));
    const failed = expectRun(await sluice(['issue', 'watch', '-p', PROJECT, n], { env }), 1);
    expect(failed.stdout).toMatch(/task test\/1 instances\/pg-test\/databases\/\S+ FAILED: .*\baudit\b.* does not exist/);
    expect(failed.stdout).toContain(`waits at a failed task in stage test.\n  retry it: sluice task run -p ${PROJECT} ${n} --stage test --task 1\n`);

    await adminQuery(pg, 'CREATE TABLE audit (id serial PRIMARY KEY)', DB.test);
    // The stage shows FAILED a moment before its failure gate holds the token: retried until taken.
    await waitFor('task run to be taken', () => sluice(['task', 'run', '-p', PROJECT, n, '--stage', 'test', '--task', '1'], { env: relEnv }), (r) => r.code === 0);
    expectRun(await sluice(['approve', '-p', PROJECT, n, '--stage', 'prod', '--wait'], { env: relEnv }), 0);
    const prodFailed = expectRun(await sluice(['issue', 'watch', '-p', PROJECT, n], { env }), 1);
    expect(prodFailed.stdout).toContain('waits at a failed task in stage prod.');

    expect(expectRun(await sluice(['task', 'skip', '-p', PROJECT, n, '--stage', 'prod', '--task', '2'], { env: relEnv }), 2).stderr).toContain('--reason <text> is required');
    await waitFor('task skip to be taken', () => sluice(['task', 'skip', '-p', PROJECT, n, '--stage', 'prod', '--task', '2', '--reason', 'no audit in prod'], { env: relEnv }), (r) => r.code === 0);
    const done = expectRun(await sluice(['issue', 'watch', '-p', PROJECT, n], { env }), 0);
    expect(done.stdout).toMatch(new RegExp(`projects/${PROJECT}/issues/${n} DONE in`));
    const issue = await issueOf(n);
    expect(stageOf(issue, 'test').tasks[0]).toMatchObject({ status: 'DONE', latestTaskRun: { attempt: 2, status: 'DONE' } });
    expect(stageOf(issue, 'prod').tasks[0]).toMatchObject({ status: 'SKIPPED', skipReason: 'no audit in prod' });
  }, 120000);

  it('a plan-check ERROR: watch exits 1 at once, BLOCKED, naming the advice with its line and the ways on', async () => {
    // Prior backup is on for data changes: an UPDATE of a table with no key cannot be backed up, so it is refused before anything runs.
    await adminQuery(pg, 'CREATE TABLE IF NOT EXISTS nokey (what int)', DB.test);
    const n = await create('--type', 'data', '--file', file('nokey.sql', '-- no key\nUPDATE nokey SET what = 2;'), '--target', target('test'));
    const blocked = expectRun(await sluice(['issue', 'watch', '-p', PROJECT, n], { env }), 1);
    expect(blocked.stdout).toContain(`projects/${PROJECT}/issues/${n} BLOCKED by its plan checks (1 error(s)): no stage runs.`);
    expect(blocked.stdout).toMatch(/✗ instances\/pg-test\/databases\/\S+:2:1: prior-backup\.unsupported: /);
    expect(blocked.stdout).toContain(`:overrideChecks {reason}`);
    expect(stageOf(await issueOf(n), 'test').status).toBe('BLOCKED');
    ok(await api.call('POST', `/v1/projects/${PROJECT}/issues/${n}:cancel`, { body: {} }));
  }, 120000);
});

describe('login --email: Cognito USER_PASSWORD_AUTH (a fake identity provider on loopback)', () => {
  const seen: { headers: Record<string, unknown>; body: Body }[] = [];
  let idp: Server;
  let endpoint: string;
  beforeAll(async () => {
    const idToken = await api.token('dev@example.com');
    idp = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw);
        seen.push({ headers: req.headers, body });
        const send = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(json));
        };
        if (body.AuthParameters?.PASSWORD === 'Temporary-pass-1') return send(200, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'session-1', ChallengeParameters: { USER_ID_FOR_SRP: 'dev@example.com' } });
        if (body.ChallengeName === 'NEW_PASSWORD_REQUIRED' && body.Session === 'session-1') return send(200, { AuthenticationResult: { IdToken: idToken, AccessToken: 'access', ExpiresIn: 3600, TokenType: 'Bearer' } });
        send(400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' });
      });
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => idp.close(() => r())));

  const home = () => ({ HOME: dir, XDG_CONFIG_HOME: join(dir, 'cognito'), SLUICE_COGNITO_ENDPOINT: endpoint });
  const args = () => ['login', '--url', api.server.url, '--email', 'dev@example.com', '--client-id', 'client-123', '--region', 'eu-west-1'];

  it('sends InitiateAuth, answers NEW_PASSWORD_REQUIRED, saves the ID token; no password is ever printed', async () => {
    const r = expectRun(await sluice(args(), { env: home(), input: 'Temporary-pass-1\nA-new-long-pass-9\nA-new-long-pass-9\n' }), 0);
    expect(seen[0]!.headers).toMatchObject({ 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth', 'content-type': 'application/x-amz-json-1.1' });
    expect(seen[0]!.body).toEqual({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'client-123', AuthParameters: { USERNAME: 'dev@example.com', PASSWORD: 'Temporary-pass-1' } });
    expect(seen[1]!.headers['x-amz-target']).toBe('AWSCognitoIdentityProviderService.RespondToAuthChallenge');
    expect(seen[1]!.body).toEqual({ ChallengeName: 'NEW_PASSWORD_REQUIRED', ClientId: 'client-123', Session: 'session-1', ChallengeResponses: { USERNAME: 'dev@example.com', NEW_PASSWORD: 'A-new-long-pass-9' } });
    expect(r.stdout).toContain(`Signed in to ${api.server.url} as dev@example.com`);
    expect(r.stderr).toContain('Password for dev@example.com: ');
    expect(r.stdout + r.stderr).not.toMatch(/Temporary-pass-1|A-new-long-pass-9/);
    expect(JSON.parse(readFileSync(join(dir, 'cognito', 'sluice', 'config.json'), 'utf8'))).toMatchObject({ email: 'dev@example.com', via: 'cognito', token: await api.token('dev@example.com') });
  });

  it("Cognito's refusal is exit 2 in its own words", async () => {
    const r = expectRun(await sluice(args(), { env: home(), input: 'wrong\n' }), 2);
    expect(r.stderr).toContain('sluice: Cognito InitiateAuth: NotAuthorizedException: Incorrect username or password.');
  });

  it('without --client-id (and none published by the API) it says what to give', async () => {
    const r = expectRun(await sluice(['login', '--url', api.server.url, '--email', 'dev@example.com', '--region', 'eu-west-1'], { env: home() }), 2);
    expect(r.stderr).toContain('--client-id: required');
  });
});
