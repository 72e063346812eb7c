// Ports: what the domain needs from storage, secret storage and database drivers. Adapters
// implement them; tests may too.
import type { ListOptions, Page } from './common.js';
import type { Database, SyncPlan, Table, TableRef } from './databases.js';
import type { Environment } from './environments.js';
import type { Engine, Instance } from './instances.js';
import type { ProjectRepo } from './projects.js';
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

export interface InstanceRepo {
  get(id: string): Promise<Instance | undefined>;
  list(options: ListOptions): Promise<Page<Instance>>;
  /** Every instance, deleted ones included: few, and database listings need their environments. */
  listAll(): Promise<Instance[]>;
  /** AlreadyExistsError when the id is taken (deleted instances keep their id). */
  create(instance: Omit<Instance, 'version'>): Promise<Instance>;
  /** Conditional on `expectedVersion`; ConcurrentModificationError on a lost race. */
  update(next: Instance, expectedVersion: number): Promise<Instance>;
  /** Removes an instance that a failed create just wrote (version 1 only); never a user-facing delete. */
  discard(id: string): Promise<void>;
}

/** Keeps or drops a database while a list pages through the store (visibility, deleted instances). */
export type DatabaseFilter = (database: Database) => boolean;

export interface DatabaseRepo {
  get(instance: string, name: string): Promise<Database | undefined>;
  listByInstance(instance: string, options: ListOptions, keep: DatabaseFilter): Promise<Page<Database>>;
  listByProject(project: string, options: ListOptions, keep: DatabaseFilter): Promise<Page<Database>>;
  /** Every database of an instance, for sync. */
  listAllByInstance(instance: string): Promise<Database[]>;
  /** The recorded tables of an instance, or of one of its databases. */
  listTables(instance: string, database?: string): Promise<Table[]>;
  /** Writes `project`, `labels` and `updateTime`, conditional on `expectedVersion`. */
  update(next: Database, expectedVersion: number): Promise<Database>;
  /** Applies a sync plan: creates (never overwriting), state changes, stamps and table changes. */
  applySync(instance: string, plan: SyncPlan): Promise<void>;
}

export interface Repos {
  workspace: WorkspaceRepo;
  users: UserRepo;
  environments: EnvironmentRepo;
  projects: ProjectRepo;
  instances: InstanceRepo;
  databases: DatabaseRepo;
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
  /** Moves an IN_PROGRESS claim's expiry (the operation still runs); a no-op once it is completed or gone. */
  extend(scope: string, requestHash: string, expiresAt: Date): Promise<void>;
}

export interface ConfigRepo {
  /** The HMAC key for page tokens; created once by the seed. */
  pageTokenKey(): Promise<Buffer>;
}

/**
 * Where passwords live. A secret's name (`instances/pg-prod/admin`) is the reference the table
 * keeps; each store maps it to its own place (a Secrets Manager secret under a prefix, a key in
 * the local encrypted file).
 */
export interface SecretStore {
  /** Creates or replaces the secret called `name`. */
  put(name: string, value: string): Promise<void>;
  /** The secret's value, or undefined when nothing is stored under `name`. */
  get(name: string): Promise<string | undefined>;
  /** Deletes it at once; no error when it is already gone. */
  delete(name: string): Promise<void>;
}

/** Where and as whom a driver connects. */
export interface ConnectionTarget {
  engine: Engine;
  host: string;
  port: number;
  username: string;
  password?: string;
  /** The database to connect to; each engine has a default (PostgreSQL: `postgres`). */
  database?: string;
}

export type ConnectionResult = { ok: true; engineVersion: string } | { ok: false; error: string };

/**
 * Reaches database servers. Every call opens a connection and always closes it, answers within
 * seconds, and reports failures as SqlConnectionError with a message a DBA can act on (never a password).
 */
export interface SqlDriver {
  testConnection(target: ConnectionTarget): Promise<ConnectionResult>;
  /** Every database on the server, system ones included (the domain decides what to leave out). */
  listDatabases(target: ConnectionTarget): Promise<string[]>;
  /** The tables of one database. */
  listTables(target: ConnectionTarget, database: string): Promise<TableRef[]>;
}

/** A driver could not connect or query; `message` is safe to show (no password). */
export class SqlConnectionError extends Error {
  override readonly name: string = 'SqlConnectionError';
}

/** What instance operations use besides the repos: secret storage and the SQL drivers. */
export interface SqlDeps {
  secrets: SecretStore;
  sql: SqlDriver;
  /** Progress and failures worth a log line; never a password. */
  log?: { debug(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void };
}
