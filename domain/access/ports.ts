// The access context's storage ports.
import type { ListOptions, Page } from '../common/values.js';
import type { User } from './users.js';
import type { Workspace } from './workspace.js';

export interface WorkspaceRepo {
  get(): Promise<Workspace | undefined>;
  /** Conditional on `expectedVersion`; throws ConcurrentModificationError on a lost race. */
  update(next: Workspace, expectedVersion: number): Promise<Workspace>;
}

export interface UserRepo {
  get(id: number): Promise<User | undefined>;
  getByEmail(email: string): Promise<User | undefined>;
  list(options: ListOptions): Promise<Page<User>>;
  /** Allocates the next id; AlreadyExistsError when the email is taken. */
  create(user: Omit<User, 'id' | 'version'>): Promise<User>;
  update(next: User, expectedVersion: number): Promise<User>;
  countActiveAdmins(): Promise<number>;
}

/** What user and workspace services need. */
export interface AccessDeps {
  workspace: WorkspaceRepo;
  users: UserRepo;
  now(): Date;
}
