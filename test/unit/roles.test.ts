import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS, PROJECT_ROLES, PROJECT_ROLE_PERMISSIONS, PROJECT_SCOPED, WORKSPACE_ROLES, projectRolesHave, roleHas, type Permission } from '../../domain/access/roles.js';

// SQL review's catalog, configs and sql:check are readable by every signed-in user (issue 12).
const READ: Permission[] = ['workspace.get', 'users.list', 'users.get', 'environments.list', 'environments.get', 'approvalRules.get', 'reviewRules.list', 'reviewConfigs.list', 'reviewConfigs.get', 'sql.check'];
const MANAGE_USERS: Permission[] = ['users.create', 'users.update', 'users.delete', 'users.undelete'];
const PROJECT_READ: Permission[] = ['projects.get', 'databases.list', 'databases.get'];
const PROJECT_MANAGE: Permission[] = ['projects.update', 'projects.delete', 'projects.undelete', 'projects.setIamPolicy', 'databases.update'];
const ISSUE_READ: Permission[] = ['issues.list', 'issues.get'];
const ISSUE_WRITE: Permission[] = ['issues.create', 'issues.update', 'issues.cancel'];
const ISSUE_RELEASE: Permission[] = ['issues.approve', 'issues.runTask'];
const GROUP_READ: Permission[] = ['databaseGroups.list', 'databaseGroups.get'];
const GROUP_WRITE: Permission[] = ['databaseGroups.create', 'databaseGroups.update', 'databaseGroups.delete'];
const SHEET_READ: Permission[] = ['sheets.list', 'sheets.get'];
const SHEET_WRITE: Permission[] = ['sheets.create', 'sheets.update', 'sheets.delete'];
const VCS_READ: Permission[] = ['vcsConnectors.get'];
const VCS_WRITE: Permission[] = ['vcsConnectors.update'];
const HOOK_READ: Permission[] = ['webhooks.get'];
const HOOK_WRITE: Permission[] = ['webhooks.update'];

const granted = (role: (typeof PROJECT_ROLES)[number]) => [...PROJECT_ROLE_PERMISSIONS[role]].sort();

describe('workspace roles', () => {
  it.each(WORKSPACE_ROLES)('lets a %s read the workspace, users and environments', (role) => {
    // Act
    const missing = READ.filter((p) => !roleHas(role, p));

    // Assess
    expect(missing).toEqual([]);
  });

  it('lets a workspaceMember only read, list the projects it can see and start its own', () => {
    // Act
    const extra = PERMISSIONS.filter((p) => !READ.includes(p) && roleHas('workspaceMember', p));

    // Assess
    expect(extra).toEqual(['projects.list', 'projects.create']);
  });

  it('lets a workspaceDBA do everything but manage users, update the workspace or its approval rules and change a GitOps connector', () => {
    // Act
    const withheld = PERMISSIONS.filter((p) => !roleHas('workspaceDBA', p));

    // Assess (issue 7: only a projectOwner or a workspaceAdmin may change the connector; issue 15:
    // approval rules decide who signs off on a DBA's own changes, so only an admin writes them)
    expect(withheld.sort()).toEqual([...MANAGE_USERS, 'workspace.update', 'approvalRules.update', ...VCS_WRITE].sort());
  });

  it('gives a workspaceAdmin every permission', () => {
    // Act
    const missing = PERMISSIONS.filter((p) => !roleHas('workspaceAdmin', p));

    // Assess
    expect(missing).toEqual([]);
  });
});

