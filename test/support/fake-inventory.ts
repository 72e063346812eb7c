// In-memory instances, databases, secrets and SQL servers, for unit tests of domain rules only.
// They keep the ports' contracts (unique ids, version checks, conditional sync writes).
import type { DatabaseSchema } from '../../domain/schema/model.js';
import type { SchemaReader } from '../../domain/schema/ports.js';
import type { ListOptions, Page } from '../../domain/common/values.js';
import type { Database, SyncPlan, Table, TableRef } from '../../domain/inventory/databases.js';
import { AlreadyExistsError, ConcurrentModificationError } from '../../domain/common/errors.js';
import type { Instance } from '../../domain/inventory/instances.js';
import { SqlConnectionError, type ConnectionResult, type ConnectionTarget, type DatabaseFilter, type DatabaseRepo, type InstanceRepo, type SqlDriver } from '../../domain/inventory/ports.js';
import type { SecretStore } from '../../domain/common/ports.js';

const pageOf = <T>(all: T[], options: ListOptions): Page<T> => {
  const offset = typeof options.cursor === 'number' ? options.cursor : 0;
  const items = all.slice(offset, offset + options.limit);
  return { items, ...(offset + options.limit < all.length ? { next: offset + options.limit } : {}) };
};

export class FakeInstances implements InstanceRepo {
  readonly rows = new Map<string, Instance>();
  writes = 0;

  get = async (id: string) => structuredClone(this.rows.get(id));
  listAll = async () => [...this.rows.values()].map((i) => structuredClone(i));
  list = async (options: ListOptions) => pageOf((await this.listAll()).filter((i) => options.showDeleted || i.state === 'ACTIVE'), options);

  async create(instance: Omit<Instance, 'version'>): Promise<Instance> {
    if (this.rows.has(instance.id)) throw new AlreadyExistsError(`instances/${instance.id}`);
    this.writes++;
    const created = { ...structuredClone(instance), version: 1 };
    this.rows.set(instance.id, created);
    return structuredClone(created);
  }

  async update(next: Instance, expectedVersion: number): Promise<Instance> {
    if (this.rows.get(next.id)?.version !== expectedVersion) throw new ConcurrentModificationError(`instances/${next.id}`);
    this.writes++;
    const written = { ...structuredClone(next), version: expectedVersion + 1 };
    this.rows.set(next.id, written);
    return structuredClone(written);
  }

  async discard(id: string): Promise<void> {
    if (this.rows.get(id)?.version === 1) this.rows.delete(id);
  }
}

export class FakeDatabases implements DatabaseRepo {
  readonly rows = new Map<string, Database>();
  readonly tables = new Map<string, Table>();
  writes = 0;

  private static key = (instance: string, name: string) => `${instance}/${name}`;
  private static tableKey = (instance: string, t: Table) => JSON.stringify([instance, t.database, t.schema, t.name]);

  add(d: Database): void {
    this.rows.set(FakeDatabases.key(d.instance, d.name), structuredClone(d));
  }

  get = async (instance: string, name: string) => structuredClone(this.rows.get(FakeDatabases.key(instance, name)));
  private all = () => [...this.rows.values()].sort((a, b) => `${a.instance}/${a.name}`.localeCompare(`${b.instance}/${b.name}`)).map((d) => structuredClone(d));
  listByInstance = async (instance: string, options: ListOptions, keep: DatabaseFilter) => pageOf(this.all().filter((d) => d.instance === instance && keep(d)), options);
  listByProject = async (project: string, options: ListOptions, keep: DatabaseFilter) => pageOf(this.all().filter((d) => d.project === project && keep(d)), options);
  listAllByInstance = async (instance: string) => this.all().filter((d) => d.instance === instance);
  listTables = async (instance: string, database?: string) =>
    [...this.tables.entries()]
      .filter(([k, t]) => JSON.parse(k)[0] === instance && (database === undefined || t.database === database))
      .map(([, t]) => structuredClone(t));

