// The schema model on real servers: read from the catalogs, written back as DDL to an empty
// database, read again: the same checksum, on the sample HR schema and on a schema that uses every
// object kind; and the diff's statements make a target equal to its source.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { sqlDrivers } from '../../functions/adapters/sql/index.js';
import { ddlStatements, toDdl } from '../../domain/schema/ddl.js';
import { migrationStatements, toScript, unifiedDiff } from '../../domain/schema/diff.js';
import { normalize, schemaChecksum, type DatabaseSchema } from '../../domain/schema/model.js';
import type { ConnectionTarget } from '../../domain/inventory/ports.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName } from '../support/postgres.js';
import { HR_MYSQL_TABLES } from '../support/hr-mysql.js';
import { mysqlQuery, mysqlScript, mysqlServer } from '../support/mysql.js';
import type { SqlServer } from '../support/postgres.js';

const driver = sqlDrivers({ queryTimeoutMs: 30_000 });
const HR_PG = readFileSync(new URL('../../infra/local/samples/hr.sql', import.meta.url), 'utf8');

const PG_EVERY_KIND = `
CREATE SCHEMA billing;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE billing.status AS ENUM ('open', 'paid');
CREATE SEQUENCE billing.invoice_no START 1000 INCREMENT 5;
CREATE TABLE customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email varchar(200) NOT NULL,
  feeling mood DEFAULT 'ok',
  created timestamptz NOT NULL DEFAULT now(),
  name_upper text GENERATED ALWAYS AS (upper(email)) STORED,
  CONSTRAINT customers_email_key UNIQUE (email),
  CONSTRAINT email_has_at CHECK (position('@' in email) > 1)
);
CREATE TABLE billing.invoices (
  id serial PRIMARY KEY,
  no integer NOT NULL DEFAULT nextval('billing.invoice_no'),
  customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  state billing.status NOT NULL DEFAULT 'open',
  amount numeric(12, 2) NOT NULL CHECK (amount >= 0)
);
CREATE INDEX invoices_customer_idx ON billing.invoices (customer_id);
CREATE UNIQUE INDEX invoices_no_partial ON billing.invoices (no) WHERE state = 'open';
CREATE INDEX customers_lower_email ON customers (lower(email));
CREATE VIEW billing.open_invoices AS SELECT id, customer_id, amount FROM billing.invoices WHERE state = 'open';
CREATE VIEW billing.open_total AS SELECT sum(amount) AS total FROM billing.open_invoices;
CREATE FUNCTION billing.total(c bigint) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT coalesce(sum(amount), 0) FROM billing.invoices WHERE customer_id = c $$;
CREATE FUNCTION add_one(i integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN i + 1; END $$;
CREATE PROCEDURE billing.pay(i integer) LANGUAGE sql AS $$ UPDATE billing.invoices SET state = 'paid' WHERE id = i $$;
`;

const MYSQL_EVERY_KIND = [
  `CREATE SEQUENCE invoice_no START WITH 1000 INCREMENT BY 5`,
  `CREATE TABLE customers (
     id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
     email varchar(200) NOT NULL,
     feeling enum('sad','ok','happy') DEFAULT 'ok',
     note text NULL,
     created timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
     email_upper varchar(200) GENERATED ALWAYS AS (upper(email)) VIRTUAL,
     CONSTRAINT customers_email_key UNIQUE (email),
     CONSTRAINT email_has_at CHECK (locate('@', email) > 1)
   ) ENGINE=InnoDB`,
  `CREATE TABLE invoices (
     id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
     customer_id bigint NOT NULL,
     state varchar(10) NOT NULL DEFAULT 'open',
     amount decimal(12,2) NOT NULL CHECK (amount >= 0),
     KEY invoices_state (state, amount),
     FULLTEXT KEY invoices_state_text (state),
     CONSTRAINT invoices_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
   ) ENGINE=InnoDB`,
  `CREATE VIEW open_invoices AS SELECT id, customer_id, amount FROM invoices WHERE state = 'open'`,
  `CREATE VIEW open_total AS SELECT sum(amount) AS total FROM open_invoices`,
  `CREATE FUNCTION add_one(i int) RETURNS int DETERMINISTIC RETURN i + 1`,
  `CREATE PROCEDURE pay(IN i int) BEGIN UPDATE invoices SET state = 'paid' WHERE id = i; SELECT i; END`,
];

const pgTarget = (s: SqlServer): ConnectionTarget => ({ engine: 'POSTGRES', ...s });
const myTarget = (s: SqlServer): ConnectionTarget => ({ engine: 'MYSQL', ...s });

