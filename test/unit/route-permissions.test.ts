// Each route's permission, pinned by hand. The route table (domain/routes.ts) is what production
// enforces, and the access matrix derives its expectations from it; this table does not, so a route
// relabelled (say `approveStage` as `issues.get`), added or removed without a decision here fails.
// Change a row only with the decision it records (API.md, Resources and routes; README, Roles).
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../domain/api/openapi.js';
import { ROUTES } from '../../domain/api/routes.js';

/** A route without a bearer token. */
const PUBLIC = null;

/** [operation, 'METHOD path', permission]: written out, never computed. */
const PINNED: readonly (readonly [string, string, string | null])[] = [
  // Public
  ['health', 'GET /healthz', PUBLIC],
  ['openapi', 'GET /v1/openapi.json', PUBLIC],

  // Workspace and users
  ['getWorkspace', 'GET /v1/workspace', 'workspace.get'],
  ['updateWorkspace', 'PATCH /v1/workspace', 'workspace.update'],
  // Approval rules: every signed-in user reads them, only a workspaceAdmin writes them (issue 15).
  ['getApprovalRules', 'GET /v1/approvalRules', 'approvalRules.get'],
  ['updateApprovalRules', 'PUT /v1/approvalRules', 'approvalRules.update'],
  ['listUsers', 'GET /v1/users', 'users.list'],
  ['createUser', 'POST /v1/users', 'users.create'],
  ['getUser', 'GET /v1/users/{id}', 'users.get'],
  ['updateUser', 'PATCH /v1/users/{id}', 'users.update'],
  ['deleteUser', 'DELETE /v1/users/{id}', 'users.delete'],
  ['undeleteUser', 'POST /v1/users/{id}:undelete', 'users.undelete'],

  // Environments
  ['listEnvironments', 'GET /v1/environments', 'environments.list'],
  ['createEnvironment', 'POST /v1/environments', 'environments.create'],
  ['reorderEnvironments', 'POST /v1/environments:reorder', 'environments.reorder'],
  ['getEnvironment', 'GET /v1/environments/{id}', 'environments.get'],
  ['updateEnvironment', 'PATCH /v1/environments/{id}', 'environments.update'],
  ['deleteEnvironment', 'DELETE /v1/environments/{id}', 'environments.delete'],
  ['undeleteEnvironment', 'POST /v1/environments/{id}:undelete', 'environments.undelete'],

  // Instances and databases
  ['listInstances', 'GET /v1/instances', 'instances.list'],
  ['createInstance', 'POST /v1/instances', 'instances.create'],
  ['getInstance', 'GET /v1/instances/{instance}', 'instances.get'],
  ['updateInstance', 'PATCH /v1/instances/{instance}', 'instances.update'],
  ['deleteInstance', 'DELETE /v1/instances/{instance}', 'instances.delete'],
  ['undeleteInstance', 'POST /v1/instances/{instance}:undelete', 'instances.undelete'],
  ['testConnection', 'POST /v1/instances/{instance}:testConnection', 'instances.testConnection'],
  ['syncInstance', 'POST /v1/instances/{instance}:sync', 'instances.sync'],
  ['listInstanceDatabases', 'GET /v1/instances/{instance}/databases', 'databases.list'],
  ['getDatabase', 'GET /v1/instances/{instance}/databases/{database}', 'databases.get'],
  ['updateDatabase', 'PATCH /v1/instances/{instance}/databases/{database}', 'databases.update'],
  ['listProjectDatabases', 'GET /v1/projects/{project}/databases', 'databases.list'],
  ['listChangeHistories', 'GET /v1/instances/{instance}/databases/{database}/changeHistories', 'databases.get'],
  ['getChangeHistory', 'GET /v1/instances/{instance}/databases/{database}/changeHistories/{changeHistory}', 'databases.get'],

  // Schemas and long-running operations (issue 13)
  ['getOperation', 'GET /v1/operations/{operation}', 'instances.get'],
  ['getDatabaseSchema', 'GET /v1/instances/{instance}/databases/{database}/schema', 'databases.get'],
  ['diffSchema', 'POST /v1/instances/{instance}/databases/{database}:diffSchema', 'databases.get'],
  ['getDatabaseDrift', 'GET /v1/instances/{instance}/databases/{database}/drift', 'databases.get'],
  ['acceptDrift', 'POST /v1/instances/{instance}/databases/{database}:acceptDrift', 'databases.update'],
  ['checkConsistency', 'GET /v1/projects/{project}/databaseGroups/{databaseGroup}:checkConsistency', 'databaseGroups.get'],

  // Projects and members
  ['listProjects', 'GET /v1/projects', 'projects.list'],
  ['createProject', 'POST /v1/projects', 'projects.create'],
  ['getProject', 'GET /v1/projects/{project}', 'projects.get'],
  ['updateProject', 'PATCH /v1/projects/{project}', 'projects.update'],
  ['deleteProject', 'DELETE /v1/projects/{project}', 'projects.delete'],
  ['undeleteProject', 'POST /v1/projects/{project}:undelete', 'projects.undelete'],
  ['getIamPolicy', 'GET /v1/projects/{project}:getIamPolicy', 'projects.getIamPolicy'],
  ['setIamPolicy', 'POST /v1/projects/{project}:setIamPolicy', 'projects.setIamPolicy'],

  // Issues and their pipelines: approving and rejecting need issues.approve; retrying and skipping issues.runTask
  ['listIssues', 'GET /v1/projects/{project}/issues', 'issues.list'],
  ['createIssue', 'POST /v1/projects/{project}/issues', 'issues.create'],
  ['getIssue', 'GET /v1/projects/{project}/issues/{issue}', 'issues.get'],
  ['updateIssue', 'PATCH /v1/projects/{project}/issues/{issue}', 'issues.update'],
  ['cancelIssue', 'POST /v1/projects/{project}/issues/{issue}:cancel', 'issues.cancel'],
  ['approveStage', 'POST /v1/projects/{project}/issues/{issue}/stages/{stage}:approve', 'issues.approve'],
  ['rejectStage', 'POST /v1/projects/{project}/issues/{issue}/stages/{stage}:reject', 'issues.approve'],
  // The creator may too, whatever their role (domain/pipeline/approvals.ts).
  ['requestApproval', 'POST /v1/projects/{project}/issues/{issue}/stages/{stage}:requestApproval', 'issues.update'],
  ['runTask', 'POST /v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}:run', 'issues.runTask'],
  ['skipTask', 'POST /v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}:skip', 'issues.runTask'],
  ['listTasks', 'GET /v1/projects/{project}/issues/{issue}/stages/{stage}/tasks', 'issues.get'],
  ['listTaskRuns', 'GET /v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}/taskRuns', 'issues.get'],
  ['getTaskRun', 'GET /v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}/taskRuns/{taskRun}', 'issues.get'],
  ['listActivities', 'GET /v1/projects/{project}/issues/{issue}/activities', 'issues.get'],
  // Prior backup: seeing the restore statement is reading the issue; a rollback creates an issue.
  ['previewRollback', 'POST /v1/projects/{project}/issues/{issue}/stages/{stage}/tasks/{task}/taskRuns/{taskRun}:previewRollback', 'issues.get'],
  ['rollbackIssue', 'POST /v1/projects/{project}/issues/{issue}:rollback', 'issues.create'],
  // Plan checks (issue 12): anyone who sees the issue reads them; only workspaceAdmin/DBA override an ERROR.
  ['overrideChecks', 'POST /v1/projects/{project}/issues/{issue}:overrideChecks', 'issues.overrideChecks'],
  ['listPlanCheckRuns', 'GET /v1/projects/{project}/issues/{issue}/planCheckRuns', 'issues.get'],

  // Sheets and the SQL editor
  ['listSheets', 'GET /v1/projects/{project}/sheets', 'sheets.list'],
  ['createSheet', 'POST /v1/projects/{project}/sheets', 'sheets.create'],
  ['getSheet', 'GET /v1/projects/{project}/sheets/{sheet}', 'sheets.get'],
  ['updateSheet', 'PATCH /v1/projects/{project}/sheets/{sheet}', 'sheets.update'],
  ['deleteSheet', 'DELETE /v1/projects/{project}/sheets/{sheet}', 'sheets.delete'],
  ['runSheet', 'POST /v1/projects/{project}/sheets/{sheet}:run', 'sql.query'],
  ['queryDatabase', 'POST /v1/instances/{instance}/databases/{database}:query', 'sql.query'],

  // Database groups and table groups
  ['listDatabaseGroups', 'GET /v1/projects/{project}/databaseGroups', 'databaseGroups.list'],
  ['createDatabaseGroup', 'POST /v1/projects/{project}/databaseGroups', 'databaseGroups.create'],
  ['getDatabaseGroup', 'GET /v1/projects/{project}/databaseGroups/{databaseGroup}', 'databaseGroups.get'],
  ['updateDatabaseGroup', 'PATCH /v1/projects/{project}/databaseGroups/{databaseGroup}', 'databaseGroups.update'],
  ['deleteDatabaseGroup', 'DELETE /v1/projects/{project}/databaseGroups/{databaseGroup}', 'databaseGroups.delete'],
  ['listTableGroups', 'GET /v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups', 'databaseGroups.list'],
  ['createTableGroup', 'POST /v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups', 'databaseGroups.create'],
  ['getTableGroup', 'GET /v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups/{tableGroup}', 'databaseGroups.get'],
  ['updateTableGroup', 'PATCH /v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups/{tableGroup}', 'databaseGroups.update'],
  ['deleteTableGroup', 'DELETE /v1/projects/{project}/databaseGroups/{databaseGroup}/tableGroups/{tableGroup}', 'databaseGroups.delete'],

  // GitOps: the connector; the webhook is public (its signature authenticates it)
  ['getVcsConnector', 'GET /v1/projects/{project}/vcsConnector', 'vcsConnectors.get'],
  ['putVcsConnector', 'PUT /v1/projects/{project}/vcsConnector', 'vcsConnectors.update'],
  ['deleteVcsConnector', 'DELETE /v1/projects/{project}/vcsConnector', 'vcsConnectors.update'],
  ['receiveVcsWebhook', 'POST /v1/hooks/vcs/{project}', PUBLIC],

  // The audit log: workspaceAdmin and workspaceDBA only (API.md, Approval flows, notifications, audit)
  ['listWebhooks', 'GET /v1/projects/{project}/webhooks', 'webhooks.get'],
  ['createWebhook', 'POST /v1/projects/{project}/webhooks', 'webhooks.update'],
  ['getWebhook', 'GET /v1/projects/{project}/webhooks/{webhook}', 'webhooks.get'],
  ['updateWebhook', 'PATCH /v1/projects/{project}/webhooks/{webhook}', 'webhooks.update'],
  ['deleteWebhook', 'DELETE /v1/projects/{project}/webhooks/{webhook}', 'webhooks.update'],
  ['testWebhook', 'POST /v1/projects/{project}/webhooks/{webhook}:test', 'webhooks.update'],
  ['listWebhookDeliveries', 'GET /v1/projects/{project}/webhooks/{webhook}/deliveries', 'webhooks.get'],
  // SQL review (issue 12): every signed-in user reads the catalog and the configs and may check a
  // statement; workspaceAdmin and workspaceDBA manage configs.
  ['listReviewRules', 'GET /v1/reviewRules', 'reviewRules.list'],
  ['listReviewConfigs', 'GET /v1/reviewConfigs', 'reviewConfigs.list'],
  ['createReviewConfig', 'POST /v1/reviewConfigs', 'reviewConfigs.create'],
  ['getReviewConfig', 'GET /v1/reviewConfigs/{reviewConfig}', 'reviewConfigs.get'],
  ['updateReviewConfig', 'PATCH /v1/reviewConfigs/{reviewConfig}', 'reviewConfigs.update'],
  ['deleteReviewConfig', 'DELETE /v1/reviewConfigs/{reviewConfig}', 'reviewConfigs.delete'],
  ['checkSql', 'POST /v1/sql:check', 'sql.check'],
  ['listAuditLogs', 'GET /v1/auditLogs', 'auditLogs.list'],
];

