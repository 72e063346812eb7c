// The one route table. CDK derives the API Gateway routes from it, the local server routes with
// it, and each handler family dispatches by it, so the three can never disagree. Each operation's
// one-line summary, which only the OpenAPI document needs, is in summaries.ts beside the OpenAPI
// builder (every handler loads this file at a cold start; see BENCHMARKS.md "Cold start").
import type { Permission } from '../access/roles.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
/** A handler family is one Lambda function: functions/http/<family>.ts. */
export type Family = 'meta' | 'workspace' | 'users' | 'environments' | 'instances' | 'databases' | 'projects' | 'issues' | 'sheets' | 'sql' | 'groups' | 'vcs' | 'hooks' | 'audit' | 'webhooks' | 'review';

export interface RouteDef {
  readonly method: HttpMethod;
  /** AIP path template; a custom method is `{id}:verb` or `collection:verb`. */
  readonly path: string;
  readonly family: Family;
  readonly operation: string;
  /** null: no bearer token (health, OpenAPI, webhooks). */
  readonly permission: Permission | null;
  /** The route takes a JSON body. */
  readonly body?: boolean;
  /** A create: honours Idempotency-Key and answers 201. */
  readonly create?: boolean;
  /** The operation gets the body as raw text, unparsed (a webhook checks its signature over the exact bytes). */
  readonly rawBody?: boolean;
}

