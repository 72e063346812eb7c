// The catalog fingerprint's rules over in-memory catalogs and ports: the runner's drift check and
// after-read read the full model only when the fingerprint is not one known to describe it; a
// fingerprint is recorded with the head and the baseline (own change, sync, :acceptDrift), never
// with a model it may not describe; and a sync of an unchanged database reads one fingerprint.
import { describe, expect, it } from 'vitest';
import type { Database } from '../../domain/inventory/databases.js';
import { createInstance } from '../../domain/inventory/instances.js';
import { checkBefore, readAfter, type CatalogReads } from '../../domain/pipeline/schema-check.js';
import { acceptLiveSchema, observeSchema, recordOwnChange } from '../../domain/schema/drift.js';
import { schemaChecksum, type DatabaseSchema, type Table } from '../../domain/schema/model.js';
import { baselineCheck } from '../../domain/schema/ports.js';
import { getOperation, startSync, type SyncDeps } from '../../domain/schema/sync.js';
import type { ConnectionTarget } from '../../domain/inventory/ports.js';
import { FakeDatabases, FakeInstances, FakeSecrets, FakeSql } from '../support/fake-inventory.js';
import { FakeOperations, FakeSchemas, ManualSyncRunner } from '../support/fake-schema.js';
import { FakeEnvironments, fakeDeps } from '../support/fake-repos.js';

const T1 = '2026-02-01T00:00:00.000Z';
const T2 = '2026-02-02T00:00:00.000Z';

const table = (name: string, columns = ['id']): Table => ({
  name, rowEstimate: 0, columns: columns.map((c, i) => ({ name: c, position: i + 1, type: 'integer', nullable: false })), constraints: [], indexes: [],
});
const schema = (...tables: Table[]): DatabaseSchema => ({ engine: 'POSTGRES', schemas: [{ name: 'public', tables, views: [], sequences: [], enums: [], routines: [] }] });

/** A catalog whose state the test sets; counts the reads of each kind. */
class Catalog implements CatalogReads {
  fingerprints: string[] = [];
  models = 0;
  constructor(public state: { fingerprint: string; model: DatabaseSchema }) {}
  fingerprint = async () => {
    this.fingerprints.push(this.state.fingerprint);
    return this.state.fingerprint;
  };
  model = async () => (this.models++, structuredClone(this.state.model));
}

describe('the runner\'s catalog reads', () => {
  const base = schema(table('staff'));
  const changed = schema(table('staff', ['id', 'nickname']));

  it('a fingerprint equal to the baseline\'s is the baseline: no full read before, none after when it stays', async () => {
    // Prepare
    const catalog = new Catalog({ fingerprint: 'fp1', model: base });

    // Act
    const checked = await checkBefore(catalog, { expected: schemaChecksum(base), fingerprint: 'fp1', allowDrift: false });
    const read = await readAfter(catalog, 'before' in checked ? checked.before : undefined);

    // Assess
    expect(checked).toEqual({ before: { schema: { checksum: schemaChecksum(base) }, fingerprint: 'fp1' } });
    expect(read).toEqual({ before: { checksum: schemaChecksum(base) }, after: { checksum: schemaChecksum(base) }, fingerprint: 'fp1' });
    expect([catalog.fingerprints.length, catalog.models]).toEqual([2, 0]);
  });

  it('a statement that changes the schema: the full read after, recorded with the fingerprint read just before it', async () => {
    // Prepare
    const catalog = new Catalog({ fingerprint: 'fp1', model: base });
    const checked = await checkBefore(catalog, { expected: schemaChecksum(base), fingerprint: 'fp1', allowDrift: false });
    const before = 'before' in checked ? checked.before : undefined;
    catalog.state = { fingerprint: 'fp2', model: changed };

    // Act
    const read = await readAfter(catalog, before);

    // Assess
    expect(read).toEqual({ before: { checksum: schemaChecksum(base) }, after: changed, fingerprint: 'fp2' });
    expect([catalog.fingerprints, catalog.models]).toEqual([['fp1', 'fp2'], 1]);
  });

  it('another fingerprint of the same schema is no drift (full read); another schema is refused; no fingerprint recorded reads in full', async () => {
    // Prepare
    const catalog = new Catalog({ fingerprint: 'fp-new', model: base });

    // Act
    const same = await checkBefore(catalog, { expected: schemaChecksum(base), fingerprint: 'fp-old', allowDrift: false });
    const drifted = await checkBefore(catalog, { expected: schemaChecksum(changed), fingerprint: 'fp-old', allowDrift: false });
    const legacy = await checkBefore(catalog, { expected: schemaChecksum(base), allowDrift: false });
    const allowed = await checkBefore(catalog, { expected: schemaChecksum(changed), fingerprint: 'fp-old', allowDrift: true });

    // Assess
    expect(same).toEqual({ before: { schema: base, fingerprint: 'fp-new' } });
    expect(drifted).toMatchObject({ refused: { status: 'FAILED', drifted: base } });
    expect(legacy).toEqual({ before: { schema: base, fingerprint: 'fp-new' } });
    expect(allowed).toEqual({ before: { schema: base, fingerprint: 'fp-new' } });
    expect(catalog.models).toBe(4);
  });

  it('a fingerprint equal to a baseline of no checksum is never taken for it', async () => {
    // Prepare
    const catalog = new Catalog({ fingerprint: 'fp1', model: base });

    // Act
    const checked = await checkBefore(catalog, { fingerprint: 'fp1', allowDrift: false });

    // Assess
    expect(checked).toEqual({ before: { schema: base, fingerprint: 'fp1' } });
  });
});

