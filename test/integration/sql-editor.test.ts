// The SQL editor's read-only queries on the real PostgreSQL and MariaDB (skipped with the usual
// notice when there is none): every kind of write is refused by the database server itself, and
// the data is unchanged after each; columns and types, the row limit and the timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget } from '../../domain/inventory/ports.js';
import { SqlStatementError } from '../../domain/sheets/sql-editor.js';
import { queryRunner } from '../../functions/adapters/sql/query.js';
import { mysqlQuery, mysqlServer } from '../support/mysql.js';
import { adminQuery, dropDatabases, postgresServer, testDatabaseName, type SqlServer } from '../support/postgres.js';

const runner = queryRunner();
const OPTIONS = { limit: 1_000, timeoutMs: 10_000 };
const pg = postgresServer();
const my = mysqlServer();
const pgDb = testDatabaseName();
const myDb = testDatabaseName();

const target = (engine: ConnectionTarget['engine'], s: SqlServer, database: string): ConnectionTarget => ({
  engine, host: s.host, port: s.port, username: s.username, ...(s.password ? { password: s.password } : {}), database,
});

/** Runs `statement` read-only and says how it ended: the database's refusal, or that it passed. */
async function attempt(t: ConnectionTarget, statement: string): Promise<string> {
  try {
    await runner.readOnlyQuery(t, statement, OPTIONS);
    return 'ran';
  } catch (e) {
    // Every refusal seen is the server's own ("cannot execute INSERT in a read-only transaction",
    // "cannot insert multiple commands into a prepared statement", MariaDB's ER 1792 ...).
    if (e instanceof SqlStatementError) return 'refused';
    throw e;
  }
}

