// Statements that must and must not trip each rule, on each engine the rule claims. Each case
// lists where the rule's advices land ("line:column"); an empty list means the rule stays silent.
// catalog.test.ts checks that every rule has both kinds of case on every engine it claims.
import type { ReviewEngine } from '../../../domain/review/index.js';
import type { DatabaseSchema, Schema } from '../../../domain/schema/model.js';

export interface Case {
  engine: ReviewEngine;
  sql: string;
  /** "line:column" of each advice of the rule, in order. */
  at: string[];
  payload?: unknown;
  affectedRows?: number;
  /**
   * Tables the target has, with their columns (`name type [not null] [default]`); each has the
   * primary key (id) unless listed in `noPk`. A PostgreSQL table may be `schema.table` (else public).
   */
  schema?: Record<string, string[]>;
  noPk?: string[];
  /** Views the target has: name → definition, as the catalog prints it. */
  views?: Record<string, string>;
  why?: string;
}

const PG = 'POSTGRES' as const;
const MY = 'MYSQL' as const;
const c = (engine: ReviewEngine, sql: string, at: string[], extra: Partial<Case> = {}): Case => ({ engine, sql, at, ...extra });

/** The synced schema model a case describes. */
export function modelOf(k: Pick<Case, 'engine' | 'schema' | 'noPk' | 'views'>): DatabaseSchema {
  const schemas = new Map<string, Schema>();
  const schemaOf = (name: string) => {
    let s = schemas.get(name);
    if (!s) schemas.set(name, (s = { name, tables: [], views: [], sequences: [], enums: [], routines: [] }));
    return s;
  };
  const split = (qualified: string): [string, string] => {
    const parts = qualified.split('.');
    return parts.length > 1 ? [parts[0]!, parts[1]!] : [k.engine === 'MYSQL' ? '' : 'public', parts[0]!];
  };
  schemaOf(k.engine === 'MYSQL' ? '' : 'public');
  for (const [qualified, columns] of Object.entries(k.schema ?? {})) {
    const [schema, name] = split(qualified);
    schemaOf(schema).tables.push({
      name,
      rowEstimate: 0,
      columns: columns.map((d, i) => {
        const [column, ...rest] = d.split(' ');
        const text = rest.join(' ');
        return { name: column!, position: i + 1, type: text.replace(/ not null| default/g, ''), nullable: !text.includes('not null'), ...(text.includes('default') ? { default: '0' } : {}) };
      }),
      constraints: k.noPk?.includes(qualified) ? [] : [{ name: `${name}_pkey`, type: 'PRIMARY KEY', columns: ['id'] }],
      indexes: [],
    });
  }
  for (const [qualified, definition] of Object.entries(k.views ?? {})) {
    const [schema, name] = split(qualified);
    schemaOf(schema).views.push({ name, definition });
  }
  return { engine: k.engine, schemas: [...schemas.values()] };
}

const EMPLOYEES = { employees: ['id integer not null', 'email text', 'phone text'] };
const LOGS = { logs: ['ts timestamptz not null'] };
/** A view as pg_get_viewdef prints it, and as MySQL's information_schema.VIEWS does (names of the database unqualified). */
const PG_VIEW = ' SELECT employees.id,\n    employees.email\n   FROM employees;';
const MY_VIEW = 'select `employees`.`id` AS `id`,`employees`.`email` AS `email` from `employees`';

