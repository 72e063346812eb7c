// Who may do what where: workspace roles grant a permission everywhere, project roles inside
// their project. A caller who may not even see a project gets 404 for anything in it, never 403.
import { NotFoundError, PermissionDeniedError } from '../common/errors.js';
import { projectName, userName } from '../common/names.js';
import { projectRolesHave, roleHas, type Permission, type ProjectRole } from './roles.js';
import type { User } from './users.js';

export interface Binding {
  role: ProjectRole;
  /** User names, `users/3`. */
  members: string[];
}

/** What access decisions need of a project: its id and role bindings. */
export interface PolicyHolder {
  id: string;
  bindings: Binding[];
}

export class Access {
  readonly member: string;
  constructor(readonly user: User) {
    this.member = userName(user.id);
  }

  /** The caller's workspace role grants `permission` everywhere. */
  global(permission: Permission): boolean {
    return roleHas(this.user.role, permission);
  }

  rolesIn(project: PolicyHolder): ProjectRole[] {
    return project.bindings.filter((b) => b.members.includes(this.member)).map((b) => b.role);
  }

  canSee(project: PolicyHolder): boolean {
    return this.global('projects.get') || this.rolesIn(project).length > 0;
  }

  can(permission: Permission, project: PolicyHolder): boolean {
    return this.global(permission) || projectRolesHave(this.rolesIn(project), permission);
  }

  /**
   * Allows `permission` on something in `project`, or throws: 404 naming `resource` when the
   * caller cannot see the project at all, 403 naming the permission when it can.
   */
  require(permission: Permission, project: PolicyHolder, resource: string = projectName(project.id)): void {
    if (this.can(permission, project)) return;
    if (!this.canSee(project)) throw new NotFoundError(resource);
    throw new PermissionDeniedError(`${this.member} lacks ${permission} in ${projectName(project.id)}`, permission);
  }
}
