// The access matrix, generated from the one role table: every route that needs a permission,
// called over HTTP by every kind of caller, must answer as domain/access/roles.ts says:
//   allowed                                  → 2xx (each route has a valid fixture)
//   workspace permission the role lacks      → 403 naming the route's permission
//   project permission, caller not a member  → 404 (it may not even see the project)
//   project permission, member lacking it    → 403 naming the route's permission
// and a denied call writes nothing (but its audit entry). A list that spans projects (GET /v1/projects, an instance's
// databases) answers everyone who passes the workspace check, and must hold the fixture's item
// exactly when the table lets the caller see it there. A route without a fixture fails here, so
// none slips through.
// Every call to a route that is not a GET, allowed or refused, must leave exactly its audit entry
// (GET /v1/auditLogs, found by the response's x-request-id): actor, method, resource, status and
// the detail the fixture implies. The file ends with a line saying which routes' entries were
// committed in the change's own transaction and which were written right after.
import { waitForOperation } from '../support/operations.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROLES, PROJECT_ROLE_PERMISSIONS, PROJECT_SCOPED, ROLE_PERMISSIONS, type Permission, type ProjectRole, type WorkspaceRole } from '../../domain/access/roles.js';
import { ROUTES, type Route } from '../../domain/api/routes.js';
import type { Json, Orchestrator } from '../../domain/pipeline/orchestrator.js';
import { keys } from '../../functions/adapters/dynamo/keys.js';
import { toItem } from '../../functions/adapters/dynamo/item.js';
import { setOrchestrator } from '../../functions/shared/orchestrator.js';
import { scanTable, type Body } from '../support/api.js';
import { startApi, type Api, type CallResult } from '../support/http.js';
import { adminQuery, postgresServer, type SqlServer } from '../support/postgres.js';

// ---------------------------------------------------------------------------------------------
// Who calls
// ---------------------------------------------------------------------------------------------

interface Caller {
  /** Column of the matrix. */
  readonly kind: string;
  readonly email: string;
  readonly role: WorkspaceRole;
  /** The caller's role in the route's target project; none: not a member. */
  readonly projectRole?: ProjectRole;
}

const CALLERS: readonly Caller[] = [
  { kind: 'workspaceAdmin', email: 'admin@example.com', role: 'workspaceAdmin' },
  { kind: 'workspaceDBA', email: 'dba@matrix.test', role: 'workspaceDBA' },
  { kind: 'nonMember', email: 'outsider@matrix.test', role: 'workspaceMember' },
  ...PROJECT_ROLES.map((r): Caller => ({ kind: r, email: `${r.toLowerCase()}@matrix.test`, role: 'workspaceMember', projectRole: r })),
];
const ADMIN = CALLERS[0]!.email;

// ---------------------------------------------------------------------------------------------
// What the role table says
// ---------------------------------------------------------------------------------------------

type Decision = 'allowed' | '404' | `403 ${Permission}`;
type Outcome = Decision | `allowed, ${'lists' | 'hides'} ${string}`;

/** The table's answer for `permission` on something in the fixture's project. */
function decide(permission: Permission, caller: Caller): Decision {
  if (ROLE_PERMISSIONS[caller.role].has(permission)) return 'allowed';
  if (!PROJECT_SCOPED.has(permission)) return `403 ${permission}`;
  // A caller who sees every project (a DBA) is told what it lacks; others may not even see it.
  if (caller.projectRole === undefined) return ROLE_PERMISSIONS[caller.role].has('projects.get') ? `403 ${permission}` : '404';
  return PROJECT_ROLE_PERMISSIONS[caller.projectRole].has(permission) ? 'allowed' : `403 ${permission}`;
}

function expected(route: Guarded, fixture: Fixture, caller: Caller, listed: string | undefined): Outcome {
  const decision = decide(route.permission, caller);
  if (!fixture.lists) return decision;
  const filter = fixture.lists.filteredBy;
  if (filter === undefined) return decision === 'allowed' ? `allowed, lists ${listed}` : decision;
  // A list across projects: the route's permission is checked for the workspace only (403);
  // each item is then shown only to those the table lets see it.
  if (decision.startsWith('403') && !PROJECT_SCOPED.has(route.permission)) return decision;
  return `allowed, ${decide(filter, caller) === 'allowed' ? 'lists' : 'hides'} ${listed}`;
}

