// Project webhooks end to end on the local runtime: real pipelines (the deployed state machine on
// the local runner, real statements on PostgreSQL), the same delivery code as the cloud's on the
// in-process queue, and a receiver on 127.0.0.1 that records every request as it arrived. The
// signature is checked with an independent HMAC computation; the delivery log is compared with
// what the receiver saw.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordPassword } from '../support/capture.js';
import { startApi, waitFor, type Api, type CallResult, syncInstance } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, type SqlServer } from '../support/postgres.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  json: Body;
}

/** A receiver on loopback: each path answers as `behave` says for its n-th request (0-based). */
class Receiver {
  readonly seen: Seen[] = [];
  readonly open = new Set<ServerResponse>();
  private server!: Server;
  url = '';
  constructor(private readonly behave: (path: string, n: number) => 'ok' | 500 | 'hang' | 'slow') {}

  async start(): Promise<void> {
    const counts = new Map<string, number>();
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '';
        const n = counts.get(path) ?? 0;
        counts.set(path, n + 1);
        this.seen.push({ path, headers: req.headers, raw, json: JSON.parse(raw) });
        const how = this.behave(path, n);
        if (how === 'ok') res.writeHead(200).end('ok');
        else if (how === 500) res.writeHead(500).end('boom');
        else if (how === 'slow') setTimeout(() => res.writeHead(200).end('late'), 3000).unref();
        else this.open.add(res);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  at = (path: string): Seen[] => this.seen.filter((s) => s.path === path);

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const PROJECT = `hooks-${Date.now().toString(36)}`;
const pg: SqlServer = postgresServer();
const DB = { test: `sluice_t_hooks_${randomBytes(4).toString('hex')}`, prod: `sluice_t_hooks_${randomBytes(4).toString('hex')}` };
const U = { releaser: 'releaser@hooks.test', dba: 'dba@hooks.test', dev: 'dev@hooks.test' };
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;
/** The path token a Slack-like URL carries: write-only like the secret, so the scan looks for it too. */
const TOKEN = `T0K-${randomBytes(10).toString('hex')}`;

let api: Api;
let ids: Record<string, string>;
const receiver = new Receiver((path, n) => {
  if (path.startsWith('/flaky')) return n < 2 ? 500 : 'ok';
  if (path.startsWith('/slow')) return n < 1 ? 'slow' : 'ok';
  if (path.startsWith('/never')) return 'hang';
  return 'ok';
});

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};
const hooks = `/v1/projects/${PROJECT}/webhooks`;
const target = (instance: string, db: string) => `instances/${instance}/databases/${db}`;
const getIssue = async (name: string): Promise<Body> => ok(await api.call('GET', `/v1/${name}`));
const stage = (issue: Body, env: string): Body => issue.pipeline.stages.find((s: Body) => s.environment === `environments/${env}`);
const sign = (raw: string) => `sha256=${createHmac('sha256', SECRET).update(Buffer.from(raw, 'utf8')).digest('hex')}`;
const events = (path: string, issue?: string) => receiver.at(path).filter((s) => !issue || s.json.issue?.name === issue).map((s) => s.json.event);

async function addHook(id: string, path: string, extra: Body = {}): Promise<Body> {
  return ok(await api.call('POST', hooks, { body: { id, title: id, type: 'GENERIC', url: `${receiver.url}${path}`, secret: SECRET, events: ['ISSUE_CREATED', 'APPROVAL_REQUESTED', 'STAGE_APPROVED', 'STAGE_REJECTED', 'TASK_FAILED', 'ISSUE_DONE', 'ISSUE_CANCELED'], ...extra } }), 201);
}
const deliveries = async (id: string): Promise<Body[]> => ok(await api.call('GET', `${hooks}/${id}/deliveries`)).deliveries;
async function createIssue(db: string, env: 'test' | 'prod', statement: string, as = U.dev): Promise<Body> {
  return ok(await api.call('POST', `/v1/projects/${PROJECT}/issues`, { as, body: { title: `hooks ${env}`, type: 'DATABASE_SCHEMA_UPDATE', statement, targets: [target(`pg-${env}`, db)] } }), 201);
}

beforeAll(async () => {
  recordPassword(TOKEN);
  await receiver.start();
  for (const db of Object.values(DB)) await adminQuery(pg, `CREATE DATABASE "${db}"`);
  api = await startApi();
  ids = {};
  for (const [who, email] of Object.entries(U)) ids[who] = ok(await api.call('POST', '/v1/users', { body: { email, title: who, role: who === 'dba' ? 'workspaceDBA' : 'workspaceMember' } }), 201).name;
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Hooks' } }), 201);
  const policy = ok(await api.call('GET', `/v1/projects/${PROJECT}:getIamPolicy`));
  const bindings = [...policy.bindings, { role: 'projectDeveloper', members: [ids.dev] }, { role: 'projectReleaser', members: [ids.releaser] }];
  ok(await api.call('POST', `/v1/projects/${PROJECT}:setIamPolicy`, { body: { policy: { bindings, etag: policy.etag } } }));
  for (const [env, db] of [['test', DB.test], ['prod', DB.prod]] as const) {
    ok(await api.call('POST', '/v1/instances', {
      body: { id: `pg-${env}`, title: env, engine: 'POSTGRES', environment: `environments/${env}`, dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] },
    }), 201);
    await syncInstance(api, `pg-${env}`);
    ok(await api.call('PATCH', `/v1/instances/pg-${env}/databases/${db}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
  }
  const rules = ok(await api.call('GET', '/v1/approvalRules'));
  ok(await api.call('PUT', '/v1/approvalRules', { body: { etag: rules.etag, rules: [{ title: 'prod', condition: 'environment == "prod"', steps: [{ role: 'projectReleaser' }, { role: 'workspaceDBA' }] }] } }));
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await receiver.stop();
  await dropDatabases(pg, Object.values(DB));
});

describe('webhooks: the resource', () => {
  it('url and secret are write-only: never in a create, get, list or update answer', async () => {
    // Act
    const made = await addHook('crud', `/crud/${TOKEN}`);
    const got = ok(await api.call('GET', `${hooks}/crud`));
    const listed = ok(await api.call('GET', hooks));
    const patched = ok(await api.call('PATCH', `${hooks}/crud?updateMask=events`, { body: { events: ['ISSUE_DONE'] } }));

    // Assess
    expect(made).toEqual({ name: `projects/${PROJECT}/webhooks/crud`, id: 'crud', title: 'crud', type: 'GENERIC', events: expect.any(Array), hasSecret: true, createTime: expect.any(String), updateTime: expect.any(String), etag: expect.any(String) });
    expect(got).toEqual(made);
    expect(listed.webhooks.map((w: Body) => w.id)).toContain('crud');
    expect(patched.events).toEqual(['ISSUE_DONE']);
    for (const text of [JSON.stringify(made), JSON.stringify(listed), JSON.stringify(patched)]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(SECRET);
    }
    ok(await api.call('DELETE', `${hooks}/crud`));
    expect((await api.call('GET', `${hooks}/crud`)).status).toBe(404);
  });

  it('bad input is a 400 naming the field, and nothing is written', async () => {
    // Act
    const cases = await Promise.all([
      api.call('POST', hooks, { body: { id: 'bad-1', title: 't', type: 'GENERIC', url: 'not a url', events: ['ISSUE_DONE'] } }),
      api.call('POST', hooks, { body: { id: 'bad-2', title: 't', type: 'PAGER', url: `${receiver.url}/x`, events: ['ISSUE_DONE'] } }),
      api.call('POST', hooks, { body: { id: 'bad-3', title: 't', type: 'GENERIC', url: `${receiver.url}/x`, events: ['SOMETHING'] } }),
      api.call('POST', hooks, { body: { id: 'bad-4', title: 't', type: 'GENERIC', url: `${receiver.url}/x`, secret: 'short', events: ['ISSUE_DONE'] } }),
      api.call('POST', hooks, { body: { id: 'bad-5', title: 't', type: 'GENERIC', url: 'http://169.254.169.254/latest/meta-data', events: ['ISSUE_DONE'] } }),
    ]);

    // Assess
    expect(cases.map((c) => [c.status, c.json.error.details[0]?.field])).toEqual([[400, 'url'], [400, 'type'], [400, 'events.0'], [400, 'secret'], [400, 'url']]);
    expect(cases[4]!.json.error.details[0].description).toMatch(/metadata address/);
    const listed = ok(await api.call('GET', hooks)).webhooks.map((w: Body) => w.id);
    expect(listed.filter((id: string) => id.startsWith('bad-'))).toEqual([]);
  });

  it('a project viewer may not add one (403); a releaser may read them', async () => {
    const denied = await api.call('POST', hooks, { as: U.releaser, body: { title: 't', type: 'GENERIC', url: `${receiver.url}/x`, events: ['ISSUE_DONE'] } });
    expect([denied.status, denied.json.error.details[0].permission]).toEqual([403, 'webhooks.update']);
    ok(await api.call('GET', hooks, { as: U.releaser }));
  });
});

describe('webhooks: deliveries', () => {
  it('a two-step approval: each request names the roles it waits for, signed, and the log matches what the receiver saw', async () => {
    // Prepare
    await addHook('flow', '/flow');

    // Act
    const issue = await createIssue(DB.prod, 'prod', 'CREATE TABLE flow_t (id int)');
    await waitFor('the releaser request', async () => events('/flow', issue.name), (e) => e.includes('APPROVAL_REQUESTED'));
    let current = await getIssue(issue.name);
    ok(await api.call('POST', `/v1/${stage(current, 'prod').name}:approve`, { as: U.releaser, body: {} }));
    await waitFor('the DBA request', async () => events('/flow', issue.name), (e) => e.filter((x: string) => x === 'APPROVAL_REQUESTED').length === 2);
    current = await getIssue(issue.name);
    ok(await api.call('POST', `/v1/${stage(current, 'prod').name}:approve`, { as: U.dba, body: {} }));
    await waitFor('ISSUE_DONE', async () => events('/flow', issue.name), (e) => e.includes('ISSUE_DONE'));

    // Assess: the order, who acted, who must act next
    const got = receiver.at('/flow').filter((s) => s.json.issue?.name === issue.name);
    expect(got.map((s) => s.json.event)).toEqual(['ISSUE_CREATED', 'APPROVAL_REQUESTED', 'APPROVAL_REQUESTED', 'STAGE_APPROVED', 'ISSUE_DONE']);
    const [created, first, second, approved, done] = got.map((s) => s.json);
    expect(created).toMatchObject({ project: `projects/${PROJECT}`, issue: { name: issue.name, title: 'hooks prod' }, actor: { name: ids.dev, email: U.dev }, link: expect.stringContaining(`/v1/${issue.name}`) });
    expect(first).toMatchObject({ stage: `${issue.name}/stages/prod`, approval: { roles: ['projectReleaser'], step: 1, steps: 2, rule: 'prod' }, next: expect.stringContaining('projectReleaser') });
    expect(second).toMatchObject({ approval: { roles: ['workspaceDBA'], step: 2, steps: 2 }, actor: { name: ids.releaser }, next: expect.stringContaining('workspaceDBA') });
    expect(approved).toMatchObject({ stage: `${issue.name}/stages/prod`, actor: { name: ids.dba, email: U.dba } });
    expect(done.summary).toContain('is done');
    // Assess: signature (an independent HMAC over the bytes received), event and delivery headers
    for (const s of got) {
      expect(s.headers['x-sluice-signature-256']).toBe(sign(s.raw));
      expect(s.headers['x-sluice-event']).toBe(s.json.event);
      expect(s.headers['content-type']).toBe('application/json');
    }
    // Assess: the delivery log says what the receiver saw, attempt by attempt
    const log = (await deliveries('flow')).filter((d: Body) => JSON.parse(d.body).issue?.name === issue.name);
    expect(log).toHaveLength(got.length);
    for (const s of got) {
      const d = log.find((x: Body) => x.id === s.headers['x-sluice-delivery']);
      expect(d, `delivery ${s.headers['x-sluice-delivery']}`).toBeDefined();
      expect(d).toMatchObject({ status: 'DELIVERED', event: s.json.event, body: s.raw, attempts: [{ statusCode: 200, durationMs: expect.any(Number) }] });
    }
  }, 90_000);

  it('answers of 500 are retried with backoff until the receiver takes it: one delivery id, the same signed body', async () => {
    // Prepare
    await addHook('flaky', '/flaky', { events: ['ISSUE_DONE'] });

    // Act
    const issue = await createIssue(DB.test, 'test', 'CREATE TABLE flaky_t (id int)');
    await waitFor('three attempts', async () => receiver.at('/flaky'), (s) => s.length >= 3, 30_000);
    const log = await waitFor('DELIVERED', () => deliveries('flaky'), (d) => d[0]?.status === 'DELIVERED');

    // Assess
    const got = receiver.at('/flaky');
    expect(got).toHaveLength(3);
    expect(new Set(got.map((s) => s.headers['x-sluice-delivery'])).size).toBe(1);
    expect(new Set(got.map((s) => s.raw)).size).toBe(1);
    expect(got[0]!.json).toMatchObject({ event: 'ISSUE_DONE', issue: { name: issue.name } });
    for (const s of got) expect(s.headers['x-sluice-signature-256']).toBe(sign(s.raw));
    const [d] = log;
    expect(d.attempts.map((a: Body) => a.statusCode)).toEqual([500, 500, 200]);
    expect(d.attempts[0].error).toBe('the receiver answered 500');
    // Backoff: the second wait is longer than the first (200 ms, then 400 ms in tests).
    const t = d.attempts.map((a: Body) => Date.parse(a.time));
    expect(t[1] - t[0]).toBeGreaterThanOrEqual(200);
    expect(t[2] - t[1]).toBeGreaterThanOrEqual(400);
    expect(d.nextAttemptTime).toBeUndefined();
  }, 60_000);

  it('an attempt with no answer in time is a timeout, tried again', async () => {
    // Prepare
    await addHook('slow', '/slow', { events: ['ISSUE_DONE'] });

    // Act
    await createIssue(DB.test, 'test', 'CREATE TABLE slow_t (id int)');
    const log = await waitFor('DELIVERED', () => deliveries('slow'), (d) => d[0]?.status === 'DELIVERED', 30_000);

    // Assess
    expect(log[0].attempts).toEqual([
      { time: expect.any(String), error: 'timeout: no answer within 1500 ms', durationMs: expect.any(Number) },
      { time: expect.any(String), statusCode: 200, durationMs: expect.any(Number) },
    ]);
    expect(log[0].attempts[0].durationMs).toBeGreaterThanOrEqual(1500);
    expect(receiver.at('/slow')).toHaveLength(2);
  }, 60_000);

  it('a receiver that never answers delays neither the API call nor the pipeline', async () => {
    // Prepare
    await addHook('never', '/never');

    // Act
    const issue = await createIssue(DB.test, 'test', 'CREATE TABLE never_t (id int)');
    await waitFor('the receiver to hold ISSUE_CREATED', async () => receiver.at('/never').filter((s) => s.json.issue?.name === issue.name), (s) => s.length > 0);
    const done = await waitFor('DONE', () => getIssue(issue.name), (i) => i.status === 'DONE', 30_000);

    // Assess: the issue finished while the receiver still held its requests open, unanswered
    expect(done.status).toBe('DONE');
    expect(receiver.open.size).toBeGreaterThan(0);
    const pending = (await deliveries('never')).filter((d: Body) => JSON.parse(d.body).issue?.name === issue.name);
    expect(pending.every((d: Body) => d.status !== 'DELIVERED')).toBe(true);
    ok(await api.call('DELETE', `${hooks}/never`));
  }, 60_000);

  it(':test answers at once with a PENDING delivery; the receiver then gets a TEST message', async () => {
    // Prepare
    await addHook('tester', '/tester', { events: ['ISSUE_DONE'] });

    // Act
    const res = await api.call('POST', `${hooks}/tester:test`, { body: {} });
    const log = await waitFor('DELIVERED', () => deliveries('tester'), (d) => d[0]?.status === 'DELIVERED');

    // Assess
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ event: 'TEST', status: 'PENDING', attempts: [] });
    expect(log[0].id).toBe(res.json.id);
    const [s] = receiver.at('/tester');
    expect(s!.json).toMatchObject({ event: 'TEST', project: `projects/${PROJECT}`, actor: { email: 'admin@example.com' } });
    expect(s!.headers['x-sluice-signature-256']).toBe(sign(s!.raw));
  });

  it('a SLACK webhook gets Block Kit; an audit entry records the create without url or secret', async () => {
    // Prepare
    ok(await api.call('POST', hooks, { body: { id: 'slack', title: 'slack', type: 'SLACK', url: `${receiver.url}/slack/${TOKEN}`, events: ['ISSUE_CANCELED'] } }), 201);

    // Act
    const issue = await createIssue(DB.prod, 'prod', 'CREATE TABLE slack_t (id int)');
    ok(await api.call('POST', `/v1/${issue.name}:cancel`, { body: {} }));
    const [s] = await waitFor('the Slack message', async () => receiver.seen.filter((x) => x.path.startsWith('/slack/')), (x) => x.length > 0);
    const audit = ok(await api.call('GET', `/v1/auditLogs?filter=${encodeURIComponent(`resource.startsWith("projects/${PROJECT}/webhooks")`)}`));

    // Assess
    expect(s!.json.text).toContain('Issue canceled');
    expect(s!.json.blocks.map((b: Body) => b.type)).toEqual(['header', 'section', 'section', 'actions']);
    expect(s!.headers['x-sluice-signature-256']).toBeUndefined();
    const entry = audit.auditLogs.find((e: Body) => e.detail?.id === 'slack');
    expect(entry).toMatchObject({ method: 'createWebhook', status: { code: 201 }, detail: { type: 'SLACK', events: ['ISSUE_CANCELED'] } });
    expect(JSON.stringify(audit)).not.toContain(TOKEN);
  }, 60_000);
});
