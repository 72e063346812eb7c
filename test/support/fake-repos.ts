// In-memory implementations of the domain's ports, for unit tests of domain rules only.
// They keep the ports' contracts (unique ids, version checks) so that the domain's logic,
// not the fake, decides each outcome.
import type { ListOptions, Page } from '../../domain/common/values.js';
import type { Environment } from '../../domain/inventory/environments.js';
import { AlreadyExistsError, ConcurrentModificationError } from '../../domain/common/errors.js';
import type { Deps, EnvironmentRepo } from '../../domain/inventory/ports.js';
import type { UserRepo, WorkspaceRepo } from '../../domain/access/ports.js';
import { DEFAULT_PROJECT, type Project, type ProjectRepo } from '../../domain/inventory/projects.js';
import { systemBot, type User } from '../../domain/access/users.js';
import { FakeDatabases, FakeInstances } from './fake-inventory.js';
import { newWorkspace, type Workspace } from '../../domain/access/workspace.js';

export const T0 = new Date('2026-01-01T00:00:00Z');

export class FakeEnvironments implements EnvironmentRepo {
  readonly rows = new Map<string, Environment>();
  writes = 0;

  constructor(seed: Omit<Environment, 'version' | 'state' | 'createTime' | 'updateTime'>[] = []) {
    for (const e of seed) this.rows.set(e.id, { ...e, state: 'ACTIVE', createTime: T0.toISOString(), updateTime: T0.toISOString(), version: 1 });
  }

  get = async (id: string) => structuredClone(this.rows.get(id));
  listAll = async () => [...this.rows.values()].map((e) => structuredClone(e));

  async create(created: Omit<Environment, 'version'>, shifted: Environment[]): Promise<Environment> {
    if (this.rows.has(created.id)) throw new AlreadyExistsError(`environments/${created.id}`);
    this.check(shifted);
    this.writes++;
    const env = { ...created, version: 1 };
    this.rows.set(env.id, env);
    for (const e of shifted) this.rows.set(e.id, { ...e, version: e.version + 1 });
    return structuredClone(env);
  }

  async updateMany(next: Environment[]): Promise<Environment[]> {
    this.check(next);
    this.writes++;
    for (const e of next) this.rows.set(e.id, { ...e, version: e.version + 1 });
    return next.map((e) => ({ ...e, version: e.version + 1 }));
  }

  private check(next: Environment[]): void {
    for (const e of next) if (this.rows.get(e.id)?.version !== e.version) throw new ConcurrentModificationError(`environments/${e.id}`);
  }

  /** Active ids in pipeline order, by the stored `order`. */
  activeIds(): string[] {
    return [...this.rows.values()].filter((e) => e.state === 'ACTIVE').sort((a, b) => a.order - b.order || a.id.localeCompare(b.id)).map((e) => e.id);
  }
}

export class FakeUsers implements UserRepo {
  readonly rows = new Map<number, User>();
  writes = 0;
  private next = 2;

  constructor() {
    this.rows.set(1, systemBot(T0));
  }

  add(user: Pick<User, 'email' | 'role'> & Partial<User>): User {
    const t = T0.toISOString();
    const u: User = { id: this.next++, title: user.email, userType: 'USER', state: 'ACTIVE', createTime: t, updateTime: t, version: 1, ...user };
    this.rows.set(u.id, u);
    return u;
  }

  get = async (id: number) => structuredClone(this.rows.get(id));
  getByEmail = async (email: string) => structuredClone([...this.rows.values()].find((u) => u.email === email));
  list = async (_options: ListOptions): Promise<Page<User>> => ({ items: [...this.rows.values()] });

  async create(user: Omit<User, 'id' | 'version'>): Promise<User> {
    if (await this.getByEmail(user.email)) throw new AlreadyExistsError(`user with email ${user.email}`);
    this.writes++;
    return this.add(user);
  }

  async update(next: User, expectedVersion: number): Promise<User> {
    if (this.rows.get(next.id)?.version !== expectedVersion) throw new ConcurrentModificationError(`users/${next.id}`);
    this.writes++;
    const written = { ...next, version: expectedVersion + 1 };
    this.rows.set(next.id, written);
    return structuredClone(written);
  }

  countActiveAdmins = async () =>
    [...this.rows.values()].filter((u) => u.role === 'workspaceAdmin' && u.state === 'ACTIVE' && u.userType === 'USER').length;
}

export class FakeWorkspace implements WorkspaceRepo {
  row: Workspace = { ...newWorkspace(T0), version: 1 };
  get = async () => structuredClone(this.row);
  async update(next: Workspace, expectedVersion: number): Promise<Workspace> {
    if (this.row.version !== expectedVersion) throw new ConcurrentModificationError('workspace');
    this.row = { ...next, version: expectedVersion + 1 };
    return structuredClone(this.row);
  }
}

/** Starts, like the seed, with the `default` project and no bindings in it. */
export class FakeProjects implements ProjectRepo {
  readonly rows = new Map<string, Project>();
  writes = 0;

  constructor() {
    const t = T0.toISOString();
    this.rows.set(DEFAULT_PROJECT, { id: DEFAULT_PROJECT, title: 'Default project', state: 'ACTIVE', bindings: [], createTime: t, updateTime: t, version: 1 });
  }

  get = async (id: string) => structuredClone(this.rows.get(id));
  listAll = async () => [...this.rows.values()].map((p) => structuredClone(p));

  async create(project: Omit<Project, 'version'>): Promise<Project> {
    if (this.rows.has(project.id)) throw new AlreadyExistsError(`projects/${project.id}`);
    this.writes++;
    const created = { ...structuredClone(project), version: 1 };
    this.rows.set(project.id, created);
    return structuredClone(created);
  }

  async update(next: Project, expectedVersion: number): Promise<Project> {
    if (this.rows.get(next.id)?.version !== expectedVersion) throw new ConcurrentModificationError(`projects/${next.id}`);
    this.writes++;
    const written = { ...structuredClone(next), version: expectedVersion + 1 };
    this.rows.set(next.id, written);
    return structuredClone(written);
  }
}

export function fakeDeps(
  environments = new FakeEnvironments(),
  users = new FakeUsers(),
  projects = new FakeProjects(),
): Deps & { environments: FakeEnvironments; users: FakeUsers; projects: FakeProjects } {
  let tick = 0;
  return {
    workspace: new FakeWorkspace(),
    users,
    environments,
    projects,
    instances: new FakeInstances(),
    databases: new FakeDatabases(),
    // Every call a second later, so updateTime visibly moves.
    now: () => new Date(T0.getTime() + ++tick * 1000),
  };
}