/** What the server did, in the same words; anything unexpected carries its message. */
function observed(r: CallResult, fixture: Fixture, listed: string | undefined): string {
  if (r.status >= 200 && r.status < 300) {
    if (!fixture.lists) return 'allowed';
    const items: Body[] = r.json?.[fixture.lists.field] ?? [];
    return `allowed, ${items.some((i) => i.name === listed) ? 'lists' : 'hides'} ${listed}`;
  }
  if (r.status === 404) return '404';
  if (r.status === 403) return `403 ${r.json?.error?.details?.[0]?.permission ?? '(no permission named)'}`;
  return `${r.status} ${r.json?.error?.status ?? ''}: ${r.json?.error?.message ?? r.text}`;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: path parameters and a valid body for every operation
// ---------------------------------------------------------------------------------------------

type Guarded = Extract<Route, { permission: Permission }>;
type Operation = Guarded['operation'];
type Params = Record<string, string>;

interface Fixture {
  /** Path parameters; made fresh per call (as the admin) where the call would use a resource up. */
  params?: (c: Ctx, caller: Caller) => Params | Promise<Params>;
  query?: string;
  body?: (c: Ctx, params: Params) => unknown;
  /**
   * A list: when allowed, `field` of the answer must hold the item called `name`. With
   * `filteredBy`, a list across projects: it answers everyone the workspace check lets through,
   * and holds the item exactly when the table grants `filteredBy` in the item's project.
   */
  lists?: { field: string; name: (c: Ctx) => string; filteredBy?: Permission };
}

/** Shared resources made once, and makers of throwaway ones; every maker acts as the admin. */
interface Ctx {
  /** The name of the webhook hookedProject made last. */
  lastWebhook: string;
  /** A fresh user-chosen id. */
  unique(prefix: string): string;
  /** Calls as the admin and insists on success. */
  admin(method: string, path: string, body?: unknown): Promise<Body>;
  /** A project where each project-role caller holds its role. */
  boundProject(): Promise<string>;
  user(state?: 'DELETED'): Promise<string>;
  environment(state?: 'DELETED'): Promise<string>;
  instance(state?: 'DELETED'): Promise<string>;
  shared: { project: string; user: string; closedInstance: string; liveInstance: string; database: string; issue: string; changeHistory: string; syncOperation: string };
  /**
   * A fresh issue on the shared database; `gate`: its stage then waits on that gate (with a FAILED
   * task for `failure`; `rejected`: waiting at the approval gate, its step rejected by the admin).
   */
  issue(gate?: 'approval' | 'rejected' | 'failure' | 'blocked'): Promise<Params>;
  /** A fresh review config (attached to nothing). */
  reviewConfig(): Promise<Params>;
  /** A fresh data update whose task has a DONE run with a prior backup (written as the task runner would). */
  backedUp(): Promise<Params>;
  /** The shared database drifted: its recorded baseline made different from its live schema (as a sync finding drift leaves it). */
  drifted(): Promise<Params>;
}

/** Nothing listens on port 1: connecting fails at once. */
const CLOSED = { host: '127.0.0.1', port: 1, username: 'postgres', password: 'matrix-secret' };
const instanceBody = (id: string, ds: { host: string; port: number; username: string; password?: string }) => ({
  id, title: id, engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', ...ds }],
});
const id = (name: string) => name.slice(name.lastIndexOf('/') + 1);
const sharedDatabase = (c: Ctx) => `instances/${c.shared.liveInstance}/databases/${c.shared.database}`;
const sharedIssue = (c: Ctx): Params => ({ project: c.shared.project, issue: c.shared.issue, stage: 'test', task: '1', taskRun: '1' });
const issueBody = (c: Ctx) => ({ title: 'Matrix change', type: 'DATABASE_SCHEMA_UPDATE', statement: 'SELECT 1', targets: [sharedDatabase(c)] });

/** A fresh database group in the shared project (made as the admin); remembered for the list fixture. */
let lastGroup = '';
async function databaseGroup(c: Ctx): Promise<string> {
  lastGroup = c.unique('grp');
  await c.admin('POST', `/v1/projects/${c.shared.project}/databaseGroups`, { id: lastGroup, title: 'Matrix', databaseExpr: 'resource.environment_name == "test"' });
  return lastGroup;
}
async function tableGroup(c: Ctx): Promise<Params> {
  const group = await databaseGroup(c);
  const id = c.unique('tg');
  await c.admin('POST', `/v1/projects/${c.shared.project}/databaseGroups/${group}/tableGroups`, { id, title: 'Matrix', tableExpr: 'resource.table_name != ""' });
  return { project: c.shared.project, databaseGroup: group, tableGroup: id };
}

/**
 * A fresh PROJECT sheet on the shared database. Made by `caller` when it may create sheets there
 * (only a sheet's creator, a projectOwner or a workspace admin/DBA may change it), else by the admin.
 */
let lastSheet = '';
async function sheet(c: Ctx, caller?: Caller): Promise<Params> {
  const body = { title: 'Matrix', content: 'SELECT 1 AS one', database: sharedDatabase(c), visibility: 'PROJECT' };
  const path = `/v1/projects/${c.shared.project}/sheets`;
  const mine = caller && caller.email !== ADMIN ? await api.call('POST', path, { as: caller.email, body }) : undefined;
  const made: Body = mine && mine.status < 300 ? mine.json : await c.admin('POST', path, body);
  lastSheet = made.name;
  return { project: c.shared.project, sheet: id(made.name) };
}

/** A GitOps connector (nothing is contacted when it is saved); secrets go to the local encrypted store. */
const vcsBody = () => ({ provider: 'GITHUB', apiUrl: 'http://127.0.0.1:1', repository: 'acme/shop', webhookSecret: 'matrix-webhook-secret', accessToken: 'matrix-token' });
async function connectedProject(c: Ctx): Promise<Params> {
  const project = await c.boundProject();
  await c.admin('PUT', `/v1/projects/${project}/vcsConnector`, vcsBody());
  return { project };
}

/** A webhook to a closed loopback port (nothing is sent: the matrix's queue goes nowhere). */
const webhookBody = (c: Ctx) => ({ id: c.unique('wh'), title: 'Matrix', type: 'GENERIC', url: 'http://127.0.0.1:1/hook', secret: 'matrix-webhook-secret-1', events: ['ISSUE_DONE'] });
async function hookedProject(c: Ctx): Promise<Params> {
  const project = await c.boundProject();
  const made = await c.admin('POST', `/v1/projects/${project}/webhooks`, webhookBody(c));
  c.lastWebhook = made.name;
  return { project, webhook: made.id };
}

let setNotifyTransport: typeof import('../../functions/shared/wiring-notify.js').setNotifyTransport = () => undefined;

/** The pipeline is not run here: starts and token calls succeed, gates are driven by their handlers. */
const quietOrchestrator: Orchestrator = {
  startExecution: async () => ({ executionId: 'matrix', alreadyStarted: false }),
  stopExecution: async () => undefined,
  describeExecution: async () => undefined,
  sendTaskSuccess: async (_token: string, _output: Json) => undefined,
  sendTaskFailure: async () => undefined,
};

const FIXTURES: Record<Operation, Fixture> = {
  getWorkspace: {},
  updateWorkspace: { query: 'updateMask=title', body: () => ({ title: 'Matrix workspace' }) },
  getApprovalRules: {},
  // No rules: the matrix's stages keep the environment's one step (the roles holding issues.approve).
  updateApprovalRules: { body: () => ({ rules: [] }) },

  listUsers: {},
  createUser: { body: (c) => ({ email: `${c.unique('new')}@matrix.test`, role: 'workspaceMember' }) },
  getUser: { params: (c) => ({ id: c.shared.user }) },
  updateUser: { params: async (c) => ({ id: await c.user() }), query: 'updateMask=title', body: () => ({ title: 'Renamed' }) },
  deleteUser: { params: async (c) => ({ id: await c.user() }) },
  undeleteUser: { params: async (c) => ({ id: await c.user('DELETED') }) },

  listEnvironments: {},
  createEnvironment: { body: (c) => ({ id: c.unique('env'), title: 'Matrix' }) },
  reorderEnvironments: {
    // The current order, as it stands when the call is made: a valid no-op.
    body: async (c) => ({ environments: (await c.admin('GET', '/v1/environments?pageSize=1000')).environments.map((e: Body) => e.name) }),
  },
  getEnvironment: { params: () => ({ id: 'test' }) },
  updateEnvironment: { params: async (c) => ({ id: await c.environment() }), body: () => ({ title: 'Renamed' }) },
  deleteEnvironment: { params: async (c) => ({ id: await c.environment() }) },
  undeleteEnvironment: { params: async (c) => ({ id: await c.environment('DELETED') }) },

  listInstances: {},
  createInstance: { body: (c) => instanceBody(c.unique('inst'), CLOSED) },
  getInstance: { params: (c) => ({ instance: c.shared.closedInstance }) },
  updateInstance: { params: async (c) => ({ instance: await c.instance() }), body: () => ({ title: 'Renamed' }) },
  deleteInstance: { params: async (c) => ({ instance: await c.instance() }) },
  undeleteInstance: { params: async (c) => ({ instance: await c.instance('DELETED') }) },
  testConnection: { params: (c) => ({ instance: c.shared.closedInstance }) },
  syncInstance: { params: (c) => ({ instance: c.shared.liveInstance }) },
  getOperation: { params: (c) => ({ operation: id(c.shared.syncOperation) }) },

  listInstanceDatabases: {
    params: (c) => ({ instance: c.shared.liveInstance }),
    query: 'pageSize=1000',
    lists: { field: 'databases', name: sharedDatabase, filteredBy: 'databases.list' },
  },
  getDatabase: { params: (c) => ({ instance: c.shared.liveInstance, database: c.shared.database }) },
  getDatabaseSchema: { params: (c) => ({ instance: c.shared.liveInstance, database: c.shared.database }), query: 'format=SQL' },
  getDatabaseDrift: { params: (c) => ({ instance: c.shared.liveInstance, database: c.shared.database }) },
  acceptDrift: { params: (c) => c.drifted() },
  updateDatabase: {
    params: (c) => ({ instance: c.shared.liveInstance, database: c.shared.database }),
    query: 'updateMask=labels',
    body: () => ({ labels: { matrix: 'checked' } }),
  },
  listProjectDatabases: {
    params: (c) => ({ project: c.shared.project }),
    query: 'pageSize=1000',
    lists: { field: 'databases', name: sharedDatabase },
  },

  listProjects: { query: 'pageSize=1000', lists: { field: 'projects', name: (c) => `projects/${c.shared.project}`, filteredBy: 'projects.get' } },
  createProject: { body: (c) => ({ id: c.unique('proj'), title: 'Matrix' }) },
  getProject: { params: (c) => ({ project: c.shared.project }) },
  updateProject: { params: async (c) => ({ project: await c.boundProject() }), body: () => ({ title: 'Renamed' }) },
  deleteProject: { params: async (c) => ({ project: await c.boundProject() }) },
  undeleteProject: {
    params: async (c) => {
      const project = await c.boundProject();
      await c.admin('DELETE', `/v1/projects/${project}`);
      return { project };
    },
  },
  getIamPolicy: { params: (c) => ({ project: c.shared.project }) },
  setIamPolicy: {
    params: async (c) => ({ project: await c.boundProject() }),
    // The policy as it stands, with its etag: a valid replacement by the same bindings.
    body: async (c, p) => ({ policy: await c.admin('GET', `/v1/projects/${p.project}:getIamPolicy`) }),
  },

  listChangeHistories: {
    params: (c) => ({ instance: c.shared.liveInstance, database: c.shared.database }),
    lists: { field: 'changeHistories', name: (c) => `${sharedDatabase(c)}/changeHistories/${c.shared.changeHistory}` },
  },
  getChangeHistory: { params: (c) => ({ instance: c.shared.liveInstance, database: c.shared.database, changeHistory: c.shared.changeHistory }) },

  listIssues: {
    params: (c) => ({ project: c.shared.project }),
    query: 'pageSize=1000',
    lists: { field: 'issues', name: (c) => `projects/${c.shared.project}/issues/${c.shared.issue}` },
  },
  createIssue: { params: (c) => ({ project: c.shared.project }), body: issueBody },
  getIssue: { params: sharedIssue },
  updateIssue: { params: sharedIssue, query: 'updateMask=title', body: () => ({ title: 'Renamed' }) },
  cancelIssue: { params: (c) => c.issue() },
  approveStage: { params: (c) => c.issue('approval'), body: () => ({ comment: 'ok' }) },
  rejectStage: { params: (c) => c.issue('approval'), body: () => ({ reason: 'no' }) },
  requestApproval: { params: (c) => c.issue('rejected'), body: () => ({}) },
  runTask: { params: (c) => c.issue('failure'), body: () => ({}) },
  skipTask: { params: (c) => c.issue('failure'), body: () => ({ reason: 'not needed' }) },
  listTasks: { params: sharedIssue },
  listTaskRuns: { params: sharedIssue },
  getTaskRun: { params: sharedIssue },
  listActivities: { params: sharedIssue },
  previewRollback: { params: (c) => c.backedUp() },
  rollbackIssue: { params: (c) => c.backedUp(), body: () => ({}) },

  listDatabaseGroups: {
    params: async (c) => ({ project: c.shared.project, databaseGroup: await databaseGroup(c) }),
    query: 'pageSize=1000',
    lists: { field: 'databaseGroups', name: (c) => `projects/${c.shared.project}/databaseGroups/${lastGroup}` },
  },
  createDatabaseGroup: { params: (c) => ({ project: c.shared.project }), body: (c) => ({ id: c.unique('grp'), title: 'Matrix', databaseExpr: 'resource.database_name != ""' }) },
  getDatabaseGroup: { params: async (c) => ({ project: c.shared.project, databaseGroup: await databaseGroup(c) }), query: 'view=FULL' },
  checkConsistency: { params: async (c) => ({ project: c.shared.project, databaseGroup: await databaseGroup(c) }) },
  updateDatabaseGroup: { params: async (c) => ({ project: c.shared.project, databaseGroup: await databaseGroup(c) }), query: 'updateMask=title', body: () => ({ title: 'Renamed' }) },
  deleteDatabaseGroup: { params: async (c) => ({ project: c.shared.project, databaseGroup: await databaseGroup(c) }) },
  listTableGroups: { params: tableGroup },
  createTableGroup: {
    params: async (c) => ({ project: c.shared.project, databaseGroup: await databaseGroup(c) }),
    body: (c) => ({ id: c.unique('tg'), title: 'Matrix', tableExpr: 'resource.schema_name == "public"' }),
  },
  getTableGroup: { params: tableGroup, query: 'view=FULL' },
  updateTableGroup: { params: tableGroup, query: 'updateMask=tableExpr', body: () => ({ tableExpr: 'resource.table_name.startsWith("a")' }) },
  deleteTableGroup: { params: tableGroup },

  listSheets: {
    params: (c) => sheet(c),
    query: 'pageSize=1000',
    // A PROJECT sheet: members see it; a non-member gets the list of PUBLIC sheets, without it.
    lists: { field: 'sheets', name: () => lastSheet, filteredBy: 'sheets.list' },
  },
  createSheet: { params: (c) => ({ project: c.shared.project }), body: () => ({ title: 'Matrix', content: 'SELECT 1', visibility: 'PROJECT' }) },
  getSheet: { params: (c) => sheet(c) },
  updateSheet: { params: (c, caller) => sheet(c, caller), query: 'updateMask=title', body: () => ({ title: 'Renamed' }) },
  deleteSheet: { params: (c, caller) => sheet(c, caller) },
  runSheet: { params: (c) => sheet(c), body: () => ({ limit: 10 }) },
  queryDatabase: { params: (c) => ({ instance: c.shared.liveInstance, database: c.shared.database }), body: () => ({ statement: 'SELECT 1 AS one' }) },
  diffSchema: { params: (c) => ({ instance: c.shared.liveInstance, database: c.shared.database }), body: (c) => ({ target: sharedDatabase(c) }) },

  getVcsConnector: { params: connectedProject },
  putVcsConnector: { params: async (c) => ({ project: await c.boundProject() }), body: vcsBody },
  deleteVcsConnector: { params: connectedProject },

  listWebhooks: { params: hookedProject, lists: { field: 'webhooks', name: (c) => c.lastWebhook } },
  createWebhook: { params: async (c) => ({ project: await c.boundProject() }), body: (c) => webhookBody(c) },
  getWebhook: { params: hookedProject },
  updateWebhook: { params: hookedProject, body: () => ({ title: 'Matrix again' }) },
  deleteWebhook: { params: hookedProject },
  testWebhook: { params: hookedProject, body: () => ({}) },
  listWebhookDeliveries: { params: hookedProject },

  listAuditLogs: { query: 'pageSize=10' },

  overrideChecks: { params: (c) => c.issue('blocked'), body: () => ({ reason: 'matrix' }) },
  listPlanCheckRuns: { params: sharedIssue },
  listReviewRules: {},
  listReviewConfigs: {},
  createReviewConfig: { body: (c) => ({ id: c.unique('rc'), rules: [{ type: 'table.require-pk', level: 'WARNING' }] }) },
  getReviewConfig: { params: (c) => c.reviewConfig() },
  updateReviewConfig: { params: (c) => c.reviewConfig(), query: 'updateMask=enabled', body: () => ({ enabled: false }) },
  deleteReviewConfig: { params: (c) => c.reviewConfig() },
  checkSql: { body: () => ({ statement: 'DELETE FROM t', engine: 'POSTGRES' }) },
};

// ---------------------------------------------------------------------------------------------
// The audit entry each call must leave (routes that are not a GET)
// ---------------------------------------------------------------------------------------------

/** The resource a call acts on, as API.md names resources: a create's new one once it exists. */
function auditedResource(route: Guarded, params: Params, res: CallResult): string {
  if ('create' in route && route.create && res.status < 300 && typeof res.json?.name === 'string') return res.json.name;
  return route.path.replace(/^\/v1\//, '').replace(/:[A-Za-z]+$/, '').replace(/\{(\w+)\}/g, (_m, name: string) => params[name]!);
}

/** What the fixture's request says that the entry must repeat (a subset of its detail). */
function auditedDetail(route: Guarded, fixture: Fixture, body: unknown, res: CallResult): Record<string, unknown> {
  const sent = (body ?? {}) as Record<string, unknown>;
  const allowed = res.status < 300;
  const detail: Record<string, unknown> = {};
  const mask = /(?:^|&)updateMask=([^&]*)/.exec(fixture.query ?? '')?.[1];
  if (route.method === 'PATCH') Object.assign(detail, mask !== undefined ? { updateMask: decodeURIComponent(mask) } : { fields: Object.keys(sent) });
  if (route.operation === 'queryDatabase') detail.statement = sent.statement;
  if (route.operation === 'runSheet' && allowed) detail.statement = 'SELECT 1 AS one';
  if (route.operation === 'skipTask') detail.reason = sent.reason;
  if (res.status === 403) detail.error = { permission: route.permission };
  return detail;
}

/** The admin's calls, by how their entry got to the table. */
const recorded = { withChange: new Set<string>(), withChangeThenCompleted: new Set<string>(), after: new Set<string>() };

/**
 * The fixture database on the run's PostgreSQL (test/support/postgres.ts): `sluice_matrix`, made
 * once and left for later runs. Not just any database there: other test files (and anything else
 * on a shared server) make and drop theirs while this file runs.
 */
const MATRIX_DB = 'sluice_matrix';

async function stableDatabase(server: SqlServer): Promise<void> {
  const rows = await adminQuery(server, `SELECT 1 FROM pg_database WHERE datname = '${MATRIX_DB}'`);
  // 42P04: another run made it meanwhile.
  if (rows.length === 0) await adminQuery(server, `CREATE DATABASE ${MATRIX_DB}`).catch((e: { code?: string }) => { if (e.code !== '42P04') throw e; });
}

function pathOf(route: Guarded, params: Params, query: string | undefined): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`fixture ${route.operation} gives no {${name}}`);
    return encodeURIComponent(value);
  });
  return query ? `${path}?${query}` : path;
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