export const ROUTES = [
  { method: 'GET', path: '/healthz', family: 'meta', operation: 'health', permission: null },
  { method: 'GET', path: '/v1/openapi.json', family: 'meta', operation: 'openapi', permission: null },

  { method: 'GET', path: '/v1/workspace', family: 'workspace', operation: 'getWorkspace', permission: 'workspace.get' },
  { method: 'PATCH', path: '/v1/workspace', family: 'workspace', operation: 'updateWorkspace', permission: 'workspace.update', body: true },
  { method: 'GET', path: '/v1/approvalRules', family: 'workspace', operation: 'getApprovalRules', permission: 'approvalRules.get' },
  { method: 'PUT', path: '/v1/approvalRules', family: 'workspace', operation: 'updateApprovalRules', permission: 'approvalRules.update', body: true },

  { method: 'GET', path: '/v1/users', family: 'users', operation: 'listUsers', permission: 'users.list' },
  { method: 'POST', path: '/v1/users', family: 'users', operation: 'createUser', permission: 'users.create', body: true, create: true },
  { method: 'GET', path: '/v1/users/{id}', family: 'users', operation: 'getUser', permission: 'users.get' },
  { method: 'PATCH', path: '/v1/users/{id}', family: 'users', operation: 'updateUser', permission: 'users.update', body: true },
  { method: 'DELETE', path: '/v1/users/{id}', family: 'users', operation: 'deleteUser', permission: 'users.delete' },
  { method: 'POST', path: '/v1/users/{id}:undelete', family: 'users', operation: 'undeleteUser', permission: 'users.undelete' },

  { method: 'GET', path: '/v1/environments', family: 'environments', operation: 'listEnvironments', permission: 'environments.list' },
  { method: 'POST', path: '/v1/environments', family: 'environments', operation: 'createEnvironment', permission: 'environments.create', body: true, create: true },
  { method: 'POST', path: '/v1/environments:reorder', family: 'environments', operation: 'reorderEnvironments', permission: 'environments.reorder', body: true },
  { method: 'GET', path: '/v1/environments/{id}', family: 'environments', operation: 'getEnvironment', permission: 'environments.get' },
  { method: 'PATCH', path: '/v1/environments/{id}', family: 'environments', operation: 'updateEnvironment', permission: 'environments.update', body: true },
  { method: 'DELETE', path: '/v1/environments/{id}', family: 'environments', operation: 'deleteEnvironment', permission: 'environments.delete' },
  { method: 'POST', path: '/v1/environments/{id}:undelete', family: 'environments', operation: 'undeleteEnvironment', permission: 'environments.undelete' },

  { method: 'GET', path: '/v1/instances', family: 'instances', operation: 'listInstances', permission: 'instances.list' },
  { method: 'POST', path: '/v1/instances', family: 'instances', operation: 'createInstance', permission: 'instances.create', body: true, create: true },
  { method: 'GET', path: '/v1/instances/{instance}', family: 'instances', operation: 'getInstance', permission: 'instances.get' },
  { method: 'PATCH', path: '/v1/instances/{instance}', family: 'instances', operation: 'updateInstance', permission: 'instances.update', body: true },
  { method: 'DELETE', path: '/v1/instances/{instance}', family: 'instances', operation: 'deleteInstance', permission: 'instances.delete' },
  { method: 'POST', path: '/v1/instances/{instance}:undelete', family: 'instances', operation: 'undeleteInstance', permission: 'instances.undelete' },
  { method: 'POST', path: '/v1/instances/{instance}:testConnection', family: 'instances', operation: 'testConnection', permission: 'instances.testConnection' },
  { method: 'POST', path: '/v1/instances/{instance}:sync', family: 'instances', operation: 'syncInstance', permission: 'instances.sync' },
  { method: 'GET', path: '/v1/operations/{operation}', family: 'instances', operation: 'getOperation', permission: 'instances.get' },

  { method: 'GET', path: '/v1/instances/{instance}/databases', family: 'databases', operation: 'listInstanceDatabases', permission: 'databases.list' },
  { method: 'GET', path: '/v1/instances/{instance}/databases/{database}', family: 'databases', operation: 'getDatabase', permission: 'databases.get' },
  { method: 'PATCH', path: '/v1/instances/{instance}/databases/{database}', family: 'databases', operation: 'updateDatabase', permission: 'databases.update', body: true },
  { method: 'GET', path: '/v1/instances/{instance}/databases/{database}/schema', family: 'databases', operation: 'getDatabaseSchema', permission: 'databases.get' },
  { method: 'GET', path: '/v1/instances/{instance}/databases/{database}/drift', family: 'databases', operation: 'getDatabaseDrift', permission: 'databases.get' },
  { method: 'POST', path: '/v1/instances/{instance}/databases/{database}:acceptDrift', family: 'sql', operation: 'acceptDrift', permission: 'databases.update' },
  { method: 'POST', path: '/v1/instances/{instance}/databases/{database}:diffSchema', family: 'sql', operation: 'diffSchema', permission: 'databases.get', body: true },
  { method: 'GET', path: '/v1/projects/{project}/databases', family: 'databases', operation: 'listProjectDatabases', permission: 'databases.list' },

  { method: 'GET', path: '/v1/projects', family: 'projects', operation: 'listProjects', permission: 'projects.list' },
  { method: 'POST', path: '/v1/projects', family: 'projects', operation: 'createProject', permission: 'projects.create', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}', family: 'projects', operation: 'getProject', permission: 'projects.get' },
  { method: 'PATCH', path: '/v1/projects/{project}', family: 'projects', operation: 'updateProject', permission: 'projects.update', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}', family: 'projects', operation: 'deleteProject', permission: 'projects.delete' },
  { method: 'POST', path: '/v1/projects/{project}:undelete', family: 'projects', operation: 'undeleteProject', permission: 'projects.undelete' },
  { method: 'GET', path: '/v1/projects/{project}:getIamPolicy', family: 'projects', operation: 'getIamPolicy', permission: 'projects.getIamPolicy' },
  { method: 'POST', path: '/v1/projects/{project}:setIamPolicy', family: 'projects', operation: 'setIamPolicy', permission: 'projects.setIamPolicy', body: true },

  { method: 'GET', path: '/v1/instances/{instance}/databases/{database}/changeHistories', family: 'databases', operation: 'listChangeHistories', permission: 'databases.get' },
  { method: 'GET', path: '/v1/instances/{instance}/databases/{database}/changeHistories/{changeHistory}', family: 'databases', operation: 'getChangeHistory', permission: 'databases.get' },

  { method: 'GET', path: '/v1/projects/{project}/issues', family: 'issues', operation: 'listIssues', permission: 'issues.list' },
  { method: 'POST', path: '/v1/projects/{project}/issues', family: 'issues', operation: 'createIssue', permission: 'issues.create', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}', family: 'issues', operation: 'getIssue', permission: 'issues.get' },
  { method: 'PATCH', path: '/v1/projects/{project}/issues/{issue}', family: 'issues', operation: 'updateIssue', permission: 'issues.update', body: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}:cancel', family: 'issues', operation: 'cancelIssue', permission: 'issues.cancel' },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}:approve', family: 'issues', operation: 'approveStage', permission: 'issues.approve', body: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}:reject', family: 'issues', operation: 'rejectStage', permission: 'issues.approve', body: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}:requestApproval', family: 'issues', operation: 'requestApproval', permission: 'issues.update', body: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}:run', family: 'issues', operation: 'runTask', permission: 'issues.runTask', body: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}:skip', family: 'issues', operation: 'skipTask', permission: 'issues.runTask', body: true },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks', family: 'issues', operation: 'listTasks', permission: 'issues.get' },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}/taskRuns', family: 'issues', operation: 'listTaskRuns', permission: 'issues.get' },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}/taskRuns/{taskRun}', family: 'issues', operation: 'getTaskRun', permission: 'issues.get' },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}/taskRuns/{taskRun}:previewRollback', family: 'issues', operation: 'previewRollback', permission: 'issues.get' },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}:rollback', family: 'issues', operation: 'rollbackIssue', permission: 'issues.create', body: true, create: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}:overrideChecks', family: 'issues', operation: 'overrideChecks', permission: 'issues.overrideChecks', body: true },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}/planCheckRuns', family: 'issues', operation: 'listPlanCheckRuns', permission: 'issues.get' },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}/activities', family: 'issues', operation: 'listActivities', permission: 'issues.get' },

  { method: 'GET', path: '/v1/projects/{project}/sheets', family: 'sheets', operation: 'listSheets', permission: 'sheets.list' },
  { method: 'POST', path: '/v1/projects/{project}/sheets', family: 'sheets', operation: 'createSheet', permission: 'sheets.create', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}/sheets/{sheet}', family: 'sheets', operation: 'getSheet', permission: 'sheets.get' },
  { method: 'PATCH', path: '/v1/projects/{project}/sheets/{sheet}', family: 'sheets', operation: 'updateSheet', permission: 'sheets.update', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}/sheets/{sheet}', family: 'sheets', operation: 'deleteSheet', permission: 'sheets.delete' },
  { method: 'POST', path: '/v1/projects/{project}/sheets/{sheet}:run', family: 'sql', operation: 'runSheet', permission: 'sql.query', body: true },
  { method: 'POST', path: '/v1/instances/{instance}/databases/{database}:query', family: 'sql', operation: 'queryDatabase', permission: 'sql.query', body: true },

  { method: 'GET', path: '/v1/projects/{project}/databaseGroups', family: 'groups', operation: 'listDatabaseGroups', permission: 'databaseGroups.list' },
  { method: 'POST', path: '/v1/projects/{project}/databaseGroups', family: 'groups', operation: 'createDatabaseGroup', permission: 'databaseGroups.create', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}', family: 'groups', operation: 'getDatabaseGroup', permission: 'databaseGroups.get' },
  { method: 'PATCH', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}', family: 'groups', operation: 'updateDatabaseGroup', permission: 'databaseGroups.update', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}', family: 'groups', operation: 'deleteDatabaseGroup', permission: 'databaseGroups.delete' },
  { method: 'GET', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}:checkConsistency', family: 'groups', operation: 'checkConsistency', permission: 'databaseGroups.get' },
  { method: 'GET', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups', family: 'groups', operation: 'listTableGroups', permission: 'databaseGroups.list' },
  { method: 'POST', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups', family: 'groups', operation: 'createTableGroup', permission: 'databaseGroups.create', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups/{tableGroup}', family: 'groups', operation: 'getTableGroup', permission: 'databaseGroups.get' },
  { method: 'PATCH', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups/{tableGroup}', family: 'groups', operation: 'updateTableGroup', permission: 'databaseGroups.update', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups/{tableGroup}', family: 'groups', operation: 'deleteTableGroup', permission: 'databaseGroups.delete' },

  { method: 'GET', path: '/v1/projects/{project}/vcsConnector', family: 'vcs', operation: 'getVcsConnector', permission: 'vcsConnectors.get' },
  { method: 'PUT', path: '/v1/projects/{project}/vcsConnector', family: 'vcs', operation: 'putVcsConnector', permission: 'vcsConnectors.update', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}/vcsConnector', family: 'vcs', operation: 'deleteVcsConnector', permission: 'vcsConnectors.update' },
  { method: 'POST', path: '/v1/hooks/vcs/{project}', family: 'hooks', operation: 'receiveVcsWebhook', permission: null, rawBody: true },

  { method: 'GET', path: '/v1/projects/{project}/webhooks', family: 'webhooks', operation: 'listWebhooks', permission: 'webhooks.get' },
  { method: 'POST', path: '/v1/projects/{project}/webhooks', family: 'webhooks', operation: 'createWebhook', permission: 'webhooks.update', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}/webhooks/{webhook}', family: 'webhooks', operation: 'getWebhook', permission: 'webhooks.get' },
  { method: 'PATCH', path: '/v1/projects/{project}/webhooks/{webhook}', family: 'webhooks', operation: 'updateWebhook', permission: 'webhooks.update', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}/webhooks/{webhook}', family: 'webhooks', operation: 'deleteWebhook', permission: 'webhooks.update' },
  { method: 'POST', path: '/v1/projects/{project}/webhooks/{webhook}:test', family: 'webhooks', operation: 'testWebhook', permission: 'webhooks.update', body: true },
  { method: 'GET', path: '/v1/projects/{project}/webhooks/{webhook}/deliveries', family: 'webhooks', operation: 'listWebhookDeliveries', permission: 'webhooks.get' },

  { method: 'GET', path: '/v1/reviewRules', family: 'review', operation: 'listReviewRules', permission: 'reviewRules.list' },
  { method: 'GET', path: '/v1/reviewConfigs', family: 'review', operation: 'listReviewConfigs', permission: 'reviewConfigs.list' },
  { method: 'POST', path: '/v1/reviewConfigs', family: 'review', operation: 'createReviewConfig', permission: 'reviewConfigs.create', body: true, create: true },
  { method: 'GET', path: '/v1/reviewConfigs/{reviewConfig}', family: 'review', operation: 'getReviewConfig', permission: 'reviewConfigs.get' },
  { method: 'PATCH', path: '/v1/reviewConfigs/{reviewConfig}', family: 'review', operation: 'updateReviewConfig', permission: 'reviewConfigs.update', body: true },
  { method: 'DELETE', path: '/v1/reviewConfigs/{reviewConfig}', family: 'review', operation: 'deleteReviewConfig', permission: 'reviewConfigs.delete' },
  { method: 'POST', path: '/v1/sql:check', family: 'review', operation: 'checkSql', permission: 'sql.check', body: true },

  { method: 'GET', path: '/v1/auditLogs', family: 'audit', operation: 'listAuditLogs', permission: 'auditLogs.list' },
] as const satisfies readonly RouteDef[];

