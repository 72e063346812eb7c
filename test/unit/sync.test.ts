// Sync diffing: what a sync creates, marks, stamps and records, from what is stored and what the
// server has; and the sync service over in-memory ports.
import { describe, expect, it } from 'vitest';
import { planSync, type Database, type Table } from '../../domain/inventory/databases.js';
import { IMMEDIATE_DATABASE_WRITES, getOperation, startSync, toOperationResource, type SyncDeps } from '../../domain/schema/sync.js';
import { FakeOperations, FakeSchemas, ManualSyncRunner } from '../support/fake-schema.js';
import { SluiceError } from '../../domain/common/errors.js';
import { createInstance } from '../../domain/inventory/instances.js';
import { FakeDatabases, FakeInstances, FakeSecrets, FakeSql } from '../support/fake-inventory.js';
import { FakeEnvironments, fakeDeps } from '../support/fake-repos.js';

const T1 = '2026-02-01T00:00:00.000Z';
const T2 = '2026-02-02T00:00:00.000Z';

const db = (name: string, extra: Partial<Database> = {}): Database => ({
  instance: 'pg', name, project: 'default', labels: {}, schemaVersion: '', syncState: 'OK', lastSuccessfulSyncTime: T1,
  createTime: T1, updateTime: T1, version: 1, ...extra,
});
const table = (database: string, schema: string, name: string): Table => ({ database, schema, name });

describe('planSync', () => {
  it('creates new databases in the default project, stamped, with their tables', () => {
    // Act
    const plan = planSync({
      instance: 'pg', time: T2, existing: [], found: ['shop', 'crm'], recordedTables: [],
      tables: new Map([['shop', [{ schema: 'public', name: 'orders' }, { schema: 'audit', name: 'log' }]], ['crm', []]]),
    });

    // Assess
    expect(plan.create.map((d) => [d.name, d.project, d.syncState, d.lastSuccessfulSyncTime, d.version])).toEqual([
      ['crm', 'default', 'OK', T2, 1],
      ['shop', 'default', 'OK', T2, 1],
    ]);
    expect(plan.addTables).toEqual([table('shop', 'public', 'orders'), table('shop', 'audit', 'log')]);
    expect(plan).toMatchObject({ setState: [], stamp: [], removeTables: [] });
  });

  it('marks a vanished database NOT_FOUND, keeping its tables and its last stamp', () => {
    // Prepare
    const recorded = [table('gone', 'public', 't')];

    // Act
    const plan = planSync({ instance: 'pg', time: T2, existing: [db('gone'), db('kept')], found: ['kept'], recordedTables: recorded, tables: new Map([['kept', []]]) });

    // Assess
    expect(plan.setState).toEqual([{ name: 'gone', from: 'OK', to: 'NOT_FOUND' }]);
    expect(plan.stamp).toEqual(['kept']);
    expect(plan.removeTables).toEqual([]);
    expect(plan.create).toEqual([]);
  });

  it('brings a database that reappears back to OK, and stamps it', () => {
    // Act
    const plan = planSync({ instance: 'pg', time: T2, existing: [db('back', { syncState: 'NOT_FOUND' })], found: ['back'], recordedTables: [], tables: new Map([['back', []]]) });

    // Assess
    expect(plan.setState).toEqual([{ name: 'back', from: 'NOT_FOUND', to: 'OK' }]);
    expect(plan.stamp).toEqual(['back']);
  });

  it('adds and removes tables of the databases it listed, and no others', () => {
    // Prepare
    const recorded = [table('shop', 'public', 'orders'), table('shop', 'public', 'old'), table('locked', 'public', 'secret')];

    // Act
    const plan = planSync({
      instance: 'pg', time: T2, existing: [db('shop'), db('locked')], found: ['shop', 'locked'], recordedTables: recorded,
      tables: new Map([['shop', [{ schema: 'public', name: 'orders' }, { schema: 'public', name: 'new' }, { schema: 'public', name: 'new' }]]]),
    });

    // Assess
    expect(plan.addTables).toEqual([table('shop', 'public', 'new')]);
    expect(plan.removeTables).toEqual([table('shop', 'public', 'old')]);
    // Its tables could not be listed: not synced, so no stamp.
    expect(plan.stamp).toEqual(['shop']);
  });

  it('plans nothing but stamps when run on what it produced', () => {
    // Prepare
    const tables = new Map([['shop', [{ schema: 'public', name: 'orders' }]]]);
    const first = planSync({ instance: 'pg', time: T1, existing: [db('gone', { syncState: 'NOT_FOUND' })], found: ['shop'], recordedTables: [], tables });
    const existing = [db('gone', { syncState: 'NOT_FOUND' }), ...first.create];

    // Act
    const second = planSync({ instance: 'pg', time: T2, existing, found: ['shop'], recordedTables: first.addTables, tables });

    // Assess
    expect(second).toEqual({ time: T2, create: [], setState: [], stamp: ['shop'], addTables: [], removeTables: [] });
  });

  it('keeps table names apart whatever characters they hold', () => {
    // Act
    const plan = planSync({
      instance: 'pg', time: T2, existing: [], found: ['a.b'], recordedTables: [],
      tables: new Map([['a.b', [{ schema: 'c', name: 'd.e' }, { schema: 'c.d', name: 'e' }]]]),
    });

    // Assess
    expect(plan.addTables).toHaveLength(2);
  });
});

