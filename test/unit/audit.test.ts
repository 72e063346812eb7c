// The audit log's pure parts: the filter grammar (with positions), redaction, the per-operation
// detail allowlist, resource names for every route of the route table, and sort-key bounds.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../domain/common/errors.js';
import { ROUTES, type RouteDef } from '../../domain/api/routes.js';
import { DETAILED_OPERATIONS, requestDetail, statementDetail } from '../../domain/audit/detail.js';
import { draftEntry, finalEntry, isAudited, resourceOf, type AuditEntry } from '../../domain/audit/entry.js';
import { parseAuditFilter, withinRetention } from '../../domain/audit/filter.js';
import { MASK, MAX_STATEMENT_CHARS, safeDetail, scrub } from '../../domain/audit/redact.js';
import { auditRetentionSeconds, updateWorkspace, type Workspace } from '../../domain/access/workspace.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';

function filterError(raw: string): SluiceError {
  try {
    parseAuditFilter(raw);
  } catch (e) {
    return e as SluiceError;
  }
  throw new Error(`${raw} parsed`);
}

describe('the audit filter', () => {
  it('reads each field, joined by && or AND, with either quote', () => {
    // Act
    const q = parseAuditFilter(`actor == "users/3" && method == 'approveStage' AND resource.startsWith("projects/shop") && time >= "2026-12-01T00:00:00Z" && time < "2026-12-02T01:00:00+01:00"`);

    // Assess
    expect(q).toEqual({
      actor: 'users/3',
      method: 'approveStage',
      resource: { value: 'projects/shop', prefix: true },
      since: { time: '2026-12-01T00:00:00.000Z', inclusive: true },
      until: { time: '2026-12-02T00:00:00.000Z', inclusive: false },
    });
  });

  it('takes resource == as exact, time == as both bounds, the webhook and anonymous actors, and escapes', () => {
    expect(parseAuditFilter('resource == "projects/a\\"b"')).toEqual({ resource: { value: 'projects/a"b', prefix: false } });
    expect(parseAuditFilter('time == "2026-12-01T00:00:00.5Z"')).toEqual({
      since: { time: '2026-12-01T00:00:00.500Z', inclusive: true },
      until: { time: '2026-12-01T00:00:00.500Z', inclusive: true },
    });
    expect(parseAuditFilter('actor = "vcs:shop"')).toEqual({ actor: 'vcs:shop' });
    expect(parseAuditFilter('actor == "anonymous"')).toEqual({ actor: 'anonymous' });
    expect(parseAuditFilter('time > "2026-12-01T00:00:00Z" && time <= "2026-12-03T00:00:00Z"')).toEqual({
      since: { time: '2026-12-01T00:00:00.000Z', inclusive: false },
      until: { time: '2026-12-03T00:00:00.000Z', inclusive: true },
    });
    expect(parseAuditFilter(undefined)).toEqual({});
    expect(parseAuditFilter('   ')).toEqual({});
  });

  it.each([
    ['actor == users/3', 9, 'expected a quoted string, found "users"'],
    ['actor == "users/3" && method ~ "x"', 29, 'expected "==" or "=", found the character "~"'],
    ['actor == "users/x"', 9, 'an actor is users/<id>, vcs:<project> or anonymous'],
    ['method == "Approve Stage"', 10, 'a method is an operation id'],
    ['actor == "users/3" || actor == "users/4"', 19, 'only && joins clauses'],
    ['actor == "users/3" && actor == "users/4"', 22, 'actor is constrained twice'],
    ['time >= "2026-12-01T00:00:00Z" && time > "2026-12-02T00:00:00Z"', 34, 'time is constrained twice'],
    ['time >= "yesterday"', 8, 'a time is RFC 3339'],
    ['time >= "2026-13-01T00:00:00Z"', 8, 'a time is RFC 3339'],
    ['status == "OK"', 0, 'unknown field "status"'],
    ['resource.endsWith("x")', 9, 'expected startsWith'],
    ['resource.startsWith("x"', 23, 'expected ")"'],
    ['resource == ""', 0, 'the resource must not be empty'],
    ['actor == "users/3" &&', 21, 'expected a clause after &&'],
    ['actor "users/3"', 6, 'expected "==" or "="'],
    ['actor == "users/3', 9, 'unterminated string'],
    ['actor == "users/3" method == "x"', 19, 'expected && or the end of the filter'],
    ['actor == "a\\nb"', 11, 'only \\", \\\' and \\\\ are escapes'],
  ])('refuses %s with a 400 at offset %i', (raw, offset, message) => {
    // Act
    const e = filterError(raw);

    // Assess
    expect(e.httpStatus).toBe(400);
    expect(e.status).toBe('INVALID_ARGUMENT');
    expect(e.details[0]!.field).toBe('filter');
    expect(e.details[0]!.description).toContain(`column ${offset + 1} (offset ${offset}): ${message}`);
    expect(e.message).toBe(`filter: ${e.details[0]!.description}`);
  });

  it('counts lines in a filter that spans several', () => {
    expect(filterError('actor == "users/3"\n&& nope == "x"').details[0]!.description).toMatch(/^line 2, column 4 \(offset 22\): unknown field "nope"/);
  });

  it('never reaches before the retention, and keeps a later lower bound', () => {
    // Prepare
    const now = new Date('2026-12-10T00:00:00Z');

    // Act & Assess
    expect(withinRetention({}, now, 86_400).since).toEqual({ time: '2026-12-09T00:00:00.000Z', inclusive: true });
    expect(withinRetention({ since: { time: '2026-01-01T00:00:00.000Z', inclusive: false } }, now, 86_400).since).toEqual({ time: '2026-12-09T00:00:00.000Z', inclusive: true });
    expect(withinRetention({ since: { time: '2026-12-09T12:00:00.000Z', inclusive: false } }, now, 86_400).since).toEqual({ time: '2026-12-09T12:00:00.000Z', inclusive: false });
  });
});

