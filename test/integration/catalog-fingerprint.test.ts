// The catalog fingerprint on real servers (functions/adapters/sql/schema-postgres.ts,
// schema-mysql.ts): it moves with every object kind that feeds the schema's checksum and stays
// put for data-only changes; and the round trips it saves a schema update, counted: the queries
// the change executor sends to the catalog for a statement that leaves the schema as it was, and
// for one that changes it. Databases: sluice_cfp_<random>, dropped after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Connection as PromiseConnection } from 'mysql2/promise';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { sha256 } from '../../domain/common/hash.js';
import type { ConnectionTarget } from '../../domain/inventory/ports.js';
import type { ChangeOutcome, ChangeRequest, SchemaCheck } from '../../domain/pipeline/task-run.js';
import { isModel, normalize, schemaChecksum } from '../../domain/schema/model.js';
import { SqlChangeExecutor } from '../../functions/adapters/sql/execute.js';
import { sqlDrivers } from '../../functions/adapters/sql/index.js';
import { mysqlQuery, mysqlScript, mysqlServer } from '../support/mysql.js';
import { adminQuery, postgresServer } from '../support/postgres.js';

const driver = sqlDrivers({ queryTimeoutMs: 30_000 });
const dbName = (): string => `sluice_cfp_${randomBytes(5).toString('hex')}`;

/** The fingerprint and checksum of a database as the sync reads them (fingerprint, full read, fingerprint). */
async function state(target: ConnectionTarget, database: string): Promise<{ fingerprint: string; checksum: string }> {
  const read = await driver.readSchemaFingerprinted(target, database);
  expect(read.fingerprint).toBeDefined();
  return { fingerprint: read.fingerprint!, checksum: schemaChecksum(normalize(read.model!)) };
}

/**
 * Runs each step and checks: a schema step moves the fingerprint (and, as a check of the step
 * itself, the checksum); a data step moves neither.
 */
async function walk(target: ConnectionTarget, database: string, run: (sql: string) => Promise<void>, steps: { kind: string; sql: string; data?: true }[]): Promise<void> {
  let last = await state(target, database);
  const missed: string[] = [];
  for (const step of steps) {
    await run(step.sql);
    const now = await state(target, database);
    if (step.data) {
      expect(now, `${step.kind}: a data-only change`).toEqual(last);
    } else {
      expect(now.checksum, `${step.kind}: the step changes the schema`).not.toBe(last.checksum);
      if (now.fingerprint === last.fingerprint) missed.push(step.kind);
    }
    last = now;
  }
  expect(missed, 'schema changes the fingerprint missed').toEqual([]);
}

const PG_START = `
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE SEQUENCE counter START 10 INCREMENT 5;
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE t (id int PRIMARY KEY, a text, b int, p int);
CREATE INDEX t_a ON t (a);
CREATE VIEW v AS SELECT id, a FROM t;
CREATE FUNCTION f(i int) RETURNS int LANGUAGE sql AS $$ SELECT i + 1 $$;
CREATE PROCEDURE pr(i int) LANGUAGE sql AS $$ UPDATE t SET b = i $$;
`;

