// Table rules: what tables are created with, and how they go away.
import * as z from 'zod/mini';
import { actions, BOTH, display, rule, withFacts } from '../rule.js';
import { regexFormat } from './naming.js';

export const requirePk = rule({
  type: 'table.require-pk',
  title: 'Require a primary key',
  description: 'A table without a primary key cannot have its rows told apart: replication, online schema change tools, prior backups and ORMs need one. Reported on CREATE TABLE without one (temporary tables and CREATE TABLE … AS/LIKE aside) and when a primary key is dropped without another added in the same statement.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_TABLE')) {
      if (f.copied || f.temporary) continue;
      if (!f.columns.some((c) => c.primaryKey) && !f.constraints.some((c) => c.kind === 'PRIMARY_KEY')) ctx.report(s, `Table ${display(f.table)} has no primary key.`);
    }
    for (const [s, f] of withFacts(ctx.statements, 'ALTER_TABLE')) {
      const adds = f.actions.some((a) => (a.kind === 'ADD_CONSTRAINT' && a.constraint.kind === 'PRIMARY_KEY') || (a.kind === 'ADD_COLUMN' && a.column.primaryKey));
      const pkName = ctx.catalog?.primaryKeyOf(f.table)?.name ?? `${f.table.name}_pkey`;
      for (const a of f.actions) {
        if (a.kind !== 'DROP_CONSTRAINT' || adds) continue;
        if (a.primaryKey || (ctx.engine === 'POSTGRES' && a.name === pkName)) ctx.report(s, `The primary key of ${display(f.table)} is dropped and none is added.`, a.at);
      }
    }
  },
});

export const noForeignKey = rule({
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

export const disallowDrop = rule({
  type: 'table.disallow-drop',
  title: 'Disallow DROP TABLE',
  description: 'Dropping a table loses its data for good and breaks the code that reads it.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'DROP')) if (f.object === 'TABLE') ctx.report(s, `DROP TABLE ${f.names.map(display).join(', ')}.`);
  },
});

export const dropNamingConvention = rule({
  type: 'table.drop-naming-convention',
  title: 'Only drop tables named for dropping',
  description: 'A table may be dropped only when its name matches `format` (a regular expression, by default `_del$`): rename it first, let it sit, then drop it, so that a mistaken drop is caught while the rename can still be undone.',
  engines: BOTH,
  defaultLevel: 'ERROR',
  payload: z.object({ format: z._default(regexFormat, '_del$') }),
  check(ctx) {
    const re = new RegExp(ctx.payload.format);
    for (const [s, f] of withFacts(ctx.statements, 'DROP')) {
      if (f.object !== 'TABLE') continue;
      for (const n of f.names) if (!re.test(n.name)) ctx.report(s, `Table ${display(n)} is dropped but its name does not match ${ctx.payload.format}: rename it first.`);
    }
  },
});
