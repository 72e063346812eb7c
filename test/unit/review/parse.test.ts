// Reading scripts: statement boundaries, positions in the text as sent, syntax errors, types,
// and what PostgreSQL refuses inside a transaction block.
import { describe, expect, it } from 'vitest';
import { parse, review, split, statementTypes } from '../../../domain/review/index.js';

const where = async (engine: 'POSTGRES' | 'MYSQL', sql: string) => (await parse(engine, sql)).statements.map((s) => [s.text, `${s.line}:${s.column}`]);

describe('statement positions', () => {
  const script = [
    '-- Backfill, then tidy up.\r',
    '/* first: a comment that says; nothing */ UPDATE employees SET email = lower(email)\r',
    '  WHERE id > 0;\r',
    '\r',
    "\tDELETE FROM salaries; -- no WHERE; on purpose?\r",
    "SELECT 'a;b', 'é😀' AS \"x;y\"; DELETE FROM t",
  ].join('\n');

  it.each(['POSTGRES', 'MYSQL'] as const)('%s: multi-line, CRLF, comments, tabs and non-ASCII text', async (engine) => {
    expect(await where(engine, script)).toEqual([
      ['UPDATE employees SET email = lower(email)\r\n  WHERE id > 0', '2:43'],
      ['DELETE FROM salaries', '5:2'],
      [`SELECT 'a;b', 'é😀' AS "x;y"`, '6:1'],
      ['DELETE FROM t', '6:30'],
    ]);
  });

  it.each(['POSTGRES', 'MYSQL'] as const)('%s: every advice carries the line and column of the statement as sent', async (engine) => {
    const advices = await review({ engine, statement: script, rules: [{ type: 'statement.where.require', level: 'ERROR' }] });
    expect(advices.map((a) => `${a.line}:${a.column}`)).toEqual(['5:2', '6:30']);
  });

  it('counts columns in characters after astral characters, and finer positions inside statements', async () => {
    const advices = await review({ engine: 'POSTGRES', statement: "SELECT '😀😀', * FROM t", rules: [{ type: 'statement.select.no-select-all', level: 'WARNING' }] });
    expect(advices.map((a) => `${a.line}:${a.column}`)).toEqual(['1:14']);
  });

  it('a lone CR ends a line too', async () => {
    expect(await where('POSTGRES', 'SELECT 1;\rSELECT 2')).toEqual([['SELECT 1', '1:1'], ['SELECT 2', '2:1']]);
  });

  it('an empty or comment-only script has no statements', async () => {
    for (const engine of ['POSTGRES', 'MYSQL'] as const) {
      expect(await parse(engine, '  -- nothing\n/* at all */ ')).toMatchObject({ statements: [], errors: [] });
      expect(await parse(engine, '')).toMatchObject({ statements: [], errors: [] });
    }
  });
});

describe('PostgreSQL syntax errors', () => {
  it('are ERROR advices with rule syntax at the place the server reports, whatever the configs say', async () => {
    const sql = 'SELECT 1;\n-- é\nCREATE TABLE t (id int PRIMARY KEY);\nSELECT 𝒳 FROM WHERE x';
    const advices = await review({ engine: 'POSTGRES', statement: sql, rules: [] });
    expect(advices).toEqual([{ status: 'ERROR', rule: 'syntax', title: 'Syntax error', content: 'syntax error at or near "WHERE"', line: 4, column: 15 }]);
  });

  it('at the end of the input', async () => {
    const { errors } = await parse('POSTGRES', 'SELECT 1;\nDELETE FROM');
    expect(errors).toEqual([{ message: 'syntax error at end of input', offset: 21, line: 2, column: 12 }]);
  });

  it('a script with an error cannot be split', async () => {
    const out = await split('POSTGRES', 'SELECT 1; SELEC 2');
    expect(out.statements).toEqual([]);
    expect(out.errors[0]).toMatchObject({ line: 1, column: 11 });
  });

  it('PL/pgSQL bodies and dollar quotes are the parser\'s business, not a splitter\'s', async () => {
    const sql = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; RETURN 2; END $$;\nSELECT f()";
    expect((await where('POSTGRES', sql)).map(([, at]) => at)).toEqual(['1:1', '2:1']);
  });
});

