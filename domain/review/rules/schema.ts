// Schema compatibility: a change that breaks code still running against the old schema.
import type { ObjectName, ParsedStatement } from '../model.js';
import { actions, display, rule, withFacts } from '../rule.js';
import { normalizeType, typeChanges } from './column.js';

const INTEGER_RANK: Record<string, number> = { tinyint: 1, smallint: 2, mediumint: 3, integer: 4, bigint: 5 };
const TEXTUAL = new Set(['char', 'varchar', 'text', 'tinytext', 'mediumtext', 'longtext']);
const TEXT_RANK: Record<string, number> = { tinytext: 255, text: 65535, mediumtext: 16777215, longtext: Infinity };

const parts = (t: string): { base: string; args: number[]; unsigned: boolean } => {
  const n = normalizeType(t);
  const m = /^([a-z ]+?)(?:\(([\d,]+)\))?( unsigned)?( zerofill)?$/.exec(n);
  return { base: m?.[1]?.trim() ?? n, args: (m?.[2] ?? '').split(',').filter(Boolean).map(Number), unsigned: m?.[3] !== undefined };
};

/** Whether every value of type `from` fits `to` unchanged (the known widenings only). */
export function isWidening(from: string, to: string): boolean {
  const a = parts(from);
  const b = parts(to);
  if (a.base === b.base && a.args.join() === b.args.join() && a.unsigned === b.unsigned) return true;
  if (a.base in INTEGER_RANK && b.base in INTEGER_RANK) return INTEGER_RANK[b.base]! > INTEGER_RANK[a.base]! || (INTEGER_RANK[b.base] === INTEGER_RANK[a.base] && a.unsigned === b.unsigned);
  if (a.base in INTEGER_RANK && b.base === 'numeric') return b.args.length === 0;
  if (TEXTUAL.has(a.base) && TEXTUAL.has(b.base)) {
    const size = (p: typeof a) => (p.base === 'char' || p.base === 'varchar' ? (p.args[0] ?? (p.base === 'char' ? 1 : Infinity)) : (TEXT_RANK[p.base] ?? Infinity));
    if (b.base === 'char' && a.base !== 'char') return false;
    return size(b) >= size(a);
  }
  if (a.base === 'numeric' && b.base === 'numeric') {
    if (b.args.length === 0) return true;
    const [p1 = Infinity, s1 = 0] = a.args;
    const [p2 = Infinity, s2 = 0] = b.args;
    return s2 >= s1 && p2 - s2 >= p1 - s1;
  }
  if ((a.base === 'real' || a.base === 'float') && (b.base === 'double precision' || b.base === 'double')) return true;
  if ((a.base === 'varbinary' || a.base === 'binary') && (b.base === 'varbinary' || b.base === 'blob')) return (b.args[0] ?? Infinity) >= (a.args[0] ?? Infinity);
  return false;
}

export const backwardCompatibility = /* @__PURE__ */ rule({
  type: 'schema.backward-compatibility',
  title: 'Backward-compatible schema changes',
  description: 'Changes that break code still using the old schema: dropping a table, view, column, schema or database; renaming a table or column; and changing a column to a type that does not hold every old value (narrowing, e.g. bigint to integer, varchar(100) to varchar(50), text to integer). With the synced schema a type change is judged from the old type; without it every type change is reported.',
  engines: ['POSTGRES', 'MYSQL'],
  defaultLevel: 'WARNING',
  schema: 'OPTIONAL',
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'DROP')) {
      if (['TABLE', 'VIEW', 'SCHEMA', 'DATABASE'].includes(f.object)) ctx.report(s, `DROP ${f.object} ${f.names.map(display).join(', ')} breaks code that still uses ${f.names.length > 1 ? 'them' : 'it'}.`);
    }
    for (const [s, table, a] of actions(ctx.statements, 'DROP_COLUMN', 'RENAME_COLUMN', 'RENAME_TABLE')) {
      if (!ctx.existsBefore(table, s.index)) continue;
      const views = a.kind === 'DROP_COLUMN' || a.kind === 'RENAME_COLUMN' ? ctx.catalog?.viewsReading(table, a.kind === 'DROP_COLUMN' ? a.column : a.from, s.index) ?? [] : [];
      const also = views.length ? ` (read by the view${views.length > 1 ? 's' : ''} ${views.join(', ')})` : '';
      if (a.kind === 'DROP_COLUMN') ctx.report(s, `Dropping column ${a.column} of ${display(table)}${also} breaks code that still reads or writes it.`, a.at);
      else if (a.kind === 'RENAME_COLUMN') ctx.report(s, `Renaming column ${a.from} of ${display(table)} to ${a.to}${also} breaks code that uses the old name.`, a.at);
      else ctx.report(s, `Renaming table ${display(table)} to ${a.to.name} breaks code that uses the old name.`, a.at);
    }
    for (const [s, f] of withFacts(ctx.statements, 'RENAME_TABLE')) {
      for (const p of f.pairs) if (ctx.existsBefore(p.from, s.index)) ctx.report(s, `Renaming table ${display(p.from)} to ${display(p.to)} breaks code that uses the old name.`);
    }
    for (const [s, table, a] of actions(ctx.statements, 'REDEFINE_COLUMN')) {
      if (a.from.toLowerCase() !== a.column.name.toLowerCase() && ctx.existsBefore(table, s.index)) ctx.report(s, `Renaming column ${a.from} of ${display(table)} to ${a.column.name} breaks code that uses the old name.`, a.at);
    }
    for (const c of typeChanges(ctx)) {
      if (!ctx.existsBefore(c.table, c.s.index)) continue;
      if (c.old === undefined) ctx.report(c.s, `Column ${c.column} of ${display(c.table)} gets the type ${c.type}; without the synced schema Sluice cannot tell whether every old value fits.`, c.at);
      else if (!isWidening(c.old, c.type)) ctx.report(c.s, `Column ${c.column} of ${display(c.table)} changes from ${c.old} to ${c.type}, which does not hold every old value.`, c.at);
    }
  },
});

