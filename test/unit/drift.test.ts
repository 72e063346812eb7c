// Drift's pure rules and its service over in-memory ports: what differs between a baseline and a
// live schema, named per object; the database list's filter; the runner's refusal; the first
// schema recorded being the baseline, drift marked (and announced) once and cleared when equal;
// and the scheduled sync's round, started once per interval.
import { describe, expect, it } from 'vitest';
import { parseDatabaseFilter, type Database } from '../../domain/inventory/databases.js';
import { createInstance } from '../../domain/inventory/instances.js';
import { driftRefusal } from '../../domain/pipeline/schema-check.js';
import { describeDrift, driftSummary, observeSchema, recordOwnChange } from '../../domain/schema/drift.js';
import { schemaChecksum, type DatabaseSchema, type Table } from '../../domain/schema/model.js';
import type { SyncScheduleRepo } from '../../domain/schema/ports.js';
import { scheduledSync, type ScheduleDeps } from '../../domain/schema/schedule.js';
import { SluiceError } from '../../domain/common/errors.js';
import { FakeDatabases, FakeInstances, FakeSecrets, FakeSql } from '../support/fake-inventory.js';
import { FakeOperations, FakeSchemas, ManualSyncRunner } from '../support/fake-schema.js';
import { FakeEnvironments, fakeDeps } from '../support/fake-repos.js';

const T1 = '2026-02-01T00:00:00.000Z';
const T2 = '2026-02-02T00:00:00.000Z';

const staff = (extra: Partial<Table> = {}): Table => ({
  name: 'staff', rowEstimate: 10,
  columns: [{ name: 'id', position: 1, type: 'integer', nullable: false }, { name: 'name', position: 2, type: 'text', nullable: false }],
  constraints: [{ name: 'staff_pkey', type: 'PRIMARY KEY', columns: ['id'] }],
  indexes: [],
  ...extra,
});
const pgSchema = (tables: Table[], extra: Partial<DatabaseSchema['schemas'][number]> = {}): DatabaseSchema => ({
  engine: 'POSTGRES', schemas: [{ name: 'public', tables, views: [], sequences: [], enums: [], routines: [], ...extra }],
});

describe('describeDrift', () => {
  it('names a column added, one changed and one removed, per table, and nothing for the same schema in another order', () => {
    // Arrange
    const base = pgSchema([staff(), { ...staff(), name: 'teams' }]);
    const live = pgSchema([
      { ...staff(), name: 'teams', rowEstimate: 99 },
      staff({ columns: [{ name: 'id', position: 1, type: 'bigint', nullable: false }, { name: 'nickname', position: 2, type: 'text', nullable: true }] }),
    ]);

    // Act
    const lines = describeDrift(base, live);

    // Assess
    expect(lines).toEqual(['table public.staff: column id changed, column nickname added, column name removed']);
    expect(describeDrift(base, pgSchema([{ ...staff(), name: 'teams', rowEstimate: 5 }, staff()]))).toEqual([]);
  });

  it('names tables, indexes, constraints, views and enum types added or removed; MySQL objects are unqualified', () => {
    // Arrange
    const base = pgSchema([staff()], { enums: [{ name: 'mood', values: ['ok'] }] });
    const live = pgSchema(
      [staff({ indexes: [{ name: 'staff_name', unique: false, columns: ['name'], definition: 'CREATE INDEX staff_name ON staff (name)' }], constraints: [] }), { ...staff(), name: 'extra' }],
      { views: [{ name: 'v_staff', definition: 'SELECT 1' }] },
    );
    const mysql = (tables: Table[]): DatabaseSchema => ({ engine: 'MYSQL', schemas: [{ name: '', tables, views: [], sequences: [], enums: [], routines: [] }] });

    // Act
    const lines = describeDrift(base, live);

    // Assess
    expect(lines).toEqual([
      'table public.extra added',
      'table public.staff: constraint staff_pkey removed, index staff_name added',
      'view public.v_staff added',
      'enum type public.mood removed',
    ]);
    expect(describeDrift(mysql([staff()]), mysql([]))).toEqual(['table staff removed']);
  });

  it('a summary names at most ten objects and counts the rest', () => {
    // Act
    const lines = Array.from({ length: 12 }, (_, i) => `table t${i} added`);

    // Assess
    expect(driftSummary(lines)).toBe(`${lines.slice(0, 10).join('; ')}; and 2 more`);
    expect(driftSummary([])).toBe('the schema differs from the recorded one');
  });
});