describe('MySQL statements the grammar cannot read', () => {
  it('are a WARNING syntax.unparsed naming the statement, and rules that need a tree skip them', async () => {
    const sql = 'ALTER TABLE t ADD COLUMN a int;\nALTER TABLE t PARTITION BY HASH(id) PARTITIONS 4;\nDELETE FROM t';
    const advices = await review({ engine: 'MYSQL', statement: sql, rules: [{ type: 'statement.where.require', level: 'ERROR' }, { type: 'table.require-pk', level: 'ERROR' }] });
    expect(advices).toEqual([
      { status: 'WARNING', rule: 'syntax.unparsed', title: 'Statement not parsed', content: expect.stringContaining('"ALTER TABLE t PARTITION BY HASH(id) PARTITIONS 4"'), line: 2, column: 1 },
      { status: 'ERROR', rule: 'statement.where.require', title: expect.any(String), content: expect.any(String), line: 3, column: 1 },
    ]);
    expect((await parse('MYSQL', sql)).statements[1]).toMatchObject({ types: ['ALTER_TABLE'], class: 'DDL', unparsed: expect.any(String) });
  });

  it('MariaDB-only syntax the MySQL grammar does not know is unparsed, and the statements around it are still read', async () => {
    const { statements } = await parse('MYSQL', 'ALTER TABLE t ADD COLUMN IF NOT EXISTS c int NOT NULL; ALTER TABLE t ADD COLUMN c int NOT NULL');
    expect(statements.map((s) => s.unparsed)).toEqual(['ALTER TABLE t ADD COLUMN IF NOT EXISTS c int NOT NULL', undefined]);
    expect(statements[1]!.facts).toMatchObject({ kind: 'ALTER_TABLE', actions: [{ kind: 'ADD_COLUMN', column: { name: 'c', notNull: true } }] });
  });

  it('stored programs keep their inner semicolons; quotes, backticks and comments hide theirs', async () => {
    const sql = [
      'CREATE PROCEDURE p() BEGIN',
      '  IF 1 THEN SELECT 1; END IF;',
      '  l: LOOP LEAVE l; END LOOP;',
      '  SELECT CASE WHEN 1 THEN 2 END;',
      'END;',
      "SELECT 'it''s;', \"a\\\";b\", `c;d` FROM t # trailing; comment",
      '; -- empty statement above',
      'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = IF(NEW.a > 0, 1, 2);',
      'SELECT 2',
    ].join('\n');
    expect((await where('MYSQL', sql)).map(([t, at]) => [t!.split('\n')[0], at])).toEqual([
      ['CREATE PROCEDURE p() BEGIN', '1:1'],
      ["SELECT 'it''s;', \"a\\\";b\", `c;d` FROM t", '6:1'],
      ['CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = IF(NEW.a > 0, 1, 2)', '8:1'],
      ['SELECT 2', '9:1'],
    ]);
  });
});

describe('statementTypes', () => {
  it.each([
    ['POSTGRES', 'DROP TABLE a; CREATE INDEX CONCURRENTLY i ON t (a); UPDATE t SET a = 1 WHERE b; DELETE FROM t WHERE c; ALTER TABLE t ADD COLUMN x int; INSERT INTO t (a) VALUES (1); DROP TABLE b', ['DROP_TABLE', 'CREATE_INDEX', 'UPDATE', 'DELETE', 'ALTER_TABLE', 'INSERT']],
    ['POSTGRES', 'ALTER TABLE t RENAME TO u; ALTER INDEX i RENAME TO j; DROP INDEX i; CREATE VIEW v AS SELECT 1; TRUNCATE t; VACUUM t; BEGIN; COMMIT', ['ALTER_TABLE', 'ALTER_INDEX', 'DROP_INDEX', 'CREATE_VIEW', 'TRUNCATE', 'VACUUM', 'BEGIN', 'COMMIT']],
    ['MYSQL', 'DROP TABLE a; CREATE INDEX i ON t (a); UPDATE t SET a = 1; DELETE FROM t; ALTER TABLE t RENAME TO u; RENAME TABLE u TO v; REPLACE INTO t (a) VALUES (1)', ['DROP_TABLE', 'CREATE_INDEX', 'UPDATE', 'DELETE', 'ALTER_TABLE', 'RENAME_TABLE', 'INSERT']],
    ['MYSQL', 'CREATE PROCEDURE p() BEGIN SELECT 1; END; OPTIMIZE TABLE t; CREATE DATABASE d; DROP VIEW v', ['CREATE_PROCEDURE', 'ALTER_TABLE', 'CREATE_DATABASE', 'DROP_VIEW']],
  ] as const)('%s: %s', async (engine, sql, types) => {
    expect(await statementTypes(engine, sql)).toEqual(types);
  });
});

