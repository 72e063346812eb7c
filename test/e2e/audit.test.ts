// The audit log over HTTP on the local server (the handlers `npm start` runs): who may read it,
// what the SQL editor and the VCS webhook leave in it, the filter and paging, retention and TTL,
// what happens when the entry cannot be written, and that no secret sent ever shows in it.
// (Every route of the route table, allowed and refused, is checked in test/e2e/access-matrix.test.ts.)
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { tapLogs } from '../../functions/shared/logger.js';
import { recordPassword } from '../support/capture.js';
import { githubHeaders } from '../support/fake-vcs.js';
import { startApi, type Api, type CallResult } from '../support/http.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName, type SqlServer } from '../support/postgres.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Body = any;

const ADMIN = 'admin@example.com';
const DBA = 'dba@audit.test';
const MEMBER = 'member@audit.test';
const OWNER = 'owner@audit.test';
const PROJECT = 'audited';
const WEBHOOK_SECRET = 'Audit-Webhook-Secret-5e1';
const ACCESS_TOKEN = 'Audit-Access-Token-77c';
const INSTANCE_PASSWORD = 'Audit-Instance-Pw-3a9';
const STATEMENT_PASSWORD = 'Audit-Statement-Pw-41d';
const ROW_CANARY = 'row-canary-0b5e';
const pg: SqlServer = postgresServer();
const DB = testDatabaseName();

let api: Api;
/** The handlers' own audit store (imported once the table exists: wiring reads TABLE_NAME when loaded). */
let auditRepo: typeof import('../../functions/shared/wiring.js')['auditRepo'];
const users: Record<string, string> = {};

const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};
const list = (filter?: string, extra = '', as = ADMIN) =>
  api.call('GET', `/v1/auditLogs?pageSize=1000${filter === undefined ? '' : `&filter=${encodeURIComponent(filter)}`}${extra}`, { as });
/** The entry of the request that got `res`, found by its x-request-id. */
async function entryOf(res: CallResult, filter = ''): Promise<Body> {
  const requestId = res.headers.get('x-request-id');
  const found = (ok(await list(filter)).auditLogs as Body[]).find((e) => e.requestId === requestId);
  expect(found, `no audit entry for request ${requestId}`).toBeDefined();
  return found;
}

beforeAll(async () => {
  api = await startApi();
  ({ auditRepo } = await import('../../functions/shared/wiring.js'));
  for (const email of [DBA, MEMBER, OWNER]) {
    const role = email === DBA ? 'workspaceDBA' : 'workspaceMember';
    users[email] = ok(await api.call('POST', '/v1/users', { body: { email, role } }), 201).name;
  }
  users[ADMIN] = 'users/2';
  ok(await api.call('POST', '/v1/projects', { body: { id: PROJECT, title: 'Audited' } }), 201);
  const policy = ok(await api.call('GET', `/v1/projects/${PROJECT}:getIamPolicy`));
  ok(await api.call('POST', `/v1/projects/${PROJECT}:setIamPolicy`, { body: { policy: { bindings: [...policy.bindings, { role: 'projectOwner', members: [users[OWNER]] }], etag: policy.etag } } }));
  // A database with a row the SQL editor will read, and whose value must never reach the log.
  await adminQuery(pg, `CREATE DATABASE ${DB}`);
  await adminQuery(pg, `CREATE TABLE secrets_of_the_trade (v text); INSERT INTO secrets_of_the_trade VALUES ('${ROW_CANARY}')`, DB);
  ok(await api.call('POST', '/v1/instances', {
    body: { id: 'pg-audit', title: 'PG', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: pg.host, port: pg.port, username: pg.username, ...(pg.password ? { password: pg.password } : {}) }] },
  }), 201);
  ok(await api.call('POST', '/v1/instances/pg-audit:sync'));
  ok(await api.call('PATCH', `/v1/instances/pg-audit/databases/${DB}?updateMask=project`, { body: { project: `projects/${PROJECT}` } }));
  recordPassword(STATEMENT_PASSWORD);
}, 120_000);

