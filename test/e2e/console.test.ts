// The web console in a real browser (Debian's Chromium through playwright-core) against `npm start`
// as a newcomer runs it: the README's pipeline story by clicks only, a failed task retried from the
// page, the SQL editor, an axe-core check of every page, and screenshots of the issue page.
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamo-local.js';
import { axe, chromiumMissing, consoleSteps, contentWidth, openProfile, signIn as signInAs, type Profile } from '../support/browser.js';
import { fakeTenantIssue } from '../support/fake-tenants.js';
import { npmStart, onSampleServer, stopNpmStart, type NpmStart } from '../support/npm-start.js';

/** Screenshots go here (not committed): the test output folder. */
export const OUTPUT = join('test-output', 'console');

if (chromiumMissing) process.stderr.write('test/e2e/console.test.ts skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, as .ci/run does)\n');

/** A POST with headers fetch() will not send as given (Host): the status code. */
function rawPost(url: URL, path: string, headers: Record<string, string>, body: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe.skipIf(chromiumMissing)('the web console, in Chromium, on npm start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-console-'));
  let server: NpmStart;
  let admin: Profile;
  const profiles: Profile[] = [];

  beforeAll(async () => {
    server = await npmStart({ port: await freePort(), dataDir });
    admin = await openProfile();
    profiles.push(admin);
    mkdirSync(OUTPUT, { recursive: true });
  }, 300_000);
  afterAll(async () => {
    for (const p of profiles) await p.close().catch(() => undefined);
    if (server) await stopNpmStart(server);
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  const { a11y, go, check, seriousFound } = consoleSteps(() => server.url);
  const signIn = (p: Profile, email: string) => signInAs(p, server.url, email);

  it('is served at / with a strict Content-Security-Policy, and the API stays under /v1', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'/);
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    const html = await page.text();
    const js = /src="(\/assets\/main-[^"]+\.js)"/.exec(html)?.[1];
    expect((await fetch(server.url + js!)).headers.get('content-type')).toMatch(/javascript/);
    expect(await (await fetch(`${server.url}/config.json`)).json()).toEqual({ mode: 'local' });
    const envs = await fetch(`${server.url}/v1/environments`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(((await envs.json()) as { environments: unknown[] }).environments).toHaveLength(2);
    expect((await fetch(`${server.url}/v1/nothing-here`, { headers: { authorization: `Bearer ${server.token}` } })).status).toBe(404);
  });

  it('mints dev sign-in tokens only for its own page on loopback', async () => {
    const mint = (headers: Record<string, string>, body = '{"email":"admin@example.com"}') =>
      fetch(`${server.url}/local/token`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const ok = await mint({ origin: server.url });
    expect(ok.status).toBe(200);
    const { token } = (await ok.json()) as { token: string };
    expect((await fetch(`${server.url}/v1/workspace`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // Another site's page (CSRF), a rebound DNS name, a form post: refused, no token.
    expect((await mint({ origin: 'https://evil.example' })).status).toBe(403);
    expect(await rawPost(new URL(server.url), '/local/token', { host: 'evil.example', 'content-type': 'application/json' }, '{"email":"admin@example.com"}')).toBe(403);
    expect((await fetch(`${server.url}/local/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"email":"a@b.c"}' })).status).toBe(403);
    expect((await mint({}, '{"email":"not an email"}')).status).toBe(400);
  });

  it('walks the pipeline story by clicks: sign in, add a releaser, create, watch test, approve prod as the releaser, DONE', async () => {
    await admin.page.goto(`${server.url}/`);
    await check(admin, 'sign in', 'Sign in to Sluice');
    await signIn(admin, 'admin@example.com');
    await check(admin, 'projects', 'Sample');

    // The releaser: a user, then a member of `sample`.
    await go(admin, 'admin');
    await admin.page.getByLabel('Email', { exact: true }).fill('rel@example.com');
    await admin.page.getByLabel('Name (optional)').fill('Releaser');
    await admin.page.getByRole('button', { name: 'Add user' }).click();
    await admin.page.getByText('rel@example.com').waitFor();
    await check(admin, 'admin', 'Approval rules');
    await go(admin, 'projects/sample');
    await admin.page.getByLabel('User', { exact: true }).selectOption({ label: 'rel@example.com' });
    await admin.page.getByLabel('Role in sample').selectOption('projectReleaser');
    await admin.page.getByRole('button', { name: 'Add member' }).click();
    await admin.page.getByText('projectReleaser: rel@example.com').waitFor();
    await check(admin, 'issues', 'Databases');

    // The issue, through the form.
    await go(admin, 'projects/sample/issues/new');
    await admin.page.getByLabel('Title', { exact: true }).fill('Add phone to employees');
    await admin.page.getByLabel('Statement', { exact: true }).fill('ALTER TABLE employees ADD COLUMN phone text;');
    await admin.page.getByLabel(/hr_test on pg-sample-test/).check();
    await admin.page.getByLabel(/hr_prod on pg-sample-prod/).check();
    await check(admin, 'create issue', 'Where it runs');
    await admin.page.getByRole('button', { name: 'Create issue' }).click();
    await admin.page.waitForURL(/#\/projects\/sample\/issues\/\d+$/);
    const issueUrl = admin.page.url();

    // The test stage finishes by itself (the page polls); prod waits for someone else.
    await admin.page.locator('[data-stage="test"][data-status="DONE"]').waitFor({ timeout: 120_000 });
    await admin.page.locator('[data-stage="prod"][data-status="PENDING_APPROVAL"]').waitFor({ timeout: 60_000 });
    await admin.page.getByText('not you: you created this issue').waitFor();
    expect(await admin.page.getByRole('button', { name: 'Approve prod' }).count()).toBe(0);
    await check(admin, 'issue', 'Activities');

    // Screenshots of the issue page at two widths; nothing wider than a 375 px phone.
    for (const width of [375, 1280]) {
      await admin.page.setViewportSize({ width, height: 900 });
      await admin.page.screenshot({ path: join(OUTPUT, `issue-${width}.png`), fullPage: true });
      if (width === 375) expect(await contentWidth(admin.page)).toBeLessThanOrEqual(375);
    }

    // The releaser, in a browser profile of their own.
    const rel = await openProfile();
    profiles.push(rel);
    await signIn(rel, 'rel@example.com');
    await rel.page.goto(issueUrl);
    await rel.page.getByText('Waiting for:').waitFor();
    await rel.page.getByLabel('Comment (optional)').fill('fine by me');
    await rel.page.getByRole('button', { name: 'Approve prod' }).click();
    await rel.page.locator('[data-stage="prod"][data-status="DONE"]').waitFor({ timeout: 120_000 });

    // The creator's page catches up by polling: DONE, approved by the releaser.
    await admin.page.locator('h1 [data-status="DONE"]').waitFor({ timeout: 60_000 });
    await admin.page.locator('[data-activity="ISSUE_DONE"]').waitFor({ timeout: 30_000 });
    await admin.page.getByText('“fine by me”').waitFor();

    // The change history of hr_prod shows the statement.
    await go(admin, 'instances/pg-sample-prod/databases/hr_prod');
    await admin.page.getByText('ALTER TABLE employees ADD COLUMN phone text;').first().waitFor();
    await check(admin, 'database', 'Change history');
  }, 400_000);

  it('shows a failed task with its detail, and runs it again from the page', async () => {
    await go(admin, 'projects/sample/issues/new');
    await admin.page.getByLabel('Title', { exact: true }).fill('Note on a table not made yet');
    await admin.page.getByLabel('Statement', { exact: true }).fill('ALTER TABLE console_probe ADD COLUMN note text;');
    await admin.page.getByLabel(/hr_test on pg-sample-test/).check();
    await admin.page.getByRole('button', { name: 'Create issue' }).click();
    await admin.page.waitForURL(/#\/projects\/sample\/issues\/\d+$/);
    const failed = admin.page.locator('[data-task][data-status="FAILED"]');
    await failed.waitFor({ timeout: 120_000 });
    await failed.getByText(/console_probe/).waitFor();

    // Fixed where it failed (the table made on hr_test), then retried by a click.
    await onSampleServer(dataDir, 'pg-sample-test', 'hr_test', 'CREATE TABLE console_probe (id int PRIMARY KEY)');
    // The table made by hand is drift from the schema Sluice recorded at the samples' sync: let the project run on it.
    const allowed = await fetch(`${server.url}/v1/projects/sample?updateMask=allowDriftedRollout`, {
      method: 'PATCH', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ allowDriftedRollout: true }),
    });
    expect(allowed.status).toBe(200);
    await admin.page.getByRole('button', { name: 'Run again' }).click();
    await admin.page.locator('h1 [data-status="DONE"]').waitFor({ timeout: 120_000 });
    await admin.page.locator('[data-activity="TASK_RETRIED"]').waitFor({ timeout: 30_000 });
    expect(await admin.page.locator('[data-task][data-status="DONE"]').count()).toBe(1);
  }, 300_000);

  it('checks a statement as it is typed, or says the server has no SQL review', async () => {
    const hasCheck = (await fetch(`${server.url}/v1/sql:check`, {
      method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: '{"statement":"SELECT 1","engine":"POSTGRES"}',
    })).status !== 404;
    await go(admin, 'projects/sample/issues/new');
    await admin.page.getByLabel('Statement', { exact: true }).fill('SELECT 1;\nSELEC oops;');
    if (hasCheck) {
      // The parser's ERROR, shown at its line under the statement.
      await admin.page.locator('.advice-error').filter({ hasText: 'line 2' }).first().waitFor();
    } else {
      await admin.page.getByText('SQL review (POST /v1/sql:check): not available on this server').waitFor();
    }
  });

  it('runs a read-only query in the SQL editor and shows the rows as a table', async () => {
    await go(admin, 'projects/sample/sql');
    await admin.page.getByLabel('Database', { exact: true }).selectOption({ label: 'hr_test (pg-sample-test)' });
    await admin.page.getByLabel(/^Query/).fill('SELECT count(*) AS n FROM employees');
    await admin.page.getByRole('button', { name: 'Run', exact: true }).click();
    await admin.page.getByRole('cell', { name: '240', exact: true }).waitFor();
    await check(admin, 'sql editor', 'Result');
  });

  it('draws a stage of 120 tasks as counts and a filterable list, 50 at a time, not a box per task', async () => {
    const name = await fakeTenantIssue(server, { project: 'tenants', n: 120 });
    await admin.page.setViewportSize({ width: 1280, height: 900 });
    await go(admin, name);
    const prod = admin.page.locator('[data-stage="prod"]');
    await prod.getByText('120 tasks:').waitFor();
    await prod.locator('.counts').getByText('120 pending').waitFor();
    expect(await prod.locator('[data-task]').count()).toBe(0);
    await prod.getByText('Tasks of prod, 50 at a time').click();
    await prod.locator('[data-task]').first().waitFor();
    expect(await prod.locator('[data-task]').count()).toBe(50);
    await prod.getByRole('button', { name: 'Next 50' }).click();
    await prod.locator('[data-task$="/tasks/51"]').waitFor();
    await prod.getByRole('button', { name: 'Next 50' }).click();
    await prod.locator('[data-task$="/tasks/101"]').waitFor();
    expect(await prod.locator('[data-task]').count()).toBe(20);
    expect(await prod.getByRole('button', { name: 'Next 50' }).count()).toBe(0);
    // Filtered by status through the API: none failed.
    await prod.getByLabel('Show').selectOption('FAILED');
    await prod.getByText('No task failed.').waitFor();
    a11y.set('large stage', await axe(admin.page));
  }, 120_000);

  it('has no serious accessibility violation on any page, and no CSP refusal', () => {
    expect([...a11y.keys()].sort()).toEqual(['admin', 'create issue', 'database', 'issue', 'issues', 'large stage', 'projects', 'sign in', 'sql editor']);
    expect(seriousFound()).toEqual([]);
    expect(profiles.flatMap((p) => p.problems)).toEqual([]);
  });
});