describe('split: what runs outside a transaction block on PostgreSQL', () => {
  it('is decided from the parse tree', async () => {
    const sql = [
      'CREATE INDEX CONCURRENTLY i ON t (a)', 'CREATE INDEX j ON t (a)', 'DROP INDEX CONCURRENTLY i', 'DROP INDEX j',
      'REINDEX INDEX CONCURRENTLY i', 'REINDEX (CONCURRENTLY) TABLE t', 'REINDEX TABLE t', 'REINDEX DATABASE d',
      'VACUUM t', 'ANALYZE t', 'CREATE DATABASE d', 'DROP DATABASE d', 'ALTER SYSTEM SET work_mem = 1',
      "ALTER TYPE mood ADD VALUE 'meh'", 'ALTER TABLE t DETACH PARTITION p CONCURRENTLY', 'ALTER TABLE t DETACH PARTITION p',
      'CLUSTER', 'CLUSTER t USING i', 'DISCARD ALL', "SELECT 'CREATE INDEX CONCURRENTLY'", '/* VACUUM */ SELECT 1',
    ].join(';\n');
    const { statements } = await split('POSTGRES', sql);
    expect(statements.filter((s) => s.nonTransactional).map((s) => [s.line, s.nonTransactional])).toEqual([
      [1, 'CREATE INDEX CONCURRENTLY'], [3, 'DROP INDEX CONCURRENTLY'], [5, 'REINDEX CONCURRENTLY'], [6, 'REINDEX CONCURRENTLY'],
      [8, 'REINDEX SCHEMA, DATABASE or SYSTEM'], [9, 'VACUUM'], [11, 'CREATE DATABASE'], [12, 'DROP DATABASE'], [13, 'ALTER SYSTEM'],
      [15, 'ALTER TABLE … DETACH PARTITION … CONCURRENTLY'], [17, 'CLUSTER without a table'], [19, 'DISCARD ALL'],
    ]);
    expect(statements).toHaveLength(21);
    expect(statements[0]).toEqual({ index: 0, text: 'CREATE INDEX CONCURRENTLY i ON t (a)', start: 0, line: 1, column: 1, types: ['CREATE_INDEX'], nonTransactional: 'CREATE INDEX CONCURRENTLY', createsIndex: { name: 'i' } });
  });

  it('ALTER TYPE … ADD VALUE only before PostgreSQL 12', async () => {
    expect((await split('POSTGRES', "ALTER TYPE mood ADD VALUE 'meh'", 11)).statements[0]!.nonTransactional).toBe('ALTER TYPE … ADD VALUE (before PostgreSQL 12)');
    expect((await split('POSTGRES', "ALTER TYPE mood ADD VALUE 'meh'", 16)).statements[0]!.nonTransactional).toBeUndefined();
  });

  it('MySQL statements carry no such reason', async () => {
    const { statements } = await split('MYSQL', 'CREATE INDEX i ON t (a); OPTIMIZE TABLE t');
    expect(statements.map((s) => [s.text, s.nonTransactional])).toEqual([['CREATE INDEX i ON t (a)', undefined], ['OPTIMIZE TABLE t', undefined]]);
  });
});
