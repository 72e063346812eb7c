// The inventory's ports: what the domain needs from storage and database drivers. Adapters
// implement them; tests may too.
import type { ListOptions, Page } from '../common/values.js';
import type { Database, SyncPlan, Table, TableRef } from './databases.js';
import type { Environment } from './environments.js';
import type { Engine, Instance } from './instances.js';
import type { ProjectRepo } from './projects.js';
import type { UserRepo, WorkspaceRepo } from '../access/ports.js';
import type { SecretStore } from '../common/ports.js';

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
  /**
   * Marks the database drifted (since `time`) or not; true when this call changed it (so one
   * caller, of any racing, sees a database become drifted). Nothing for a database that is gone.
   */
  setDrift(instance: string, name: string, drifted: boolean, time: string): Promise<boolean>;
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