const PG_STEPS = [
  { kind: 'column type', sql: 'ALTER TABLE t ALTER COLUMN b TYPE bigint' },
  { kind: 'column default', sql: "ALTER TABLE t ALTER COLUMN a SET DEFAULT 'x'" },
  { kind: 'column nullability', sql: 'ALTER TABLE t ALTER COLUMN a SET NOT NULL' },
  { kind: 'column added', sql: 'ALTER TABLE t ADD COLUMN c text' },
  { kind: 'column renamed', sql: 'ALTER TABLE t RENAME COLUMN c TO d' },
  { kind: 'index added', sql: 'CREATE INDEX t_b ON t (b)' },
  { kind: 'index definition', sql: 'DROP INDEX t_a; CREATE INDEX t_a ON t (a, b)' },
  { kind: 'check constraint', sql: 'ALTER TABLE t ADD CONSTRAINT b_pos CHECK (b > 0)' },
  { kind: 'foreign key', sql: 'ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (p) REFERENCES parent (id)' },
  { kind: 'foreign key action', sql: 'ALTER TABLE t DROP CONSTRAINT t_p, ADD CONSTRAINT t_p FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE' },
  { kind: 'unique constraint', sql: 'ALTER TABLE t ADD CONSTRAINT t_d UNIQUE (d)' },
  { kind: 'view definition', sql: 'CREATE OR REPLACE VIEW v AS SELECT id, a FROM t WHERE b > 1' },
  { kind: 'function body', sql: 'CREATE OR REPLACE FUNCTION f(i int) RETURNS int LANGUAGE sql AS $$ SELECT i + 2 $$' },
  { kind: 'function overload', sql: 'CREATE FUNCTION f(i text) RETURNS text LANGUAGE sql AS $$ SELECT i $$' },
  { kind: 'procedure body', sql: 'CREATE OR REPLACE PROCEDURE pr(i int) LANGUAGE sql AS $$ UPDATE t SET b = i + 1 $$' },
  { kind: 'enum value', sql: "ALTER TYPE mood ADD VALUE 'happy'" },
  { kind: 'sequence', sql: 'ALTER SEQUENCE counter INCREMENT BY 7' },
  { kind: 'table added', sql: 'CREATE TABLE u (x int)' },
  { kind: 'table renamed', sql: 'ALTER TABLE u RENAME TO w' },
  { kind: 'schema added', sql: 'CREATE SCHEMA extra' },
  { kind: 'table in another schema', sql: 'CREATE TABLE extra.t (id int)' },
  { kind: 'INSERT', sql: "INSERT INTO parent VALUES (1); INSERT INTO t (id, a, b, p, d) SELECT g, 'r' || g, g, 1, 'd' || g FROM generate_series(1, 500) g", data: true as const },
  { kind: 'ANALYZE', sql: 'ANALYZE', data: true as const },
  { kind: 'nextval', sql: "SELECT nextval('counter')", data: true as const },
  { kind: 'UPDATE', sql: "UPDATE t SET a = 'z'", data: true as const },
  { kind: 'VACUUM FULL', sql: 'VACUUM FULL t', data: true as const },
  // Renames of objects other definitions print by name (the fingerprint reads no definition).
  { kind: 'referenced table renamed (foreign key)', sql: 'ALTER TABLE parent RENAME TO parent2' },
  { kind: 'referenced column renamed (view, index, check)', sql: 'ALTER TABLE t RENAME COLUMN b TO bb' },
  { kind: 'enum column', sql: 'ALTER TABLE t ADD COLUMN m mood' },
  { kind: 'referenced type renamed', sql: 'ALTER TYPE mood RENAME TO feeling' },
  { kind: 'schema renamed', sql: 'ALTER SCHEMA extra RENAME TO extra2' },
  { kind: 'view over a function of the schema', sql: 'CREATE VIEW bumped AS SELECT f(id) AS n FROM t' },
  { kind: 'referenced function renamed', sql: 'ALTER FUNCTION f(int) RENAME TO g' },
  { kind: 'view over an operator of the schema', sql: 'CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq); CREATE VIEW same AS SELECT id FROM t WHERE id === 1' },
  { kind: 'referenced operator moved to another schema', sql: 'ALTER OPERATOR === (int, int) SET SCHEMA extra2' },
  { kind: 'date default', sql: "ALTER TABLE t ADD COLUMN born date DEFAULT '2020-01-02'" },
  {
    kind: 'DateStyle set on the database (the default prints otherwise)',
    sql: "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET DateStyle = %L', current_database(), 'SQL, DMY'); END $$",
  },
  { kind: 'VACUUM', sql: 'VACUUM t', data: true as const },
  { kind: 'TRUNCATE', sql: 'TRUNCATE w', data: true as const },
  { kind: 'REINDEX', sql: 'REINDEX TABLE t', data: true as const },
  { kind: 'temporary table (another session)', sql: 'CREATE TEMP TABLE scratch (x int)', data: true as const },
];

