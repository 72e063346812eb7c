// What separates two schemas of the same engine: a unified diff of their DDL scripts (the `diff`
// library) and the statements that make the target's schema equal to the source's, for tables,
// columns, indexes, constraints and views. Sequences, enum types and routines show in the diff
// but are not changed by the statements.
import { createTwoFilesPatch } from 'diff';
import type { Engine } from '../inventory/instances.js';
import {
  addConstraint, columnDefinition, createIndex, createTable, createView, dropConstraint, dropIndex, dropView, foreignKeys, qualified,
  quoteIdent, tableExtras, toDdl, viewsInDependencyOrder,
} from './ddl.js';
import { canonical, normalize, type Column, type DatabaseSchema, type Schema, type Table } from './model.js';

const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);
const byName = <T extends { name: string }>(items: readonly T[]): Map<string, T> => new Map(items.map((i) => [i.name, i]));
const emptySchema = (name: string): Schema => ({ name, tables: [], views: [], sequences: [], enums: [], routines: [] });

/** A unified diff of two DDL scripts; empty when they are equal. */
export function unifiedDiff(fromLabel: string, from: DatabaseSchema | undefined, toLabel: string, to: DatabaseSchema | undefined): string {
  const a = from ? toDdl(from) : '';
  const b = to ? toDdl(to) : '';
  if (a === b) return '';
  return createTwoFilesPatch(fromLabel, toLabel, a, b, undefined, undefined, { context: 3 });
}

function alterColumn(engine: Engine, schema: string, table: string, from: Column, to: Column, after: string | undefined): string[] {
  const t = qualified(engine, schema, table);
  const c = quoteIdent(engine, to.name);
  if (engine === 'MYSQL') return [`ALTER TABLE ${t} MODIFY COLUMN ${columnDefinition(engine, to)} ${after === undefined ? 'FIRST' : `AFTER ${quoteIdent(engine, after)}`}`];
  // Identity and generated columns cannot be altered into each other: the column is made anew.
  if (!same(from.identity, to.identity) || !same(from.generated, to.generated)) {
    return [`ALTER TABLE ${t} DROP COLUMN ${c}`, `ALTER TABLE ${t} ADD COLUMN ${columnDefinition(engine, to)}`];
  }
  const out: string[] = [];
  if (from.type !== to.type) out.push(`ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${to.type} USING ${c}::${to.type}`);
  if (from.default !== to.default) out.push(to.default === undefined ? `ALTER TABLE ${t} ALTER COLUMN ${c} DROP DEFAULT` : `ALTER TABLE ${t} ALTER COLUMN ${c} SET DEFAULT ${to.default}`);
  if (from.nullable !== to.nullable) out.push(`ALTER TABLE ${t} ALTER COLUMN ${c} ${to.nullable ? 'DROP' : 'SET'} NOT NULL`);
  return out;
}

interface Plan {
  dropForeignKeys: string[];
  dropViews: string[];
  dropKeys: string[];
  columns: string[];
  dropTables: string[];
  createTables: string[];
  addKeys: string[];
  addForeignKeys: string[];
  createViews: string[];
}