describe('PostgreSQL schema round trip', () => {
  const server = postgresServer();
  const made: string[] = [];
  const fresh = async (sql?: string): Promise<string> => {
    const db = testDatabaseName();
    made.push(db);
    await adminQuery(server, `CREATE DATABASE ${db}`);
    if (sql) await adminQuery(server, sql, db);
    return db;
  };
  afterAll(() => dropDatabases(server, made));

  const roundTrip = async (sql: string): Promise<DatabaseSchema> => {
    const source = await fresh(sql);
    const model = normalize(await driver.readSchema(pgTarget(server), source));
    const copy = await fresh(toDdl(model));
    const again = await driver.readSchema(pgTarget(server), copy);
    expect(toDdl(again)).toBe(toDdl(model));
    expect(schemaChecksum(again)).toBe(schemaChecksum(model));
    return model;
  };

  it('recreates the sample HR schema from its DDL', async () => {
    const model = await roundTrip(HR_PG);
    const tables = model.schemas.find((s) => s.name === 'public')!.tables;
    expect(tables.map((t) => t.name)).toEqual(['departments', 'employees', 'salaries']);
    const employees = tables.find((t) => t.name === 'employees')!;
    expect(employees.columns.map((c) => c.name)).toEqual(['id', 'first_name', 'last_name', 'email', 'department_id', 'manager_id', 'hired_on']);
    expect(employees.constraints.map((k) => k.type).sort()).toEqual(['FOREIGN KEY', 'FOREIGN KEY', 'PRIMARY KEY', 'UNIQUE']);
    expect(employees.indexes.map((i) => i.name)).toEqual(['employees_department_id_idx']);
  });

  it('recreates every object kind: schemas, enums, sequences, identity and generated columns, keys, checks, indexes, views, functions, procedures', async () => {
    const model = await roundTrip(PG_EVERY_KIND);
    const billing = model.schemas.find((s) => s.name === 'billing')!;
    const pub = model.schemas.find((s) => s.name === 'public')!;
    expect(pub.enums).toEqual([{ name: 'mood', values: ['sad', 'ok', 'happy'] }]);
    expect(billing.sequences.map((s) => [s.name, s.start, s.increment, s.ownedBy])).toEqual([
      ['invoice_no', '1000', '5', undefined],
      ['invoices_id_seq', '1', '1', 'invoices.id'],
    ]);
    expect(billing.views.map((v) => v.name)).toEqual(['open_invoices', 'open_total']);
    expect(billing.routines.map((r) => [r.kind, r.name, r.signature])).toEqual([['PROCEDURE', 'pay', '(IN i integer)'], ['FUNCTION', 'total', '(c bigint)']]);
    expect(pub.tables[0]!.columns.find((c) => c.name === 'id')!.identity).toBe('ALWAYS');
  });

  it('reads what the catalog joins leave implicit: extension objects left out, partitions under their parent, keys to partitions and other schemas named, OWNED BY, enum label order', async () => {
    const db = await fresh(`
      CREATE EXTENSION citext;
      CREATE TABLE people (id int PRIMARY KEY, email citext, CHECK (tableoid > 0));
      CREATE TABLE parts (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
      CREATE TABLE parts_eu PARTITION OF parts FOR VALUES IN ('eu');
      CREATE TABLE refs (id int PRIMARY KEY, pid int, region text, FOREIGN KEY (pid, region) REFERENCES parts_eu (id, region) ON UPDATE SET NULL);
      CREATE SCHEMA sluice_backup; CREATE TABLE sluice_backup.keep (k int PRIMARY KEY);
      CREATE TABLE kept (id int PRIMARY KEY, k int REFERENCES sluice_backup.keep (k));
      CREATE SEQUENCE owned_seq OWNED BY people.id;
      CREATE TYPE empty_enum AS ENUM ();
      CREATE TYPE moods AS ENUM ('b', 'a'); ALTER TYPE moods ADD VALUE 'c' BEFORE 'b';
    `);
    const model = normalize(await driver.readSchema(pgTarget(server), db));

    expect(model.schemas.map((s) => s.name)).toEqual(['public']);
    const pub = model.schemas[0]!;
    // citext's type and functions are the extension's; the partition is part of its parent.
    expect(pub.routines).toEqual([]);
    expect(pub.tables.map((t) => t.name)).toEqual(['kept', 'parts', 'people', 'refs']);
    const table = (name: string) => pub.tables.find((t) => t.name === name)!;
    expect(table('people').columns.map((c) => [c.name, c.type])).toEqual([['id', 'integer'], ['email', 'citext']]);
    expect(table('people').constraints.find((k) => k.type === 'CHECK')!.columns).toEqual(['tableoid']);
    expect(table('refs').constraints.find((k) => k.type === 'FOREIGN KEY')!.references).toEqual({ schema: 'public', table: 'parts_eu', columns: ['id', 'region'], onDelete: 'NO ACTION', onUpdate: 'SET NULL' });
    expect(table('kept').constraints.find((k) => k.type === 'FOREIGN KEY')!.references).toMatchObject({ schema: 'sluice_backup', table: 'keep', columns: ['k'] });
    expect(pub.sequences.map((q) => [q.name, q.ownedBy])).toEqual([['owned_seq', 'people.id']]);
    // An enum without labels has no pg_enum row; the others list their labels in sort order.
    expect(pub.enums).toEqual([{ name: 'moods', values: ['c', 'b', 'a'] }]);
  });

  it('gives the same checksum whatever order the objects were created in', async () => {
    const a = await driver.readSchema(pgTarget(server), await fresh('CREATE TABLE b (x int); CREATE TABLE a (y int, z text); CREATE INDEX ai ON a (z)'));
    const b = await driver.readSchema(pgTarget(server), await fresh('CREATE TABLE a (y int, z text); CREATE INDEX ai ON a (z); CREATE TABLE b (x int)'));
    expect(schemaChecksum(a)).toBe(schemaChecksum(b));
    const c = await driver.readSchema(pgTarget(server), await fresh('CREATE TABLE a (y int, z varchar(3)); CREATE TABLE b (x int)'));
    expect(schemaChecksum(c)).not.toBe(schemaChecksum(a));
  });

  it('diff statements make the target equal to the source', async () => {
    const source = await fresh(`${HR_PG}; ALTER TABLE employees ADD COLUMN phone text NOT NULL DEFAULT ''; CREATE VIEW heads AS SELECT id, email FROM employees WHERE manager_id IS NULL;
      ALTER TABLE departments DROP COLUMN cost_center; CREATE INDEX salaries_amount ON salaries (amount); CREATE TABLE projects (id int PRIMARY KEY, lead int REFERENCES employees (id))`);
    const target = await fresh(`${HR_PG}; ALTER TABLE salaries ALTER COLUMN amount DROP NOT NULL; ALTER TABLE departments ALTER COLUMN cost_center SET DEFAULT 'CC-0000'; ALTER TABLE employees ALTER COLUMN first_name TYPE varchar(80); CREATE TABLE legacy (id int)`);
    const want = await driver.readSchema(pgTarget(server), source);
    const have = await driver.readSchema(pgTarget(server), target);
    const statements = migrationStatements(want, have);
    expect(unifiedDiff('target', have, 'source', want)).toContain('+  "phone" text DEFAULT \'\'::text NOT NULL');
    await adminQuery(server, toScript(statements), target);
    expect(schemaChecksum(await driver.readSchema(pgTarget(server), target))).toBe(schemaChecksum(want));
    expect(migrationStatements(want, await driver.readSchema(pgTarget(server), target))).toEqual([]);
  });
});