const MARIADB_START = [
  'CREATE SEQUENCE counter START WITH 10 INCREMENT BY 5',
  'CREATE TABLE parent (id int PRIMARY KEY) ENGINE=InnoDB',
  "CREATE TABLE t (id int PRIMARY KEY, a varchar(20), b int, p int, e enum('a','b')) ENGINE=InnoDB",
  'CREATE INDEX t_a ON t (a)',
  'CREATE VIEW v AS SELECT id, a FROM t',
  'CREATE FUNCTION f(i int) RETURNS int DETERMINISTIC RETURN i + 1',
  'CREATE PROCEDURE pr(IN i int) UPDATE t SET b = i',
].join(';\n');

const MARIADB_STEPS = [
  { kind: 'column type', sql: 'ALTER TABLE t MODIFY b bigint' },
  { kind: 'column default', sql: "ALTER TABLE t ALTER a SET DEFAULT 'x'" },
  { kind: 'column nullability', sql: "ALTER TABLE t MODIFY a varchar(20) NOT NULL DEFAULT 'x'" },
  { kind: 'column added', sql: 'ALTER TABLE t ADD COLUMN c text' },
  { kind: 'column renamed', sql: 'ALTER TABLE t RENAME COLUMN c TO d' },
  { kind: 'index added', sql: 'CREATE INDEX t_b ON t (b)' },
  { kind: 'index definition', sql: 'DROP INDEX t_a ON t; CREATE INDEX t_a ON t (a, b)' },
  { kind: 'check constraint', sql: 'ALTER TABLE t ADD CONSTRAINT b_pos CHECK (b > 0)' },
  { kind: 'foreign key', sql: 'ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (p) REFERENCES parent (id)' },
  { kind: 'foreign key action', sql: 'ALTER TABLE t DROP FOREIGN KEY t_p; ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE' },
  { kind: 'unique key', sql: 'ALTER TABLE t ADD CONSTRAINT t_b_u UNIQUE (b)' },
  { kind: 'view definition', sql: 'CREATE OR REPLACE VIEW v AS SELECT id, a FROM t WHERE b > 1' },
  { kind: 'function body', sql: 'CREATE OR REPLACE FUNCTION f(i int) RETURNS int DETERMINISTIC RETURN i + 2' },
  { kind: 'function characteristic', sql: 'ALTER FUNCTION f SQL SECURITY INVOKER' },
  { kind: 'procedure parameters', sql: 'CREATE OR REPLACE PROCEDURE pr(IN i bigint) UPDATE t SET b = i' },
  { kind: 'enum value', sql: "ALTER TABLE t MODIFY e enum('a','b','c')" },
  { kind: 'sequence', sql: 'ALTER SEQUENCE counter INCREMENT BY 7' },
  { kind: 'sequence added', sql: 'CREATE SEQUENCE other' },
  { kind: 'table added', sql: 'CREATE TABLE u (x int) ENGINE=InnoDB' },
  { kind: 'table renamed', sql: 'RENAME TABLE u TO w' },
  { kind: 'INSERT', sql: "INSERT INTO parent VALUES (1); INSERT INTO t (id, a, b, p, e) SELECT seq, 'r', seq, 1, 'a' FROM seq_1_to_500", data: true as const },
  { kind: 'ANALYZE', sql: 'ANALYZE TABLE t, parent', data: true as const },
  { kind: 'nextval', sql: 'SELECT NEXTVAL(counter), NEXTVAL(other)', data: true as const },
  { kind: 'UPDATE, OPTIMIZE', sql: "UPDATE t SET a = 'z'; OPTIMIZE TABLE t", data: true as const },
];