const GUARDED = ROUTES.filter((r): r is Guarded => r.permission !== null);
let api: Api;
let ctx: Ctx;
let userOf: (email: string) => string;
/** Per request id: whether its entry was committed with the change, and whether it was written (again) after. */
const audits = new Map<string, { joined: () => boolean; written: boolean }>();
let secretsDir: string | undefined;
const tally = { checks: 0, allowed: 0, '403': 0, '404': 0, audited: 0 };

beforeAll(async () => {
  // Instance passwords go to the local encrypted store, as with `npm start`.
  if (!process.env.SLUICE_SECRETS_DIR) process.env.SLUICE_SECRETS_DIR = secretsDir = mkdtempSync(join(tmpdir(), 'sluice-matrix-'));
  api = await startApi();
  const postgres = postgresServer();
  await stableDatabase(postgres);
  let n = 0;
  const unique = (prefix: string) => `${prefix}-${++n}`;
  const admin = async (method: string, path: string, body?: unknown): Promise<Body> => {
    const r = await api.call(method, path, { as: ADMIN, ...(body === undefined ? {} : { body }) });
    if (r.status >= 300) throw new Error(`setup ${method} ${path}: ${r.status} ${r.text}`);
    return r.json;
  };
  const userIds = new Map<string, string>([[ADMIN, 'users/2']]);
  for (const c of CALLERS.slice(1)) userIds.set(c.email, (await admin('POST', '/v1/users', { email: c.email, role: c.role })).name);
  userOf = (email) => userIds.get(email)!;
  // Watch the handlers' audit store: which entries rode with the change, which were written after.
  const { auditRepo } = await import('../../functions/shared/wiring.js');
  const joinEntry = auditRepo.join.bind(auditRepo);
  const recordEntry = auditRepo.record.bind(auditRepo);
  auditRepo.join = (entry, expireAt) => {
    const handle = joinEntry(entry, expireAt);
    audits.set(entry.requestId, { joined: () => handle.joined !== undefined, written: false });
    return handle;
  };
  auditRepo.record = async (entry, expireAt) => {
    await recordEntry(entry, expireAt);
    const seen = audits.get(entry.requestId);
    if (seen) seen.written = true;
    else audits.set(entry.requestId, { joined: () => false, written: true });
  };
  const members = PROJECT_ROLES.map((role) => ({ role, members: [userIds.get(CALLERS.find((c) => c.projectRole === role)!.email)!] }));

  const boundProject = async () => {
    const project = unique('proj');
    await admin('POST', '/v1/projects', { id: project, title: project });
    const policy = await admin('GET', `/v1/projects/${project}:getIamPolicy`);
    await admin('POST', `/v1/projects/${project}:setIamPolicy`, { policy: { bindings: [...policy.bindings, ...members], etag: policy.etag } });
    return project;
  };
  const deleted = async <T extends string>(made: T, name: string, state?: 'DELETED'): Promise<T> => {
    if (state) await admin('DELETE', `/v1/${name}`);
    return made;
  };

  const project = await boundProject();
  const closedInstance = unique('closed');
  await admin('POST', '/v1/instances', instanceBody(closedInstance, CLOSED));
  const liveInstance = unique('live');
  await admin('POST', '/v1/instances', instanceBody(liveInstance, postgres));
  const syncOperation = (await admin('POST', `/v1/instances/${liveInstance}:sync`)).name as string;
  await waitForOperation((path) => admin('GET', path), syncOperation, 300_000);
  const databases = ((await admin('GET', `/v1/instances/${liveInstance}/databases?pageSize=1000`)).databases as Body[]).map((d) => id(d.name));
  const database = databases.find((d) => d === MATRIX_DB);
  if (!database) throw new Error(`setup: no database on ${postgres.host}:${postgres.port} to check database routes with`);
  await admin('PATCH', `/v1/instances/${liveInstance}/databases/${database}?updateMask=project`, { project: `projects/${project}` });

  // Issues: a quiet orchestrator, self-approval allowed (the admin makes every issue), and a shared
  // issue with one task run and one change-history entry written as the task runner would.
  setOrchestrator(quietOrchestrator);
  // Loaded here, after the table exists: the wiring makes its DynamoDB store at import.
  ({ setNotifyTransport } = await import('../../functions/shared/wiring-notify.js'));
  setNotifyTransport({ sink: { emit: async () => undefined }, queue: { send: async () => undefined } });
  await admin('PATCH', '/v1/workspace?updateMask=allowSelfApproval', { allowSelfApproval: true });
  // Stages of the test environment wait for its one approval step (no approval rules are set).
  await admin('PATCH', '/v1/environments/test?updateMask=rolloutPolicy.requireApproval', { rolloutPolicy: { requireApproval: true } });
  const { approvalGate, failureGate } = await import('../../domain/pipeline/workflow.js');
  const { workflowDeps, issueRepo } = await import('../../functions/shared/wiring-issues.js');
  const makeIssue = async (gate?: 'approval' | 'rejected' | 'failure' | 'blocked'): Promise<Params> => {
    const made = await admin('POST', `/v1/projects/${project}/issues`, { title: 'Matrix change', type: 'DATABASE_SCHEMA_UPDATE', statement: 'SELECT 1', targets: [`instances/${liveInstance}/databases/${database}`] });
    const name: string = made.name;
    const params = { project, issue: id(name), stage: 'test', task: '1' };
    if (gate === 'approval' || gate === 'rejected') await approvalGate(workflowDeps, { issue: name, stage: 'test', token: `approve-${name}` });
    if (gate === 'rejected') await admin('POST', `/v1/${name}/stages/test:reject`, { reason: 'matrix' });
    if (gate === 'failure') {
      const agg = (await issueRepo.get(project, Number(params.issue)))!;
      await issueRepo.updateTask(agg.tasks[0]!, { status: 'FAILED' });
      await failureGate(workflowDeps, { issue: name, stage: 'test', token: `failure-${name}` });
    }
    if (gate === 'blocked') {
      // As the plan checks leave an issue with an ERROR advice: its summary, and the checks gate's token.
      const agg = (await issueRepo.get(project, Number(params.issue)))!;
      await issueRepo.updateIssue(project, Number(params.issue), { planCheck: { status: 'ERROR', errorCount: 1, warningCount: 0 }, checksToken: `checks-${name}` }, agg.issue.version);
      await issueRepo.updateStage(agg.stages[0]!, { status: 'BLOCKED' }, [], {});
    }
    return params;
  };
  const issue = (await makeIssue()).issue!;
  const { doc, tableName } = api.table.store;
  const t = new Date().toISOString();
  const backedUp = async (): Promise<Params> => {
    const made = await admin('POST', `/v1/projects/${project}/issues`, { title: 'Matrix data change', type: 'DATABASE_DATA_UPDATE', statement: 'UPDATE t SET a = 1', targets: [`instances/${liveInstance}/databases/${database}`] });
    const n = Number(id(made.name));
    const priorBackup = { createTime: t, tables: [{ source: 'public.t', backup: 'sluice_backup.matrix', rows: 1, action: 'UPDATE', statement: 0, key: ['id'], restore: ['a'] }] };
    await doc.send(new PutCommand({ TableName: tableName, Item: toItem('TaskRun', keys.taskRun(project, n, 1, 1), {
      project, issue: n, task: 1, id: 1, attempt: 1, status: 'DONE', creator: 1, startTime: t, endTime: t, detail: 'matrix', result: { affectedRows: 1, priorBackup },
    }) }));
    return { project, issue: String(n), stage: 'test', task: '1', taskRun: '1' };
  };
  await doc.send(new PutCommand({ TableName: tableName, Item: toItem('TaskRun', keys.taskRun(project, Number(issue), 1, 1), {
    project, issue: Number(issue), task: 1, id: 1, attempt: 1, status: 'DONE', creator: 1, startTime: t, endTime: t, detail: 'matrix', result: {},
  }) }));
  const changeHistory = `20261125000000-${project}-${issue}-1-1`;
  await doc.send(new PutCommand({ TableName: tableName, Item: toItem('ChangeHistory', keys.changeHistory(liveInstance, database, changeHistory), {
    instance: liveInstance, database, id: changeHistory, status: 'DONE', type: 'MIGRATE', statement: 'SELECT 1', version: '20261125000000',
    issue: `projects/${project}/issues/${issue}`, taskRun: `projects/${project}/issues/${issue}/stages/test/tasks/1/taskRuns/1`, createTime: t, checksum: 'x',
  }) }));

  ctx = {
    lastWebhook: '',
    unique,
    admin,
    boundProject,
    user: async (state) => {
      const u = await admin('POST', '/v1/users', { email: `${unique('user')}@matrix.test` });
      return deleted(id(u.name), u.name, state);
    },
    environment: async (state) => {
      const env = unique('env');
      await admin('POST', '/v1/environments', { id: env, title: env });
      return deleted(env, `environments/${env}`, state);
    },
    instance: async (state) => {
      const inst = unique('inst');
      await admin('POST', '/v1/instances', instanceBody(inst, CLOSED));
      return deleted(inst, `instances/${inst}`, state);
    },
    shared: { project, user: id(userIds.get('outsider@matrix.test')!), closedInstance, liveInstance, database, issue, changeHistory, syncOperation },
    issue: makeIssue,
    reviewConfig: async () => {
      const made = await admin('POST', '/v1/reviewConfigs', { id: unique('rc'), rules: [{ type: 'statement.where.require', level: 'ERROR' }] });
      return { reviewConfig: id(made.name) };
    },
    backedUp,
    drifted: async () => {
      const head = (await doc.send(new GetCommand({ TableName: tableName, Key: keys.schemaHead(liveInstance, database), ConsistentRead: true }))).Item!;
      await doc.send(new PutCommand({ TableName: tableName, Item: { ...head, baseline: { checksum: '0'.repeat(64), time: t } } }));
      return { instance: liveInstance, database };
    },
  };
}, 180_000);