export type Route = (typeof ROUTES)[number];
export type OperationOf<F extends Family> = Extract<Route, { family: F }>['operation'];
export const FAMILIES: readonly Family[] = [...new Set(ROUTES.map((r) => r.family))];

/**
 * API Gateway HTTP API path variables span whole segments, so `{id}:undelete` is deployed as
 * `{id}` and the family's handler tells the verbs apart with the full template.
 */
export const gatewayPath = (path: string): string => path.replace(/\{(\w+)\}:[A-Za-z]+/g, '{$1}');

export interface GatewayRoute {
  readonly method: HttpMethod;
  readonly path: string;
  readonly family: Family;
  /** Every route needs a bearer token unless all its routes are public. */
  readonly public: boolean;
}

/** The routes API Gateway actually holds: one per (method, gateway path). */
export function gatewayRoutes(): GatewayRoute[] {
  const byKey = new Map<string, GatewayRoute>();
  for (const r of ROUTES as readonly RouteDef[]) {
    const path = gatewayPath(r.path);
    const key = `${r.method} ${path}`;
    const prev = byKey.get(key);
    if (prev && prev.family !== r.family) throw new Error(`route ${key} is claimed by ${prev.family} and ${r.family}`);
    if (prev && prev.public !== (r.permission === null)) throw new Error(`route ${key} mixes public and private verbs`);
    byKey.set(key, { method: r.method, path, family: r.family, public: r.permission === null });
  }
  return [...byKey.values()];
}