describe('fingerprints recorded with the schema', () => {
  function ports() {
    const schemas = new FakeSchemas();
    const databases = new FakeDatabases();
    databases.add({ instance: 'pg', name: 'hr', project: 'hr', labels: {}, schemaVersion: '', syncState: 'OK', createTime: T1, updateTime: T1, version: 1 });
    return { deps: { schemas, databases }, schemas };
  }
  const base = schema(table('staff'));
  const live = schema(table('staff'), table('extra'));
  const at = { instance: 'pg', database: 'hr' };

  it('own change: head and baseline take the after-fingerprint; a known after-schema keeps its snapshot', async () => {
    // Prepare
    const { deps, schemas } = ports();
    await recordOwnChange(deps, { ...at, after: base, fingerprint: 'fp1', time: T1 });

    // Act
    const sums = await recordOwnChange(deps, { ...at, before: { checksum: schemaChecksum(base) }, after: { checksum: schemaChecksum(base) }, fingerprint: 'fp1', time: T2 });

    // Assess
    expect(sums).toEqual({ before: schemaChecksum(base), after: schemaChecksum(base) });
    const head = await schemas.head('pg', 'hr');
    expect(head).toEqual({ checksum: schemaChecksum(base), syncTime: T2, fingerprint: 'fp1', baseline: { checksum: schemaChecksum(base), time: T2, fingerprint: 'fp1' } });
    expect(baselineCheck(head!)).toEqual({ expected: schemaChecksum(base), fingerprint: 'fp1' });
    expect(await schemas.snapshot('pg', 'hr', schemaChecksum(base))).toEqual(base);
  });

  it('a sync of a drifted schema keeps the baseline\'s fingerprint; :acceptDrift makes the head\'s the baseline\'s', async () => {
    // Prepare
    const { deps, schemas } = ports();
    await observeSchema(deps, { ...at, project: 'hr', model: base, fingerprint: 'fp1', time: T1 });

    // Act
    await observeSchema(deps, { ...at, project: 'hr', model: live, fingerprint: 'fp2', time: T2 });
    const drifted = await schemas.head('pg', 'hr');
    await acceptLiveSchema(deps, 'pg', 'hr', drifted!, T2);

    // Assess
    expect(drifted).toMatchObject({ checksum: schemaChecksum(live), fingerprint: 'fp2', baseline: { checksum: schemaChecksum(base), fingerprint: 'fp1' } });
    expect(await schemas.head('pg', 'hr')).toMatchObject({ fingerprint: 'fp2', baseline: { checksum: schemaChecksum(live), fingerprint: 'fp2' } });
  });

  it('a baseline recorded without a fingerprint takes one when a sync finds that very schema; a runner\'s drifted read records none', async () => {
    // Prepare
    const { deps, schemas } = ports();
    await observeSchema(deps, { ...at, project: 'hr', model: base, time: T1 });

    // Act
    await observeSchema(deps, { ...at, project: 'hr', model: base, fingerprint: 'fp1', time: T2 });
    const synced = await schemas.head('pg', 'hr');
    await observeSchema(deps, { ...at, project: 'hr', model: live, time: T2 });

    // Assess
    expect(synced?.baseline).toEqual({ checksum: schemaChecksum(base), time: T1, fingerprint: 'fp1' });
    const head = await schemas.head('pg', 'hr');
    expect(head?.fingerprint).toBeUndefined();
    expect(head?.baseline?.fingerprint).toBe('fp1');
  });
});

