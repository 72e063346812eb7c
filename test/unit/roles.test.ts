import { describe, expect, it } from 'vitest';
import { PERMISSIONS, WORKSPACE_ROLES, roleHas, type Permission } from '../../domain/roles.js';

const READ: Permission[] = ['workspace.get', 'users.list', 'users.get', 'environments.list', 'environments.get'];
const MANAGE_ENVIRONMENTS: Permission[] = ['environments.create', 'environments.update', 'environments.delete', 'environments.undelete', 'environments.reorder'];
const MANAGE_USERS: Permission[] = ['users.create', 'users.update', 'users.delete', 'users.undelete'];

describe('role table', () => {
  it('has no permission outside reading, managing environments, managing users and updating the workspace', () => {
    // Act & Assess
    expect([...PERMISSIONS].sort()).toEqual([...READ, ...MANAGE_ENVIRONMENTS, ...MANAGE_USERS, 'workspace.update'].sort());
  });

  it.each(WORKSPACE_ROLES)('lets a %s read the workspace, users and environments', (role) => {
    // Act
    const missing = READ.filter((p) => !roleHas(role, p));

    // Assess
    expect(missing).toEqual([]);
  });

  it('lets a workspaceMember manage nothing', () => {
    // Act
    const granted = PERMISSIONS.filter((p) => !READ.includes(p) && roleHas('workspaceMember', p));

    // Assess
    expect(granted).toEqual([]);
  });

  it('lets a workspaceDBA manage environments but not users or the workspace', () => {
    // Act
    const granted = PERMISSIONS.filter((p) => roleHas('workspaceDBA', p));

    // Assess
    expect(granted.sort()).toEqual([...READ, ...MANAGE_ENVIRONMENTS].sort());
  });

  it('gives a workspaceAdmin every permission', () => {
    // Act
    const missing = PERMISSIONS.filter((p) => !roleHas('workspaceAdmin', p));

    // Assess
    expect(missing).toEqual([]);
  });
});
