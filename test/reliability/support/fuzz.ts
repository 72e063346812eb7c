// The API fuzzer: fast-check generators over every route of the route table (domain/api/routes.ts),
// so a route added there is fuzzed with no change here, and the invariants each answer must keep.
// Used by test/reliability/support/fuzz-suite.ts (fuzz-a/fuzz-b.test.ts, and `npm run fuzz:long`).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ROUTES, type RouteDef } from '../../../domain/api/routes.js';
import type { Json, Orchestrator } from '../../../domain/pipeline/orchestrator.js';
import { TaskTokenGoneError } from '../../../domain/pipeline/orchestrator.js';
import { setOrchestrator } from '../../../functions/shared/orchestrator.js';
import type { Api } from '../../support/http.js';
import { scanTable } from '../../support/api.js';
import { journalWrites, type WriteJournal } from './dynamo.js';

export const USERS = { admin: 'admin@example.com', dba: 'fz-dba@example.com', member: 'fz-member@example.com' };
/** The fuzz fixtures' password: it must never come back in any answer. */
export const FUZZ_PASSWORD = 'Fuzz-Canary-Pw-7c1e!';

/** Values of each path parameter that name something real, so requests reach past the 404s. */
const KNOWN: Record<string, string[]> = {
  id: ['1', '2', '3', 'test', 'prod', 'fz-a'],
  instance: ['fz-inst', 'fz-i2'],
  database: ['fzdb'],
  project: ['fz-proj', 'default', 'fz-p2'],
  changeHistory: ['1'],
  issue: ['1', '2'],
  stage: ['test', 'prod'],
  task: ['1', '2'],
  taskRun: ['1'],
  sheet: ['1', '2'],
  databaseGroup: ['fz-group', 'fz-g2'],
  tableGroup: ['fz-tables', 'fz-t2'],
};

const WEIRD = ['', ' ', '0', '-1', '1e3', '999999999999999999999', '%00', '%2F', '%zz', '%', '..', '.', 'null', '[]', '{}', 'a'.repeat(300), 'ÿ', '😀', 'x:undelete', "'", '"', '\\', '<script>'];

const segment = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...(KNOWN[name] ?? ['x'])) },
    { weight: 1, arbitrary: fc.constantFrom(...WEIRD).map((s) => (/^%|^\.+$/.test(s) ? s : encodeURIComponent(s))) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent) },
  );

const queryValue = fc.oneof(
  fc.constantFrom('0', '-1', '1', '50', '1000', '1001', 'true', 'false', 'yes', 'title', 'title,description', 'labels', 'project', 'dataSources', 'state', 'status == "OPEN"', 'status ==', 'FULL', 'BASIC', 'eyJ4IjoxfQ', 'AAAA'),
  fc.string({ maxLength: 30 }),
);
const queryKey = fc.oneof({ weight: 5, arbitrary: fc.constantFrom('pageSize', 'pageToken', 'showDeleted', 'updateMask', 'filter', 'validateOnly', 'view') }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 10 }) });

const inst = (id: string) => ({
  id, title: 'I', engine: 'POSTGRES', environment: 'environments/test',
  dataSources: [{ type: 'ADMIN', host: '127.0.0.1', port: 1, username: 'fz', password: FUZZ_PASSWORD }],
});

