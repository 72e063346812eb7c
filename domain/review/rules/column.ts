// Column rules: what columns are defined with, and how they change.
import * as z from 'zod/mini';
import { lazySchema } from '../../common/lazy.js';
import type { ColumnDef, ObjectName, ParsedStatement } from '../model.js';
import { actions, BOTH, columnOf, definedColumns, display, PG, rule, tableAt, type RuleContext, withFacts } from '../rule.js';

export const required = /* @__PURE__ */ rule({
  type: 'column.required',
  title: 'Required columns',
  description: 'Every new table has the columns named in `columns` (by default id, created_at, updated_at), and none of them is dropped or renamed away.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  payload: /* @__PURE__ */ lazySchema(() => z.object({ columns: z._default(z.array(z.string().check(z.minLength(1))).check(z.minLength(1)), ['id', 'created_at', 'updated_at']) })),
  check(ctx) {
    const wanted = ctx.payload.columns;
    const has = (names: string[], c: string) => names.some((n) => n.toLowerCase() === c.toLowerCase());
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_TABLE')) {
      if (f.copied) continue;
      const missing = wanted.filter((c) => !has(f.columns.map((x) => x.name), c));
      if (missing.length) ctx.report(s, `Table ${display(f.table)} lacks the required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`);
    }
    for (const [s, table, a] of actions(ctx.statements, 'DROP_COLUMN', 'RENAME_COLUMN', 'REDEFINE_COLUMN')) {
      const from = a.kind === 'DROP_COLUMN' ? a.column : a.from;
      const to = a.kind === 'DROP_COLUMN' ? undefined : a.kind === 'RENAME_COLUMN' ? a.to : a.column.name;
      if (has(wanted, from) && (to === undefined || to.toLowerCase() !== from.toLowerCase())) {
        ctx.report(s, `Required column ${from} of ${display(table)} is ${to === undefined ? 'dropped' : `renamed to ${to}`}.`, a.at);
      }
    }
  },
});

/** Whether a column in a CREATE TABLE is part of the table's primary key constraint. */
const inTablePk = (constraints: { kind: string; columns: string[] }[], c: ColumnDef) =>
  constraints.some((k) => k.kind === 'PRIMARY_KEY' && k.columns.some((n) => n.toLowerCase() === c.name.toLowerCase()));

export const setDefaultForNotNull = /* @__PURE__ */ rule({
  type: 'column.set-default-for-not-null',
  title: 'NOT NULL columns have a DEFAULT',
  description: 'A NOT NULL column without a DEFAULT makes every INSERT that leaves it out fail, and old application versions do leave it out. Primary key, serial, identity, AUTO_INCREMENT and generated columns are exempt.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  schema: 'OPTIONAL',
  check(ctx) {
    for (const [s, table, c] of definedColumns(ctx.statements)) {
      if (!c.notNull || c.default || c.primaryKey || c.generatedValue || c.computed) continue;
      if (s.facts?.kind === 'CREATE_TABLE' && inTablePk(s.facts.constraints, c)) continue;
      if (tableAt(ctx.catalog, table, s.index)?.primaryKey?.columns.some((n) => n.toLowerCase() === c.name.toLowerCase())) continue;
      ctx.report(s, `Column ${c.name} of ${display(table)} is NOT NULL without a DEFAULT.`, c.at);
    }
  },
});

/** A type as written, made comparable: lower case, spaces squeezed, common aliases folded. */
export function normalizeType(t: string): string {
  const s = t.toLowerCase().replace(/\s+/g, ' ').replace(/\s*([(),])\s*/g, '$1').trim();
  return s
    .replace(/^character varying/, 'varchar')
    .replace(/^character\b/, 'char')
    .replace(/^(int4|int)\b/, 'integer')
    .replace(/^int8\b/, 'bigint')
    .replace(/^int2\b/, 'smallint')
    .replace(/^bool\b/, 'boolean')
    .replace(/^float8\b/, 'double precision')
    .replace(/^timestamp with time zone/, 'timestamptz')
    .replace(/^timestamp without time zone/, 'timestamp')
    .replace(/^decimal\b/, 'numeric')
    .replace(/^(tinyint|smallint|mediumint|integer|bigint)\(\d+\)/, '$1');
}

/** The new type of a column a statement changes, with the old one when the catalog knows it. */
export function* typeChanges(ctx: RuleContext<unknown>) {
  for (const [s, table, a] of actions(ctx.statements, 'ALTER_COLUMN_TYPE', 'REDEFINE_COLUMN')) {
    const column = a.kind === 'ALTER_COLUMN_TYPE' ? a.column : a.from;
    const type = a.kind === 'ALTER_COLUMN_TYPE' ? a.type : a.column.type;
    const old = ctx.existsBefore(table, s.index) ? columnOf(tableAt(ctx.catalog, table, s.index), column)?.type : undefined;
    if (old !== undefined && normalizeType(old) === normalizeType(type)) continue;
    yield { s, table, column, type, old, at: a.at };
  }
}