interface Compiled {
  readonly route: RouteDef;
  readonly regex: RegExp;
  readonly params: string[];
  readonly literalScore: number;
}

function compile(template: string, variable: string): { regex: RegExp; params: string[]; literalScore: number } {
  const params: string[] = [];
  let literalScore = 0;
  const source = template.replace(/\{(\w+)\}|([^{]+)/g, (_m, name: string | undefined, literal: string | undefined) => {
    if (name) {
      params.push(name);
      return variable;
    }
    literalScore += literal!.length;
    return literal!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return { regex: new RegExp(`^${source}$`), params, literalScore };
}

export interface RouteMatch<R> {
  readonly route: R;
  readonly params: Record<string, string>;
}

/** Matches a method and raw path against templates; literal segments beat variables. */
export function makeMatcher<R extends { method: string; path: string }>(routes: readonly R[], variable = '([^/:]+)') {
  const compiled = routes
    .map((route) => ({ route, ...compile(route.path, variable) }))
    .sort((a, b) => b.literalScore - a.literalScore);
  return (method: string, rawPath: string): RouteMatch<R> | undefined => {
    for (const c of compiled as (Compiled & { route: R })[]) {
      if (c.route.method !== method) continue;
      const m = c.regex.exec(rawPath);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.params.forEach((p, i) => (params[p] = safeDecode(m[i + 1]!)));
      return { route: c.route, params };
    }
    return undefined;
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A matcher whose templates are compiled on its first call, not when the module loads: every
 * function imports this file, and a cold start need not pay for 100 regular expressions first.
 */
function lazyMatcher<R extends { method: string; path: string }>(routes: () => readonly R[], variable?: string) {
  let match: ReturnType<typeof makeMatcher<R>> | undefined;
  return (method: string, rawPath: string): RouteMatch<R> | undefined => (match ??= makeMatcher(routes(), variable))(method, rawPath);
}

/** The gateway's own matcher: a variable spans a whole segment, colons included. */
export const matchGatewayRoute = lazyMatcher(gatewayRoutes, '([^/]+)');
export const matchRoute = lazyMatcher(() => ROUTES as readonly RouteDef[]);