/** A valid body per operation (ids from small pools so creates collide); unknown operations get {}. */
const TEMPLATES: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  updateWorkspace: fc.constant({ title: 'Fuzzed workspace', allowSelfApproval: false }),
  createUser: fc.record({ email: fc.constantFrom('fz1@example.com', 'fz2@example.com', USERS.member), title: fc.constant('U'), role: fc.constantFrom('workspaceMember', 'workspaceDBA') }),
  updateUser: fc.record({ title: fc.string({ maxLength: 20 }), role: fc.constantFrom('workspaceMember', 'workspaceDBA', 'workspaceAdmin') }),
  createEnvironment: fc.record({ id: fc.constantFrom('fz-a', 'fz-b', 'test'), title: fc.constant('E'), rolloutPolicy: fc.record({ requireApproval: fc.boolean() }) }),
  reorderEnvironments: fc.constant({ environments: ['environments/test', 'environments/prod'] }),
  updateEnvironment: fc.record({ title: fc.string({ maxLength: 20 }) }),
  createInstance: fc.constantFrom('fz-i2', 'fz-i3').map(inst),
  updateInstance: fc.record({ title: fc.string({ maxLength: 20 }) }),
  updateDatabase: fc.record({ labels: fc.dictionary(fc.constantFrom('env', 'tenant', 'x y'), fc.string({ maxLength: 8 })), project: fc.constantFrom('projects/fz-proj', 'projects/default', 'projects/nope') }),
  createProject: fc.record({ id: fc.constantFrom('fz-p2', 'fz-p3', 'default'), title: fc.constant('P') }),
  updateProject: fc.record({ title: fc.string({ maxLength: 20 }), priorBackupRetention: fc.constantFrom('86400s', '59s', '30d'), priorBackupMaxRows: fc.integer({ min: -1, max: 2_000_000 }) }),
  setIamPolicy: fc.record({ policy: fc.record({ bindings: fc.constant([{ role: 'projectOwner', members: ['users/2'] }]), etag: fc.string({ maxLength: 10 }) }) }),
  createIssue: fc.record({
    title: fc.constant('Fuzzed'),
    type: fc.constantFrom('DATABASE_SCHEMA_UPDATE', 'DATABASE_DATA_UPDATE', 'DATABASE_CREATE'),
    statement: fc.constantFrom('SELECT 1', ''),
    targets: fc.constantFrom(['instances/fz-inst/databases/fzdb'], ['instances/nope/databases/x'], []),
  }),
  updateIssue: fc.record({ title: fc.string({ maxLength: 20 }), description: fc.string({ maxLength: 20 }) }),
  approveStage: fc.constant({}),
  rejectStage: fc.record({ reason: fc.string({ maxLength: 20 }) }),
  requestApproval: fc.record({ comment: fc.string({ maxLength: 20 }) }),
  updateApprovalRules: fc.record({
    rules: fc.array(
      fc.record({
        title: fc.constantFrom('R1', 'R2'),
        condition: fc.constantFrom('environment == "prod"', '"DROP_TABLE" in statement.types', 'statement.affected_rows > 10', 'environment ==', 'statement.nope', 'true'),
        steps: fc.array(fc.record({ role: fc.constantFrom('projectOwner', 'workspaceDBA', 'projectReleaser', 'nobody') }), { maxLength: 3 }),
      }),
      { maxLength: 3 },
    ),
  }),
  runTask: fc.constant({}),
  skipTask: fc.record({ reason: fc.string({ maxLength: 20 }) }),
  rollbackIssue: fc.constantFrom<Record<string, unknown>>({}, { tasks: ['projects/fz-proj/issues/1/stages/test/tasks/1'] }, { tasks: [] }),
  createSheet: fc.record({ title: fc.constant('S'), content: fc.constantFrom('SELECT 1', ''), visibility: fc.constantFrom('PRIVATE', 'PROJECT', 'PUBLIC', 'SECRET') }),
  updateSheet: fc.record({ title: fc.string({ maxLength: 20 }), content: fc.constant('SELECT 2') }),
  runSheet: fc.record({ limit: fc.integer({ min: -5, max: 2000 }) }),
  queryDatabase: fc.record({ statement: fc.constantFrom('SELECT 1', 'DROP TABLE x', ''), limit: fc.integer({ min: -5, max: 2000 }) }),
  createDatabaseGroup: fc.record({ id: fc.constantFrom('fz-g2', 'fz-g3'), title: fc.constant('G'), databaseExpr: fc.constantFrom('resource.database_name == "fzdb"', 'resource.', 'true', '1 +') }),
  updateDatabaseGroup: fc.record({ title: fc.string({ maxLength: 20 }), databaseExpr: fc.constantFrom('false', ')(') }),
  createTableGroup: fc.record({ id: fc.constantFrom('fz-t2', 'fz-t3'), title: fc.constant('T'), tableExpr: fc.constantFrom('resource.table_name == "t"', '"', 'resource.nope') }),
  updateTableGroup: fc.record({ title: fc.string({ maxLength: 20 }), tableExpr: fc.constant('true') }),
};