describe('redaction', () => {
  it.each([
    ["ALTER ROLE app WITH PASSWORD 'Hunter2-secret!'", "ALTER ROLE app WITH PASSWORD '***'"],
    ["CREATE USER app ENCRYPTED PASSWORD E'it''s-secret'", "CREATE USER app ENCRYPTED PASSWORD '***'"],
    ['create role x password $pw$dollar-secret$pw$', "create role x password '***'"],
    ["CREATE USER 'u'@'%' IDENTIFIED BY 'mysql-secret'", "CREATE USER 'u'@'%' IDENTIFIED BY '***'"],
    ["ALTER USER u IDENTIFIED WITH mysql_native_password BY 'native-secret'", "ALTER USER u IDENTIFIED WITH mysql_native_password BY '***'"],
    ["SET PASSWORD = PASSWORD('old-style-secret')", "SET PASSWORD = PASSWORD('***')"],
    ["SELECT * FROM dblink('host=db user=u password=conn-secret dbname=x', 'select 1')", "SELECT * FROM dblink('host=db user=u password=*** dbname=x', 'select 1')"],
    ['fetch postgres://app:url-secret@db.internal:5432/shop', 'fetch postgres://app:***@db.internal:5432/shop'],
    ['Authorization: Bearer abc.def-ghi', 'Authorization: Bearer ***'],
    ['token eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImEifQ.c2lnbmF0dXJl here', `token ${MASK} here`],
  ])('masks the secret in %s', (text, masked) => {
    expect(scrub(text)).toBe(masked);
  });

  it('leaves ordinary statements as they are', () => {
    const sql = "SELECT name, count(*) FROM employees WHERE department = 'Finance' GROUP BY 1";
    expect(scrub(sql)).toBe(sql);
  });

  it('drops keys that name secrets, caps strings, lists and depth', () => {
    // Act
    const safe = safeDetail({
      reason: 'x'.repeat(5000),
      password: 'p', webhookSecret: 's', accessToken: 't', url: 'https://hooks.slack.com/services/T/B/X', apiUrl: 'https://x',
      list: Array.from({ length: 80 }, (_, i) => i),
      deep: { a: { b: { c: { d: 'too deep' } } } },
      fn: () => 1,
    });

    // Assess
    expect(Object.keys(safe).sort()).toEqual(['deep', 'list', 'reason']);
    expect((safe.reason as string).length).toBe(1024);
    expect(safe.list).toHaveLength(50);
    expect(safe.deep).toEqual({ a: { b: {} } });
  });

  it('keeps a statement up to 8 KiB and says how long a longer one was', () => {
    // Act
    const long = statementDetail(`SELECT '${'x'.repeat(10_000)}'`);

    // Assess
    expect((long.statement as string).length).toBe(MAX_STATEMENT_CHARS);
    expect(long).toMatchObject({ statementChars: 10_009, statementTruncated: true });
    expect(statementDetail('SELECT 1')).toEqual({ statement: 'SELECT 1' });
  });
});