/** The port fake with a fingerprint per database: the fingerprint moves with the tables listed. */
class FingerprintedSql extends FakeSql {
  fullReads = 0;
  fingerprints = 0;
  async readSchemaFingerprinted(target: ConnectionTarget, database: string, known?: string): Promise<{ fingerprint?: string; model?: DatabaseSchema }> {
    this.fingerprints++;
    const fingerprint = `fp:${JSON.stringify(this.databases[database] ?? [])}`;
    if (fingerprint === known) return { fingerprint };
    this.fullReads++;
    return { fingerprint, model: await this.readSchema(target, database) };
  }
}

describe('the sync with fingerprints', () => {
  it('reads a database in full once; while its catalog stays as recorded, one fingerprint and its tables as they were', async () => {
    // Prepare
    const environments = new FakeEnvironments([{ id: 'test', title: 'Test', order: 0, requireApproval: false }]);
    const databases = new FakeDatabases();
    const sql = new FingerprintedSql();
    const schemas = new FakeSchemas();
    const deps: SyncDeps = {
      ...fakeDeps(environments), instances: new FakeInstances(), databases, secrets: new FakeSecrets(), sql,
      schemaReader: sql, schemas, operations: new FakeOperations(), syncRunner: new ManualSyncRunner(),
    };
    await createInstance(deps, { id: 'pg', title: 'PG', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: 'db', port: 5432, username: 'sluice' }] }, false);
    sql.databases = { shop: [{ schema: 'public', name: 'orders' }] };
    const sync = async () => {
      const op = await startSync(deps, 'pg');
      await (deps.syncRunner as ManualSyncRunner).drain(deps);
      return (await getOperation(deps, op.id)).summary;
    };

    // Act
    await sync();
    const first = { full: sql.fullReads, head: await schemas.head('pg', 'shop') };
    const same = await sync();
    const unchanged = { full: sql.fullReads, head: await schemas.head('pg', 'shop'), tables: await databases.listTables('pg', 'shop') };
    sql.databases.shop!.push({ schema: 'public', name: 'items' });
    const moved = await sync();

    // Assess
    expect(first.full).toBe(1);
    expect(first.head).toMatchObject({ fingerprint: 'fp:[{"schema":"public","name":"orders"}]' });
    expect(unchanged.full).toBe(1);
    expect(unchanged.head).toMatchObject({ checksum: first.head!.checksum, fingerprint: first.head!.fingerprint });
    expect(unchanged.head!.syncTime).toBeDefined();
    expect(unchanged.tables.map((t) => t.name)).toEqual(['orders']);
    expect([same.tablesAdded, same.tablesRemoved, same.failures]).toEqual([0, 0, []]);
    expect(sql.fullReads).toBe(2);
    expect(moved.tablesAdded).toBe(1);
    expect((await databases.get('pg', 'shop') as Database).drifted).toBe(true);
  });
});