export const CASES: Record<string, Case[]> = {
  'statement.where.require': [
    c(PG, 'DELETE FROM employees;', ['1:1']),
    c(PG, "-- clean up\nUPDATE employees SET email = lower(email);\nDELETE FROM salaries WHERE to_date < now()", ['2:1']),
    c(PG, 'DELETE FROM employees WHERE id = 1', []),
    c(PG, 'UPDATE t SET a = 1 FROM u WHERE t.id = u.id', []),
    c(MY, 'DELETE FROM employees', ['1:1']),
    c(MY, 'UPDATE t JOIN u ON u.id = t.uid SET t.a = u.a', ['1:1']),
    c(MY, 'UPDATE t JOIN u ON u.id = t.uid SET t.a = u.a WHERE u.b > 1', []),
    c(MY, 'DELETE t FROM t JOIN u ON u.id = t.uid WHERE u.gone = 1', []),
  ],
  'statement.select.no-select-all': [
    c(PG, 'SELECT * FROM t', ['1:8']),
    c(PG, 'INSERT INTO t (a) SELECT u.* FROM u', ['1:26']),
    c(PG, 'SELECT count(*) FROM t', []),
    c(PG, 'SELECT a, b FROM t WHERE id IN (SELECT id FROM u)', []),
    c(MY, 'SELECT a FROM t WHERE b IN (SELECT * FROM u)', ['1:36']),
    c(MY, 'SELECT COUNT(*) AS n FROM t', []),
  ],
  'statement.disallow-commit': [
    c(PG, 'BEGIN;\nUPDATE t SET a = 1 WHERE id = 1;\nCOMMIT;', ['3:1']),
    c(PG, 'END', ['1:1'], { why: 'END is COMMIT on PostgreSQL' }),
    c(PG, 'BEGIN; ROLLBACK;', []),
    c(MY, 'START TRANSACTION; UPDATE t SET a = 1 WHERE id = 1; COMMIT', ['1:53']),
    c(MY, 'ROLLBACK', []),
  ],
  'statement.disallow-mix-ddl-dml': [
    c(PG, 'ALTER TABLE t ADD COLUMN a int;\nUPDATE t SET a = 1 WHERE a IS NULL;', ['2:1']),
    c(PG, "INSERT INTO t (id) VALUES (1);\nCREATE TABLE u (id int PRIMARY KEY);\nINSERT INTO t (id) VALUES (2);", ['2:1']),
    c(PG, 'ALTER TABLE t ADD COLUMN a int; CREATE INDEX i ON t (a); SELECT 1', []),
    c(MY, 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t (id) VALUES (1)', ['1:38']),
    c(MY, 'UPDATE t SET a = 1 WHERE id = 1; DELETE FROM t WHERE id = 2', []),
  ],
  'statement.affected-row-limit': [
    c(PG, 'UPDATE t SET a = 1 WHERE b > 0', ['1:1'], { affectedRows: 5000 }),
    c(PG, 'DELETE FROM t WHERE b > 0', [], { affectedRows: 5000, payload: { max: 10000 } }),
    c(PG, 'DELETE FROM t WHERE b > 0', [], { why: 'no estimate: silent' }),
    c(PG, 'INSERT INTO t (a) VALUES (1)', [], { affectedRows: 5000, why: 'INSERT is not limited' }),
    c(MY, 'DELETE FROM t WHERE b > 0', ['1:1'], { affectedRows: 11, payload: { max: 10 } }),
    c(MY, 'DELETE FROM t WHERE b > 0', [], { affectedRows: 10, payload: { max: 10 } }),
  ],
  'statement.insert.must-specify-column': [
    c(PG, 'INSERT INTO t VALUES (1)', ['1:1']),
    c(PG, 'INSERT INTO t (id) VALUES (1)', []),
    c(MY, 'INSERT INTO t VALUES (1), (2)', ['1:1']),
    c(MY, 'REPLACE INTO t VALUES (1)', ['1:1']),
    c(MY, 'INSERT INTO t SET id = 1', []),
    c(MY, "INSERT INTO t (id, a) VALUES (1, 'x') ON DUPLICATE KEY UPDATE a = VALUES(a)", []),
  ],
  'statement.disallow-truncate': [
    c(PG, 'TRUNCATE t CASCADE', ['1:1']),
    c(PG, 'DELETE FROM t WHERE true', []),
    c(MY, 'TRUNCATE TABLE t', ['1:1']),
    c(MY, 'DELETE FROM t WHERE 1 = 1', []),
  ],
  'statement.where.no-leading-wildcard-like': [
    c(PG, "SELECT id FROM t WHERE name LIKE '%son'", ['1:29']),
    c(PG, "SELECT id FROM t WHERE name ILIKE 'son%'", []),
    c(MY, "UPDATE t SET a = 1 WHERE name LIKE '_x'", ['1:26']),
    c(MY, "SELECT id FROM t WHERE name LIKE 'son%'", []),
  ],
  'statement.disallow-limit': [
    c(MY, 'DELETE FROM t WHERE id < 10 LIMIT 5', ['1:1']),
    c(MY, 'SELECT id FROM t LIMIT 5', []),
  ],
  'statement.disallow-order-by': [
    c(MY, 'UPDATE t SET a = 1 WHERE b = 2 ORDER BY id', ['1:1']),
    c(MY, 'SELECT id FROM t ORDER BY id', []),
  ],
  'statement.add-not-null-column-require-default': [
    c(PG, 'ALTER TABLE employees ADD COLUMN badge text NOT NULL', ['1:34']),
    c(PG, "ALTER TABLE employees ADD COLUMN badge text NOT NULL DEFAULT ''", []),
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY);\nALTER TABLE t ADD COLUMN a int NOT NULL', [], { why: 'the table is new: it has no rows' }),
    c(PG, 'ALTER TABLE t ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY NOT NULL', []),
    c(PG, 'ALTER TABLE ghost ADD COLUMN a int NOT NULL', [], { schema: { employees: ['id integer not null'] }, why: 'the synced schema has no such table' }),
    c(PG, 'ALTER TABLE staff RENAME TO employees;\nALTER TABLE employees ADD COLUMN badge text NOT NULL', ['2:34'], { schema: { staff: ['id integer not null'] }, why: 'renamed from a table that has rows' }),
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY);\nALTER TABLE t RENAME TO u;\nALTER TABLE u ADD COLUMN a int NOT NULL', [], { why: 'renamed from a table made in the script' }),
    c(MY, 'ALTER TABLE employees ADD COLUMN badge varchar(20) NOT NULL', ['1:34']),
    c(MY, 'RENAME TABLE staff TO employees;\nALTER TABLE employees ADD COLUMN badge varchar(20) NOT NULL', ['2:34'], { schema: { staff: ['id int not null'] } }),
    c(MY, 'ALTER TABLE employees ADD COLUMN n int NOT NULL AUTO_INCREMENT', []),
  ],
  'statement.disallow-add-column-with-volatile-default': [
    c(PG, 'ALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid()', ['1:26']),
    c(PG, 'ALTER TABLE t ADD COLUMN r float8 DEFAULT random() * 10', ['1:26']),
    c(PG, 'ALTER TABLE t ADD COLUMN created timestamptz DEFAULT now()', []),
    c(PG, "ALTER TABLE t ADD COLUMN status text DEFAULT 'new'", []),
  ],
  'statement.add-constraint-not-valid': [
    c(PG, 'ALTER TABLE t ADD CONSTRAINT positive CHECK (amount > 0)', ['1:19']),
    c(PG, 'ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES u (id)', ['1:19']),
    c(PG, 'ALTER TABLE t ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID', []),
    c(PG, 'ALTER TABLE t ADD CONSTRAINT uq UNIQUE (a)', []),
  ],
  'statement.require-lock-timeout': [
    c(PG, "ALTER TABLE t ADD COLUMN a int;\nALTER TABLE t ADD COLUMN b int", ['1:1']),
    c(PG, "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN a int", []),
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY); CREATE INDEX i ON t (id)', [], { why: 'the table is new' }),
    c(PG, 'CREATE INDEX CONCURRENTLY i ON t (a)', []),
  ],
  'statement.disallow-drop-database': [
    c(PG, 'DROP DATABASE hr_prod', ['1:1']),
    c(PG, 'DROP SCHEMA sales CASCADE', ['1:1']),
    c(PG, 'DROP TABLE t', []),
    c(MY, 'DROP DATABASE IF EXISTS shop', ['1:1']),
    c(MY, 'CREATE DATABASE shop', []),
  ],
  'statement.disallow-on-del-cascade': [
    c(PG, 'CREATE TABLE o (id int PRIMARY KEY, c int REFERENCES c (id) ON DELETE CASCADE)', ['1:43']),
    c(PG, 'ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id) ON DELETE CASCADE', ['1:19']),
    c(PG, 'TRUNCATE a CASCADE', ['1:1']),
    c(PG, 'CREATE TABLE o (id int PRIMARY KEY, c int REFERENCES c (id) ON DELETE SET NULL)', []),
    c(MY, 'ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id) ON DELETE CASCADE', ['1:46']),
    c(MY, 'ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id)', []),
  ],
  'table.require-pk': [
    c(PG, 'CREATE TABLE t (id int, name text)', ['1:1']),
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY)', []),
    c(PG, 'CREATE TABLE t (a int, b int, PRIMARY KEY (a, b))', []),
    c(PG, 'CREATE TEMP TABLE t (a int)', []),
    c(PG, 'ALTER TABLE t DROP CONSTRAINT t_pkey', ['1:1']),
    c(PG, 'ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (id, v)', []),
    c(MY, 'CREATE TABLE t (id int) ENGINE=InnoDB', ['1:1']),
    c(MY, 'CREATE TABLE t (id bigint unsigned NOT NULL AUTO_INCREMENT, PRIMARY KEY (id))', []),
    c(MY, 'ALTER TABLE t DROP PRIMARY KEY', ['1:1']),
    c(MY, 'ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, x)', []),
    c(PG, 'ALTER TABLE logs ADD COLUMN note text', ['1:1'], { schema: LOGS, noPk: ['logs'], why: 'altering a synced table that has none' }),
    c(PG, 'ALTER TABLE logs ADD COLUMN id bigint PRIMARY KEY', [], { schema: LOGS, noPk: ['logs'] }),
    c(PG, 'ALTER TABLE logs ADD PRIMARY KEY (ts);\nALTER TABLE logs ADD COLUMN note text', [], { schema: LOGS, noPk: ['logs'], why: 'the script gave it one first' }),
    c(PG, 'ALTER TABLE employees ADD COLUMN note text', [], { schema: EMPLOYEES }),
    c(MY, 'ALTER TABLE logs ADD COLUMN note text', ['1:1'], { schema: LOGS, noPk: ['logs'] }),
    c(MY, 'CREATE TABLE tags (id int PRIMARY KEY);\nALTER TABLE tags ADD COLUMN n int', [], { schema: LOGS, noPk: ['logs'] }),
  ],
  'table.no-duplicate': [
    c(PG, 'CREATE TABLE employees (id int PRIMARY KEY)', ['1:1'], { schema: EMPLOYEES }),
    c(PG, 'CREATE TABLE IF NOT EXISTS employees (id int PRIMARY KEY)', [], { schema: EMPLOYEES }),
    c(PG, 'CREATE TABLE badges (id int PRIMARY KEY);\nCREATE TABLE badges (id int PRIMARY KEY)', ['2:1'], { schema: EMPLOYEES, why: 'made earlier in the script' }),
    c(PG, 'DROP TABLE employees;\nCREATE TABLE employees (id int PRIMARY KEY)', [], { schema: EMPLOYEES, why: 'dropped first' }),
    c(PG, 'CREATE TABLE staff_directory (id int PRIMARY KEY)', ['1:1'], { schema: EMPLOYEES, views: { staff_directory: PG_VIEW }, why: 'a view has the name' }),
    c(PG, 'ALTER TABLE logs RENAME TO employees', ['1:1'], { schema: { ...EMPLOYEES, ...LOGS } }),
    c(PG, 'CREATE TABLE hr.employees (id int PRIMARY KEY)', [], { schema: EMPLOYEES, why: 'another schema' }),
    c(MY, 'CREATE TABLE employees (id int PRIMARY KEY)', ['1:1'], { schema: EMPLOYEES }),
    c(MY, 'CREATE TABLE shop.employees (id int PRIMARY KEY)', ['1:1'], { schema: EMPLOYEES, why: 'qualified with the target database' }),
    c(MY, 'CREATE TABLE other.employees (id int PRIMARY KEY)', [], { schema: EMPLOYEES, why: 'another database' }),
    c(MY, 'RENAME TABLE logs TO employees', ['1:1'], { schema: { ...EMPLOYEES, ...LOGS } }),
    c(MY, 'CREATE TABLE badges (id int PRIMARY KEY)', [], { schema: EMPLOYEES }),
  ],
  'table.must-exist': [
    c(PG, 'ALTER TABLE ghost ADD COLUMN a int', ['1:1'], { schema: EMPLOYEES }),
    c(PG, 'DROP TABLE IF EXISTS ghost', [], { schema: EMPLOYEES }),
    c(PG, 'CREATE TABLE ghost (id int PRIMARY KEY);\nALTER TABLE ghost ADD COLUMN a int', [], { schema: EMPLOYEES }),
    c(PG, 'DROP TABLE employees;\nDELETE FROM employees WHERE id = 1', ['2:1'], { schema: EMPLOYEES, why: 'dropped earlier in the script' }),
    c(PG, 'INSERT INTO ghost (id) VALUES (1)', ['1:1'], { schema: EMPLOYEES }),
    c(PG, 'UPDATE staff_directory SET email = NULL WHERE id = 1', [], { schema: EMPLOYEES, views: { staff_directory: PG_VIEW }, why: 'an updatable view' }),
    c(PG, 'UPDATE audit.events SET a = 1 WHERE id = 1', [], { schema: EMPLOYEES, why: 'a schema the sync did not record' }),
    c(PG, 'DROP MATERIALIZED VIEW stats', [], { schema: EMPLOYEES, why: 'materialized views are not in the synced model' }),
    c(PG, 'CREATE MATERIALIZED VIEW stats AS SELECT count(*) FROM employees;\nCREATE INDEX ON stats (count)', [], { schema: EMPLOYEES, why: 'made by the script' }),
    c(MY, 'TRUNCATE TABLE ghost', ['1:1'], { schema: EMPLOYEES }),
    c(MY, 'UPDATE employees SET email = NULL WHERE id = 1', [], { schema: EMPLOYEES }),
    c(MY, 'DELETE a FROM ghost AS a JOIN employees e ON e.id = a.id WHERE e.id = 1', [], { schema: EMPLOYEES, why: 'multi-table DELETE names aliases' }),
    c(MY, 'UPDATE other.t SET a = 1 WHERE id = 1', [], { schema: EMPLOYEES, why: 'another database' }),
    c(MY, 'RENAME TABLE employees TO staff;\nALTER TABLE employees ADD COLUMN a int', ['2:1'], { schema: EMPLOYEES }),
  ],
  'table.no-foreign-key': [
    c(PG, 'CREATE TABLE o (id int PRIMARY KEY, c int, CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id))', ['1:44']),
    c(PG, 'ALTER TABLE o ADD COLUMN c int REFERENCES c (id)', ['1:32']),
    c(PG, 'CREATE TABLE o (id int PRIMARY KEY, c int)', []),
    c(MY, 'CREATE TABLE o (id int PRIMARY KEY, c int, CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id))', ['1:71']),
    c(MY, 'CREATE TABLE o (id int PRIMARY KEY, c int, KEY idx_c (c))', []),
  ],
  'table.disallow-drop': [
    c(PG, 'DROP TABLE IF EXISTS a, b', ['1:1']),
    c(PG, 'DROP VIEW v', []),
    c(MY, 'DROP TABLE t', ['1:1']),
    c(MY, 'DROP INDEX i ON t', []),
  ],
  'table.drop-naming-convention': [
    c(PG, 'DROP TABLE orders', ['1:1']),
    c(PG, 'DROP TABLE orders_del', []),
    c(PG, 'DROP TABLE old_orders', [], { payload: { format: '^old_' } }),
    c(MY, 'DROP TABLE a_del, b', ['1:1']),
    c(MY, 'DROP TABLE a_del', []),
  ],
  'column.required': [
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, created_at timestamptz)', ['1:1']),
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, created_at timestamptz, updated_at timestamptz)', []),
    c(PG, 'ALTER TABLE t DROP COLUMN created_at', ['1:1']),
    c(PG, 'CREATE TABLE t (pk int PRIMARY KEY)', [], { payload: { columns: ['pk'] } }),
    c(MY, 'CREATE TABLE t (id int PRIMARY KEY)', ['1:1'], { payload: { columns: ['id', 'tenant_id'] } }),
    c(MY, 'ALTER TABLE t CHANGE COLUMN tenant_id org_id int', ['1:29'], { payload: { columns: ['tenant_id'] } }),
    c(MY, 'ALTER TABLE t MODIFY COLUMN tenant_id bigint', [], { payload: { columns: ['tenant_id'] } }),
  ],
  'column.no-duplicate': [
    c(PG, 'ALTER TABLE employees ADD COLUMN email text', ['1:34'], { schema: EMPLOYEES }),
    c(PG, 'ALTER TABLE employees ADD COLUMN IF NOT EXISTS email text', [], { schema: EMPLOYEES }),
    c(PG, 'ALTER TABLE employees ADD COLUMN badge text', [], { schema: EMPLOYEES }),
    c(PG, 'ALTER TABLE employees ADD COLUMN badge text;\nALTER TABLE employees ADD COLUMN badge text', ['2:34'], { schema: EMPLOYEES, why: 'added earlier in the script' }),
    c(PG, 'ALTER TABLE employees DROP COLUMN email;\nALTER TABLE employees ADD COLUMN email text', [], { schema: EMPLOYEES, why: 'dropped first' }),
    c(PG, 'ALTER TABLE employees RENAME COLUMN phone TO email', ['1:1'], { schema: EMPLOYEES }),
    c(MY, 'ALTER TABLE employees ADD COLUMN email varchar(100)', ['1:34'], { schema: EMPLOYEES }),
    c(MY, 'ALTER TABLE employees CHANGE COLUMN phone email varchar(100)', ['1:37'], { schema: EMPLOYEES }),
    c(MY, 'CREATE TABLE badges (id int PRIMARY KEY);\nALTER TABLE badges ADD COLUMN id int', ['2:31'], { schema: EMPLOYEES, why: 'the script made the table with it' }),
    c(MY, 'ALTER TABLE employees ADD COLUMN badge int', [], { schema: EMPLOYEES }),
  ],
  'column.must-exist': [
    c(PG, 'ALTER TABLE employees DROP COLUMN nope', ['1:1'], { schema: EMPLOYEES }),
    c(PG, 'ALTER TABLE employees DROP COLUMN IF EXISTS nope', [], { schema: EMPLOYEES }),
    c(PG, 'ALTER TABLE employees ALTER COLUMN nope TYPE bigint', ['1:36'], { schema: EMPLOYEES }),
    c(PG, 'ALTER TABLE employees ADD COLUMN badge text, ALTER COLUMN badge SET NOT NULL', [], { schema: EMPLOYEES, why: 'added by the same statement' }),
    c(PG, "UPDATE employees SET emial = 'x' WHERE id = 1", ['1:22'], { schema: EMPLOYEES }),
    c(PG, 'DELETE FROM employees WHERE emp_no = 1', ['1:29'], { schema: EMPLOYEES }),
    c(PG, 'DELETE FROM employees e USING logs l WHERE l.ts < now() AND e.nope = 1', [], { schema: { ...EMPLOYEES, ...LOGS }, why: 'USING: not judged' }),
    c(PG, 'UPDATE employees SET email = lower(email) WHERE id = 1', [], { schema: EMPLOYEES }),
    c(PG, 'ALTER TABLE employees DROP COLUMN email;\nUPDATE employees SET email = NULL WHERE id = 1', ['2:22'], { schema: EMPLOYEES, why: 'dropped earlier in the script' }),
    c(MY, 'ALTER TABLE employees DROP COLUMN nope', ['1:35'], { schema: EMPLOYEES }),
    c(MY, 'DELETE FROM employees WHERE emp_no = 1', ['1:29'], { schema: EMPLOYEES }),
    c(MY, 'UPDATE employees SET nope = 1 WHERE id = 1', ['1:1'], { schema: EMPLOYEES, why: 'node-sql-parser gives SET no position' }),
    c(MY, 'UPDATE employees e JOIN logs l ON l.id = e.id SET e.nope = 1', [], { schema: { ...EMPLOYEES, ...LOGS }, why: 'a join: not judged' }),
    c(MY, 'ALTER TABLE employees MODIFY COLUMN email varchar(200)', [], { schema: EMPLOYEES }),
    c(PG, 'CREATE INDEX ON employees (emial)', ['1:1'], { schema: EMPLOYEES }),
    c(PG, 'CREATE INDEX ON employees (lower(email), phone)', [], { schema: EMPLOYEES, why: 'an expression is not a column' }),
    c(PG, 'ALTER TABLE employees ADD CONSTRAINT u UNIQUE (phone, fax)', ['1:27'], { schema: EMPLOYEES }),
    c(PG, "INSERT INTO employees (id, emial) VALUES (1, 'x')", ['1:1'], { schema: EMPLOYEES }),
    c(MY, "INSERT INTO employees (id, email, fax) VALUES (1, 'x', 'y')", ['1:1'], { schema: EMPLOYEES }),
    c(MY, "INSERT INTO employees SET id = 1, email = 'x'", [], { schema: EMPLOYEES }),
  ],
  'column.set-default-for-not-null': [
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL)', ['1:37']),
    c(PG, "CREATE TABLE t (id serial NOT NULL, name text NOT NULL DEFAULT '', PRIMARY KEY (id))", []),
    c(PG, 'ALTER TABLE t ADD COLUMN n int NOT NULL', ['1:26']),
    c(MY, 'CREATE TABLE t (id int NOT NULL, name varchar(20) NOT NULL, PRIMARY KEY (id))', ['1:34']),
    c(MY, 'ALTER TABLE t MODIFY COLUMN name varchar(20) NOT NULL', ['1:29']),
    c(MY, 'ALTER TABLE t MODIFY COLUMN id bigint NOT NULL', [], { schema: { t: ['id int not null'] }, why: 'id is the primary key' }),
    c(MY, "CREATE TABLE t (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(20) NOT NULL DEFAULT '')", []),
  ],
  'column.disallow-change-type': [
    c(PG, 'ALTER TABLE t ALTER COLUMN a TYPE bigint', ['1:28']),
    c(PG, 'ALTER TABLE t ALTER COLUMN a SET NOT NULL', []),
    c(PG, 'ALTER TABLE t ALTER COLUMN a TYPE integer', [], { schema: { t: ['a integer'] }, why: 'same type as synced' }),
    c(MY, 'ALTER TABLE t MODIFY COLUMN a bigint', ['1:29']),
    c(MY, 'ALTER TABLE t MODIFY COLUMN a int NOT NULL', [], { schema: { t: ['a int'] } }),
    c(MY, 'ALTER TABLE t MODIFY COLUMN a bigint NOT NULL', ['1:29'], { schema: { t: ['a int'] } }),
  ],
  'column.no-null': [
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, note text)', ['1:37']),
    c(PG, 'CREATE TABLE t (id int, note text NOT NULL, PRIMARY KEY (id))', []),
    c(MY, 'ALTER TABLE t ADD COLUMN note text NULL', ['1:26']),
    c(MY, "ALTER TABLE t ADD COLUMN note text NOT NULL DEFAULT ''", []),
  ],
  'column.type-disallow-list': [
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, price money)', ['1:37'], { payload: { types: ['money'] } }),
    c(PG, 'ALTER TABLE t ALTER COLUMN price TYPE money', ['1:28'], { payload: { types: ['MONEY'] } }),
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, price numeric(10,2))', [], { payload: { types: ['money'] } }),
    c(MY, 'CREATE TABLE t (id int PRIMARY KEY, doc json)', ['1:37'], { payload: { types: ['json'] } }),
    c(MY, 'CREATE TABLE t (id int PRIMARY KEY, doc text)', [], { payload: { types: ['json'] } }),
  ],
  'column.disallow-drop-not-null': [
    c(PG, 'ALTER TABLE t ALTER COLUMN a DROP NOT NULL', ['1:1']),
    c(PG, 'ALTER TABLE t ALTER COLUMN a SET NOT NULL', []),
  ],
  'column.prefer-timestamptz': [
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, at timestamp(3))', ['1:37']),
    c(PG, 'ALTER TABLE t ALTER COLUMN at TYPE timestamp without time zone', ['1:28']),
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, at timestamptz, d date)', []),
  ],
  'index.create-concurrently': [
    c(PG, 'CREATE INDEX idx_t_a ON t (a)', ['1:1']),
    c(PG, 'CREATE INDEX CONCURRENTLY idx_t_a ON t (a)', []),
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, a int);\nCREATE INDEX idx_t_a ON t (a)', []),
  ],
  'index.drop-concurrently': [
    c(PG, 'DROP INDEX idx_t_a', ['1:1']),
    c(PG, 'DROP INDEX CONCURRENTLY idx_t_a', []),
  ],
  'index.no-duplicate-column': [
    c(PG, 'CREATE INDEX i ON t (a, b, a)', ['1:1']),
    c(PG, 'CREATE TABLE t (a int, b int, PRIMARY KEY (a, a))', ['1:31']),
    c(PG, 'CREATE INDEX i ON t (a, lower(b), b)', []),
    c(MY, 'ALTER TABLE t ADD INDEX idx (a, a)', ['1:30']),
    c(MY, 'CREATE UNIQUE INDEX uk ON t (a, b)', []),
  ],
  'index.key-number-limit': [
    c(PG, 'CREATE INDEX i ON t (a, b, c, d, e, f)', ['1:1']),
    c(PG, 'CREATE INDEX i ON t (a, b, c)', [], { payload: { max: 3 } }),
    c(MY, 'CREATE TABLE t (id int PRIMARY KEY, a int, b int, KEY k (a, b))', ['1:58'], { payload: { max: 1 } }),
    c(MY, 'CREATE INDEX i ON t (a, b, c, d, e)', []),
  ],
  'naming.table': [
    c(PG, 'CREATE TABLE "OrderItems" (id int PRIMARY KEY)', ['1:1']),
    c(PG, 'ALTER TABLE order_items RENAME TO "OrderItems"', ['1:1']),
    c(PG, 'CREATE TABLE order_items (id int PRIMARY KEY)', []),
    c(PG, `CREATE TABLE ${'a'.repeat(30)} (id int PRIMARY KEY)`, ['1:1'], { payload: { maxLength: 20 } }),
    c(MY, 'CREATE TABLE OrderItems (id int PRIMARY KEY)', ['1:1']),
    c(MY, 'RENAME TABLE a TO OrderItems', ['1:1']),
    c(MY, 'CREATE TABLE OrderItems (id int PRIMARY KEY)', [], { payload: { format: '^[A-Z][A-Za-z]+$' } }),
  ],
  'naming.column': [
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, "firstName" text)', ['1:37']),
    c(PG, 'ALTER TABLE t RENAME COLUMN a TO "B"', ['1:1']),
    c(PG, 'ALTER TABLE t ADD COLUMN first_name text', []),
    c(MY, 'ALTER TABLE t ADD COLUMN firstName text', ['1:26']),
    c(MY, 'ALTER TABLE t CHANGE COLUMN a firstName int', ['1:31']),
    c(MY, 'ALTER TABLE t MODIFY COLUMN legacyName int', [], { why: 'MODIFY keeps the name it has' }),
  ],
  'naming.index': [
    c(PG, 'CREATE INDEX employees_email ON employees (email)', ['1:1']),
    c(PG, 'CREATE INDEX idx_employees_email ON employees (email)', []),
    c(PG, 'CREATE INDEX ON employees (email)', [], { why: 'the server names it' }),
    c(PG, 'ALTER INDEX idx_a RENAME TO a_idx', ['1:1']),
    c(MY, 'ALTER TABLE t ADD UNIQUE KEY email_unique (email)', ['1:44']),
    c(MY, 'CREATE TABLE t (id int PRIMARY KEY, a int, b int, KEY idx_t_a_b (a, b))', []),
    c(MY, 'CREATE INDEX ix_a ON t (a)', [], { payload: { format: '^ix_{{column_list}}$' } }),
  ],
  'schema.backward-compatibility': [
    c(PG, 'ALTER TABLE employees DROP COLUMN email', ['1:1']),
    c(PG, 'ALTER TABLE employees RENAME COLUMN email TO mail', ['1:1']),
    c(PG, 'ALTER TABLE employees RENAME TO staff', ['1:1']),
    c(PG, 'DROP VIEW v', ['1:1']),
    c(PG, 'ALTER TABLE t ALTER COLUMN a TYPE integer', ['1:28'], { schema: { t: ['a bigint'] } }),
    c(PG, 'ALTER TABLE t ALTER COLUMN a TYPE varchar(50)', ['1:28'], { schema: { t: ['a character varying(100)'] } }),
    c(PG, 'ALTER TABLE t ALTER COLUMN a TYPE bigint', [], { schema: { t: ['a integer'] } }),
    c(PG, 'ALTER TABLE t ALTER COLUMN a TYPE text', [], { schema: { t: ['a character varying(100)'] } }),
    c(PG, 'ALTER TABLE t ADD COLUMN a int', []),
    c(PG, 'CREATE TABLE t (id int PRIMARY KEY, a int); ALTER TABLE t DROP COLUMN a', [], { why: 'a table made in the same script has no users yet' }),
    c(MY, 'ALTER TABLE t CHANGE COLUMN a b int', ['1:29', '1:29'], { why: 'a rename, and a type the synced schema cannot confirm' }),
    c(MY, 'RENAME TABLE a TO b', ['1:1']),
    c(MY, 'ALTER TABLE t MODIFY COLUMN a decimal(8,2)', ['1:29'], { schema: { t: ['a decimal(10,2)'] } }),
    c(MY, 'ALTER TABLE t MODIFY COLUMN a varchar(200)', [], { schema: { t: ['a varchar(100)'] } }),
    c(MY, 'ALTER TABLE t ADD COLUMN b int', []),
  ],
  'schema.view-dependency': [
    c(PG, 'ALTER TABLE employees DROP COLUMN email', ['1:1'], { schema: EMPLOYEES, views: { staff_directory: PG_VIEW } }),
    c(PG, 'ALTER TABLE employees DROP COLUMN phone', [], { schema: EMPLOYEES, views: { staff_directory: PG_VIEW } }),
    c(PG, 'ALTER TABLE employees ALTER COLUMN email TYPE varchar(200)', ['1:36'], { schema: EMPLOYEES, views: { staff_directory: PG_VIEW } }),
    c(PG, 'DROP TABLE employees CASCADE', ['1:1'], { schema: EMPLOYEES, views: { staff_directory: PG_VIEW } }),
    c(PG, 'DROP VIEW staff_directory;\nALTER TABLE employees DROP COLUMN email', [], { schema: EMPLOYEES, views: { staff_directory: PG_VIEW }, why: 'the view is gone first' }),
    c(PG, 'CREATE VIEW phones AS SELECT id, phone FROM employees;\nALTER TABLE employees DROP COLUMN phone', ['2:1'], { schema: EMPLOYEES, why: 'a view the script made' }),
    c(PG, 'CREATE MATERIALIZED VIEW phones AS SELECT e.phone FROM employees e;\nALTER TABLE employees DROP COLUMN phone', ['2:1'], { schema: EMPLOYEES, why: 'a materialized view the script made' }),
    c(MY, 'ALTER TABLE employees DROP COLUMN email', ['1:35'], { schema: EMPLOYEES, views: { staff_directory: MY_VIEW } }),
    c(MY, 'ALTER TABLE employees DROP COLUMN phone', [], { schema: EMPLOYEES, views: { staff_directory: MY_VIEW } }),
    c(MY, 'ALTER TABLE employees CHANGE COLUMN email mail varchar(100)', ['1:37'], { schema: EMPLOYEES, views: { staff_directory: MY_VIEW } }),
    c(MY, 'RENAME TABLE employees TO staff', ['1:1'], { schema: EMPLOYEES, views: { staff_directory: MY_VIEW } }),
    c(MY, 'DROP TABLE employees', ['1:1'], { schema: EMPLOYEES, views: { staff_directory: MY_VIEW } }),
    c(MY, 'ALTER TABLE employees MODIFY COLUMN email varchar(200)', [], { schema: EMPLOYEES, views: { staff_directory: MY_VIEW }, why: 'MySQL views follow a type change' }),
  ],
  'engine.mysql.use-innodb': [
    c(MY, 'CREATE TABLE t (id int PRIMARY KEY) ENGINE=MyISAM', ['1:1']),
    c(MY, 'ALTER TABLE t ENGINE=MEMORY', ['1:1']),
    c(MY, "SET default_storage_engine = 'MyISAM'", ['1:1']),
    c(MY, 'CREATE TABLE t (id int PRIMARY KEY) ENGINE=InnoDB', []),
    c(MY, 'CREATE TABLE t (id int PRIMARY KEY)', []),
  ],
};
