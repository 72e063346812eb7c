// Ports: what the domain needs from storage. Adapters implement them; tests may too.
import type { ListOptions, Page } from './common.js';
import type { Environment } from './environments.js';
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

export interface EnvironmentRepo {
  get(id: string): Promise<Environment | undefined>;
  /** Every environment, deleted ones included; there are few and order needs them all. */
  listAll(): Promise<Environment[]>;
  /** Writes `created` (unique id) and `shifted` (version-checked) in one transaction. */
  create(created: Omit<Environment, 'version'>, shifted: Environment[]): Promise<Environment>;
  /** Writes every environment, each conditional on its version, in one transaction. */
  updateMany(next: Environment[]): Promise<Environment[]>;
}

export interface Repos {
  workspace: WorkspaceRepo;
  users: UserRepo;
  environments: EnvironmentRepo;
}

export interface Deps extends Repos {
  now(): Date;
}

/** A stored answer to a create, replayed for a retry with the same Idempotency-Key. */
export interface StoredResponse {
  statusCode: number;
  body: string;
}

export type IdempotencyRecord =
  | { state: 'IN_PROGRESS'; requestHash: string }
  | { state: 'COMPLETED'; requestHash: string; response: StoredResponse };

export interface IdempotencyRepo {
  /** Claims the key; returns the existing record instead when someone holds it already. */
  claim(scope: string, requestHash: string, expiresAt: Date): Promise<IdempotencyRecord | undefined>;
  complete(scope: string, requestHash: string, response: StoredResponse, expiresAt: Date): Promise<void>;
  release(scope: string): Promise<void>;
}

export interface ConfigRepo {
  /** The HMAC key for page tokens; created once by the seed. */
  pageTokenKey(): Promise<Buffer>;
}