afterAll(async () => {
  await api?.server.close();
  await dropDatabases(pg, [DB]);
});

describe('who reads the audit log', () => {
  it('workspaceAdmin and workspaceDBA; a workspaceMember and a projectOwner get 403 naming auditLogs.list', async () => {
    // Act
    const admin = await list(undefined, '', ADMIN);
    const dba = await list(undefined, '', DBA);
    const member = await list(undefined, '', MEMBER);
    const owner = await list(undefined, '', OWNER);

    // Assess
    expect(ok(admin).auditLogs.length).toBeGreaterThan(0);
    expect(ok(dba).auditLogs.length).toBeGreaterThan(0);
    for (const refused of [member, owner]) {
      expect(refused.status).toBe(403);
      expect(refused.json.error.details).toEqual([{ description: 'requires auditLogs.list', permission: 'auditLogs.list' }]);
    }
  });
});

describe('the SQL editor', () => {
  it('records each query with its statement and never a row of its result, refused ones too', async () => {
    // Act
    const query = await api.call('POST', `/v1/instances/pg-audit/databases/${DB}:query`, { body: { statement: 'SELECT v FROM secrets_of_the_trade', limit: 5 } });
    const refused = await api.call('POST', `/v1/instances/pg-audit/databases/${DB}:query`, { body: { statement: "DELETE FROM secrets_of_the_trade WHERE v <> ''" } });
    const denied = await api.call('POST', `/v1/instances/pg-audit/databases/${DB}:query`, { as: MEMBER, body: { statement: 'SELECT 2' } });

    // Assess
    expect(ok(query).rows).toEqual([[ROW_CANARY]]);
    expect(refused.status).toBe(400);
    expect(await entryOf(query)).toEqual({
      name: `auditLogs/${query.headers.get('x-request-id')}`, time: expect.any(String), actor: users[ADMIN], method: 'queryDatabase', httpMethod: 'POST',
      resource: `instances/pg-audit/databases/${DB}`, status: { code: 200, status: 'OK' }, requestId: query.headers.get('x-request-id'), sourceIp: expect.any(String),
      detail: { statement: 'SELECT v FROM secrets_of_the_trade', limit: 5 },
    });
    expect(await entryOf(refused)).toMatchObject({ status: { code: 400, status: 'INVALID_ARGUMENT' }, detail: { statement: "DELETE FROM secrets_of_the_trade WHERE v <> ''", error: { fields: ['statement'] } } });
    expect(await entryOf(denied)).toMatchObject({ actor: users[MEMBER], status: { code: 404, status: 'NOT_FOUND' }, detail: { statement: 'SELECT 2' } });
    expect(JSON.stringify(ok(await list()))).not.toContain(ROW_CANARY);
  });

  it('records a sheet\'s :run with the statement the sheet held', async () => {
    // Prepare
    const sheet = ok(await api.call('POST', `/v1/projects/${PROJECT}/sheets`, { body: { title: 'S', content: 'SELECT count(*) FROM secrets_of_the_trade', database: `instances/pg-audit/databases/${DB}`, visibility: 'PROJECT' } }), 201);

    // Act
    const run = await api.call('POST', `/v1/${sheet.name}:run`, { body: { limit: 1 } });

    // Assess
    ok(run);
    expect(await entryOf(run)).toMatchObject({ method: 'runSheet', resource: sheet.name, status: { code: 200, status: 'OK' }, detail: { statement: 'SELECT count(*) FROM secrets_of_the_trade', limit: 1 } });
  });

  it('masks a password written into a statement', async () => {
    // Act: refused by the read-only transaction, recorded all the same
    const res = await api.call('POST', `/v1/instances/pg-audit/databases/${DB}:query`, { body: { statement: `ALTER ROLE nobody WITH PASSWORD '${STATEMENT_PASSWORD}'` } });

    // Assess
    expect((await entryOf(res)).detail.statement).toBe("ALTER ROLE nobody WITH PASSWORD '***'");
  });
});

