// Table rules: what tables are created with, and how they go away.
import * as z from 'zod/mini';
import { lazySchema } from '../../common/lazy.js';
import type { ObjectName, ParsedStatement } from '../model.js';
import { at } from '../tree.js';
import { actions, BOTH, display, rule, tableAt, withFacts } from '../rule.js';
import { regexFormat } from './naming.js';

export const requirePk = /* @__PURE__ */ rule({
  type: 'table.require-pk',
  title: 'Require a primary key',
  description: 'A table without a primary key cannot have its rows told apart: replication, online schema change tools, prior backups and ORMs need one. Reported on CREATE TABLE without one (temporary tables and CREATE TABLE … AS/LIKE aside), when a primary key is dropped without another added in the same statement, and, with the synced schema, on ALTER TABLE of an existing table that has none and is not given one by that statement.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  schema: 'OPTIONAL',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_TABLE')) {
      if (f.copied || f.temporary) continue;
      if (!f.columns.some((c) => c.primaryKey) && !f.constraints.some((c) => c.kind === 'PRIMARY_KEY')) ctx.report(s, `Table ${display(f.table)} has no primary key.`);
    }
    for (const [s, f] of withFacts(ctx.statements, 'ALTER_TABLE')) {
      const adds = f.actions.some((a) => (a.kind === 'ADD_CONSTRAINT' && a.constraint.kind === 'PRIMARY_KEY') || (a.kind === 'ADD_COLUMN' && a.column.primaryKey));
      const pkName = tableAt(ctx.catalog, f.table, s.index)?.primaryKey?.name ?? `${f.table.name}_pkey`;
      for (const a of f.actions) {
        if (a.kind !== 'DROP_CONSTRAINT' || adds) continue;
        if (a.primaryKey || (ctx.engine === 'POSTGRES' && a.name === pkName)) ctx.report(s, `The primary key of ${display(f.table)} is dropped and none is added.`, a.at);
      }
      // An existing table without one, altered and still without one (a table made by the script was reported at its CREATE).
      const before = tableAt(ctx.catalog, f.table, s.index);
      if (!adds && before && !before.primaryKey && ctx.existsBefore(f.table, s.index)) ctx.report(s, `Table ${display(f.table)} has no primary key: add one before (or while) altering it.`);
    }
  },
});

export const noDuplicate = /* @__PURE__ */ rule({
  type: 'table.no-duplicate',
  title: 'Do not create a table that exists',
  description: 'CREATE TABLE (without IF NOT EXISTS) of a name the synced schema already has as a table or view, or that an earlier statement of the script created, and renaming a table onto such a name: the server refuses it. Needs the synced schema.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  schema: 'REQUIRED',
  check(ctx) {
    const clash = (s: ParsedStatement, to: ObjectName, what: string) => {
      const found = ctx.catalog!.atCreate(to, s.index);
      if (found.state === 'EXISTS') ctx.report(s, `${what}: ${found.table.view ? 'a view' : 'a table'} ${display(to)} already exists.`);
    };
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_TABLE')) if (!f.ifNotExists) clash(s, f.table, `CREATE TABLE ${display(f.table)}`);
    for (const [s, f] of withFacts(ctx.statements, 'RENAME_TABLE')) for (const p of f.pairs) clash(s, p.to, `RENAME TABLE ${display(p.from)} TO ${display(p.to)}`);
    for (const [s, table, a] of actions(ctx.statements, 'RENAME_TABLE')) clash(s, table.schema && !a.to.schema ? { schema: table.schema, name: a.to.name } : a.to, `Renaming ${display(table)} to ${display(a.to)}`);
  },
});

