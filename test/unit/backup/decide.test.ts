// The prior-backup decision, pure: real parse trees (both engines' grammars) and catalog facts
// written here → the plan (tables, keys, fill queries, cascades) or the refusal and its reason.
import { describe, expect, it } from 'vitest';
import { planPriorBackup, priorBackupAdvices, type BackupCatalog } from '../../../domain/backup/plan.js';
import { backupTableName, type ReferencingKey, type TableFacts, type TableRef } from '../../../domain/backup/model.js';
import { restoreStatement } from '../../../domain/backup/sql.js';

type Engine = 'POSTGRES' | 'MYSQL';

function table(schema: string, name: string, o: Partial<TableFacts> & { cols?: string[] } = {}): TableFacts {
  const cols = o.cols ?? ['id', 'v'];
  return {
    schema, name, kind: 'TABLE', transactional: true, hasRules: false, primaryKey: ['id'], uniqueKeys: [], referencedBy: [], triggers: [],
    columns: cols.map((c) => ({ name: c, generated: false, identityAlways: false, autoIncrement: false, notNull: c === 'id' })),
    ...o,
  };
}
const fk = (child: [string, string], columns: string[], references: string[], onDelete: ReferencingKey['onDelete'], onUpdate: ReferencingKey['onUpdate'] = 'NO ACTION'): ReferencingKey => ({
  name: `${child[1]}_fk`, table: { schema: child[0], name: child[1] }, columns, references, onDelete, onUpdate,
});

function catalog(tables: TableFacts[], estimate = 10): BackupCatalog & { estimated: string[] } {
  const estimated: string[] = [];
  return {
    estimated,
    table: async (ref: TableRef) => tables.find((t) => t.name === ref.name && (ref.schema === undefined || ref.schema === t.schema)),
    estimateRows: async (sql: string) => {
      estimated.push(sql);
      return estimate;
    },
  };
}
const plan = (engine: Engine, statement: string, c: BackupCatalog, maxRows = 1_000_000) =>
  planPriorBackup(c, { engine, statement, maxRows, name: (i, seq, source) => `bk_${i}_${seq}_${source.name}` });

const HR_PG = [
  table('public', 'employees', { cols: ['id', 'name', 'manager_id'], referencedBy: [fk(['public', 'salaries'], ['employee_id'], ['id'], 'CASCADE')] }),
  table('public', 'salaries', { cols: ['employee_id', 'from_date', 'amount'], primaryKey: ['employee_id', 'from_date'] }),
  table('public', 'nopk', { primaryKey: [] }),
];