describe('the VCS webhook', () => {
  it('records deliveries as the project\'s VCS principal, a forged one too, and never the secrets', async () => {
    // Prepare
    ok(await api.call('PUT', `/v1/projects/${PROJECT}/vcsConnector`, {
      body: { provider: 'GITHUB', apiUrl: 'http://127.0.0.1:1', repository: 'acme/audited', webhookSecret: WEBHOOK_SECRET, accessToken: ACCESS_TOKEN },
    }));
    const ping = JSON.stringify({ zen: 'Audit everything.', hook_id: 7 });

    // Act
    const good = await api.call('POST', `/v1/hooks/vcs/${PROJECT}`, { as: null, raw: ping, headers: githubHeaders(WEBHOOK_SECRET, ping, 'ping') });
    const forged = await api.call('POST', `/v1/hooks/vcs/${PROJECT}`, { as: null, raw: ping, headers: githubHeaders('not-the-secret-at-all', ping, 'ping') });
    const nowhere = await api.call('POST', '/v1/hooks/vcs/No_Such_Project', { as: null, raw: ping, headers: githubHeaders(WEBHOOK_SECRET, ping, 'ping') });

    // Assess
    ok(good);
    expect(forged.status).toBe(401);
    const base = { actor: `vcs:${PROJECT}`, method: 'receiveVcsWebhook', httpMethod: 'POST', resource: `projects/${PROJECT}/vcsConnector` };
    expect(await entryOf(good, `actor == "vcs:${PROJECT}"`)).toMatchObject({ ...base, status: { code: 200, status: 'OK' }, detail: { outcome: 'pong: the signature verifies' } });
    expect(await entryOf(forged, `actor == "vcs:${PROJECT}"`)).toMatchObject({ ...base, status: { code: 401, status: 'UNAUTHENTICATED' }, detail: {} });
    // A path that names no project has no principal to speak of.
    expect(await entryOf(nowhere, 'actor == "anonymous"')).toMatchObject({ actor: 'anonymous', resource: 'projects/No_Such_Project/vcsConnector', status: { code: 401, status: 'UNAUTHENTICATED' } });
    const put = (ok(await list(`method == "putVcsConnector"`)).auditLogs as Body[])[0];
    expect(put).toMatchObject({ resource: `projects/${PROJECT}/vcsConnector`, detail: { provider: 'GITHUB', repository: 'acme/audited' } });
  });
});