const my = mysqlServer();
describe.skipIf(my === null)('MariaDB schema round trip', () => {
  const server = my!;
  const made: string[] = [];
  const fresh = async (statements: string[] = []): Promise<string> => {
    const db = testDatabaseName();
    made.push(db);
    await mysqlQuery(server, `CREATE DATABASE ${db}`);
    for (const s of statements) await mysqlScript(server, db, s);
    return db;
  };
  afterAll(async () => {
    for (const db of made) await mysqlQuery(server, `DROP DATABASE IF EXISTS ${db}`);
  });

  const roundTrip = async (statements: string[]): Promise<DatabaseSchema> => {
    const model = normalize(await driver.readSchema(myTarget(server), await fresh(statements)));
    const copy = await fresh();
    await mysqlScript(server, copy, toDdl(model));
    const again = await driver.readSchema(myTarget(server), copy);
    expect(toDdl(again)).toBe(toDdl(model));
    expect(schemaChecksum(again)).toBe(schemaChecksum(model));
    return model;
  };

  it('recreates the sample HR schema from its DDL', async () => {
    const model = await roundTrip(HR_MYSQL_TABLES);
    expect(model.schemas[0]!.tables.map((t) => t.name)).toEqual(['departments', 'employees', 'salaries']);
  });

  it('recreates every object kind: sequences, auto increment, enum and generated columns, keys, checks, indexes, views, functions, procedures', async () => {
    const model = await roundTrip(MYSQL_EVERY_KIND);
    const s = model.schemas[0]!;
    expect(s.sequences.map((q) => [q.name, q.start, q.increment])).toEqual([['invoice_no', '1000', '5']]);
    expect(s.views.map((v) => v.name)).toEqual(['open_invoices', 'open_total']);
    expect(s.routines.map((r) => [r.kind, r.name, r.signature])).toEqual([['FUNCTION', 'add_one', '(i int(11))'], ['PROCEDURE', 'pay', '(IN i int(11))']]);
    expect(ddlStatements(model).join('\n')).not.toContain(made[made.length - 2]);
  });

  it('diff statements make the target equal to the source', async () => {
    const source = await fresh([...HR_MYSQL_TABLES, 'ALTER TABLE employees ADD COLUMN phone varchar(20) NULL AFTER email', 'CREATE VIEW heads AS SELECT id, email FROM employees WHERE manager_id IS NULL', 'CREATE INDEX salaries_amount ON salaries (amount)']);
    const target = await fresh([...HR_MYSQL_TABLES, 'ALTER TABLE departments MODIFY cost_center varchar(40) NOT NULL', 'CREATE TABLE legacy (id int)']);
    const want = await driver.readSchema(myTarget(server), source);
    const have = await driver.readSchema(myTarget(server), target);
    await mysqlScript(server, target, toScript(migrationStatements(want, have)));
    const after = await driver.readSchema(myTarget(server), target);
    expect(unifiedDiff('target', after, 'source', want)).toBe('');
    expect(schemaChecksum(after)).toBe(schemaChecksum(want));
  });
});