export const disallowChangeType = /* @__PURE__ */ rule({
  type: 'column.disallow-change-type',
  title: 'Disallow changing a column type',
  description: 'Changing a column\'s type usually rewrites the table under a lock that blocks reads and writes, and may fail on or silently change existing values. On MySQL, MODIFY and CHANGE restate the type: with the synced schema only a different type is reported, without it every MODIFY and CHANGE is.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  schema: 'OPTIONAL',
  check(ctx) {
    for (const c of typeChanges(ctx)) {
      ctx.report(c.s, c.old !== undefined ? `Column ${c.column} of ${display(c.table)} changes type from ${c.old} to ${c.type}.` : `Column ${c.column} of ${display(c.table)} is given the type ${c.type}${ctx.engine === 'MYSQL' ? ', which may change its type' : ''}.`, c.at);
    }
  },
});

export const noNull = /* @__PURE__ */ rule({
  type: 'column.no-null',
  title: 'Columns are NOT NULL',
  description: 'Nullable columns bring three-valued logic into every query that reads them; new columns are declared NOT NULL (primary key columns are NOT NULL anyway).',
  engines: BOTH,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, table, c] of definedColumns(ctx.statements)) {
      if (c.notNull || c.primaryKey || c.computed) continue;
      if (s.facts?.kind === 'CREATE_TABLE' && inTablePk(s.facts.constraints, c)) continue;
      ctx.report(s, `Column ${c.name} of ${display(table)} can be NULL.`, c.at);
    }
  },
});

export const typeDisallowList = /* @__PURE__ */ rule({
  type: 'column.type-disallow-list',
  title: 'Disallowed column types',
  description: 'New and changed columns do not use the types in `types` (base names, case-insensitive, e.g. `json`, `money`, `char`, `float`).',
  engines: BOTH,
  defaultLevel: 'WARNING',
  payload: /* @__PURE__ */ lazySchema(() => z.object({ types: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)) })),
  check(ctx) {
    const banned = new Set(ctx.payload.types.map((t) => normalizeType(t)));
    for (const [s, table, c] of definedColumns(ctx.statements)) {
      if (banned.has(normalizeType(c.baseType))) ctx.report(s, `Column ${c.name} of ${display(table)} is of the disallowed type ${c.baseType}.`, c.at);
    }
    for (const [s, table, a] of actions(ctx.statements, 'ALTER_COLUMN_TYPE')) {
      if (banned.has(normalizeType(a.baseType))) ctx.report(s, `Column ${a.column} of ${display(table)} is changed to the disallowed type ${a.baseType}.`, a.at);
    }
  },
});

export const disallowDropNotNull = /* @__PURE__ */ rule({
  type: 'column.disallow-drop-not-null',
  title: 'Disallow dropping NOT NULL',
  description: 'ALTER COLUMN … DROP NOT NULL lets NULL into a column that code reading it assumes is never NULL.',
  engines: PG,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, table, a] of actions(ctx.statements, 'DROP_NOT_NULL')) ctx.report(s, `Column ${a.column} of ${display(table)} may now be NULL.`, a.at);
  },
});

export const preferTimestamptz = /* @__PURE__ */ rule({
  type: 'column.prefer-timestamptz',
  title: 'Prefer timestamptz to timestamp',
  description: '`timestamp` (without time zone) stores a wall-clock time with no zone: values shift meaning when a server or session time zone differs. Use `timestamptz`.',
  engines: PG,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, table, c] of definedColumns(ctx.statements)) {
      if (c.baseType === 'timestamp') ctx.report(s, `Column ${c.name} of ${display(table)} is timestamp without time zone: use timestamptz.`, c.at);
    }
    for (const [s, table, a] of actions(ctx.statements, 'ALTER_COLUMN_TYPE')) {
      if (a.baseType === 'timestamp') ctx.report(s, `Column ${a.column} of ${display(table)} is changed to timestamp without time zone: use timestamptz.`, a.at);
    }
  },
});

/** Each ALTER TABLE of a table whose columns the catalog knows, with their names (lower case) just before it. */
function* alteredKnownTables(ctx: RuleContext<unknown>) {
  for (const [s, f] of withFacts(ctx.statements, 'ALTER_TABLE')) {
    const columns = tableAt(ctx.catalog, f.table, s.index)?.columns;
    if (columns) yield [s, f, new Set(columns.map((c) => c.name.toLowerCase()))] as const;
  }
}