/** The queries each client sent, by text, while `work` ran. */
async function sentDuring<T>(work: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const queries: string[] = [];
  const textOf = (q: unknown): string => (typeof q === 'string' ? q : String((q as { text?: string; sql?: string })?.text ?? (q as { sql?: string })?.sql ?? ''));
  const pgQuery = pg.Client.prototype.query;
  const myQuery = PromiseConnection.prototype.query;
  vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    queries.push(textOf(args[0]));
    return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
  } as never);
  vi.spyOn(PromiseConnection.prototype, 'query').mockImplementation(function (this: PromiseConnection, ...args: unknown[]) {
    queries.push(textOf(args[0]));
    return (myQuery as (...a: unknown[]) => unknown).apply(this, args);
  } as never);
  try {
    return { result: await work(), queries };
  } finally {
    vi.restoreAllMocks();
  }
}

const CATALOG: Record<'POSTGRES' | 'MYSQL', RegExp> = {
  POSTGRES: /pg_catalog\./,
  MYSQL: /information_schema\.|SHOW CREATE|VERSION\(\)|JSON_ARRAY\(/i,
};

let task = 0;
const change = (database: string, statement: string, schemaCheck: SchemaCheck): ChangeRequest => ({
  taskKey: `projects/cfp/issues/${process.pid}/tasks/${++task}-${randomBytes(3).toString('hex')}`,
  attempt: 1,
  checksum: sha256(statement),
  statement,
  database,
  kind: 'DDL',
  schemaCheck,
});

/** One schema update through the executor: its outcome and the catalog queries it sent. */
async function schemaUpdate(target: ConnectionTarget, database: string, statement: string, check: SchemaCheck): Promise<{ outcome: ChangeOutcome; catalog: number; messages: number }> {
  const executor = new SqlChangeExecutor({ statementTimeoutMs: 30_000 });
  const { result, queries } = await sentDuring(() => executor.apply(target, change(database, statement, check)));
  return { outcome: result, catalog: queries.filter((q) => CATALOG[target.engine].test(q)).length, messages: queries.length };
}

/** The full reader's queries alone, as every schema update sent them twice before the fingerprint. */
async function fullReadQueries(target: ConnectionTarget, database: string): Promise<number> {
  const { queries } = await sentDuring(() => driver.readSchema(target, database));
  return queries.filter((q) => CATALOG[target.engine].test(q)).length;
}

/**
 * The executor's catalog round trips: a statement that leaves the schema alone costs one
 * fingerprint before and one after; a statement that changes it adds the full read after. Prints
 * the counts for the record (BENCHMARKS.md).
 */
async function roundTrips(target: ConnectionTarget, database: string, statements: { same: string; changes: string }): Promise<void> {
  const baseline = await state(target, database);
  const check = { expected: baseline.checksum, fingerprint: baseline.fingerprint, allowDrift: false };
  const full = await fullReadQueries(target, database);

  const same = await schemaUpdate(target, database, statements.same, check);
  expect(same.outcome).toMatchObject({ status: 'DONE', schema: { before: { checksum: baseline.checksum }, after: { checksum: baseline.checksum }, fingerprint: baseline.fingerprint } });
  expect(same.catalog).toBe(2);
  // PostgreSQL: the fingerprint before rides in the marker's message (marker and fingerprint, statement, fingerprint, COMMIT).
  if (target.engine === 'POSTGRES') expect(same.messages).toBe(4);

  const changed = await schemaUpdate(target, database, statements.changes, check);
  expect(changed.outcome.status).toBe('DONE');
  const read = changed.outcome.status === 'DONE' ? changed.outcome.schema! : undefined;
  expect(read?.before).toEqual({ checksum: baseline.checksum });
  expect(isModel(read!.after) && schemaChecksum(read!.after)).not.toBe(baseline.checksum);
  const now = await state(target, database);
  expect(read?.fingerprint).toBe(now.fingerprint);
  const fullNow = await fullReadQueries(target, database);
  expect(changed.catalog).toBe(1 + 1 + fullNow);

  // A head recorded before fingerprints (none with the baseline): the full read decides, as before.
  const legacy = await schemaUpdate(target, database, statements.same, { expected: now.checksum, allowDrift: false });
  expect(legacy.outcome).toMatchObject({ status: 'DONE', schema: { fingerprint: now.fingerprint } });
  expect(legacy.catalog).toBe(1 + fullNow + 1);

  // A fingerprint that is not the baseline's but the same schema (made again): no drift.
  const stale = await schemaUpdate(target, database, statements.same, { expected: now.checksum, fingerprint: 'stale', allowDrift: false });
  expect(stale.outcome.status).toBe('DONE');

  // A live schema that is not the baseline: refused, as before.
  const drifted = await schemaUpdate(target, database, statements.same, { expected: 'not-this', fingerprint: now.fingerprint.replace(/.$/, '_'), allowDrift: false });
  expect(drifted.outcome).toMatchObject({ status: 'FAILED', error: expect.stringContaining('schema drift') });

  process.stdout.write(
    `catalog queries per schema update on ${target.engine}: ${same.catalog} when the schema did not change, ${changed.catalog} when it did ` +
      `(a full read is ${full} queries here; every schema update read it twice before fingerprints)\n`,
  );
}

describe('PostgreSQL catalog fingerprint', () => {
  const server = postgresServer();
  const target: ConnectionTarget = { engine: 'POSTGRES', ...server };
  const made: string[] = [];
  const fresh = async (sql: string): Promise<string> => {
    const db = dbName();
    made.push(db);
    await adminQuery(server, `CREATE DATABASE ${db}`);
    await adminQuery(server, sql, db);
    return db;
  };
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    for (const db of made) await adminQuery(server, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  });

  it('changes with every object kind of the schema, not with data, statistics or sequence values', async () => {
    const db = await fresh(PG_START);
    await walk(target, db, async (sql) => void (await adminQuery(server, sql, db)), PG_STEPS);
  }, 120_000);

  it('a table or view made again has another fingerprint (new oids) and the same checksum', async () => {
    const db = await fresh(PG_START);
    const first = await state(target, db);
    await adminQuery(server, 'DROP VIEW v; CREATE VIEW v AS SELECT id, a FROM t', db);
    const view = await state(target, db);
    expect(view.checksum).toBe(first.checksum);
    expect(view.fingerprint).not.toBe(first.fingerprint);
    await adminQuery(server, 'DROP TABLE parent; CREATE TABLE parent (id int PRIMARY KEY)', db);
    const again = await state(target, db);
    expect(again.checksum).toBe(first.checksum);
    expect(again.fingerprint).not.toBe(first.fingerprint);
    const other = await fresh(PG_START);
    expect((await state(target, other)).checksum).toBe(first.checksum);
  });

  it('a schema update reads the catalog in 2 queries when its statement leaves the schema alone, and the full model only when it changes it', async () => {
    const db = await fresh(PG_START);
    await roundTrips(target, db, { same: "COMMENT ON TABLE t IS 'not part of the schema model'", changes: 'ALTER TABLE t ADD COLUMN extra text' });
  });
});

