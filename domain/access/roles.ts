// The one role table: every permission a route can require, and which roles hold it.
// Workspace roles hold permissions everywhere; project roles hold them inside their project.

export const WORKSPACE_ROLES = ['workspaceAdmin', 'workspaceDBA', 'workspaceMember'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

export const PROJECT_ROLES = ['projectOwner', 'projectDeveloper', 'projectReleaser', 'projectViewer', 'sqlEditorUser'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

export const PERMISSIONS = [
  'workspace.get',
  'workspace.update',
  'users.list',
  'users.get',
  'users.create',
  'users.update',
  'users.delete',
  'users.undelete',
  'environments.list',
  'environments.get',
  'environments.create',
  'environments.update',
  'environments.delete',
  'environments.undelete',
  'environments.reorder',
  'instances.list',
  'instances.get',
  'instances.create',
  'instances.update',
  'instances.delete',
  'instances.undelete',
  'instances.testConnection',
  'instances.sync',
  'databases.list',
  'databases.get',
  'databases.update',
  'projects.list',
  'projects.create',
  'projects.get',
  'projects.update',
  'projects.delete',
  'projects.undelete',
  'projects.getIamPolicy',
  'projects.setIamPolicy',
  'issues.list',
  'issues.get',
  'issues.create',
  'issues.update',
  'issues.cancel',
  'issues.approve',
  'issues.runTask',
  'sheets.list',
  'sheets.get',
  'sheets.create',
  'sheets.update',
  'sheets.delete',
  'sql.query',
  'databaseGroups.list',
  'databaseGroups.get',
  'databaseGroups.create',
  'databaseGroups.update',
  'databaseGroups.delete',
  'vcsConnectors.get',
  'vcsConnectors.update',
  'webhooks.get',
  'webhooks.update',
  'approvalRules.get',
  'approvalRules.update',
  'auditLogs.list',
  'reviewRules.list',
  'reviewConfigs.list',
  'reviewConfigs.get',
  'reviewConfigs.create',
  'reviewConfigs.update',
  'reviewConfigs.delete',
  'sql.check',
  'issues.overrideChecks',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** SQL review: every signed-in user reads the catalog and the configs and checks statements (a database's check needs databases.get in its project). */
const REVIEW_READ: Permission[] = ['reviewRules.list', 'reviewConfigs.list', 'reviewConfigs.get', 'sql.check'];
/** Every signed-in user reads the workspace's settings, its approval rules included. */
const READ: Permission[] = ['workspace.get', 'users.list', 'users.get', 'environments.list', 'environments.get', 'approvalRules.get', ...REVIEW_READ];
const MANAGE_USERS: Permission[] = ['users.create', 'users.update', 'users.delete', 'users.undelete'];
const PROJECT_READ: Permission[] = ['projects.get', 'projects.getIamPolicy', 'databases.list', 'databases.get'];
const PROJECT_MANAGE: Permission[] = ['projects.update', 'projects.delete', 'projects.undelete', 'projects.setIamPolicy', 'databases.update'];
/** Every member may list projects (filtered to its own) and start a project of its own. */
const PROJECT_ENTRY: Permission[] = ['projects.list', 'projects.create'];
const ISSUE_READ: Permission[] = ['issues.list', 'issues.get'];
/** Developers write changes; releasers approve and drive them (API.md: approve, :run, :skip). */
const ISSUE_WRITE: Permission[] = ['issues.create', 'issues.update', 'issues.cancel'];
const ISSUE_RELEASE: Permission[] = ['issues.approve', 'issues.runTask'];
/** Who may see a sheet also depends on its visibility (domain/sheets/sheets.ts). */
const SHEET_READ: Permission[] = ['sheets.list', 'sheets.get'];
const SHEET_WRITE: Permission[] = ['sheets.create', 'sheets.update', 'sheets.delete'];
const GROUP_READ: Permission[] = ['databaseGroups.list', 'databaseGroups.get'];
const GROUP_WRITE: Permission[] = ['databaseGroups.create', 'databaseGroups.update', 'databaseGroups.delete'];
/** GitOps (issue 7): only a projectOwner or a workspaceAdmin may change the connector; its secrets are never readable. */
const VCS_READ: Permission[] = ['vcsConnectors.get'];
const VCS_WRITE: Permission[] = ['vcsConnectors.update'];
/** Project webhooks: members see them (never their URL or secret); owners, DBAs and admins change them. */
const WEBHOOK_READ: Permission[] = ['webhooks.get'];
const WEBHOOK_WRITE: Permission[] = ['webhooks.update'];

export const ROLE_PERMISSIONS: Readonly<Record<WorkspaceRole, ReadonlySet<Permission>>> = {
  workspaceAdmin: new Set(PERMISSIONS),
  // Approval rules decide who must sign off on a DBA's own changes: only an admin writes them.
  workspaceDBA: new Set(PERMISSIONS.filter((p) => !MANAGE_USERS.includes(p) && p !== 'workspace.update' && p !== 'approvalRules.update' && !VCS_WRITE.includes(p))),
  workspaceMember: new Set([...READ, ...PROJECT_ENTRY]),
};

export const PROJECT_ROLE_PERMISSIONS: Readonly<Record<ProjectRole, ReadonlySet<Permission>>> = {
  projectOwner: new Set([...PROJECT_READ, ...PROJECT_MANAGE, ...ISSUE_READ, ...ISSUE_WRITE, ...ISSUE_RELEASE, ...SHEET_READ, ...SHEET_WRITE, 'sql.query', ...GROUP_READ, ...GROUP_WRITE, ...VCS_READ, ...VCS_WRITE, ...WEBHOOK_READ, ...WEBHOOK_WRITE]),
  projectDeveloper: new Set([...PROJECT_READ, ...ISSUE_READ, ...ISSUE_WRITE, ...SHEET_READ, ...SHEET_WRITE, 'sql.query', ...GROUP_READ, ...VCS_READ, ...WEBHOOK_READ]),
  projectReleaser: new Set([...PROJECT_READ, ...ISSUE_READ, ...ISSUE_RELEASE, ...SHEET_READ, ...GROUP_READ, ...VCS_READ, ...WEBHOOK_READ]),
  projectViewer: new Set([...PROJECT_READ, ...ISSUE_READ, ...SHEET_READ, ...GROUP_READ, ...VCS_READ, ...WEBHOOK_READ]),
  sqlEditorUser: new Set(['projects.get', 'databases.list', 'databases.get', ...SHEET_READ, ...SHEET_WRITE, 'sql.query']),
};

export const roleHas = (role: WorkspaceRole, permission: Permission): boolean => ROLE_PERMISSIONS[role].has(permission);

/** Permissions some project role grants: a route needing one is decided per project. */
export const PROJECT_SCOPED: ReadonlySet<Permission> = new Set(
  Object.values(PROJECT_ROLE_PERMISSIONS).flatMap((s) => [...s]),
);

export const projectRolesHave = (roles: readonly ProjectRole[], permission: Permission): boolean =>
  roles.some((r) => PROJECT_ROLE_PERMISSIONS[r].has(permission));