function planTable(engine: Engine, schema: string, from: Table, to: Table, plan: Plan): void {
  const fromKeys = byName(from.constraints);
  const toKeys = byName(to.constraints);
  for (const k of from.constraints) {
    if (same(k, toKeys.get(k.name))) continue;
    (k.type === 'FOREIGN KEY' ? plan.dropForeignKeys : plan.dropKeys).push(dropConstraint(engine, schema, from.name, k));
  }
  for (const k of to.constraints) {
    if (same(k, fromKeys.get(k.name))) continue;
    (k.type === 'FOREIGN KEY' ? plan.addForeignKeys : plan.addKeys).push(addConstraint(engine, schema, to.name, k));
  }
  const fromIndexes = byName(from.indexes);
  const toIndexes = byName(to.indexes);
  for (const i of from.indexes) if (!same(i, toIndexes.get(i.name))) plan.dropKeys.push(dropIndex(engine, schema, from.name, i));
  for (const i of to.indexes) if (!same(i, fromIndexes.get(i.name))) plan.addKeys.push(createIndex(engine, schema, to.name, i));

  const t = qualified(engine, schema, to.name);
  const fromColumns = byName(from.columns);
  const toColumns = byName(to.columns);
  for (const c of from.columns) if (!toColumns.has(c.name)) plan.columns.push(`ALTER TABLE ${t} DROP COLUMN ${quoteIdent(engine, c.name)}`);
  // The column order as the statements leave it: MySQL places (or moves) a column, PostgreSQL can only append one.
  const order = from.columns.filter((c) => toColumns.has(c.name)).map((c) => c.name);
  to.columns.forEach((c, i) => {
    const after = i === 0 ? undefined : to.columns[i - 1]!.name;
    const place = engine === 'MYSQL' ? (after === undefined ? ' FIRST' : ` AFTER ${quoteIdent(engine, after)}`) : '';
    const before = fromColumns.get(c.name);
    if (!before) {
      plan.columns.push(`ALTER TABLE ${t} ADD COLUMN ${columnDefinition(engine, c)}${place}`);
      order.splice(engine === 'MYSQL' ? i : order.length, 0, c.name);
      return;
    }
    const moved = engine === 'MYSQL' && order[i] !== c.name;
    if (moved) order.splice(i, 0, ...order.splice(order.indexOf(c.name), 1));
    if (moved || !same({ ...before, position: 0 }, { ...c, position: 0 })) plan.columns.push(...alterColumn(engine, schema, to.name, before, c, after));
  });
}

/**
 * The statements that make `target` equal to `source`: dropping first what goes or changes
 * (foreign keys, views, keys and indexes, columns, tables), then creating tables, columns, keys,
 * foreign keys and views. The order lets each statement run against what the previous left.
 */
export function migrationStatements(sourceModel: DatabaseSchema, targetModel: DatabaseSchema): string[] {
  const source = normalize(sourceModel);
  const target = normalize(targetModel);
  const engine = source.engine;
  const plan: Plan = { dropForeignKeys: [], dropViews: [], dropKeys: [], columns: [], dropTables: [], createTables: [], addKeys: [], addForeignKeys: [], createViews: [] };
  const createSchemas: string[] = [];
  const sourceSchemas = byName(source.schemas);
  const targetSchemas = byName(target.schemas);
  const names = [...new Set([...sourceSchemas.keys(), ...targetSchemas.keys()])].sort();
  for (const name of names) {
    const want = sourceSchemas.get(name) ?? emptySchema(name);
    const have = targetSchemas.get(name);
    if (!have && engine === 'POSTGRES') createSchemas.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(engine, name)}`);
    const has = have ?? emptySchema(name);
    const wantViews = byName(want.views);
    const hasViews = byName(has.views);
    for (const v of has.views) if (!same(v, wantViews.get(v.name))) plan.dropViews.push(dropView(engine, name, v));
    const changedViews = want.views.filter((v) => !same(v, hasViews.get(v.name)));
    plan.createViews.push(...viewsInDependencyOrder(changedViews).map((v) => createView(engine, name, v)));

    const wantTables = byName(want.tables);
    const hasTables = byName(has.tables);
    for (const t of has.tables) {
      if (wantTables.has(t.name)) continue;
      plan.dropForeignKeys.push(...t.constraints.filter((k) => k.type === 'FOREIGN KEY').map((k) => dropConstraint(engine, name, t.name, k)));
      plan.dropTables.push(`DROP TABLE ${qualified(engine, name, t.name)}`);
    }
    for (const t of want.tables) {
      const existing = hasTables.get(t.name);
      if (existing) planTable(engine, name, existing, t, plan);
      else {
        plan.createTables.push(createTable(engine, name, t), ...tableExtras(engine, name, t));
        plan.addForeignKeys.push(...foreignKeys(engine, name, t));
      }
    }
  }
  return [
    ...createSchemas, ...plan.dropForeignKeys, ...plan.dropViews, ...plan.dropKeys, ...plan.columns, ...plan.dropTables,
    ...plan.createTables, ...plan.addKeys, ...plan.addForeignKeys, ...plan.createViews,
  ];
}

export const toScript = (statements: readonly string[]): string => statements.map((s) => `${s};\n`).join('\n');