describe('the filter and paging', () => {
  it('filters by actor, method, resource (exactly or under a prefix) and time, newest first', async () => {
    // Prepare: a project whose name starts like another's
    ok(await api.call('POST', '/v1/projects', { body: { id: `${PROJECT}-two`, title: 'Two' } }), 201);
    const mark = new Date().toISOString();
    const patched = await api.call('PATCH', `/v1/projects/${PROJECT}?updateMask=title`, { as: OWNER, body: { title: 'Audited!' } });
    ok(patched);

    // Act
    const all = ok(await list()).auditLogs as Body[];
    const byOwner = ok(await list(`actor == "${users[OWNER]}"`)).auditLogs as Body[];
    const under = ok(await list(`resource.startsWith("projects/${PROJECT}")`)).auditLogs as Body[];
    const exact = ok(await list(`resource == "projects/${PROJECT}" && method == "updateProject"`)).auditLogs as Body[];
    const since = ok(await list(`time >= "${mark}" && actor == "${users[OWNER]}"`)).auditLogs as Body[];
    const before = ok(await list(`time < "${mark}" && actor == "${users[OWNER]}"`)).auditLogs as Body[];

    // Assess
    const times = all.map((e) => e.time);
    expect(times).toEqual([...times].sort().reverse());
    expect(byOwner.length).toBeGreaterThan(0);
    expect(byOwner.every((e) => e.actor === users[OWNER])).toBe(true);
    expect(under.some((e) => e.resource === `projects/${PROJECT}`)).toBe(true);
    expect(under.some((e) => e.resource.startsWith(`projects/${PROJECT}/`))).toBe(true);
    expect(under.filter((e) => !(e.resource === `projects/${PROJECT}` || e.resource.startsWith(`projects/${PROJECT}/`)))).toEqual([]);
    expect(exact.map((e) => e.requestId)).toEqual([patched.headers.get('x-request-id')]);
    expect(exact[0]).toMatchObject({ actor: users[OWNER], detail: { updateMask: 'title' }, status: { code: 200, status: 'OK' } });
    expect(since.map((e) => e.requestId)).toEqual([patched.headers.get('x-request-id')]);
    expect(before.map((e) => e.requestId)).not.toContain(patched.headers.get('x-request-id'));
  });

  it('pages newest first with opaque tokens bound to the filter; a forged token or a bad filter is a 400 with its position', async () => {
    // Act
    const everything = (ok(await list()).auditLogs as Body[]).map((e) => e.requestId);
    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = ok(await api.call('GET', `/v1/auditLogs?pageSize=3${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`));
      paged.push(...page.auditLogs.map((e: Body) => e.requestId));
      token = page.nextPageToken;
    } while (token);
    const first = ok(await api.call('GET', '/v1/auditLogs?pageSize=1'));
    const forged = await api.call('GET', `/v1/auditLogs?pageSize=1&pageToken=${encodeURIComponent(`${first.nextPageToken.slice(0, -2)}AA`)}`);
    const otherFilter = await list('method == "createUser"', `&pageToken=${encodeURIComponent(first.nextPageToken)}`);
    const bad = await list('actor == "users/2" && time >= yesterday');

    // Assess (the listing calls themselves are GETs: not audited, so the log did not move)
    expect(paged).toEqual(everything);
    expect(forged.status).toBe(400);
    expect(otherFilter.status).toBe(400);
    expect(otherFilter.json.error.details[0].field).toBe('pageToken');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ status: 'INVALID_ARGUMENT', message: 'filter: line 1, column 31 (offset 30): expected a quoted string, found "yesterday"' });
  });
});

describe('retention', () => {
  it('is a workspace setting: 90 days by default, PATCH-able by a workspaceAdmin, and sets each entry\'s TTL', async () => {
    // Prepare
    expect(ok(await api.call('GET', '/v1/workspace')).auditRetention).toBe('7776000s');

    // Act
    const byDba = await api.call('PATCH', '/v1/workspace?updateMask=auditRetention', { as: DBA, body: { auditRetention: '86400s' } });
    const bad = await api.call('PATCH', '/v1/workspace?updateMask=auditRetention', { body: { auditRetention: '3d' } });
    const set = await api.call('PATCH', '/v1/workspace?updateMask=auditRetention', { body: { auditRetention: '86400s' } });
    const after = await api.call('POST', '/v1/environments', { body: { id: 'retained', title: 'Retained' } });
    ok(await api.call('PATCH', '/v1/workspace?updateMask=auditRetention', { body: { auditRetention: '7776000s' } }));

    // Assess
    expect(byDba.status).toBe(403);
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].field).toBe('auditRetention');
    expect(ok(set).auditRetention).toBe('86400s');
    const entry = await entryOf(after);
    const item = (await api.table.store.doc.send(new GetCommand({ TableName: api.table.tableName, Key: keys.auditLog(entry.time, entry.requestId) }))).Item!;
    expect(item.ttl).toBe(Math.floor(Date.parse(entry.time) / 1000) + 86_400);
    expect(await entryOf(set)).toMatchObject({ method: 'updateWorkspace', detail: { updateMask: 'auditRetention', auditRetention: '86400s' } });
    expect(await entryOf(byDba)).toMatchObject({ actor: users[DBA], status: { code: 403, status: 'PERMISSION_DENIED' }, detail: { error: { permission: 'workspace.update' } } });
  });
});