describe('project roles', () => {
  it('grant only permissions about a project, its databases and its issues', () => {
    // Act
    const scoped = [...PROJECT_SCOPED];

    // Assess
    expect(scoped.filter((p) => !/^(projects|databases|issues|databaseGroups|sheets|sql|vcsConnectors|webhooks)\./.test(p))).toEqual([]);
    expect(scoped).not.toContain('projects.list');
    expect(scoped).not.toContain('projects.create');
  });

  it('let a projectOwner read and manage its project, members and issues included', () => {
    // Assess
    expect(granted('projectOwner')).toEqual([...PROJECT_READ, 'projects.getIamPolicy', ...PROJECT_MANAGE, ...ISSUE_READ, ...ISSUE_WRITE, ...ISSUE_RELEASE, ...GROUP_READ, ...GROUP_WRITE, ...SHEET_READ, ...SHEET_WRITE, 'sql.query', ...VCS_READ, ...VCS_WRITE, ...HOOK_READ, ...HOOK_WRITE].sort());
  });

  it('let a projectDeveloper write issues but not approve or drive them (API.md)', () => {
    // Assess
    expect(granted('projectDeveloper')).toEqual([...PROJECT_READ, 'projects.getIamPolicy', ...ISSUE_READ, ...ISSUE_WRITE, ...GROUP_READ, ...SHEET_READ, ...SHEET_WRITE, 'sql.query', ...VCS_READ, ...HOOK_READ].sort());
  });

  it('let a projectReleaser approve stages and retry or skip tasks, but not write issues', () => {
    // Assess
    expect(granted('projectReleaser')).toEqual([...PROJECT_READ, 'projects.getIamPolicy', ...ISSUE_READ, ...ISSUE_RELEASE, ...GROUP_READ, ...SHEET_READ, ...VCS_READ, ...HOOK_READ].sort());
  });

  it('let a projectViewer read the project, its databases, members and issues, and change nothing', () => {
    // Assess
    expect(granted('projectViewer')).toEqual([...PROJECT_READ, 'projects.getIamPolicy', ...ISSUE_READ, ...GROUP_READ, ...SHEET_READ, ...VCS_READ, ...HOOK_READ].sort());
  });

  it('let an sqlEditorUser read the project and its databases, but not its members', () => {
    // Assess
    expect(granted('sqlEditorUser')).toEqual([...PROJECT_READ, ...SHEET_READ, ...SHEET_WRITE, 'sql.query'].sort());
  });

  it('add up: any one of several roles is enough', () => {
    // Act & Assess
    expect(projectRolesHave(['sqlEditorUser'], 'projects.getIamPolicy')).toBe(false);
    expect(projectRolesHave(['sqlEditorUser', 'projectViewer'], 'projects.getIamPolicy')).toBe(true);
    expect(projectRolesHave([], 'projects.get')).toBe(false);
  });
});

describe('the README', () => {
  it('shows the role table as it is', () => {
    // Prepare
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Roles'), readme.indexOf('\n## ', readme.indexOf('## Roles') + 1));
    const [header, , ...rows] = section.split('\n').filter((l) => l.startsWith('|'));
    const columns = header!.split('|').slice(2, -1).map((c) => c.trim());
    const covered = new Set<Permission>();

    // Act
    const wrong: string[] = [];
    for (const row of rows) {
      const cells = row.split('|').slice(1, -1).map((c) => c.trim());
      const named = [...cells[0]!.matchAll(/`([a-zA-Z]+\.(?:\*|[a-zA-Z]+))`/g)].map((m) => m[1]!);
      const permissions = PERMISSIONS.filter((p) => named.some((n) => n === p || (n.endsWith('.*') && p.startsWith(n.slice(0, -1)))));
      for (const p of permissions) {
        covered.add(p);
        columns.forEach((role, i) => {
          const holds = (WORKSPACE_ROLES as readonly string[]).includes(role)
            ? roleHas(role as (typeof WORKSPACE_ROLES)[number], p)
            : PROJECT_ROLE_PERMISSIONS[role as (typeof PROJECT_ROLES)[number]].has(p);
          if (holds !== (cells[i + 1] === '✓')) wrong.push(`${p} × ${role}`);
        });
      }
    }

    // Assess
    expect(columns).toEqual([...WORKSPACE_ROLES, ...PROJECT_ROLES]);
    expect(wrong).toEqual([]);
    expect(PERMISSIONS.filter((p) => !covered.has(p))).toEqual([]);
  });
});