/** A template, or a template with one field dropped, replaced or added, or anything at all. */
function bodyOf(route: RouteDef): fc.Arbitrary<{ text?: string; contentType?: string }> {
  const template = TEMPLATES[route.operation] ?? fc.constant({});
  const mutated = fc.tuple(template, fc.nat(), fc.jsonValue({ maxDepth: 2 }), fc.string({ minLength: 1, maxLength: 12 })).chain(([t, i, v, extra]) => {
    const keys = Object.keys(t);
    const key = keys.length ? keys[i % keys.length]! : extra;
    return fc.constantFrom<Record<string, unknown>>(
      t,
      Object.fromEntries(Object.entries(t).filter(([k]) => k !== key)),
      { ...t, [key]: v },
      { ...t, [extra]: v },
    );
  });
  const json = fc.oneof(
    { weight: 6, arbitrary: mutated.map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', 'nul', '[]', '"x"', '{"__proto__":{"x":1}}', '   ', '\u0000') },
    { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
  );
  return fc.oneof(
    { weight: 10, arbitrary: json.map((text) => ({ text, contentType: 'application/json' })) },
    { weight: 1, arbitrary: json.map((text) => ({ text, contentType: 'text/plain' })) },
    { weight: 1, arbitrary: json.map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.constant({}) },
  );
}

export interface FuzzRequest {
  route: string;
  method: string;
  path: string;
  as: string | null;
  headers: Record<string, string>;
  body?: string;
}

function requestFor(route: RouteDef): fc.Arbitrary<FuzzRequest> {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return fc
    .record({
      params: fc.tuple(...names.map(segment)),
      query: fc.dictionary(queryKey, queryValue, { maxKeys: 3 }),
      method: fc.oneof({ weight: 19, arbitrary: fc.constant(route.method as string) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE') }),
      as: fc.oneof({ weight: 16, arbitrary: fc.constant<string | null>(USERS.admin) }, { weight: 2, arbitrary: fc.constant(USERS.member) }, { weight: 1, arbitrary: fc.constant(USERS.dba) }, { weight: 1, arbitrary: fc.constant(null) }),
      body: route.body ? bodyOf(route) : fc.oneof({ weight: 9, arbitrary: fc.constant<{ text?: string; contentType?: string }>({}) }, { weight: 1, arbitrary: bodyOf(route) }),
      ifMatch: fc.option(fc.oneof(fc.constant('*'), fc.string({ maxLength: 12 })), { freq: 8 }),
      idempotencyKey: fc.option(fc.oneof(fc.constantFrom('k1', 'k2', ''), fc.string({ minLength: 257, maxLength: 260 })), { freq: 6 }),
    })
    .map(({ params, query, method, as, body, ifMatch, idempotencyKey }) => {
      let i = 0;
      const path = route.path.replace(/\{\w+\}/g, () => params[i++]!);
      const qs = new URLSearchParams(query).toString();
      const headers: Record<string, string> = {};
      if (body.contentType) headers['content-type'] = body.contentType;
      if (ifMatch !== null) headers['if-match'] = ifMatch;
      if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
      // fetch sends no body with GET (nor does API Gateway pass one on).
      const text = method === 'GET' ? undefined : body.text;
      return { route: `${route.method} ${route.path}`, method, path: qs ? `${path}?${qs}` : path, as, headers, ...(text !== undefined ? { body: text } : {}) };
    });
}

/** One request: a route of the table, uniformly, then its parts. */
export const anyRequest: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...(ROUTES as readonly RouteDef[])).chain(requestFor);

/** An orchestrator that starts nothing: no execution writes to the table behind the fuzzer's back. */
export function quietOrchestrator(): Orchestrator & { started: string[] } {
  const started: string[] = [];
  return {
    started,
    startExecution: async (name: string) => {
      started.push(name);
      return { executionId: name, alreadyStarted: false };
    },
    stopExecution: async () => undefined,
    describeExecution: async () => undefined,
    sendTaskSuccess: async (_t: string, _o: Json) => {
      throw new TaskTokenGoneError();
    },
    sendTaskFailure: async () => {
      throw new TaskTokenGoneError();
    },
  };
}

const ok = async (api: Api, method: string, path: string, body?: unknown, as?: string) => {
  const res = await api.call(method, path, { ...(body === undefined ? {} : { body }), ...(as ? { as } : {}) });
  if (res.status >= 300) throw new Error(`fixture ${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
};

/** Fixtures every route can reach: users, a project with a database, an issue, a sheet, groups. */
export async function fuzzFixtures(api: Api): Promise<void> {
  setOrchestrator(quietOrchestrator());
  await ok(api, 'POST', '/v1/users', { email: USERS.dba, title: 'DBA', role: 'workspaceDBA' });
  await ok(api, 'POST', '/v1/users', { email: USERS.member, title: 'Member', role: 'workspaceMember' });
  await ok(api, 'POST', '/v1/projects', { id: 'fz-proj', title: 'Fuzz' });
  await ok(api, 'POST', '/v1/instances', inst('fz-inst'));
  const t = new Date().toISOString();
  const { deps } = await import('../../../functions/shared/wiring.js');
  await deps.databases.applySync('fz-inst', {
    time: t, setState: [], stamp: [], addTables: [], removeTables: [],
    create: [{ instance: 'fz-inst', name: 'fzdb', project: 'default', labels: {}, schemaVersion: '', syncState: 'OK', createTime: t, updateTime: t, version: 1 }],
  });
  await ok(api, 'PATCH', '/v1/instances/fz-inst/databases/fzdb?updateMask=project', { project: 'projects/fz-proj' });
  await ok(api, 'POST', '/v1/projects/fz-proj/issues', { title: 'Fixture', type: 'DATABASE_DATA_UPDATE', statement: 'SELECT 1', targets: ['instances/fz-inst/databases/fzdb'] });
  await ok(api, 'POST', '/v1/projects/fz-proj/sheets', { title: 'S', content: 'SELECT 1', visibility: 'PROJECT' });
  await ok(api, 'POST', '/v1/projects/fz-proj/databaseGroups', { id: 'fz-group', title: 'G', databaseExpr: 'resource.database_name == "fzdb"' });
  await ok(api, 'POST', '/v1/projects/fz-proj/databaseGroups/fz-group/tableGroups', { id: 'fz-tables', title: 'T', tableExpr: 'true' });
}

const ERROR_STATUS: Record<number, string[]> = {
  400: ['INVALID_ARGUMENT', 'FAILED_PRECONDITION'],
  401: ['UNAUTHENTICATED'],
  403: ['PERMISSION_DENIED'],
  404: ['NOT_FOUND'],
  405: ['UNIMPLEMENTED'],
  409: ['ALREADY_EXISTS', 'ABORTED'],
  413: ['INVALID_ARGUMENT'],
  415: ['INVALID_ARGUMENT'],
};

/** What is wrong with an error body, or undefined when it has the API.md shape. */
export function errorShapeProblem(status: number, json: unknown): string | undefined {
  const e = (json as { error?: Record<string, unknown> } | undefined)?.error;
  if (!e || Object.keys(json as object).length !== 1) return 'no { error } object';
  if (e.code !== status) return `error.code ${String(e.code)} is not the HTTP status`;
  if (!(ERROR_STATUS[status] ?? []).includes(e.status as string)) return `error.status ${String(e.status)} for HTTP ${status}`;
  if (typeof e.message !== 'string' || e.message === '') return 'no error.message';
  if (/\n\s+at |node_modules|\.ts:\d+/.test(e.message)) return 'a stack trace in error.message';
  if (!Array.isArray(e.details)) return 'error.details is not an array';
  const extra = Object.keys(e).filter((k) => !['code', 'status', 'message', 'details'].includes(k));
  return extra.length ? `extra error fields ${extra.join(',')}` : undefined;
}

/** The local secrets folder's contents, as one hash: a rejected request must not write a secret either. */
function secretsDigest(): string {
  const dir = process.env.SLUICE_SECRETS_DIR;
  const h = createHash('sha256');
  if (dir && existsSync(dir)) for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest('hex');
}

export interface FuzzReport {
  requests: number;
  byStatus: Record<string, number>;
  routesHit: number;
  /** Rejected requests whose write commands the journal checked item by item. */
  rejectedWithWrites: number;
  /** Accepted requests in which the journal saw an item change: proof that it sees changes. */
  acceptedWithChanges: number;
  /** Full-table snapshots compared around a rejected request. */
  fullSnapshots: number;
  violations: { request: FuzzRequest; status: number; problem: string }[];
}

/**
 * Sends the requests one at a time (so every write belongs to one request) and checks: no 5xx;
 * every 4xx in the API.md error shape; a rejected request leaves every item it wrote to (and the
 * secrets folder) as it was. Every `fullEvery`-th request is also framed by full-table scans.
 */
export async function runFuzz(api: Api, requests: FuzzRequest[], options: { fullEvery?: number; journal?: WriteJournal } = {}): Promise<FuzzReport> {
  const { store } = await import('../../../functions/shared/wiring.js');
  const journal = options.journal ?? journalWrites(store);
  const fullEvery = options.fullEvery ?? 100;
  const report: FuzzReport = { requests: 0, byStatus: {}, routesHit: 0, rejectedWithWrites: 0, acceptedWithChanges: 0, fullSnapshots: 0, violations: [] };
  const routes = new Set<string>();
  for (const [n, req] of requests.entries()) {
    const full = n % fullEvery === 0;
    const tableBefore = full ? JSON.stringify(await scanTable(api.table.store)) : '';
    const secretsBefore = secretsDigest();
    journal.begin();
    const res = await api.call(req.method, req.path, { as: req.as, headers: req.headers, ...(req.body !== undefined ? { raw: req.body } : {}) });
    report.requests += 1;
    report.byStatus[res.status] = (report.byStatus[res.status] ?? 0) + 1;
    routes.add(req.route);
    const fail = (problem: string) => report.violations.push({ request: req, status: res.status, problem });
    if (res.status >= 500) fail(`HTTP ${res.status}: ${res.text.slice(0, 300)}`);
    if (res.status >= 400) {
      const problem = errorShapeProblem(res.status, res.json);
      if (problem) fail(`${problem}: ${res.text.slice(0, 300)}`);
      if (journal.writes() > 0) {
        report.rejectedWithWrites += 1;
        for (const c of await journal.changed()) fail(`rejected, yet wrote ${c.key}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`.slice(0, 600));
      }
      if (secretsDigest() !== secretsBefore) fail('rejected, yet the secrets folder changed');
      if (full) {
        report.fullSnapshots += 1;
        if (JSON.stringify(await scanTable(api.table.store)) !== tableBefore) fail('rejected, yet the table changed (full scan)');
      }
    }
    if (res.status < 300 && journal.writes() > 0 && (await journal.changed()).length > 0) report.acceptedWithChanges += 1;
    if (res.text.includes(FUZZ_PASSWORD)) fail('the password is in the answer');
  }
  report.routesHit = routes.size;
  return report;
}

/** Fuzz seeds of the CI run: two halves, one per test file, so the two workers share the work. */
export const CI_SEEDS = [20261126, 20261127] as const;