describe.skipIf(mysqlServer() === null)('MariaDB catalog fingerprint', () => {
  const server = mysqlServer()!;
  const target: ConnectionTarget = { engine: 'MYSQL', ...server };
  const made: string[] = [];
  const fresh = async (sql: string): Promise<string> => {
    const db = dbName();
    made.push(db);
    await mysqlQuery(server, `CREATE DATABASE \`${db}\``);
    await mysqlScript(server, db, sql);
    return db;
  };
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    for (const db of made) await mysqlQuery(server, `DROP DATABASE IF EXISTS \`${db}\``);
  });

  it('changes with every object kind of the schema, not with data, statistics or sequence values', async () => {
    const db = await fresh(MARIADB_START);
    await walk(target, db, (sql) => mysqlScript(server, db, sql), MARIADB_STEPS);
  });

  it('a schema update reads the catalog in 2 queries when its statement leaves the schema alone, and the full model only when it changes it', async () => {
    const db = await fresh('CREATE TABLE t (id int PRIMARY KEY, a varchar(20)) ENGINE=InnoDB; CREATE VIEW v AS SELECT id FROM t');
    await roundTrips(target, db, { same: "ALTER TABLE t COMMENT = 'not part of the schema model'", changes: 'ALTER TABLE t ADD COLUMN extra text' });
  });
});