export const mustExist = /* @__PURE__ */ rule({
  type: 'table.must-exist',
  title: 'Tables named must exist',
  description: 'ALTER TABLE, DROP TABLE or VIEW (without IF EXISTS), TRUNCATE, INSERT, UPDATE, DELETE, CREATE INDEX and RENAME of a table that neither the synced schema nor an earlier statement of the script has: the statement would fail. Needs the synced schema. Partitions, foreign tables and materialized views are not in the synced model: name one and it is reported.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  schema: 'REQUIRED',
  check(ctx) {
    const missing = (s: ParsedStatement, n: ObjectName, what: string) => {
      if (n.name && ctx.catalog!.lookup(n, s.index).state === 'ABSENT') ctx.report(s, `${what} ${display(n)}, which does not exist${s.index > 0 ? ' at this point of the script' : ''}.`);
    };
    for (const s of ctx.statements) {
      const f = s.facts;
      if (f?.kind === 'ALTER_TABLE' && !f.ifExists) missing(s, f.table, 'ALTER TABLE');
      // Materialized views are not in the synced model: DROP MATERIALIZED VIEW is left alone.
      else if (f?.kind === 'DROP' && (f.object === 'TABLE' || f.object === 'VIEW') && !f.ifExists && at(s.tree, 'DropStmt', 'removeType') !== 'OBJECT_MATVIEW') for (const n of f.names) missing(s, n, `DROP ${f.object}`);
      else if (f?.kind === 'TRUNCATE') for (const n of f.tables) missing(s, n, 'TRUNCATE');
      else if (f?.kind === 'INSERT') missing(s, f.table, 'INSERT INTO');
      else if (f?.kind === 'CREATE_INDEX') missing(s, f.table, 'CREATE INDEX on');
      else if (f?.kind === 'RENAME_TABLE') for (const p of f.pairs) missing(s, p.from, 'RENAME TABLE');
      // MySQL's multi-table DELETE names aliases as its targets: only a one-table DELETE is judged.
      else if ((f?.kind === 'UPDATE' || f?.kind === 'DELETE') && (ctx.engine === 'POSTGRES' || f.kind === 'UPDATE' || f.columns !== undefined)) for (const n of f.tables) missing(s, n, f.kind);
    }
  },
});

export const noForeignKey = /* @__PURE__ */ rule({
  type: 'table.no-foreign-key',
  title: 'Disallow foreign keys',
  description: 'Foreign keys are checked on every write to both tables and get in the way of sharding and online schema change tools; some teams keep referential integrity in the application instead.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_TABLE')) {
      for (const c of f.constraints) if (c.kind === 'FOREIGN_KEY') ctx.report(s, `Table ${display(f.table)} has a foreign key${c.name ? ` ${c.name}` : ''} on (${c.columns.join(', ')}).`, c.at);
    }
    for (const [s, table, a] of actions(ctx.statements, 'ADD_CONSTRAINT', 'ADD_COLUMN')) {
      const fk = a.kind === 'ADD_CONSTRAINT' ? (a.constraint.kind === 'FOREIGN_KEY' ? a.constraint : undefined) : a.column.foreignKey;
      if (fk) ctx.report(s, `A foreign key${fk.name ? ` ${fk.name}` : ''} on (${fk.columns.join(', ')}) is added to ${display(table)}.`, fk.at);
    }
  },
});

export const disallowDrop = /* @__PURE__ */ rule({
  type: 'table.disallow-drop',
  title: 'Disallow DROP TABLE',
  description: 'Dropping a table loses its data for good and breaks the code that reads it.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'DROP')) if (f.object === 'TABLE') ctx.report(s, `DROP TABLE ${f.names.map(display).join(', ')}.`);
  },
});

export const dropNamingConvention = /* @__PURE__ */ rule({
  type: 'table.drop-naming-convention',
  title: 'Only drop tables named for dropping',
  description: 'A table may be dropped only when its name matches `format` (a regular expression, by default `_del$`): rename it first, let it sit, then drop it, so that a mistaken drop is caught while the rename can still be undone.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  payload: /* @__PURE__ */ lazySchema(() => z.object({ format: z._default(regexFormat, '_del$') })),
  check(ctx) {
    const re = new RegExp(ctx.payload.format);
    for (const [s, f] of withFacts(ctx.statements, 'DROP')) {
      if (f.object !== 'TABLE') continue;
      for (const n of f.names) if (!re.test(n.name)) ctx.report(s, `Table ${display(n)} is dropped but its name does not match ${ctx.payload.format}: rename it first.`);
    }
  },
});