export const noDuplicate = /* @__PURE__ */ rule({
  type: 'column.no-duplicate',
  title: 'Do not add a column that exists',
  description: 'ADD COLUMN (without IF NOT EXISTS) of a column the table already has, in the synced schema or after an earlier statement of the script, and renaming a column (RENAME COLUMN, MySQL CHANGE) onto such a name: the server refuses it. Needs the synced schema.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  schema: 'REQUIRED',
  check(ctx) {
    // Names as this statement leaves them, action by action (ADD a, RENAME a TO b in one ALTER).
    for (const [s, f, names] of alteredKnownTables(ctx)) {
      for (const a of f.actions) {
        if (a.kind === 'ADD_COLUMN') {
          if (names.has(a.column.name.toLowerCase()) && !a.ifNotExists) ctx.report(s, `Column ${a.column.name} already exists in ${display(f.table)}.`, a.column.at);
          names.add(a.column.name.toLowerCase());
        } else if (a.kind === 'RENAME_COLUMN' || (a.kind === 'REDEFINE_COLUMN' && a.from.toLowerCase() !== a.column.name.toLowerCase())) {
          const to = a.kind === 'RENAME_COLUMN' ? a.to : a.column.name;
          if (names.has(to.toLowerCase())) ctx.report(s, `Column ${a.from} of ${display(f.table)} cannot be renamed to ${to}: a column ${to} already exists.`, a.at);
          names.delete(a.from.toLowerCase());
          names.add(to.toLowerCase());
        } else if (a.kind === 'DROP_COLUMN') names.delete(a.column.toLowerCase());
      }
    }
  },
});

export const mustExist = /* @__PURE__ */ rule({
  type: 'column.must-exist',
  title: 'Columns named must exist',
  description: 'A column that ALTER TABLE drops (without IF EXISTS), renames, retypes, redefines (MySQL MODIFY/CHANGE) or changes the NOT NULL or DEFAULT of, that an INSERT lists, that an UPDATE sets or an UPDATE or DELETE filters on, or (PostgreSQL) that an index or constraint is made on, and that its table does not have, in the synced schema or after an earlier statement of the script: the statement would fail. UPDATE and DELETE are judged only when every column reference surely belongs to their one table (no join, FROM/USING, subquery or CTE). Needs the synced schema.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  schema: 'REQUIRED',
  check(ctx) {
    for (const [s, f, names] of alteredKnownTables(ctx)) {
      const need = (column: string, at: number | undefined) => {
        if (!names.has(column.toLowerCase())) ctx.report(s, `Column ${column} does not exist in ${display(f.table)}.`, at);
      };
      for (const a of f.actions) {
        switch (a.kind) {
          case 'ADD_COLUMN':
            names.add(a.column.name.toLowerCase());
            break;
          case 'DROP_COLUMN':
            if (!a.ifExists) need(a.column, a.at);
            names.delete(a.column.toLowerCase());
            break;
          case 'RENAME_COLUMN':
          case 'REDEFINE_COLUMN': {
            need(a.from, a.at);
            names.delete(a.from.toLowerCase());
            names.add((a.kind === 'RENAME_COLUMN' ? a.to : a.column.name).toLowerCase());
            break;
          }
          case 'ALTER_COLUMN_TYPE':
          case 'SET_NOT_NULL':
          case 'DROP_NOT_NULL':
          case 'SET_DEFAULT':
            need(a.column, a.at);
            break;
          // PostgreSQL only: MySQL's grammar names a functional key part by its function.
          case 'ADD_INDEX':
          case 'ADD_CONSTRAINT':
            if (ctx.engine === 'POSTGRES') for (const c of a.kind === 'ADD_INDEX' ? a.index.columns : a.constraint.columns) need(c, a.kind === 'ADD_INDEX' ? a.index.at : a.constraint.at);
            break;
          default:
            break;
        }
      }
    }
    const missing = (s: ParsedStatement, table: ObjectName, columns: string[], at?: number) => {
      const known = tableAt(ctx.catalog, table, s.index);
      if (!known?.columns) return;
      for (const c of new Set(columns)) if (!columnOf(known, c)) ctx.report(s, `Column ${c} does not exist in ${display(table)}.`, at);
    };
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_INDEX')) if (ctx.engine === 'POSTGRES') missing(s, f.table, f.index.columns.filter((c) => c !== '(expression)'));
    for (const [s, f] of withFacts(ctx.statements, 'INSERT')) if (f.columns) missing(s, f.table, f.columns);
    for (const [s, f] of withFacts(ctx.statements, 'UPDATE', 'DELETE')) {
      const table = f.columns && f.tables.length === 1 ? tableAt(ctx.catalog, f.tables[0]!, s.index) : undefined;
      if (!table?.columns) continue;
      const seen = new Set<string>();
      for (const c of f.columns!) {
        if (columnOf(table, c.name) || seen.has(c.name.toLowerCase())) continue;
        seen.add(c.name.toLowerCase());
        ctx.report(s, `Column ${c.name} does not exist in ${display(f.tables[0]!)}.`, c.at);
      }
    }
  },
});
