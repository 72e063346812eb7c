// The one role table: every permission a route can require, and which roles hold it.
// Project roles join this table with the inventory issue; routes name exactly one permission.

export const WORKSPACE_ROLES = ['workspaceAdmin', 'workspaceDBA', 'workspaceMember'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

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
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const READ: Permission[] = ['workspace.get', 'users.list', 'users.get', 'environments.list', 'environments.get'];
const MANAGE_ENVIRONMENTS: Permission[] = [
  'environments.create',
  'environments.update',
  'environments.delete',
  'environments.undelete',
  'environments.reorder',
];
const MANAGE_USERS: Permission[] = ['users.create', 'users.update', 'users.delete', 'users.undelete'];

export const ROLE_PERMISSIONS: Readonly<Record<WorkspaceRole, ReadonlySet<Permission>>> = {
  workspaceAdmin: new Set([...READ, ...MANAGE_ENVIRONMENTS, ...MANAGE_USERS, 'workspace.update']),
  workspaceDBA: new Set([...READ, ...MANAGE_ENVIRONMENTS]),
  workspaceMember: new Set(READ),
};

export const roleHas = (role: WorkspaceRole, permission: Permission): boolean =>
  ROLE_PERMISSIONS[role].has(permission);