  async update(next: Database, expectedVersion: number): Promise<Database> {
    const key = FakeDatabases.key(next.instance, next.name);
    if (this.rows.get(key)?.version !== expectedVersion) throw new ConcurrentModificationError(`instances/${next.instance}/databases/${next.name}`);
    this.writes++;
    const written = { ...structuredClone(next), version: expectedVersion + 1 };
    this.rows.set(key, written);
    return structuredClone(written);
  }

  async setDrift(instance: string, name: string, drifted: boolean, time: string): Promise<boolean> {
    const row = this.rows.get(FakeDatabases.key(instance, name));
    if (!row || (row.drifted === true) === drifted) return false;
    this.writes++;
    if (drifted) Object.assign(row, { drifted, driftTime: time });
    else {
      row.drifted = false;
      delete row.driftTime;
    }
    return true;
  }

  async applySync(instance: string, plan: SyncPlan): Promise<void> {
    for (const d of plan.create) {
      const key = FakeDatabases.key(instance, d.name);
      if (this.rows.has(key)) continue;
      this.writes++;
      this.rows.set(key, structuredClone(d));
    }
    for (const c of plan.setState) {
      const row = this.rows.get(FakeDatabases.key(instance, c.name));
      if (row?.syncState !== c.from) continue;
      this.writes++;
      Object.assign(row, { syncState: c.to, updateTime: plan.time, version: row.version + 1 });
    }
    for (const name of plan.stamp) {
      const row = this.rows.get(FakeDatabases.key(instance, name));
      if (row) row.lastSuccessfulSyncTime = plan.time;
    }
    for (const t of plan.addTables) this.tables.set(FakeDatabases.tableKey(instance, t), structuredClone(t));
    for (const t of plan.removeTables) this.tables.delete(FakeDatabases.tableKey(instance, t));
    this.writes += plan.addTables.length + plan.removeTables.length;
  }
}

export class FakeSecrets implements SecretStore {
  readonly values = new Map<string, string>();
  writes = 0;
  put = async (name: string, value: string) => void (this.writes++, this.values.set(name, value));
  get = async (name: string) => this.values.get(name);
  delete = async (name: string) => void (this.writes++, this.values.delete(name));
}

/** A scripted server: its databases and tables, and the password it accepts. */
export class FakeSql implements SqlDriver, SchemaReader {
  readonly connections: ConnectionTarget[] = [];
  databases: Record<string, TableRef[]> = {};
  /** Databases whose tables cannot be listed (no CONNECT privilege, say). */
  refused = new Set<string>();
  password: string | undefined = undefined;
  reachable = true;

  private check(target: ConnectionTarget): void {
    this.connections.push(structuredClone(target));
    if (!this.reachable) throw new SqlConnectionError(`connection refused at ${target.host}:${target.port}`);
    if (this.password !== undefined && target.password !== this.password) throw new SqlConnectionError(`password authentication failed for user "${target.username}"`);
  }

  async testConnection(target: ConnectionTarget): Promise<ConnectionResult> {
    try {
      this.check(target);
      return { ok: true, engineVersion: '15.4' };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  async listDatabases(target: ConnectionTarget): Promise<string[]> {
    this.check(target);
    return ['postgres', 'template1', ...Object.keys(this.databases)];
  }

  async listTables(target: ConnectionTarget, database: string): Promise<TableRef[]> {
    this.check(target);
    if (this.refused.has(database)) throw new SqlConnectionError(`permission denied for database "${database}"`);
    return structuredClone(this.databases[database] ?? []);
  }

  /** The catalog read faked at the port: each recorded table, with one column. */
  async readSchema(target: ConnectionTarget, database: string): Promise<DatabaseSchema> {
    const tables = await this.listTables(target, database);
    const schemas = new Map<string, DatabaseSchema['schemas'][number]>();
    for (const t of tables) {
      if (!schemas.has(t.schema)) schemas.set(t.schema, { name: t.schema, tables: [], views: [], sequences: [], enums: [], routines: [] });
      schemas.get(t.schema)!.tables.push({ name: t.name, rowEstimate: 0, columns: [{ name: 'id', position: 1, type: 'integer', nullable: false }], constraints: [], indexes: [] });
    }
    return { engine: target.engine, schemas: [...schemas.values()] };
  }
}
