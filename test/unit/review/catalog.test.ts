// The rule catalog as GET /v1/reviewRules shows it, and what a config may hold.
import { describe, expect, it } from 'vitest';
import { checkRuleConfigs, RECOMMENDED_RULES, REVIEW_ENGINES, review, reviewRuleCatalog } from '../../../domain/review/index.js';
import { CASES } from './cases.js';

// The rule types API.md ("SQL review and plan checks") names, with exactly these names.
const CONTRACT = [
  'statement.where.require', 'statement.select.no-select-all', 'statement.disallow-commit', 'statement.disallow-mix-ddl-dml',
  'statement.affected-row-limit', 'table.require-pk', 'table.no-foreign-key', 'table.disallow-drop', 'column.required',
  'column.set-default-for-not-null', 'column.disallow-change-type', 'schema.backward-compatibility', 'index.create-concurrently',
  'naming.table', 'naming.column', 'naming.index', 'engine.mysql.use-innodb',
];

describe('the rule catalog', () => {
  const catalog = reviewRuleCatalog();

  it('has every rule type the contract names, and at least 20 rules across the families', () => {
    const types = catalog.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(CONTRACT));
    expect(types.length).toBeGreaterThanOrEqual(20);
    expect(new Set(types).size).toBe(types.length);
    expect(new Set(types.map((t) => t.split('.')[0]))).toEqual(new Set(['statement', 'table', 'column', 'index', 'naming', 'schema', 'engine']));
  });

  it.each(catalog.map((r) => [r.type, r] as const))('%s has a title, a description, engines and a default level', (_, r) => {
    expect(r.title.length).toBeGreaterThan(5);
    expect(r.description.length).toBeGreaterThan(30);
    expect(r.engines.length).toBeGreaterThan(0);
    for (const e of r.engines) expect(REVIEW_ENGINES).toContain(e);
    expect(['ERROR', 'WARNING']).toContain(r.defaultLevel);
    if (r.payloadSchema) expect(r.payloadSchema).toMatchObject({ type: 'object', properties: expect.any(Object) });
  });

  it('index.create-concurrently is PostgreSQL only and engine.mysql.use-innodb MySQL only', () => {
    expect(catalog.find((r) => r.type === 'index.create-concurrently')!.engines).toEqual(['POSTGRES']);
    expect(catalog.find((r) => r.type === 'engine.mysql.use-innodb')!.engines).toEqual(['MYSQL']);
  });

  it('describes the payloads the contract names', () => {
    const props = (type: string) => Object.keys((catalog.find((r) => r.type === type)!.payloadSchema!.properties as object) ?? {});
    expect(props('statement.affected-row-limit')).toEqual(['max']);
    expect(props('column.required')).toEqual(['columns']);
    for (const t of ['naming.table', 'naming.column', 'naming.index']) expect(props(t)).toEqual(['format', 'maxLength']);
  });

  it.each(catalog.flatMap((r) => r.engines.map((e) => [r.type, e] as const)))('%s has cases that trip it and cases that do not on %s', (type, engine) => {
    const cases = (CASES[type] ?? []).filter((k) => k.engine === engine);
    expect(cases.some((k) => k.at.length > 0)).toBe(true);
    expect(cases.some((k) => k.at.length === 0)).toBe(true);
  });

  it('has no case for an engine a rule does not claim', () => {
    for (const [type, cases] of Object.entries(CASES)) {
      const engines = catalog.find((r) => r.type === type)?.engines;
      expect(engines, type).toBeDefined();
      for (const k of cases) expect(engines, `${type} on ${k.engine}`).toContain(k.engine);
    }
  });
});

describe('checkRuleConfigs', () => {
  it('accepts the recommended set', () => {
    expect(checkRuleConfigs(RECOMMENDED_RULES)).toEqual([]);
  });

  it('names each problem with its place in the list', () => {
    const problems = checkRuleConfigs([
      { type: 'statement.where.require', level: 'ERROR' },
      { type: 'statement.where.required', level: 'ERROR' },
      { type: 'statement.affected-row-limit', level: 'WARNING', payload: { max: -1 } },
      { type: 'naming.table', level: 'WARNING', payload: { format: '([a-z' } },
      { type: 'table.require-pk', level: 'WARNING', payload: { x: 1 } },
      { type: 'column.type-disallow-list', level: 'WARNING' },
      { type: 'table.disallow-drop', level: 'NOTICE' as never },
    ]);
    expect(problems.map((p) => [p.index, p.field])).toEqual([[1, 'type'], [2, 'payload'], [3, 'payload'], [4, 'payload'], [5, 'payload'], [6, 'level']]);
    expect(problems[0]!.message).toContain('statement.where.required');
    expect(problems[2]!.message).toContain('regular expression');
  });
});

describe('review', () => {
  it('reports the contract walk-through: DELETE without WHERE at line 1 on PostgreSQL and MySQL', async () => {
    for (const engine of REVIEW_ENGINES) {
      const advices = await review({ engine, statement: 'DELETE FROM employees;', rules: RECOMMENDED_RULES });
      expect(advices).toEqual([{ status: 'ERROR', rule: 'statement.where.require', title: expect.any(String), content: expect.stringContaining('employees'), line: 1, column: 1 }]);
    }
  });

  it('applies the level the config gives, not the default', async () => {
    const advices = await review({ engine: 'POSTGRES', statement: 'DELETE FROM t', rules: [{ type: 'statement.where.require', level: 'WARNING' }] });
    expect(advices.map((a) => a.status)).toEqual(['WARNING']);
  });

  it('runs no rule that was not configured, and skips rules of another engine or with a bad payload', async () => {
    const sql = 'CREATE TABLE t (id int) ENGINE=MyISAM; DELETE FROM t';
    expect(await review({ engine: 'MYSQL', statement: sql, rules: [] })).toEqual([]);
    expect(await review({ engine: 'POSTGRES', statement: 'CREATE INDEX i ON t (a)', rules: [{ type: 'engine.mysql.use-innodb', level: 'ERROR' }] })).toEqual([]);
    expect(await review({ engine: 'MYSQL', statement: sql, rules: [{ type: 'index.create-concurrently', level: 'ERROR' }, { type: 'statement.affected-row-limit', level: 'ERROR', payload: { max: 'x' } }] })).toEqual([]);
  });

  it('orders advices by position across rules', async () => {
    const advices = await review({
      engine: 'POSTGRES',
      statement: 'SELECT * FROM a;\nDELETE FROM b;\nSELECT * FROM c',
      rules: [{ type: 'statement.where.require', level: 'ERROR' }, { type: 'statement.select.no-select-all', level: 'WARNING' }],
    });
    expect(advices.map((a) => [a.rule, a.line])).toEqual([['statement.select.no-select-all', 1], ['statement.where.require', 2], ['statement.select.no-select-all', 3]]);
  });
});