describe('when the audit entry cannot be written', () => {
  it('keeps the entry committed with the change, answers the user as if nothing happened, and logs any entry it could not write in full', async () => {
    // Prepare: every separate write of an entry fails
    ok(await api.call('POST', '/v1/environments', { body: { id: 'outage', title: 'Outage' } }), 201);
    const lines: string[] = [];
    const untap = tapLogs((l) => lines.push(l));
    const record = auditRepo.record.bind(auditRepo);
    auditRepo.record = async () => {
      throw Object.assign(new Error('simulated outage'), { name: 'InternalServerError' });
    };
    let update: CallResult;
    let probe: CallResult;
    try {
      // Act: a change made by a transaction (its entry rides along), and a call that writes nothing
      update = await api.call('PATCH', '/v1/environments/outage?updateMask=title', { body: { title: 'Outage!' } });
      probe = await api.call('POST', '/v1/instances/pg-audit:testConnection');
    } finally {
      auditRepo.record = record;
      untap();
    }

    // Assess
    ok(update);
    ok(probe);
    expect(await entryOf(update)).toMatchObject({ method: 'updateEnvironment', resource: 'environments/outage', status: { code: 200, status: 'OK' }, detail: { updateMask: 'title' } });
    expect((ok(await list()).auditLogs as Body[]).map((e) => e.requestId)).not.toContain(probe.headers.get('x-request-id'));
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.requestId === probe.headers.get('x-request-id'));
    expect(logged.filter((l) => l.msg === 'audit entry write failed; retrying')).toHaveLength(3);
    expect(logged.find((l) => l.msg === 'audit entry not written')).toMatchObject({
      level: 'error', entry: { method: 'testConnection', resource: 'instances/pg-audit', actor: users[ADMIN], requestId: probe.headers.get('x-request-id'), status: { code: 200 } },
    });
  });
});

describe('replays and secrets', () => {
  it('records an Idempotency-Key replay as one, naming the same resource', async () => {
    // Act
    const first = await api.call('POST', '/v1/environments', { body: { id: 'replayed', title: 'R' }, headers: { 'idempotency-key': 'audit-key-1' } });
    const again = await api.call('POST', '/v1/environments', { body: { id: 'replayed', title: 'R' }, headers: { 'idempotency-key': 'audit-key-1' } });

    // Assess
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await entryOf(first)).toMatchObject({ resource: 'environments/replayed', status: { code: 201, status: 'OK' }, detail: {} });
    expect(await entryOf(again)).toMatchObject({ resource: 'environments/replayed', status: { code: 201, status: 'OK' }, detail: { replayed: true } });
  });

  it('never shows a password, access token, webhook secret or bearer token that was sent', async () => {
    // Prepare: an instance password (create, a failing update and a validateOnly), on top of the connector's secrets above
    const source = { type: 'ADMIN', host: '127.0.0.1', port: 1, username: 'u', password: INSTANCE_PASSWORD };
    ok(await api.call('POST', '/v1/instances', { body: { id: 'pw-inst', title: 'P', engine: 'POSTGRES', environment: 'environments/test', dataSources: [source] } }), 201);
    await api.call('POST', '/v1/instances?validateOnly=true', { body: { id: 'pw-inst2', title: 'P', engine: 'POSTGRES', environment: 'environments/test', dataSources: [source] } });
    await api.call('PATCH', '/v1/instances/pw-inst', { body: { dataSources: [{ ...source, password: `${INSTANCE_PASSWORD}-x` }], title: 7 } });

    // Act
    const everything = JSON.stringify(ok(await list()).auditLogs);

    // Assess
    for (const secret of [INSTANCE_PASSWORD, WEBHOOK_SECRET, ACCESS_TOKEN, STATEMENT_PASSWORD, await api.token(ADMIN), await api.token(DBA)]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).toContain('"method":"createInstance"');
  });
});