const key = (operation: string, route: string): string => `${operation} ${route}`;
const pinned = new Map(PINNED.map(([operation, route, permission]) => [key(operation, route), permission]));

describe('the permission of every route, pinned', () => {
  it('pins each row once', () => {
    // Act & Assess
    expect(pinned.size).toBe(PINNED.length);
  });

  it('the route table requires exactly the pinned permission on every route, with none missing or extra', () => {
    // Prepare
    const actual = new Map(ROUTES.map((r) => [key(r.operation, `${r.method} ${r.path}`), r.permission as string | null]));

    // Act
    const missing = [...actual.keys()].filter((k) => !pinned.has(k));
    const extra = [...pinned.keys()].filter((k) => !actual.has(k));
    const relabelled = [...actual].filter(([k, p]) => pinned.has(k) && pinned.get(k) !== p).map(([k, p]) => `${k}: ${String(p)}, pinned ${String(pinned.get(k))}`);

    // Assess
    expect(missing, 'routes with no row here').toEqual([]);
    expect(extra, 'rows for routes the table no longer has').toEqual([]);
    expect(relabelled, 'routes whose permission changed').toEqual([]);
  });

  it('the OpenAPI document publishes the same permission (or no security) for every operation', () => {
    // Prepare
    type Op = { operationId: string; 'x-sluice-permission'?: string; security?: unknown[] };
    const paths = buildOpenApi().paths as Record<string, Record<string, Op>>;

    // Act
    const published = new Map(
      Object.entries(paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => [
          key(op.operationId, `${method.toUpperCase()} ${path}`),
          op['x-sluice-permission'] ?? (op.security?.length === 0 ? PUBLIC : 'unstated'),
        ]),
      ),
    );

    // Assess
    expect(Object.fromEntries(published)).toEqual(Object.fromEntries(pinned));
  });
});