describe('what is backed up', () => {
  it('UPDATE … WHERE: the target\'s rows, locked, by its primary key; only the SET columns are restored', async () => {
    const c = catalog(HR_PG);
    const d = await plan('POSTGRES', 'UPDATE salaries SET amount = amount * 10 WHERE employee_id < 50', c);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const [st] = d.statements;
    expect(st!.steps).toEqual([
      expect.objectContaining({ source: { schema: 'public', name: 'salaries' }, backup: 'bk_0_0_salaries', action: 'UPDATE', key: ['employee_id', 'from_date'], restore: ['amount'] }),
    ]);
    expect(st!.steps[0]!.fill).toBe('INSERT INTO "sluice_backup"."bk_0_0_salaries" SELECT salaries.* FROM salaries WHERE employee_id < 50 FOR UPDATE OF salaries');
    expect(c.estimated).toEqual(['SELECT salaries.* FROM salaries WHERE employee_id < 50']);
  });

  it('UPDATE … FROM: the target\'s rows once each, by key, through the statement\'s own FROM and WHERE', async () => {
    const d = await plan('POSTGRES', 'UPDATE salaries s SET amount = 1 FROM employees e WHERE e.id = s.employee_id AND e.name = \'x\'', catalog(HR_PG));
    expect(d.ok && d.statements[0]!.steps[0]!.fill).toBe(
      'INSERT INTO "sluice_backup"."bk_0_0_salaries" SELECT sluice_t.* FROM salaries AS sluice_t WHERE (sluice_t.employee_id, sluice_t.from_date) IN (SELECT s.employee_id, s.from_date FROM salaries AS s, employees AS e WHERE e.id = s.employee_id AND e.name = \'x\') FOR UPDATE OF sluice_t',
    );
  });

  it('DELETE follows ON DELETE CASCADE to the child rows, parent first', async () => {
    const d = await plan('POSTGRES', 'DELETE FROM employees WHERE id > 230', catalog(HR_PG));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const steps = d.statements[0]!.steps;
    expect(steps.map((s) => [s.source.name, s.action, s.via])).toEqual([
      ['employees', 'DELETE', undefined],
      ['salaries', 'DELETE', 'salaries_fk ON DELETE CASCADE from public.employees'],
    ]);
    expect(steps[1]!.fill).toBe('INSERT INTO "sluice_backup"."bk_0_1_salaries" SELECT "sluice_c".* FROM "public"."salaries" AS "sluice_c" WHERE "sluice_c"."employee_id" IN (SELECT "id" FROM "sluice_backup"."bk_0_0_employees") FOR UPDATE OF "sluice_c"');
  });

  it('ON DELETE SET NULL: the child rows are backed up as updated (their foreign key columns restored)', async () => {
    const t = [table('public', 'p', { referencedBy: [fk(['public', 'c'], ['p_id'], ['id'], 'SET NULL')] }), table('public', 'c', { cols: ['id', 'p_id'] })];
    const d = await plan('POSTGRES', 'DELETE FROM p WHERE id = 1', catalog(t));
    expect(d.ok && d.statements[0]!.steps.map((s) => [s.source.name, s.action, s.restore])).toEqual([['p', 'DELETE', ['id', 'v']], ['c', 'UPDATE', ['p_id']]]);
  });

  it('an UPDATE of a referenced column follows ON UPDATE CASCADE; of another column, nothing cascades', async () => {
    const t = [table('public', 'p', { cols: ['id', 'code', 'v'], uniqueKeys: [['code']], referencedBy: [fk(['public', 'c'], ['p_code'], ['code'], 'NO ACTION', 'CASCADE')] }), table('public', 'c', { cols: ['id', 'p_code'] })];
    const code = await plan('POSTGRES', "UPDATE p SET code = 'z' WHERE id = 1", catalog(t));
    expect(code.ok && code.statements[0]!.steps.map((s) => s.source.name)).toEqual(['p', 'c']);
    const v = await plan('POSTGRES', 'UPDATE p SET v = 2 WHERE id = 1', catalog(t));
    expect(v.ok && v.statements[0]!.steps.map((s) => s.source.name)).toEqual(['p']);
  });

  it('an UPDATE of the primary key is restored by another not-null unique key', async () => {
    const t = [table('public', 't', { cols: ['id', 'code', 'v'], uniqueKeys: [['code']] })];
    const d = await plan('POSTGRES', 'UPDATE t SET id = id + 1000', catalog(t));
    expect(d.ok && d.statements[0]!.steps[0]!.key).toEqual(['code']);
  });

  it('PostgreSQL INSERT: rewritten to record the keys it inserted (RETURNING) in the same statement, its own CTEs kept', async () => {
    const d = await plan('POSTGRES', "WITH src AS (SELECT 9 AS id) INSERT INTO employees (id, name) SELECT id, 'n' FROM src ON CONFLICT DO NOTHING", catalog(HR_PG));
    expect(d.ok && d.statements[0]!.run).toBe(
      'WITH src AS (SELECT 9 AS id), sluice_inserted AS (INSERT INTO employees (id, name) SELECT id, \'n\' FROM src ON CONFLICT DO NOTHING RETURNING employees.id) INSERT INTO sluice_backup.bk_0_0_employees (id) SELECT id FROM sluice_inserted',
    );
  });

  it('MySQL INSERT: AUTO_INCREMENT numbers the rows, or the keys are given (VALUES literals, INSERT … SELECT columns)', async () => {
    const auto = [table('shop', 'notes', { cols: ['id', 'body'], columns: [{ name: 'id', generated: false, identityAlways: false, autoIncrement: true, notNull: true }, { name: 'body', generated: false, identityAlways: false, autoIncrement: false, notNull: false }] })];
    const a = await plan('MYSQL', "INSERT INTO notes (body) VALUES ('x'), ('y')", catalog(auto));
    expect(a.ok && a.statements[0]!.insertKeys?.how).toBe('AUTO_INCREMENT');
    const g = await plan('MYSQL', "INSERT INTO notes (id, body) VALUES (7, 'x'), (8, 'y')", catalog(auto));
    expect(g.ok && g.statements[0]!.steps[0]!.fill).toBe('INSERT INTO `sluice_backup`.`bk_0_0_notes` (`id`) SELECT 7 UNION ALL SELECT 8');
    const s = await plan('MYSQL', 'INSERT INTO notes (id, body) SELECT id, body FROM sluice_backup.old', catalog(auto));
    expect(s.ok && s.statements[0]!.steps[0]!.fill).toBe('INSERT INTO `sluice_backup`.`bk_0_0_notes` (`id`) SELECT `id` FROM `sluice_backup`.`old`');
  });

  it('reads and settings need nothing; each statement of a script gets its own tables', async () => {
    const d = await plan('POSTGRES', 'SET lock_timeout = 1000; SELECT 1; UPDATE salaries SET amount = 1 WHERE employee_id = 1; DELETE FROM nopk2 WHERE false', catalog([...HR_PG, table('public', 'nopk2')]));
    expect(d.ok && d.statements.map((s) => [s.kind, s.steps.map((x) => x.backup)])).toEqual([['READ', []], ['READ', []], ['ROWS', ['bk_2_0_salaries']], ['ROWS', ['bk_3_0_nopk2']]]);
  });
});