describe('the database list filter', () => {
  it('takes drifted == true or false (also =), nothing else', () => {
    // Assess
    expect(parseDatabaseFilter('drifted == true')).toEqual({ drifted: true });
    expect(parseDatabaseFilter(' drifted=false ')).toEqual({ drifted: false });
    expect(parseDatabaseFilter(undefined)).toEqual({});
    expect(parseDatabaseFilter('')).toEqual({});
    for (const bad of ['drifted == yes', 'status == "OK"', 'drifted']) {
      const e = (() => {
        try {
          parseDatabaseFilter(bad);
        } catch (err) {
          return err as SluiceError;
        }
      })();
      expect([e?.httpStatus, e?.details?.[0]?.field]).toEqual([400, 'filter']);
    }
  });
});

describe('driftRefusal', () => {
  it('refuses a live schema whose checksum is not the baseline\'s, unless drift is allowed or no baseline exists', () => {
    // Arrange
    const base = pgSchema([staff()]);
    const live = pgSchema([staff(), { ...staff(), name: 'extra' }]);

    // Act
    const refused = driftRefusal({ expected: schemaChecksum(base), allowDrift: false }, live);

    // Assess
    expect(refused).toMatchObject({ status: 'FAILED', error: expect.stringContaining('schema drift'), drifted: expect.objectContaining({ engine: 'POSTGRES' }) });
    expect(driftRefusal({ expected: schemaChecksum(base), allowDrift: false }, base)).toBeUndefined();
    expect(driftRefusal({ expected: schemaChecksum(base), allowDrift: true }, live)).toBeUndefined();
    expect(driftRefusal({ allowDrift: false }, live)).toBeUndefined();
  });
});

describe('observeSchema', () => {
  function ports() {
    const schemas = new FakeSchemas();
    const databases = new FakeDatabases();
    const db: Database = { instance: 'pg', name: 'hr', project: 'hr', labels: {}, schemaVersion: '', syncState: 'OK', createTime: T1, updateTime: T1, version: 1 };
    databases.add(db);
    const announced: { database: string; summary: string }[] = [];
    const deps = { schemas, databases, drift: { drifted: async (e: { database: string; summary: string }) => void announced.push({ database: e.database, summary: e.summary }) } };
    const observe = (model: DatabaseSchema, time = T2) => observeSchema(deps, { instance: 'pg', database: 'hr', project: 'hr', model, time });
    return { deps, schemas, databases, announced, observe };
  }

  it('the first schema is the baseline; another is drift, marked and announced once; the baseline again clears it', async () => {
    // Arrange
    const { databases, announced, observe } = ports();
    const base = pgSchema([staff()]);
    const live = pgSchema([staff({ columns: [...staff().columns, { name: 'nickname', position: 3, type: 'text', nullable: true }] })]);

    // Act
    const first = await observe(base, T1);
    const drifted = await observe(live);
    const again = await observe(live);
    const marked = await databases.get('pg', 'hr');
    const equal = await observe(base);

    // Assess
    expect(first).toMatchObject({ drifted: false, baseline: schemaChecksum(base) });
    expect(drifted).toMatchObject({ drifted: true, baseline: schemaChecksum(base), checksum: schemaChecksum(live), summary: 'table public.staff: column nickname added' });
    expect(again.drifted).toBe(true);
    expect(marked).toMatchObject({ drifted: true, driftTime: T2 });
    expect(announced).toEqual([{ database: 'hr', summary: 'table public.staff: column nickname added' }]);
    expect(equal.drifted).toBe(false);
    expect((await databases.get('pg', 'hr'))!.drifted).toBe(false);
  });

  it('Sluice\'s own change moves the baseline and clears drift, keeping the before-schema for the history diff', async () => {
    // Arrange
    const { deps, schemas, databases, observe } = ports();
    const base = pgSchema([staff()]);
    const after = pgSchema([staff(), { ...staff(), name: 'teams' }]);
    await observe(base, T1);
    await observe(pgSchema([]));

    // Act
    const sums = await recordOwnChange(deps, { instance: 'pg', database: 'hr', before: base, after, time: T2 });

    // Assess
    expect(sums).toEqual({ before: schemaChecksum(base), after: schemaChecksum(after) });
    expect(await schemas.head('pg', 'hr')).toEqual({ checksum: schemaChecksum(after), syncTime: T2, baseline: { checksum: schemaChecksum(after), time: T2 } });
    expect(await schemas.snapshot('pg', 'hr', schemaChecksum(base))).toBeDefined();
    expect((await databases.get('pg', 'hr'))!.drifted).toBe(false);
  });

  it('with the head the runner read before its change: the head is not read again, and the drift flag is written only when that head was drifted', async () => {
    // Arrange
    const { deps, schemas, databases, observe } = ports();
    const base = pgSchema([staff()]);
    const after = pgSchema([staff(), { ...staff(), name: 'teams' }]);
    await observe(base, T1);
    let headReads = 0;
    const head = schemas.head;
    schemas.head = (instance, database) => (headReads++, head(instance, database));
    const clean = await head('pg', 'hr');
    let flagWrites = 0;
    const setDrift = databases.setDrift.bind(databases);
    databases.setDrift = (...a) => (flagWrites++, setDrift(...a));

    // Act: a change on a database that was not drifted, then one on a database a sync found drifted
    await recordOwnChange(deps, { instance: 'pg', database: 'hr', after, time: T2, current: { head: clean }, wasDrifted: false });
    const cleanWrites = flagWrites;
    await observe(pgSchema([]));
    const drifted = await head('pg', 'hr');
    await recordOwnChange(deps, { instance: 'pg', database: 'hr', after: base, time: T2, current: { head: drifted }, wasDrifted: true });

    // Assess
    expect(headReads).toBe(1); // the sync's own (observe), none by recordOwnChange
    expect(cleanWrites).toBe(0); // no conditional write bound to fail
    expect(await schemas.head('pg', 'hr')).toMatchObject({ checksum: schemaChecksum(base), baseline: { checksum: schemaChecksum(base) } });
    expect(await schemas.snapshot('pg', 'hr', schemaChecksum(after))).toBeDefined();
    expect((await databases.get('pg', 'hr'))!.drifted).toBe(false);
  });
});

