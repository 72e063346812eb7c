// The console's admin and database pages in a real browser (Debian's Chromium through
// playwright-core) against `npm start`: an admin makes a review config and attaches it, a member
// reads it with no control to change it, approval rules are edited and a stale save is a 409 the
// page shows with the edits kept, a project's webhooks, and the database page (schema, history,
// and drift where the server reports it). axe-core on each page; each works 375 px wide.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamo-local.js';
import { chromiumMissing, consoleSteps, contentWidth, openProfile, signIn, tabTo, type Profile } from '../support/browser.js';
import { npmStart, onSampleServer, stopNpmStart, type NpmStart } from '../support/npm-start.js';
import { syncAndWait } from '../support/operations.js';

/** Screenshots at 375 px (not committed), beside the issue page's. */
const OUTPUT = join('test-output', 'console');

if (chromiumMissing) process.stderr.write('test/e2e/console-admin.test.ts skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, as .ci/run does)\n');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are JSON each test asserts on
type Body = any;

describe.skipIf(chromiumMissing)('the console for admins, and the database page, in Chromium, on npm start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-console-admin-'));
  let server: NpmStart;
  let admin: Profile;
  let member: Profile;

  /** The API as the admin (npm start's token). */
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> => {
    const res = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: await res.json() };
  };
  const { a11y, go, check, seriousFound } = consoleSteps(() => server.url);
  /** The page at a phone's width (a screenshot to the test output): how wide its content is. */
  const fits375 = async (p: Profile, name: string) => {
    await p.page.setViewportSize({ width: 375, height: 800 });
    await p.page.screenshot({ path: join(OUTPUT, `${name}-375.png`), fullPage: true });
    const width = await contentWidth(p.page);
    await p.page.setViewportSize({ width: 1280, height: 900 });
    return width;
  };

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    server = await npmStart({ port: await freePort(), dataDir });
    expect((await call('POST', '/v1/users', { email: 'member@example.com', title: 'Member', role: 'workspaceMember' })).status).toBe(201);
    admin = await openProfile();
    member = await openProfile();
    await signIn(admin, server.url, 'admin@example.com');
    await signIn(member, server.url, 'member@example.com');
  }, 300_000);
  afterAll(async () => {
    for (const p of [admin, member]) await p?.close().catch(() => undefined);
    if (server) await stopNpmStart(server);
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('lets an admin create a review config from the catalog, attach it to prod, and shows a 400 next to the rule it names', async () => {
    const page = admin.page;
    await go(admin, 'review-configs');
    await check(admin, 'review configs', 'No review config');
    await page.getByRole('link', { name: 'New review config' }).click();
    await page.getByLabel('ID (lowercase letters, digits and dashes)').fill('prod-safety');
    await page.getByLabel('Title', { exact: true }).fill('Prod safety');
    await page.getByRole('checkbox', { name: /^environments\/prod\b/ }).check();
    await page.getByRole('checkbox', { name: /table\.require-pk/ }).check();
    await page.getByLabel('Level of table.require-pk').selectOption('ERROR');
    await page.getByRole('checkbox', { name: /statement\.affected-row-limit/ }).check();
    await page.getByLabel('Level of statement.affected-row-limit').selectOption('WARNING');
    await page.getByLabel('Payload of statement.affected-row-limit (JSON)').fill('{"max": -1}');
    await check(admin, 'new review config', 'Create review config');
    expect(await fits375(admin, 'new-review-config')).toBeLessThanOrEqual(375);

    // The server refuses the payload: the error sits by that rule, and nothing typed is lost.
    await page.getByRole('button', { name: 'Create review config' }).click();
    const limit = page.locator('[data-rule="statement.affected-row-limit"]');
    await limit.locator('.field-error').filter({ hasText: 'payload' }).waitFor();
    expect(await limit.getByLabel('Payload of statement.affected-row-limit (JSON)').inputValue()).toBe('{"max": -1}');
    expect(await page.getByLabel('ID (lowercase letters, digits and dashes)').inputValue()).toBe('prod-safety');
    expect((await call('GET', '/v1/reviewConfigs/prod-safety')).status).toBe(404);

    await page.getByLabel('Payload of statement.affected-row-limit (JSON)').fill('{"max": 100}');
    await page.getByRole('button', { name: 'Create review config' }).click();
    await page.getByRole('heading', { name: 'Review config Prod safety' }).waitFor();
    const made = (await call('GET', '/v1/reviewConfigs/prod-safety')).body;
    expect(made.resources).toEqual(['environments/prod']);
    expect(made.rules).toEqual(expect.arrayContaining([{ type: 'table.require-pk', level: 'ERROR' }, { type: 'statement.affected-row-limit', level: 'WARNING', payload: { max: 100 } }]));
    expect(made.rules).toHaveLength(2);

    // Attached to prod: a table without a primary key is an ERROR there, and not in test.
    const advices = async (environment: string) => (await call('POST', '/v1/sql:check', { statement: 'CREATE TABLE t (a int);', engine: 'POSTGRES', environment })).body.advices as { rule: string; status: string }[];
    expect(await advices('environments/prod')).toContainEqual(expect.objectContaining({ rule: 'table.require-pk', status: 'ERROR' }));
    expect((await advices('environments/test')).map((a) => a.rule)).not.toContain('table.require-pk');

    // Edited: a level changed and a project attached.
    await page.getByLabel('Level of table.require-pk').selectOption('WARNING');
    await page.getByRole('checkbox', { name: /^projects\/sample\b/ }).check();
    await page.getByRole('button', { name: 'Save review config' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved at' }).waitFor();
    const edited = (await call('GET', '/v1/reviewConfigs/prod-safety')).body;
    expect(edited.resources).toEqual(['environments/prod', 'projects/sample']);
    expect(edited.rules).toContainEqual({ type: 'table.require-pk', level: 'WARNING' });
    await check(admin, 'review config', 'Save review config');
    expect(await fits375(admin, 'review-config')).toBeLessThanOrEqual(375);
  }, 120_000);

  it('shows a member the review config and approval rules read only, with no control to change them', async () => {
    const page = member.page;
    await go(member, 'review-configs');
    await page.getByRole('link', { name: 'Prod safety' }).click();
    await page.locator('[data-rule="table.require-pk"]').getByText('warning').waitFor();
    await page.getByText('Read only: workspace admins and DBAs change review configs.').waitFor();
    expect(await page.locator('main input, main select, main textarea').count()).toBe(0);
    expect(await page.getByRole('button', { name: /Save|Delete/ }).count()).toBe(0);
    await check(member, 'review config, read only', 'environments/prod');

    await go(member, 'review-configs');
    await page.getByText('Prod safety').waitFor();
    expect(await page.getByRole('link', { name: 'New review config' }).count()).toBe(0);

    await go(member, 'approval-rules');
    await page.getByText('Read only: a workspace admin changes approval rules.').waitFor();
    expect(await page.locator('main input, main select, main textarea, main button').count()).toBe(0);
    await check(member, 'approval rules, read only', 'No rule');
  }, 60_000);

  it('refuses a review config save over a newer version with the edits kept, then deletes the config', async () => {
    const page = admin.page;
    await go(admin, 'review-configs/prod-safety');
    await page.getByLabel('Title', { exact: true }).fill('Prod safety, renamed here');
    // Another admin saves first: this page's etag is stale.
    expect((await call('PATCH', '/v1/reviewConfigs/prod-safety?updateMask=enabled', { enabled: false })).status).toBe(200);
    await page.getByRole('button', { name: 'Save review config' }).click();
    await page.locator('[data-conflict]').waitFor();
    expect(await page.getByLabel('Title', { exact: true }).inputValue()).toBe('Prod safety, renamed here');
    expect((await call('GET', '/v1/reviewConfigs/prod-safety')).body.title).toBe('Prod safety');

    await page.getByRole('button', { name: /Load the latest version/ }).click();
    await expect.poll(() => page.getByLabel('Enabled').isChecked()).toBe(false);
    await page.getByRole('button', { name: 'Delete review config…' }).click();
    await page.getByRole('button', { name: 'Yes, delete prod-safety' }).click();
    await page.getByText('No review config').waitFor();
    expect((await call('GET', '/v1/reviewConfigs/prod-safety')).status).toBe(404);
  }, 60_000);

  it('edits approval rules as a form, shows a bad condition by its field, and a stale save as a 409 that keeps the edits', async () => {
    const page = admin.page;
    await go(admin, 'approval-rules');
    await page.getByRole('button', { name: 'Add a rule' }).click();
    await page.getByLabel('Title of rule 1').fill('Prod needs two');
    await page.getByLabel('Condition of rule 1 (CEL)').fill('environment ==');
    await page.getByLabel('Step 1 of rule 1: who approves').selectOption('workspaceDBA');
    await page.getByRole('button', { name: 'Add a step to rule 1' }).click();
    await page.getByLabel('Step 2 of rule 1: who approves').selectOption('projectReleaser');
    await page.getByRole('button', { name: 'Save approval rules' }).click();
    await page.locator('#ar-0-cond-err').waitFor();
    expect((await call('GET', '/v1/approvalRules')).body.rules).toEqual([]);

    await page.getByLabel('Condition of rule 1 (CEL)').fill('environment == "prod"');
    await page.getByRole('button', { name: 'Save approval rules' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved at' }).waitFor();
    const saved = (await call('GET', '/v1/approvalRules')).body;
    expect(saved.rules).toEqual([{ title: 'Prod needs two', condition: 'environment == "prod"', steps: [{ role: 'workspaceDBA' }, { role: 'projectReleaser' }] }]);
    await check(admin, 'approval rules', 'Save approval rules');
    expect(await fits375(admin, 'approval-rules')).toBeLessThanOrEqual(375);

    // Someone else saves meanwhile; this page's etag is stale: 409, nothing written, the edit kept.
    expect((await call('PUT', '/v1/approvalRules', { rules: [{ ...saved.rules[0], title: 'Changed elsewhere' }], etag: saved.etag })).status).toBe(200);
    await page.getByLabel('Title of rule 1').fill('Prod needs two, v2');
    await page.getByRole('button', { name: 'Save approval rules' }).click();
    await page.locator('[data-conflict]').waitFor();
    expect(await page.getByLabel('Title of rule 1').inputValue()).toBe('Prod needs two, v2');
    expect((await call('GET', '/v1/approvalRules')).body.rules[0].title).toBe('Changed elsewhere');

    await page.getByRole('button', { name: /Load the latest rules/ }).click();
    await expect.poll(() => page.getByLabel('Title of rule 1').inputValue()).toBe('Changed elsewhere');
  }, 60_000);

  it('lets an admin add a project webhook (a refused field shown by its control), send it a test and read its delivery log, and remove it', async () => {
    const page = admin.page;
    await go(admin, 'projects/sample');
    await page.getByLabel('Webhook title').fill('Ops room');
    await page.getByLabel(/^Receiver URL/).fill('http://127.0.0.1:9/hook');
    await page.getByLabel(/^Signing secret/).fill('short');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.locator('#wh-secret-err').waitFor();
    expect(await page.getByLabel('Webhook title').inputValue()).toBe('Ops room');

    await page.getByLabel(/^Signing secret/).fill('a-secret-of-some-length');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.locator('.webhooks li').filter({ hasText: 'Ops room' }).waitFor();
    expect((await call('GET', '/v1/projects/sample/webhooks')).body.webhooks.map((w: Body) => w.title)).toEqual(['Ops room']);
    await check(admin, 'project', 'Add a webhook');

    // A test message: the log opens with the TEST delivery, then shows its first attempt, refused
    // by the closed port (nothing listens on 9), with the error the server recorded.
    await page.getByRole('button', { name: 'Send a test to Ops room' }).click();
    const log = page.getByRole('list', { name: 'Deliveries of Ops room' });
    await log.locator('li[data-delivery]').filter({ hasText: 'TEST' }).waitFor();
    await log.locator('ol.attempts li').first().waitFor({ timeout: 30_000 });
    const [delivery] = (await call('GET', `/v1/projects/sample/webhooks/${(await call('GET', '/v1/projects/sample/webhooks')).body.webhooks[0].id}/deliveries`)).body.deliveries;
    expect(delivery).toMatchObject({ event: 'TEST' });
    expect(await log.locator('ol.attempts li').first().textContent()).toContain(delivery.attempts[0].error ?? `HTTP ${delivery.attempts[0].statusCode}`);
    await page.getByRole('button', { name: 'Deliveries of Ops room' }).click();
    expect(await log.count()).toBe(0);

    await page.getByRole('button', { name: 'Remove webhook Ops room…' }).click();
    await page.getByRole('button', { name: 'Yes, remove webhook Ops room' }).click();
    await page.getByText('No webhook.').waitFor();
    expect((await call('GET', '/v1/projects/sample/webhooks')).body.webhooks).toEqual([]);
  }, 60_000);

  it('works from the keyboard alone: Tab reaches the webhook form, Enter adds the webhook, and Tab and Enter remove it', async () => {
    const page = admin.page;
    await go(admin, 'projects/sample');
    await tabTo(page, /^Webhook title$/);
    await page.keyboard.type('Keyboard hook');
    await tabTo(page, /^Receiver URL/, 3);
    await page.keyboard.type('http://127.0.0.1:9/keys');
    await page.keyboard.press('Enter');
    await page.locator('.webhooks li').filter({ hasText: 'Keyboard hook' }).waitFor();
    expect((await call('GET', '/v1/projects/sample/webhooks')).body.webhooks.map((w: Body) => w.title)).toEqual(['Keyboard hook']);

    await tabTo(page, /^Remove webhook Keyboard hook…$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^Yes, remove webhook Keyboard hook$/, 3);
    await page.keyboard.press('Enter');
    await page.getByText('No webhook.').waitFor();
    expect((await call('GET', '/v1/projects/sample/webhooks')).body.webhooks).toEqual([]);
  }, 60_000);

  it('shows a database: its schema as tables and as SQL, compared with another, a change in its history, and drift as far as the server knows it', async () => {
    const db = 'instances/pg-sample-test/databases/hr_test';
    // A change through Sluice, run to the end (test needs no approval).
    const made = await call('POST', '/v1/projects/sample/issues', { title: 'Nickname', type: 'DATABASE_SCHEMA_UPDATE', statement: 'ALTER TABLE employees ADD COLUMN nickname text;', targets: [db] });
    expect(made.status).toBe(201);
    let status = '';
    for (let i = 0; i < 600 && status !== 'DONE'; i++) {
      status = (await call('GET', `/v1/${made.body.name}`)).body.status;
      if (status !== 'DONE') await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe('DONE');
    // A sync records the schema with the change in it (prod's has not got it).
    expect((await syncAndWait(call, 'pg-sample-test')).status).toBe(200);

    const page = admin.page;
    await go(admin, db);
    await page.locator('details[data-table="employees"]').waitFor();
    await page.locator('details[data-table="employees"] summary').click();
    await page.getByRole('cell', { name: 'email', exact: true }).first().waitFor();
    await page.getByRole('button', { name: 'SQL (DDL)' }).click();
    await page.getByRole('figure', { name: 'DDL that recreates this schema' }).getByText(/CREATE TABLE/).first().waitFor();

    // Against prod: the added column is a line marked "added" in words, not only by its colour.
    await page.getByLabel('Another database of sample').selectOption({ label: 'hr_prod (pg-sample-prod)' });
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    const compared = page.getByRole('figure', { name: 'From the schema of instances/pg-sample-prod/databases/hr_prod to this one' });
    const added = compared.locator('[data-diff="add"]').filter({ hasText: 'nickname' });
    await added.waitFor();
    expect(await added.textContent()).toMatch(/^added: \+.*"nickname" text/);
    await page.getByRole('figure', { name: 'DDL that makes instances/pg-sample-prod/databases/hr_prod like this database' }).getByText(/ADD COLUMN "nickname"/i).waitFor();

    const entry = page.locator('.history li[data-change]').filter({ hasText: 'ALTER TABLE employees ADD COLUMN nickname text;' });
    await entry.waitFor();
    const history = (await call('GET', `/v1/${db}/changeHistories?view=FULL`)).body.changeHistories;
    if (typeof history[0]?.schemaDiff === 'string' && history[0].schemaDiff !== '') {
      // The schema diff, each added line marked in words as well as by its sign.
      await entry.locator('summary').filter({ hasText: 'Schema diff' }).click();
      await entry.locator('[data-diff="add"]').filter({ hasText: 'nickname' }).first().waitFor();
      expect(await entry.locator('[data-diff="add"] .sr-only').first().textContent()).toBe('added: ');
    } else {
      await entry.getByText('Schema diff: not available on this server.').waitFor();
    }

    const drift = await call('GET', `/v1/${db}/drift`);
    if (drift.status === 404) await page.getByText('Drift not known').waitFor();
    else await page.locator(`[data-drift="${String(drift.body.drifted)}"]`).waitFor();

    await check(admin, 'database', 'Change history');
    expect(await fits375(admin, 'database')).toBeLessThanOrEqual(375);
  }, 300_000);

  it('shows drift found at a sync with its diff, and an admin accepts it from the page (needs the drift API)', async (ctx) => {
    const db = 'instances/pg-sample-test/databases/hr_test';
    if ((await call('GET', `/v1/${db}/drift`)).status === 404) ctx.skip();
    // A change made behind Sluice's back, then found by a sync.
    await onSampleServer(dataDir, 'pg-sample-test', 'hr_test', 'CREATE TABLE drift_probe (id int PRIMARY KEY)');
    expect((await syncAndWait(call, 'pg-sample-test')).status).toBe(200);
    expect((await call('GET', `/v1/${db}/drift`)).body.drifted).toBe(true);

    const page = admin.page;
    await go(admin, db);
    await page.reload(); // the same address as the last test's: a hash change alone reads nothing again
    const drift = page.locator('[data-drift="true"]');
    await drift.locator('[data-diff="add"]').filter({ hasText: 'drift_probe' }).first().waitFor();
    await check(admin, 'database, drifted', 'Accept drift');
    await drift.getByRole('button', { name: 'Accept drift…' }).click();
    await drift.getByRole('button', { name: 'Yes, accept the drift' }).click();
    await page.locator('[data-drift="false"]').waitFor();
    await page.locator('.history li[data-type="BASELINE"]').waitFor();
    expect((await call('GET', `/v1/${db}/drift`)).body.drifted).toBe(false);
  }, 300_000);

  it('has no serious accessibility violation on any of these pages, and no CSP refusal', () => {
    // 'database, drifted' only where the server reports drift (the drift API).
    expect([...a11y.keys()].filter((k) => k !== 'database, drifted').sort()).toEqual(['approval rules', 'approval rules, read only', 'database', 'new review config', 'project', 'review config', 'review config, read only', 'review configs']);
    expect(seriousFound()).toEqual([]);
    expect([...admin.problems, ...member.problems]).toEqual([]);
  });
});