describe('the detail allowlist', () => {
  it('names only real operations', () => {
    const operations = new Set<string>(ROUTES.map((r) => r.operation));
    expect(DETAILED_OPERATIONS.filter((op) => !operations.has(op))).toEqual([]);
  });

  it('never takes a data source, a secret or a URL from a body', () => {
    // Act
    const instance = requestDetail('createInstance', 'POST', {
      id: 'pg', engine: 'POSTGRES', environment: 'environments/prod', dataSources: [{ type: 'ADMIN', host: 'h', username: 'u', password: 'pw-1234567' }],
    }, { validateOnly: 'true' });
    const vcs = requestDetail('putVcsConnector', 'PUT', {
      provider: 'GITHUB', repository: 'acme/shop', apiUrl: 'https://u:p@ghe', webhookSecret: 'whs-1234567', accessToken: 'tok-1234567',
    }, {});
    const patch = requestDetail('updateInstance', 'PATCH', { title: 'T', dataSources: [{ password: 'pw-1234567' }], etag: 'x' }, {});

    // Assess
    expect(instance).toEqual({ engine: 'POSTGRES', environment: 'environments/prod', validateOnly: true });
    expect(vcs).toEqual({ provider: 'GITHUB', repository: 'acme/shop' });
    expect(patch).toEqual({ fields: ['title', 'dataSources'] });
    expect(JSON.stringify([instance, vcs, patch])).not.toMatch(/1234567|u:p@/);
  });

  it('records a PATCH by its mask, a query by its statement, a skip or reject by its reason, a policy by its bindings', () => {
    expect(requestDetail('updateProject', 'PATCH', { title: 'New' }, { updateMask: 'title' })).toEqual({ updateMask: 'title' });
    expect(requestDetail('queryDatabase', 'POST', { statement: 'SELECT 1', limit: 5 }, {})).toEqual({ statement: 'SELECT 1', limit: 5 });
    expect(requestDetail('skipTask', 'POST', { reason: 'not needed' }, {})).toEqual({ reason: 'not needed' });
    expect(requestDetail('rejectStage', 'POST', { reason: 'too risky' }, {})).toEqual({ reason: 'too risky' });
    expect(requestDetail('setIamPolicy', 'POST', { policy: { bindings: [{ role: 'projectOwner', members: ['users/2'] }], etag: 'e' } }, {})).toEqual({
      bindings: [{ role: 'projectOwner', members: ['users/2'] }],
    });
    expect(requestDetail('deleteProject', 'DELETE', undefined, {})).toEqual({});
  });
});

