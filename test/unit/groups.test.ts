// Group expressions: CEL compiled once by @marcbachmann/cel-js, with errors a user can locate,
// and matching over the attributes API.md names.
import { describe, expect, it } from 'vitest';
import type { Database } from '../../domain/inventory/databases.js';
import { SluiceError } from '../../domain/common/errors.js';
import { compileExpression, matchDatabases, positionOf } from '../../domain/inventory/group-expressions.js';
import { parseDatabaseGroupName } from '../../domain/inventory/groups.js';
import type { Instance } from '../../domain/inventory/instances.js';

const db = (instance: string, name: string, labels: Record<string, string> = {}, syncState: Database['syncState'] = 'OK'): Database => ({
  instance, name, project: 'p', labels, schemaVersion: '', syncState, createTime: '', updateTime: '', version: 1,
});
const inst = (id: string, environment: string) => ({ id, environment, state: 'ACTIVE' }) as Instance;
const PROD = inst('pg-prod', 'prod');
const TEST = inst('pg-test', 'test');

function errorOf(expr: string, kind: 'database' | 'table' = 'database'): SluiceError {
  try {
    compileExpression(kind, expr, kind === 'database' ? 'databaseExpr' : 'tableExpr');
  } catch (e) {
    return e as SluiceError;
  }
  throw new Error(`${expr} compiled`);
}

const names = (expr: string, located: { database: Database; instance: Instance }[]) =>
  matchDatabases(expr, located).matched.map((l) => l.database.name);

describe('a group expression that does not compile', () => {
  it('is a 400 naming the line and column of a syntax error', () => {
    // Act
    const e = errorOf('resource.database_name ==');

    // Assess
    expect(e.httpStatus).toBe(400);
    expect(e.details[0]).toMatchObject({ field: 'databaseExpr' });
    expect(e.details[0]!.description).toMatch(/^line 1, column 26 \(offset 25\): Unexpected token/);
  });

  it('counts lines in a multi-line expression', () => {
    const e = errorOf('resource.environment_name == "prod" &&\n  resource.nope == "x"');

    expect(e.details[0]!.description).toMatch(/^line 2, column 12 .*No such key: nope/);
  });

  it('rejects an unknown field, a wrong type and a non-bool result', () => {
    expect(errorOf('resource.instance == "x"').message).toMatch(/No such key: instance/);
    expect(errorOf('resource.database_name == 1').message).toMatch(/no such overload: string == int/);
    expect(errorOf('resource.database_name').message).toMatch(/must be a bool, not string/);
  });

  it('gives tables their own fields: a database field in a table expression is unknown', () => {
    expect(errorOf('resource.database_name == "x"', 'table').message).toMatch(/^tableExpr: .*No such key: database_name/);
  });

  it('computes positions from offsets', () => {
    expect(positionOf('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});

describe('matching databases', () => {
  const located = [
    { database: db('pg-prod', 'tenant_1', { tier: 'gold' }), instance: PROD },
    { database: db('pg-prod', 'tenant_2'), instance: PROD },
    { database: db('pg-test', 'tenant_3', { tier: 'gold' }), instance: TEST },
    { database: db('pg-prod', 'billing'), instance: PROD },
    { database: db('pg-prod', 'tenant_gone', {}, 'NOT_FOUND'), instance: PROD },
  ];

  it('matches by prefix and environment with &&', () => {
    expect(names('resource.environment_name == "prod" && resource.database_name.startsWith("tenant_")', located)).toEqual(['tenant_1', 'tenant_2']);
  });

  it('matches by label, and a missing label is no match rather than an error', () => {
    expect(names('resource.labels["tier"] == "gold"', located)).toEqual(['tenant_1', 'tenant_3']);
    expect(names('"tier" in resource.labels', located)).toEqual(['tenant_1', 'tenant_3']);
  });

  it('matches with || and with in over a list', () => {
    expect(names('resource.database_name == "billing" || resource.instance_id == "pg-test"', located)).toEqual(['tenant_3', 'billing']);
    expect(names('resource.database_name in ["tenant_2", "billing", "tenant_gone"]', located)).toEqual(['tenant_2', 'billing']);
  });

  it('never matches a database not found at the last sync, and lists it as unmatched', () => {
    const { matched, unmatched } = matchDatabases('true', located);

    expect(matched.map((l) => l.database.name)).not.toContain('tenant_gone');
    expect(unmatched.map((l) => l.database.name)).toEqual(['tenant_gone']);
  });

  it('compiles once and matches 10,000 databases quickly', () => {
    // Prepare
    const many = Array.from({ length: 10_000 }, (_, i) => ({ database: db('pg-prod', `tenant_${i}`, { shard: String(i % 4) }), instance: PROD }));

    // Act
    const start = performance.now();
    const matched = names('resource.database_name.startsWith("tenant_") && resource.labels["shard"] == "0"', many);
    const ms = performance.now() - start;

    // Assess
    expect(matched).toHaveLength(2_500);
    expect(ms).toBeLessThan(2_000);
  });
});

describe('database group names', () => {
  it('parses projects/p/databaseGroups/g and refuses anything else', () => {
    expect(parseDatabaseGroupName('projects/shop/databaseGroups/tenants')).toEqual({ project: 'shop', id: 'tenants' });
    expect(() => parseDatabaseGroupName('databaseGroups/tenants')).toThrow(/not a database group name/);
  });
});