describe('syncInstance', () => {
  function workspace() {
    const environments = new FakeEnvironments([{ id: 'test', title: 'Test', order: 0, requireApproval: false }]);
    const databases = new FakeDatabases();
    const sql = new FakeSql();
    const runner = new ManualSyncRunner();
    const schemas = new FakeSchemas();
    const deps: SyncDeps = {
      ...fakeDeps(environments), instances: new FakeInstances(), databases, secrets: new FakeSecrets(), sql,
      schemaReader: sql, schemas, operations: new FakeOperations(), syncRunner: runner,
    };
    return { deps, databases, sql, runner, schemas };
  }
  const register = (deps: SyncDeps) =>
    createInstance(deps, {
      id: 'pg', title: 'PG', engine: 'POSTGRES', environment: 'environments/test',
      dataSources: [{ type: 'ADMIN', host: 'db', port: 5432, username: 'sluice' }],
    }, false);

  /** :sync as a caller sees it: the operation at once, then its steps run to the end. */
  async function syncInstance(deps: SyncDeps) {
    const op = await startSync(deps, 'pg');
    await (deps.syncRunner as ManualSyncRunner).drain(deps);
    return toOperationResource(await getOperation(deps, op.id)).response!;
  }

  it('answers at once with an operation that counts the databases, records new ones before the schemas are read', async () => {
    // Prepare
    const { deps, databases, sql, runner } = workspace();
    await register(deps);
    sql.databases = { shop: [{ schema: 'public', name: 'orders' }], crm: [] };

    // Act
    const op = toOperationResource(await startSync(deps, 'pg'));

    // Assess
    expect(op).toMatchObject({ done: false, metadata: { databasesTotal: 2, databasesDone: 0 } });
    expect(op.response).toBeUndefined();
    expect([...databases.rows.keys()].sort()).toEqual(['pg/crm', 'pg/shop']);
    expect(databases.tables.size).toBe(0);
    await runner.drain(deps);
    expect(toOperationResource(await getOperation(deps, op.name.split('/')[1]!)).metadata).toMatchObject({ databasesTotal: 2, databasesDone: 2 });
  });

  it('a first sync of a server with more new databases than a request should write records them in the background', async () => {
    // Prepare
    const { deps, databases, sql, runner } = workspace();
    await register(deps);
    for (let i = 0; i <= IMMEDIATE_DATABASE_WRITES; i++) sql.databases[`db${i}`] = [];

    // Act
    const op = toOperationResource(await startSync(deps, 'pg'));
    const before = databases.rows.size;
    await runner.drain(deps);

    // Assess
    expect(op.metadata.databasesTotal).toBe(IMMEDIATE_DATABASE_WRITES + 1);
    expect(before).toBe(0);
    const done = toOperationResource(await getOperation(deps, op.name.split('/')[1]!));
    expect(done.response!.databases.created).toHaveLength(IMMEDIATE_DATABASE_WRITES + 1);
    expect(databases.rows.size).toBe(IMMEDIATE_DATABASE_WRITES + 1);
    expect(done.metadata.databasesDone).toBe(IMMEDIATE_DATABASE_WRITES + 1);
  });

  it('leaves out system databases and reports what it did', async () => {
    // Prepare
    const { deps, databases, sql } = workspace();
    await register(deps);
    sql.databases = { shop: [{ schema: 'public', name: 'orders' }], crm: [] };

    // Act
    const result = await syncInstance(deps);

    // Assess
    expect([...databases.rows.keys()].sort()).toEqual(['pg/crm', 'pg/shop']);
    expect(result).toMatchObject({
      name: 'instances/pg',
      databases: { found: 2, created: ['instances/pg/databases/crm', 'instances/pg/databases/shop'], notFound: [], restored: [] },
      tables: { added: 1, removed: 0 },
      failures: [],
    });
  });

  it('records a database whose tables cannot be listed, reporting the failure', async () => {
    // Prepare
    const { deps, databases, sql } = workspace();
    await register(deps);
    sql.databases = { shop: [], locked: [{ schema: 'public', name: 'x' }] };
    sql.refused.add('locked');

    // Act
    const result = await syncInstance(deps);

    // Assess
    expect(result.failures).toEqual([{ database: 'instances/pg/databases/locked', error: 'permission denied for database "locked"' }]);
    expect(databases.rows.get('pg/locked')).toMatchObject({ syncState: 'OK' });
    expect(databases.rows.get('pg/locked')!.lastSuccessfulSyncTime).toBeUndefined();
  });

  it('writes nothing when the server cannot be reached', async () => {
    // Prepare
    const { deps, databases, sql } = workspace();
    await register(deps);
    sql.reachable = false;

    // Act
    const e = await startSync(deps, 'pg').catch((err: unknown) => err as SluiceError);

    // Assess
    expect(e).toMatchObject({ status: 'FAILED_PRECONDITION', message: 'cannot sync instances/pg: connection refused at db:5432' });
    expect(databases.writes).toBe(0);
  });

  it('twice in a row changes nothing but the stamps', async () => {
    // Prepare
    const { deps, databases, sql } = workspace();
    await register(deps);
    sql.databases = { shop: [{ schema: 'public', name: 'orders' }] };
    await syncInstance(deps);
    const before = { rows: structuredClone([...databases.rows.values()]), tables: [...databases.tables.keys()], writes: databases.writes };

    // Act
    const again = await syncInstance(deps);

    // Assess
    expect(again.databases).toEqual({ found: 1, created: [], notFound: [], restored: [] });
    expect(databases.writes).toBe(before.writes);
    expect([...databases.tables.keys()]).toEqual(before.tables);
    const strip = (d: Database) => ({ ...d, lastSuccessfulSyncTime: undefined });
    expect([...databases.rows.values()].map(strip)).toEqual(before.rows.map(strip));
    expect(databases.rows.get('pg/shop')!.lastSuccessfulSyncTime).toBe(again.syncTime);
  });
});