export const viewDependency = /* @__PURE__ */ rule({
  type: 'schema.view-dependency',
  title: 'Do not break views',
  description: 'Dropping a table, view or column that a view reads (PostgreSQL refuses it, or with CASCADE drops the view too; MySQL leaves the view broken); on PostgreSQL changing the type of such a column (refused); on MySQL renaming such a table or column (the view breaks). Views are those of the synced schema, their definitions parsed with the same parser, and those the script creates. Needs the synced schema.',
  engines: ['POSTGRES', 'MYSQL'],
  defaultLevel: 'ERROR',
  schema: 'REQUIRED',
  check(ctx) {
    const views = (s: ParsedStatement, table: ObjectName, column?: string) => ctx.catalog!.viewsReading(table, column, s.index);
    const named = (list: string[]) => `the view${list.length > 1 ? 's' : ''} ${list.join(', ')}`;
    for (const [s, f] of withFacts(ctx.statements, 'DROP')) {
      if (f.object !== 'TABLE' && f.object !== 'VIEW') continue;
      const dropped = new Set(f.names.map((n) => n.name.toLowerCase()));
      for (const n of f.names) {
        const list = views(s, n).filter((v) => !dropped.has(v.split('.').pop()!.toLowerCase()));
        if (list.length) ctx.report(s, `${display(n)} is read by ${named(list)}: ${f.cascade ? 'CASCADE drops them too' : 'drop or change them first'}.`);
      }
    }
    for (const [s, table, a] of actions(ctx.statements, 'DROP_COLUMN', 'ALTER_COLUMN_TYPE', 'RENAME_COLUMN', 'REDEFINE_COLUMN', 'RENAME_TABLE')) {
      if (a.kind === 'DROP_COLUMN') {
        const list = views(s, table, a.column);
        if (list.length) ctx.report(s, `Column ${a.column} of ${display(table)} is read by ${named(list)}: change them first.`, a.at);
      } else if (a.kind === 'ALTER_COLUMN_TYPE' && ctx.engine === 'POSTGRES') {
        const list = views(s, table, a.column);
        if (list.length) ctx.report(s, `Column ${a.column} of ${display(table)} is read by ${named(list)}: PostgreSQL cannot change its type while they do.`, a.at);
      } else if (ctx.engine === 'MYSQL' && (a.kind === 'RENAME_COLUMN' || (a.kind === 'REDEFINE_COLUMN' && a.from.toLowerCase() !== a.column.name.toLowerCase()))) {
        const list = views(s, table, a.from);
        if (list.length) ctx.report(s, `Column ${a.from} of ${display(table)} is read by ${named(list)}, which break when it is renamed.`, a.at);
      } else if (ctx.engine === 'MYSQL' && a.kind === 'RENAME_TABLE') {
        const list = views(s, table);
        if (list.length) ctx.report(s, `${display(table)} is read by ${named(list)}, which break when it is renamed.`, a.at);
      }
    }
    if (ctx.engine === 'MYSQL') {
      for (const [s, f] of withFacts(ctx.statements, 'RENAME_TABLE')) {
        for (const p of f.pairs) {
          const list = views(s, p.from);
          if (list.length) ctx.report(s, `${display(p.from)} is read by ${named(list)}, which break when it is renamed.`);
        }
      }
    }
  },
});