afterAll(async () => {
  setOrchestrator(undefined);
  setNotifyTransport(undefined);
  await api?.server.close();
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
  console.log(
    `access matrix: ${GUARDED.length} routes × ${CALLERS.length} callers = ${tally.checks} checks ` +
      `(${tally.allowed} allowed, ${tally['403']} denied 403, ${tally['404']} denied 404), ${tally.audited} audit entries checked`,
  );
  const show = (set: Set<string>) => [...set].sort().join(', ') || '(none)';
  console.log(
    `audit entries of the admin's calls: in the change's transaction: ${show(recorded.withChange)}; ` +
      `in the change's transaction, then completed (a create's new name): ${show(recorded.withChangeThenCompleted)}; ` +
      `right after the change: ${show(recorded.after)}`,
  );
});

describe('access matrix', () => {
  it('has a fixture for every route that needs a permission, and none for a route that is gone', () => {
    // Assess
    expect(GUARDED.map((r) => r.operation).filter((op) => !(op in FIXTURES))).toEqual([]);
    expect(Object.keys(FIXTURES).filter((op) => !GUARDED.some((r) => r.operation === op))).toEqual([]);
  });

  describe.each(GUARDED.map((r) => [`${r.method} ${r.path} (${r.permission})`, r] as const))('%s', (_title, route) => {
    it('answers every caller as the role table says, and a denied call writes nothing', async () => {
      const fixture: Fixture | undefined = FIXTURES[route.operation];
      if (!fixture) throw new Error(`no fixture for ${route.operation}: add one to FIXTURES`);
      const want: Record<string, Outcome> = {};
      const got: Record<string, string> = {};
      const wantAudit: Record<string, unknown> = {};
      const gotAudit: Record<string, unknown> = {};
      for (const caller of CALLERS) {
        // Prepare
        const params = (await fixture.params?.(ctx, caller)) ?? {};
        const body = await fixture.body?.(ctx, params);
        const path = pathOf(route, params, fixture.query);
        const listed = fixture.lists?.name(ctx);
        const outcome = expected(route, fixture, caller, listed);
        want[caller.kind] = outcome;
        const before = outcome.startsWith('allowed') ? undefined : await scanTable(api.table.store);

        // Act
        const res = await api.call(route.method, path, { as: caller.email, ...(body === undefined ? {} : { body }) });
        // An allowed :sync goes on in the background: it finishes before the next caller's table snapshot.
        if (res.status === 200 && /^operations\//.test(res.json?.name ?? '')) await waitForOperation((p) => ctx.admin('GET', p), res.json.name, 300_000);

        // Assess (collected, so that one failure shows the route's whole row)
        const wrote = before !== undefined && JSON.stringify(await scanTable(api.table.store)) !== JSON.stringify(before);
        got[caller.kind] = `${observed(res, fixture, listed)}${wrote ? ' (but wrote to the table)' : ''}`;
        tally.checks++;
        tally[outcome.startsWith('allowed') ? 'allowed' : outcome === '404' ? '404' : '403']++;
        if (route.method !== 'GET') {
          const requestId = res.headers.get('x-request-id')!;
          const filter = encodeURIComponent(`actor == "${userOf(caller.email)}" && method == "${route.operation}"`);
          const entries: Body[] = (await ctx.admin('GET', `/v1/auditLogs?pageSize=50&filter=${filter}`)).auditLogs;
          const entry = entries.find((e) => e.requestId === requestId);
          wantAudit[caller.kind] = {
            name: `auditLogs/${requestId}`, actor: userOf(caller.email), method: route.operation, httpMethod: route.method, resource: auditedResource(route, params, res),
            status: { code: res.status, status: res.status < 300 ? 'OK' : res.json?.error?.status }, requestId, detail: expect.objectContaining(auditedDetail(route, fixture, body, res)),
          };
          gotAudit[caller.kind] = entry ? { ...entry, time: undefined, sourceIp: undefined } : '(no entry)';
          wantAudit[caller.kind] = { ...(wantAudit[caller.kind] as object), time: undefined, sourceIp: undefined };
          tally.audited++;
          const how = audits.get(requestId);
          if (caller.email === ADMIN && how) {
            (how.joined() ? (how.written ? recorded.withChangeThenCompleted : recorded.withChange) : recorded.after).add(route.operation);
          }
        }
      }
      expect(got).toEqual(want);
      expect(gotAudit).toEqual(wantAudit);
    });
  });
});