describe('audit entries', () => {
  const audited = (ROUTES as readonly RouteDef[]).filter(isAudited);

  it('are made for every route but a GET', () => {
    expect(audited.length).toBeGreaterThan(40);
    expect(audited.every((r) => r.method !== 'GET')).toBe(true);
    expect(audited.map((r) => r.operation)).toEqual(expect.arrayContaining(['queryDatabase', 'runSheet', 'receiveVcsWebhook']));
  });

  it.each(audited.map((r) => [r.operation, r] as const))('%s names the resource it acts on', (_op, route) => {
    // Prepare
    const params = Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, `${m[1]}-1`]));

    // Act
    const resource = resourceOf(route, params);

    // Assess: a resource name, no template left, no verb, no API prefix
    expect(resource).toMatch(/^[a-zA-Z]+(\/[\w-]+)*$/);
    expect(resource).not.toMatch(/[{}:]|^v1\//);
  });

  it('name the new resource of a create, and only what an error may show', () => {
    // Prepare
    const route = ROUTES.find((r) => r.operation === 'createIssue')!;
    const draft = draftEntry({ route, params: { project: 'shop' }, query: {}, body: { type: 'DATABASE_DATA_UPDATE', statement: 'DELETE FROM t' }, requestId: 'r-1', time: new Date('2026-12-01T00:00:00Z'), actor: 'users/3' });

    // Act
    const created = finalEntry(draft, { code: 201, response: { name: 'projects/shop/issues/12', statement: 'DELETE FROM t' } });
    const denied = finalEntry(draft, { code: 403, errorStatus: 'PERMISSION_DENIED', errorDetails: [{ description: 'requires issues.create', permission: 'issues.create' }] });
    const bad = finalEntry(draft, { code: 400, errorStatus: 'INVALID_ARGUMENT', errorDetails: [{ field: 'title', description: 'must not be "hunter2"' }] });

    // Assess
    expect(draft).toEqual<AuditEntry>({
      name: 'auditLogs/r-1', time: '2026-12-01T00:00:00.000Z', actor: 'users/3', method: 'createIssue', httpMethod: 'POST',
      resource: 'projects/shop/issues', status: { code: 201, status: 'OK' }, requestId: 'r-1', detail: { type: 'DATABASE_DATA_UPDATE' },
    });
    expect(created).toMatchObject({ resource: 'projects/shop/issues/12', status: { code: 201, status: 'OK' }, detail: { type: 'DATABASE_DATA_UPDATE' } });
    expect(denied).toMatchObject({ resource: 'projects/shop/issues', status: { code: 403, status: 'PERMISSION_DENIED' }, detail: { error: { permission: 'issues.create' } } });
    expect(bad.detail).toEqual({ type: 'DATABASE_DATA_UPDATE', error: { fields: ['title'] } });
  });
});

describe('audit retention', () => {
  const ws: Workspace = { title: 'W', allowSelfApproval: false, createTime: 't', updateTime: 't', version: 1 };
  const deps = (stored: Workspace) => ({
    workspace: { get: async () => stored, update: async (next: Workspace) => ({ ...next, version: 2 }) },
    users: {} as never,
    now: () => new Date('2026-12-01T00:00:00Z'),
  });

  it('defaults to 90 days and is PATCH-able as whole seconds between 1 and 3650 days', async () => {
    expect(auditRetentionSeconds(ws)).toBe(7_776_000);
    expect((await updateWorkspace(deps(ws), { auditRetention: '86400s' }, 'auditRetention', undefined)).auditRetention).toBe('86400s');
    for (const bad of ['86399s', '315360001s', '90d', '1.5s', '-5s', 86400]) {
      await expect(updateWorkspace(deps(ws), { auditRetention: bad }, 'auditRetention', undefined)).rejects.toMatchObject({ httpStatus: 400 });
    }
  });
});

describe('audit sort keys', () => {
  it('bound a time range exactly: inclusive bounds take the entries at that instant, exclusive ones leave them out', () => {
    // Prepare
    const at = (t: string) => keys.auditLog(t, 'req-1').sk;
    const t = '2026-12-01T00:00:00.000Z';
    const earlier = at('2026-11-30T23:59:59.999Z');
    const same = at(t);
    const later = at('2026-12-01T00:00:00.001Z');
    const within = (sk: string, from: string, to: string) => sk >= from && sk <= to;

    // Act & Assess
    expect(within(same, keys.auditTimeBound(t, 'from', true), keys.auditTimeBound(undefined, 'to', true))).toBe(true);
    expect(within(same, keys.auditTimeBound(t, 'from', false), keys.auditTimeBound(undefined, 'to', true))).toBe(false);
    expect(within(later, keys.auditTimeBound(t, 'from', false), keys.auditTimeBound(undefined, 'to', true))).toBe(true);
    expect(within(same, keys.auditTimeBound(undefined, 'from', true), keys.auditTimeBound(t, 'to', true))).toBe(true);
    expect(within(same, keys.auditTimeBound(undefined, 'from', true), keys.auditTimeBound(t, 'to', false))).toBe(false);
    expect(within(earlier, keys.auditTimeBound(undefined, 'from', true), keys.auditTimeBound(t, 'to', false))).toBe(true);
  });
});