describe('what is refused, with its reason', () => {
  const cases: [Engine, string, TableFacts[], RegExp][] = [
    ['POSTGRES', 'UPDATE nopk SET v = 1', HR_PG, /^public\.nopk has no primary key or not-null unique key, so its rows cannot be told apart$/],
    ['POSTGRES', 'UPDATE missing SET v = 1', HR_PG, /^table missing does not exist$/],
    ['POSTGRES', 'UPDATE t SET id = 2', [table('public', 't')], /changes public\.t's key columns \(id\), and it has no other not-null unique key/],
    ['POSTGRES', 'UPDATE v SET a = 1', [table('public', 'v', { kind: 'VIEW' })], /public\.v is a view/],
    ['POSTGRES', 'UPDATE t SET v = 1', [table('public', 't', { triggers: [{ name: 'audit_t', events: ['UPDATE'] }] })], /has a trigger on UPDATE \(audit_t\)/],
    ['POSTGRES', 'UPDATE t SET v = 1', [table('public', 't', { hasRules: true })], /has rewrite rules/],
    ['POSTGRES', 'WITH d AS (DELETE FROM t RETURNING id) UPDATE t SET v = 1 WHERE id IN (SELECT id FROM d)', [table('public', 't')], /WITH clause that changes data/],
    ['POSTGRES', 'TRUNCATE t', [table('public', 't')], /^TRUNCATE cannot be backed up/],
    ['POSTGRES', "INSERT INTO t (id, v) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET v = 3", [table('public', 't')], /ON CONFLICT DO UPDATE changes rows that exist/],
    ['POSTGRES', 'DELETE FROM t WHERE CURRENT OF c', [table('public', 't')], /WHERE CURRENT OF/],
    ['POSTGRES', 'DELETE FROM t', [table('public', 't', { referencedBy: [fk(['public', 't'], ['parent'], ['id'], 'CASCADE')] })], /cascade in a cycle \(public\.t → public\.t\)/],
    ['POSTGRES', 'DELETE FROM p', [table('public', 'p', { referencedBy: [fk(['public', 'c'], ['p_id'], ['id'], 'CASCADE')] }), table('public', 'c', { triggers: [{ name: 'c_del', events: ['DELETE'] }] })], /public\.c has a trigger on DELETE \(c_del\)/],
    ['POSTGRES', 'UPDATE t SET v = 1 WHERE', [table('public', 't')], /does not parse/],
    ['MYSQL', 'UPDATE t SET v = 1 ORDER BY id LIMIT 5', [table('shop', 't')], /LIMIT: which rows it picks is not fixed/],
    ['MYSQL', 'UPDATE a JOIN b ON a.id = b.id SET a.v = 1, b.v = 2', [table('shop', 'a'), table('shop', 'b')], /UPDATE of more than one table at once/],
    ['MYSQL', 'DELETE a, b FROM a JOIN b ON a.id = b.id', [table('shop', 'a'), table('shop', 'b')], /DELETE from more than one table at once/],
    ['MYSQL', "INSERT IGNORE INTO t (id) VALUES (1)", [table('shop', 't')], /INSERT IGNORE/],
    ['MYSQL', 'INSERT INTO t VALUES (1, 2)', [table('shop', 't')], /without a column list/],
    ['MYSQL', 'INSERT INTO t (id, v) VALUES (UUID(), 1)', [table('shop', 't')], /cannot be told before it runs/],
    ['MYSQL', 'UPDATE t SET v = 1', [table('shop', 't', { transactional: false })], /transactional storage engine/],
    ['MYSQL', 'REPLACE INTO t (id, v) VALUES (1, 2)', [table('shop', 't')], /INSERT/],
  ];
  it.each(cases)('%s: %s', async (engine, statement, tables, reason) => {
    const d = await plan(engine, statement, catalog(tables));
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toMatch(reason);
  });

  it('MySQL cascades fire no triggers, so a trigger on the child does not refuse a cascading DELETE', async () => {
    const t = [table('shop', 'p', { referencedBy: [fk(['shop', 'c'], ['p_id'], ['id'], 'CASCADE')] }), table('shop', 'c', { cols: ['id', 'p_id'], triggers: [{ name: 'c_del', events: ['DELETE'] }] })];
    expect((await plan('MYSQL', 'DELETE FROM p WHERE id = 1', catalog(t))).ok).toBe(true);
  });

  it('over the project\'s priorBackupMaxRows (the server\'s estimate): refused, and the advice plan checks report', async () => {
    const d = await plan('POSTGRES', 'DELETE FROM salaries', catalog(HR_PG, 2_000_000));
    expect(d).toMatchObject({ ok: false, index: 0, line: 1, reason: "about 2,000,000 rows of public.salaries would be backed up (the server's estimate), more than the project's priorBackupMaxRows (1,000,000)" });
    expect(priorBackupAdvices(d)).toEqual([expect.objectContaining({ status: 'ERROR', rule: 'prior-backup.unsupported', line: 1, column: 1, content: expect.stringContaining('more than the project') })]);
  });

  it('names the statement and its line', async () => {
    const d = await plan('POSTGRES', 'SELECT 1;\n\nUPDATE nopk SET v = 1;', catalog(HR_PG));
    expect(d).toMatchObject({ ok: false, index: 1, line: 3 });
  });
});

describe('backup table names', () => {
  const base = { project: 'shop', issue: 12, task: 3, taskKey: 'projects/shop/issues/12/tasks/3@t', attempt: 1, statement: 0, seq: 0 };
  it('tell the project, issue, task and source table, unique per attempt and statement', () => {
    const name = backupTableName('POSTGRES', { ...base, source: { schema: 'public', name: 'salaries' } });
    expect(name).toMatch(/^shop_12_t3_salaries_[0-9a-f]{8}$/);
    expect(backupTableName('POSTGRES', { ...base, attempt: 2, source: { schema: 'public', name: 'salaries' } })).not.toBe(name);
    expect(backupTableName('POSTGRES', { ...base, statement: 1, source: { schema: 'public', name: 'salaries' } })).not.toBe(name);
  });
  it('fit PostgreSQL\'s 63 bytes (multi-byte names cut by bytes) and MySQL\'s 64 characters', () => {
    const long = 'ü'.repeat(60);
    const pgName = backupTableName('POSTGRES', { ...base, source: { schema: 'public', name: long } });
    expect(Buffer.byteLength(pgName, 'utf8')).toBeLessThanOrEqual(63);
    expect(pgName).toMatch(/^shop_12_t3_ü+_[0-9a-f]{8}$/);
    const myName = backupTableName('MYSQL', { ...base, source: { schema: 'shop', name: long } });
    expect([...myName].length).toBe(64);
  });
});

describe('restore statements', () => {
  it('undo statements in reverse order, a parent before the rows that cascaded from it', () => {
    const sql = restoreStatement('POSTGRES', [
      { source: 'public.employees', backup: 'sluice_backup.e', rows: 1, action: 'DELETE', statement: 0, key: ['id'], restore: ['id', 'name'] },
      { source: 'public.salaries', backup: 'sluice_backup.s', rows: 3, action: 'DELETE', statement: 0, key: ['employee_id', 'from_date'], restore: ['employee_id', 'from_date', 'amount'] },
      { source: 'public.salaries', backup: 'sluice_backup.u', rows: 3, action: 'UPDATE', statement: 1, key: ['employee_id', 'from_date'], restore: ['amount'] },
      { source: 'public.departments', backup: 'sluice_backup.d', rows: 2, action: 'INSERT', statement: 2, key: ['id'], restore: [], overriding: true },
    ]);
    expect(sql.split('\n')).toEqual([
      'DELETE FROM "public"."departments" WHERE "id" IN (SELECT "id" FROM "sluice_backup"."d");',
      'UPDATE "public"."salaries" AS "t" SET "amount" = "b"."amount" FROM "sluice_backup"."u" AS "b" WHERE "t"."employee_id" = "b"."employee_id" AND "t"."from_date" = "b"."from_date";',
      'INSERT INTO "public"."employees" ("id", "name") SELECT "id", "name" FROM "sluice_backup"."e";',
      'INSERT INTO "public"."salaries" ("employee_id", "from_date", "amount") SELECT "employee_id", "from_date", "amount" FROM "sluice_backup"."s";',
    ]);
  });
  it('MySQL: a joined UPDATE, and identity columns need no OVERRIDING', () => {
    expect(restoreStatement('MYSQL', [
      { source: 'shop.t', backup: 'sluice_backup.b1', rows: 1, action: 'UPDATE', statement: 0, key: ['id'], restore: ['v'] },
      { source: 'shop.t', backup: 'sluice_backup.b2', rows: 1, action: 'DELETE', statement: 1, key: ['id'], restore: ['id', 'v'], overriding: true },
    ])).toBe('INSERT INTO `shop`.`t` (`id`, `v`) SELECT `id`, `v` FROM `sluice_backup`.`b2`;\nUPDATE `shop`.`t` AS `t` JOIN `sluice_backup`.`b1` AS `b` ON `t`.`id` = `b`.`id` SET `t`.`v` = `b`.`v`;');
  });
});