beforeAll(async () => {
  await adminQuery(pg, `CREATE DATABASE ${pgDb}`);
  await adminQuery(pg, 'CREATE TABLE t (id int PRIMARY KEY, label text)', pgDb);
  await adminQuery(pg, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')", pgDb);
  await adminQuery(pg, 'CREATE FUNCTION w() RETURNS int LANGUAGE sql AS $$ INSERT INTO t VALUES (99, $q$x$q$) RETURNING 1 $$', pgDb);
  if (my) {
    await mysqlQuery(my, `CREATE DATABASE ${myDb}`);
    await mysqlQuery(my, `CREATE TABLE ${myDb}.t (id int PRIMARY KEY, label varchar(10))`);
    await mysqlQuery(my, `INSERT INTO ${myDb}.t VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    await mysqlQuery(my, `CREATE PROCEDURE ${myDb}.w() INSERT INTO ${myDb}.t VALUES (99, 'x')`);
    await mysqlQuery(my, `CREATE FUNCTION ${myDb}.wf() RETURNS int MODIFIES SQL DATA BEGIN INSERT INTO ${myDb}.t VALUES (98, 'y'); RETURN 1; END`);
  }
});

afterAll(async () => {
  await dropDatabases(pg, [pgDb]);
  if (my) await mysqlQuery(my, `DROP DATABASE IF EXISTS ${myDb}`);
});

const WRITES: [string, string][] = [
  ['INSERT', "INSERT INTO t VALUES (4, 'd')"],
  ['UPDATE', "UPDATE t SET label = 'z'"],
  ['DELETE', 'DELETE FROM t'],
  ['DDL (CREATE TABLE)', 'CREATE TABLE u (id int)'],
  ['DDL (DROP TABLE)', 'DROP TABLE t'],
  ['COMMIT; DELETE', 'COMMIT; DELETE FROM t'],
  ['SET TRANSACTION READ WRITE; DELETE', 'SET TRANSACTION READ WRITE; DELETE FROM t'],
];

describe('PostgreSQL: the database refuses every write', () => {
  const t = () => target('POSTGRES', pg, pgDb);
  const count = async () => (await adminQuery<{ n: string }>(pg, "SELECT count(*) AS n, string_agg(label, '' ORDER BY id) AS l FROM t", pgDb))[0];

  it.each<[string, string]>([
    ...WRITES,
    ['a function that inserts', 'SELECT w()'],
    ['TRUNCATE', 'TRUNCATE t'],
    ['a data-modifying WITH', 'WITH d AS (DELETE FROM t RETURNING id) SELECT count(*) FROM d'],
    ['a DO block that deletes', 'DO $$ BEGIN DELETE FROM t; END $$'],
    ['ROLLBACK; DELETE', 'ROLLBACK; DELETE FROM t'],
  ])('%s is refused and nothing changes', async (_name, statement) => {
    // Prepare
    const before = await count();
    // Act
    const outcome = await attempt(t(), statement);
    // Assess
    expect(outcome).toBe('refused');
    expect(await count()).toEqual(before);
  });

  it('SET TRANSACTION READ WRITE is refused, and a write sent next is refused too', async () => {
    // Prepare
    const before = await count();
    // Act
    const first = await attempt(t(), 'SET TRANSACTION READ WRITE');
    const second = await attempt(t(), 'DELETE FROM t');
    // Assess
    expect([first, second]).toEqual(['refused', 'refused']);
    expect(await count()).toEqual(before);
  });

  it('returns the columns with their types, and the rows', async () => {
    // Act
    const r = await runner.readOnlyQuery(t(), 'SELECT id, label, now() AS at, 1.5::numeric AS n FROM t ORDER BY id', OPTIONS);
    // Assess
    expect(r.columns).toEqual([
      { name: 'id', type: 'integer' }, { name: 'label', type: 'text' }, { name: 'at', type: 'timestamp with time zone' }, { name: 'n', type: 'numeric' },
    ]);
    expect(r.rows.map((row) => row.slice(0, 2))).toEqual([[1, 'a'], [2, 'b'], [3, 'c']]);
    expect(r.rowCount).toBe(3);
    expect(r.truncated).toBe(false);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps at most `limit` rows and says it truncated', async () => {
    // Act
    const r = await runner.readOnlyQuery(t(), 'SELECT g FROM generate_series(1, 50) g', { ...OPTIONS, limit: 10 });
    // Assess
    expect(r.rowCount).toBe(10);
    expect(r.rows).toHaveLength(10);
    expect(r.truncated).toBe(true);
  });

  it('cancels a statement that runs past the timeout', async () => {
    // Act
    const started = Date.now();
    const err = await runner.readOnlyQuery(t(), 'SELECT pg_sleep(5)', { ...OPTIONS, timeoutMs: 300 }).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(SqlStatementError);
    expect((err as SqlStatementError).kind).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});

describe.skipIf(!my)('MariaDB: the database refuses every write', () => {
  const t = () => target('MYSQL', my!, myDb);
  const count = async () => (await mysqlQuery<{ n: number; l: string }>(my!, `SELECT count(*) AS n, group_concat(label ORDER BY id SEPARATOR '') AS l FROM ${myDb}.t`))[0];

  it.each<[string, string]>([
    ...WRITES,
    ['a stored procedure that inserts', 'CALL w()'],
    ['a function that inserts', 'SELECT wf()'],
    ['TRUNCATE', 'TRUNCATE t'],
    ['REPLACE', "REPLACE INTO t VALUES (1, 'r')"],
    ['INSERT ... ON DUPLICATE KEY UPDATE', "INSERT INTO t VALUES (1, 'x') ON DUPLICATE KEY UPDATE label = 'u'"],
    ['ROLLBACK; DELETE', 'ROLLBACK; DELETE FROM t'],
  ])(
    '%s is refused and nothing changes',
    async (_name, statement) => {
      // Prepare
      const before = await count();
      // Act
      const outcome = await attempt(t(), statement);
      // Assess
      expect(outcome).toBe('refused');
      expect(await count()).toEqual(before);
    },
  );

  it('SET TRANSACTION READ WRITE is refused, and a write sent next is refused too', async () => {
    // Prepare
    const before = await count();
    // Act
    const first = await attempt(t(), 'SET TRANSACTION READ WRITE');
    const second = await attempt(t(), 'DELETE FROM t');
    // Assess
    expect([first, second]).toEqual(['refused', 'refused']);
    expect(await count()).toEqual(before);
  });

  it('returns the columns with their types, the rows, and truncates at the limit', async () => {
    // Act
    const r = await runner.readOnlyQuery(t(), 'SELECT id, label FROM t ORDER BY id', { ...OPTIONS, limit: 2 });
    // Assess
    expect(r.columns.map((c) => c.name)).toEqual(['id', 'label']);
    expect(r.columns[0]!.type).toBe('LONG');
    expect(r.rows).toEqual([[1, 'a'], [2, 'b']]);
    expect(r.truncated).toBe(true);
  });

  it('cancels a statement that runs past the timeout', async () => {
    // Act
    const err = await runner.readOnlyQuery(t(), 'SELECT SLEEP(5)', { ...OPTIONS, timeoutMs: 500 }).catch((e: unknown) => e);
    // Assess: MariaDB's max_statement_time interrupts it (or the client gives up)
    expect(err instanceof SqlStatementError ? err.kind : String(err)).toBe('TIMEOUT');
  });
});