describe('scheduledSync', () => {
  class FakeSchedule implements SyncScheduleRepo {
    last: string | undefined;
    async claim(time: string, dueBefore: string): Promise<boolean> {
      if (this.last === undefined) {
        this.last = time;
        return false;
      }
      if (this.last > dueBefore) return false;
      this.last = time;
      return true;
    }
  }

  it('the first tick starts the clock; a round starts every instance\'s sync once its interval has passed, never twice in one', async () => {
    // Arrange
    let now = new Date(T1);
    const environments = new FakeEnvironments([{ id: 'test', title: 'Test', order: 0, requireApproval: false }]);
    const sql = new FakeSql();
    sql.databases = { hr: [] };
    const runner = new ManualSyncRunner();
    const base = fakeDeps(environments);
    const deps: ScheduleDeps = {
      ...base, now: () => now, instances: new FakeInstances(), databases: new FakeDatabases(), secrets: new FakeSecrets(), sql,
      schemaReader: sql, schemas: new FakeSchemas(), operations: new FakeOperations(), syncRunner: runner, schedule: new FakeSchedule(),
    };
    for (const id of ['pg-a', 'pg-b']) {
      await createInstance(deps, { id, title: id, engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: 'db', port: 5432, username: 'sluice' }] }, false);
    }
    const ws = (await deps.workspace.get())!;
    await deps.workspace.update({ ...ws, syncInterval: '600s' }, ws.version);

    // Act
    const first = await scheduledSync(deps);
    now = new Date(Date.parse(T1) + 300_000);
    const early = await scheduledSync(deps);
    now = new Date(Date.parse(T1) + 600_000);
    const due = await scheduledSync(deps);
    const sameMinute = await scheduledSync(deps);

    // Assess
    expect([first.due, early.due, due.due, sameMinute.due]).toEqual([false, false, true, false]);
    expect(due.started).toHaveLength(2);
    expect(due.failed).toEqual([]);
    expect(runner.started).toHaveLength(2);
  });
});
