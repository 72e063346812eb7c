// The one route table. CDK derives the API Gateway routes from it, the local server routes with
// it, and each handler family dispatches by it, so the three can never disagree.
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
  readonly summary: string;
  /** The route takes a JSON body. */
  readonly body?: boolean;
  /** A create: honours Idempotency-Key and answers 201. */
  readonly create?: boolean;
  /** The operation gets the body as raw text, unparsed (a webhook checks its signature over the exact bytes). */
  readonly rawBody?: boolean;
}

export const ROUTES = [
  { method: 'GET', path: '/healthz', family: 'meta', operation: 'health', permission: null, summary: 'Liveness check' },
  { method: 'GET', path: '/v1/openapi.json', family: 'meta', operation: 'openapi', permission: null, summary: 'This API as OpenAPI 3.1' },

  { method: 'GET', path: '/v1/workspace', family: 'workspace', operation: 'getWorkspace', permission: 'workspace.get', summary: 'Get the workspace' },
  { method: 'PATCH', path: '/v1/workspace', family: 'workspace', operation: 'updateWorkspace', permission: 'workspace.update', summary: 'Update the workspace', body: true },
  { method: 'GET', path: '/v1/approvalRules', family: 'workspace', operation: 'getApprovalRules', permission: 'approvalRules.get', summary: "The workspace's approval rules, in order (the first matching rule decides a stage's steps)" },
  { method: 'PUT', path: '/v1/approvalRules', family: 'workspace', operation: 'updateApprovalRules', permission: 'approvalRules.update', summary: 'Replace the approval rules (etag, when given, must match); a condition that does not type-check is a 400 with its position', body: true },

  { method: 'GET', path: '/v1/users', family: 'users', operation: 'listUsers', permission: 'users.list', summary: 'List users' },
  { method: 'POST', path: '/v1/users', family: 'users', operation: 'createUser', permission: 'users.create', summary: 'Create a user', body: true, create: true },
  { method: 'GET', path: '/v1/users/{id}', family: 'users', operation: 'getUser', permission: 'users.get', summary: 'Get a user' },
  { method: 'PATCH', path: '/v1/users/{id}', family: 'users', operation: 'updateUser', permission: 'users.update', summary: 'Update a user', body: true },
  { method: 'DELETE', path: '/v1/users/{id}', family: 'users', operation: 'deleteUser', permission: 'users.delete', summary: 'Soft-delete a user' },
  { method: 'POST', path: '/v1/users/{id}:undelete', family: 'users', operation: 'undeleteUser', permission: 'users.undelete', summary: 'Restore a deleted user' },

  { method: 'GET', path: '/v1/environments', family: 'environments', operation: 'listEnvironments', permission: 'environments.list', summary: 'List environments in pipeline order' },
  { method: 'POST', path: '/v1/environments', family: 'environments', operation: 'createEnvironment', permission: 'environments.create', summary: 'Create an environment', body: true, create: true },
  { method: 'POST', path: '/v1/environments:reorder', family: 'environments', operation: 'reorderEnvironments', permission: 'environments.reorder', summary: 'Set the pipeline order of all environments', body: true },
  { method: 'GET', path: '/v1/environments/{id}', family: 'environments', operation: 'getEnvironment', permission: 'environments.get', summary: 'Get an environment' },
  { method: 'PATCH', path: '/v1/environments/{id}', family: 'environments', operation: 'updateEnvironment', permission: 'environments.update', summary: 'Update an environment', body: true },
  { method: 'DELETE', path: '/v1/environments/{id}', family: 'environments', operation: 'deleteEnvironment', permission: 'environments.delete', summary: 'Soft-delete an environment' },
  { method: 'POST', path: '/v1/environments/{id}:undelete', family: 'environments', operation: 'undeleteEnvironment', permission: 'environments.undelete', summary: 'Restore a deleted environment' },

  { method: 'GET', path: '/v1/instances', family: 'instances', operation: 'listInstances', permission: 'instances.list', summary: 'List instances' },
  { method: 'POST', path: '/v1/instances', family: 'instances', operation: 'createInstance', permission: 'instances.create', summary: 'Register an instance (?validateOnly=true checks the connection and writes nothing)', body: true, create: true },
  { method: 'GET', path: '/v1/instances/{instance}', family: 'instances', operation: 'getInstance', permission: 'instances.get', summary: 'Get an instance' },
  { method: 'PATCH', path: '/v1/instances/{instance}', family: 'instances', operation: 'updateInstance', permission: 'instances.update', summary: 'Update an instance', body: true },
  { method: 'DELETE', path: '/v1/instances/{instance}', family: 'instances', operation: 'deleteInstance', permission: 'instances.delete', summary: 'Soft-delete an instance' },
  { method: 'POST', path: '/v1/instances/{instance}:undelete', family: 'instances', operation: 'undeleteInstance', permission: 'instances.undelete', summary: 'Restore a deleted instance' },
  { method: 'POST', path: '/v1/instances/{instance}:testConnection', family: 'instances', operation: 'testConnection', permission: 'instances.testConnection', summary: 'Connect with the ADMIN data source and report the server version' },
  { method: 'POST', path: '/v1/instances/{instance}:sync', family: 'instances', operation: 'syncInstance', permission: 'instances.sync', summary: "Discover the server's databases at once, then read each one's schema and tables in the background: answers with the operation" },
  { method: 'GET', path: '/v1/operations/{operation}', family: 'instances', operation: 'getOperation', permission: 'instances.get', summary: 'A long-running operation (a sync): its progress, then its response or error' },

  { method: 'GET', path: '/v1/instances/{instance}/databases', family: 'databases', operation: 'listInstanceDatabases', permission: 'databases.list', summary: "List an instance's databases" },
  { method: 'GET', path: '/v1/instances/{instance}/databases/{database}', family: 'databases', operation: 'getDatabase', permission: 'databases.get', summary: 'Get a database' },
  { method: 'PATCH', path: '/v1/instances/{instance}/databases/{database}', family: 'databases', operation: 'updateDatabase', permission: 'databases.update', summary: "Move a database to another project or change its labels", body: true },
  { method: 'GET', path: '/v1/instances/{instance}/databases/{database}/schema', family: 'databases', operation: 'getDatabaseSchema', permission: 'databases.get', summary: 'The schema the last sync recorded, with its checksum (?format=SQL: a DDL script that recreates it)' },
  { method: 'GET', path: '/v1/instances/{instance}/databases/{database}/drift', family: 'databases', operation: 'getDatabaseDrift', permission: 'databases.get', summary: 'Whether the live schema drifted from the one Sluice last recorded: both checksums and the unified diff of their DDL' },
  { method: 'POST', path: '/v1/instances/{instance}/databases/{database}:acceptDrift', family: 'sql', operation: 'acceptDrift', permission: 'databases.update', summary: 'Make the live schema the baseline (a BASELINE change history entry); the database is no longer drifted' },
  { method: 'POST', path: '/v1/instances/{instance}/databases/{database}:diffSchema', family: 'sql', operation: 'diffSchema', permission: 'databases.get', summary: "The unified diff from a target database's schema to this one's, and the DDL that makes the target equal", body: true },
  { method: 'GET', path: '/v1/projects/{project}/databases', family: 'databases', operation: 'listProjectDatabases', permission: 'databases.list', summary: "List a project's databases" },

  { method: 'GET', path: '/v1/projects', family: 'projects', operation: 'listProjects', permission: 'projects.list', summary: 'List the projects the caller can see' },
  { method: 'POST', path: '/v1/projects', family: 'projects', operation: 'createProject', permission: 'projects.create', summary: 'Create a project; the creator becomes its owner', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}', family: 'projects', operation: 'getProject', permission: 'projects.get', summary: 'Get a project' },
  { method: 'PATCH', path: '/v1/projects/{project}', family: 'projects', operation: 'updateProject', permission: 'projects.update', summary: 'Update a project', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}', family: 'projects', operation: 'deleteProject', permission: 'projects.delete', summary: 'Soft-delete a project' },
  { method: 'POST', path: '/v1/projects/{project}:undelete', family: 'projects', operation: 'undeleteProject', permission: 'projects.undelete', summary: 'Restore a deleted project' },
  { method: 'GET', path: '/v1/projects/{project}:getIamPolicy', family: 'projects', operation: 'getIamPolicy', permission: 'projects.getIamPolicy', summary: "Get the project's role bindings" },
  { method: 'POST', path: '/v1/projects/{project}:setIamPolicy', family: 'projects', operation: 'setIamPolicy', permission: 'projects.setIamPolicy', summary: "Replace the project's role bindings (etag required to match)", body: true },

  { method: 'GET', path: '/v1/instances/{instance}/databases/{database}/changeHistories', family: 'databases', operation: 'listChangeHistories', permission: 'databases.get', summary: "A database's change history, newest first (?view=FULL adds each entry's schemaDiff)" },
  { method: 'GET', path: '/v1/instances/{instance}/databases/{database}/changeHistories/{changeHistory}', family: 'databases', operation: 'getChangeHistory', permission: 'databases.get', summary: 'One change-history entry (?view=FULL adds schemaDiff)' },

  { method: 'GET', path: '/v1/projects/{project}/issues', family: 'issues', operation: 'listIssues', permission: 'issues.list', summary: "List a project's issues (?filter=status == \"OPEN\")" },
  { method: 'POST', path: '/v1/projects/{project}/issues', family: 'issues', operation: 'createIssue', permission: 'issues.create', summary: 'Create an issue: plans its pipeline and starts its execution', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}', family: 'issues', operation: 'getIssue', permission: 'issues.get', summary: 'Get an issue with its whole pipeline' },
  { method: 'PATCH', path: '/v1/projects/{project}/issues/{issue}', family: 'issues', operation: 'updateIssue', permission: 'issues.update', summary: "Update an issue's title or description", body: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}:cancel', family: 'issues', operation: 'cancelIssue', permission: 'issues.cancel', summary: 'Cancel an issue: stops its execution, cancels unfinished tasks' },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}:approve', family: 'issues', operation: 'approveStage', permission: 'issues.approve', summary: "Approve the waiting step of a stage's approval (the caller must hold the step's role); the last step resumes the pipeline", body: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}:reject', family: 'issues', operation: 'rejectStage', permission: 'issues.approve', summary: 'Reject the waiting step {reason}: the stage becomes REJECTED, the issue stays OPEN', body: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}:requestApproval', family: 'issues', operation: 'requestApproval', permission: 'issues.update', summary: "Ask for a rejected stage's approval again: every step waits anew (the creator, or issues.update)", body: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}:run', family: 'issues', operation: 'runTask', permission: 'issues.runTask', summary: 'Retry a failed task (a new task run)', body: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}:skip', family: 'issues', operation: 'skipTask', permission: 'issues.runTask', summary: 'Skip a failed task', body: true },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks', family: 'issues', operation: 'listTasks', permission: 'issues.get', summary: 'A stage\'s tasks, in id order, paged (?filter=status == "FAILED"): for pipelines too large to list in the issue' },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}/taskRuns', family: 'issues', operation: 'listTaskRuns', permission: 'issues.get', summary: "A task's runs" },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}/taskRuns/{taskRun}', family: 'issues', operation: 'getTaskRun', permission: 'issues.get', summary: 'One task run' },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}/taskRuns/{taskRun}:previewRollback', family: 'issues', operation: 'previewRollback', permission: 'issues.get', summary: "The statement that restores the rows a task run changed, from its prior backup" },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}:rollback', family: 'issues', operation: 'rollbackIssue', permission: 'issues.create', summary: 'Create "Rollback of #n": an issue whose tasks restore what the chosen tasks changed, from their prior backups', body: true, create: true },
  { method: 'POST', path: '/v1/projects/{project}/issues/{issue}:overrideChecks', family: 'issues', operation: 'overrideChecks', permission: 'issues.overrideChecks', summary: 'Let an issue whose plan checks found an ERROR run anyway {reason} (workspaceAdmin, workspaceDBA); recorded as CHECKS_OVERRIDDEN', body: true },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}/planCheckRuns', family: 'issues', operation: 'listPlanCheckRuns', permission: 'issues.get', summary: "The plan checks' results per task (status, affected-rows estimate, advices), in task order, paged" },
  { method: 'GET', path: '/v1/projects/{project}/issues/{issue}/activities', family: 'issues', operation: 'listActivities', permission: 'issues.get', summary: 'What happened to the issue, in order, paged' },

  { method: 'GET', path: '/v1/projects/{project}/sheets', family: 'sheets', operation: 'listSheets', permission: 'sheets.list', summary: 'List the sheets the caller may see' },
  { method: 'POST', path: '/v1/projects/{project}/sheets', family: 'sheets', operation: 'createSheet', permission: 'sheets.create', summary: 'Save a sheet (SQL text, up to 1 MiB)', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}/sheets/{sheet}', family: 'sheets', operation: 'getSheet', permission: 'sheets.get', summary: 'Get a sheet' },
  { method: 'PATCH', path: '/v1/projects/{project}/sheets/{sheet}', family: 'sheets', operation: 'updateSheet', permission: 'sheets.update', summary: 'Update a sheet', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}/sheets/{sheet}', family: 'sheets', operation: 'deleteSheet', permission: 'sheets.delete', summary: 'Delete a sheet' },
  { method: 'POST', path: '/v1/projects/{project}/sheets/{sheet}:run', family: 'sql', operation: 'runSheet', permission: 'sql.query', summary: 'Run a sheet as a read-only query', body: true },
  { method: 'POST', path: '/v1/instances/{instance}/databases/{database}:query', family: 'sql', operation: 'queryDatabase', permission: 'sql.query', summary: 'Run an ad hoc read-only query', body: true },

  { method: 'GET', path: '/v1/projects/{project}/databaseGroups', family: 'groups', operation: 'listDatabaseGroups', permission: 'databaseGroups.list', summary: "List a project's database groups" },
  { method: 'POST', path: '/v1/projects/{project}/databaseGroups', family: 'groups', operation: 'createDatabaseGroup', permission: 'databaseGroups.create', summary: 'Create a database group from a CEL expression', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}', family: 'groups', operation: 'getDatabaseGroup', permission: 'databaseGroups.get', summary: 'Get a database group (?view=FULL lists matches)' },
  { method: 'PATCH', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}', family: 'groups', operation: 'updateDatabaseGroup', permission: 'databaseGroups.update', summary: 'Update a database group', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}', family: 'groups', operation: 'deleteDatabaseGroup', permission: 'databaseGroups.delete', summary: 'Delete a database group' },
  { method: 'GET', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}:checkConsistency', family: 'groups', operation: 'checkConsistency', permission: 'databaseGroups.get', summary: 'Group the matched databases by schema checksum and name those that differ from the most common schema' },
  { method: 'GET', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups', family: 'groups', operation: 'listTableGroups', permission: 'databaseGroups.list', summary: "List a database group's table groups" },
  { method: 'POST', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups', family: 'groups', operation: 'createTableGroup', permission: 'databaseGroups.create', summary: 'Create a table group from a CEL expression', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups/{tableGroup}', family: 'groups', operation: 'getTableGroup', permission: 'databaseGroups.get', summary: 'Get a table group (?view=FULL lists matched tables)' },
  { method: 'PATCH', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups/{tableGroup}', family: 'groups', operation: 'updateTableGroup', permission: 'databaseGroups.update', summary: 'Update a table group', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups/{tableGroup}', family: 'groups', operation: 'deleteTableGroup', permission: 'databaseGroups.delete', summary: 'Delete a table group' },

  { method: 'GET', path: '/v1/projects/{project}/vcsConnector', family: 'vcs', operation: 'getVcsConnector', permission: 'vcsConnectors.get', summary: "Get the project's VCS connector (secrets never included) and its recent deliveries" },
  { method: 'PUT', path: '/v1/projects/{project}/vcsConnector', family: 'vcs', operation: 'putVcsConnector', permission: 'vcsConnectors.update', summary: 'Create or replace the VCS connector; the answer carries the webhookUrl to give the provider', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}/vcsConnector', family: 'vcs', operation: 'deleteVcsConnector', permission: 'vcsConnectors.update', summary: 'Remove the VCS connector and its secrets' },
  { method: 'POST', path: '/v1/hooks/vcs/{project}', family: 'hooks', operation: 'receiveVcsWebhook', permission: null, summary: "The provider's push webhook: authenticated by its signature, not a JWT", rawBody: true },

  { method: 'GET', path: '/v1/projects/{project}/webhooks', family: 'webhooks', operation: 'listWebhooks', permission: 'webhooks.get', summary: "List the project's webhooks (never their URL or secret)" },
  { method: 'POST', path: '/v1/projects/{project}/webhooks', family: 'webhooks', operation: 'createWebhook', permission: 'webhooks.update', summary: 'Add a webhook {title, type, url, secret?, events}: url and secret are write-only; deployed, a private, loopback or link-local address is refused unless allowlisted', body: true, create: true },
  { method: 'GET', path: '/v1/projects/{project}/webhooks/{webhook}', family: 'webhooks', operation: 'getWebhook', permission: 'webhooks.get', summary: 'Get a webhook' },
  { method: 'PATCH', path: '/v1/projects/{project}/webhooks/{webhook}', family: 'webhooks', operation: 'updateWebhook', permission: 'webhooks.update', summary: 'Update a webhook (title, url, secret, events)', body: true },
  { method: 'DELETE', path: '/v1/projects/{project}/webhooks/{webhook}', family: 'webhooks', operation: 'deleteWebhook', permission: 'webhooks.update', summary: 'Remove a webhook and its secret' },
  { method: 'POST', path: '/v1/projects/{project}/webhooks/{webhook}:test', family: 'webhooks', operation: 'testWebhook', permission: 'webhooks.update', summary: 'Queue a TEST message to the webhook; answers at once with the PENDING delivery (its attempts appear in the delivery log)', body: true },
  { method: 'GET', path: '/v1/projects/{project}/webhooks/{webhook}/deliveries', family: 'webhooks', operation: 'listWebhookDeliveries', permission: 'webhooks.get', summary: "The webhook's recent deliveries, newest first: each attempt's time, status code and error" },

  { method: 'GET', path: '/v1/reviewRules', family: 'review', operation: 'listReviewRules', permission: 'reviewRules.list', summary: 'The SQL review rule catalog: each rule with its title, description, engines, default level and payload schema' },
  { method: 'GET', path: '/v1/reviewConfigs', family: 'review', operation: 'listReviewConfigs', permission: 'reviewConfigs.list', summary: 'List review configs (sets of configured rules attached to environments and projects)' },
  { method: 'POST', path: '/v1/reviewConfigs', family: 'review', operation: 'createReviewConfig', permission: 'reviewConfigs.create', summary: 'Create a review config; unknown rule types, bad payloads and unknown resources are a 400', body: true, create: true },
  { method: 'GET', path: '/v1/reviewConfigs/{reviewConfig}', family: 'review', operation: 'getReviewConfig', permission: 'reviewConfigs.get', summary: 'Get a review config' },
  { method: 'PATCH', path: '/v1/reviewConfigs/{reviewConfig}', family: 'review', operation: 'updateReviewConfig', permission: 'reviewConfigs.update', summary: 'Update a review config (etag, when given, must match)', body: true },
  { method: 'DELETE', path: '/v1/reviewConfigs/{reviewConfig}', family: 'review', operation: 'deleteReviewConfig', permission: 'reviewConfigs.delete', summary: 'Delete a review config' },
  { method: 'POST', path: '/v1/sql:check', family: 'review', operation: 'checkSql', permission: 'sql.check', summary: "Review a statement without running it: by database (its engine, environment's and project's configs) or by engine and environment", body: true },

  { method: 'GET', path: '/v1/auditLogs', family: 'audit', operation: 'listAuditLogs', permission: 'auditLogs.list', summary: 'The audit log, newest first: one entry per mutating request and SQL-editor query (?filter=actor == "users/3" && time >= "2026-12-01T00:00:00Z")' },
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

/** The gateway's own matcher: a variable spans a whole segment, colons included. */
export const matchGatewayRoute = makeMatcher(gatewayRoutes(), '([^/]+)');
export const matchRoute = makeMatcher(ROUTES as readonly RouteDef[]);
