// Naming rules: names of new tables, columns and indexes follow a format.
import * as z from 'zod/mini';
import { lazySchema } from '../../common/lazy.js';
import type { ObjectName, ParsedStatement } from '../model.js';
import { actions, BOTH, definedColumns, rule, type RuleContext, withFacts } from '../rule.js';

const validRegex = (s: string): boolean => {
  try {
    new RegExp(s.replace(/\{\{(table|column_list)\}\}/g, 'x'));
    return true;
  } catch {
    return false;
  }
};

/** A regular expression (JavaScript syntax), checked to compile. */
export const regexFormat = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.refine(validRegex, 'must be a valid regular expression')));

const SNAKE = '^[a-z][a-z0-9]*(_[a-z0-9]+)*$';

const namingPayload = (format: string) =>
  z.object({
    format: z._default(regexFormat, format),
    /** Longest name allowed; by default the engine's own limit (PostgreSQL 63 bytes, MySQL 64 characters). */
    maxLength: z.optional(z.int().check(z.minimum(1))),
  });
type NamingPayload = z.infer<ReturnType<typeof namingPayload>>;

const engineLimit = (engine: string): number => (engine === 'POSTGRES' ? 63 : 64);
const nameLength = (engine: string, name: string): number => (engine === 'POSTGRES' ? Buffer.byteLength(name, 'utf8') : [...name].length);

function checkName(ctx: RuleContext<NamingPayload>, what: string, name: string, s: ParsedStatement, at?: number, format = ctx.payload.format): void {
  if (!new RegExp(format).test(name)) ctx.report(s, `${what} name ${name} does not match ${format}.`, at);
  const max = ctx.payload.maxLength ?? engineLimit(ctx.engine);
  const length = nameLength(ctx.engine, name);
  if (length > max) ctx.report(s, `${what} name ${name} is ${length} ${ctx.engine === 'POSTGRES' && !ctx.payload.maxLength ? 'bytes' : 'characters'} long, more than ${max}.`, at);
}

export const namingTable = /* @__PURE__ */ rule({
  type: 'naming.table',
  title: 'Table naming convention',
  description: 'New table names (CREATE TABLE, ALTER TABLE … RENAME TO, RENAME TABLE) match `format`, a regular expression (by default lower snake_case), and are at most `maxLength` long.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  payload: /* @__PURE__ */ lazySchema(() => namingPayload(SNAKE)),
  check(ctx) {
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_TABLE')) checkName(ctx, 'Table', f.table.name, s);
    for (const [s, , a] of actions(ctx.statements, 'RENAME_TABLE')) checkName(ctx, 'Table', a.to.name, s, a.at);
    for (const [s, f] of withFacts(ctx.statements, 'RENAME_TABLE')) for (const p of f.pairs) checkName(ctx, 'Table', p.to.name, s);
  },
});

export const namingColumn = /* @__PURE__ */ rule({
  type: 'naming.column',
  title: 'Column naming convention',
  description: 'New column names (CREATE TABLE, ADD COLUMN, RENAME COLUMN, MySQL CHANGE) match `format`, a regular expression (by default lower snake_case), and are at most `maxLength` long.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  payload: /* @__PURE__ */ lazySchema(() => namingPayload(SNAKE)),
  check(ctx) {
    for (const [s, , c, how] of definedColumns(ctx.statements)) {
      if (how !== 'REDEFINE') checkName(ctx, 'Column', c.name, s, c.at);
    }
    for (const [s, , a] of actions(ctx.statements, 'REDEFINE_COLUMN')) if (a.from !== a.column.name) checkName(ctx, 'Column', a.column.name, s, a.column.at);
    for (const [s, , a] of actions(ctx.statements, 'RENAME_COLUMN')) checkName(ctx, 'Column', a.to, s, a.at);
  },
});

/** `format` with {{table}} and {{column_list}} (columns joined by `_`) filled in, regex-escaped. */
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const indexFormat = (format: string, table: ObjectName | undefined, columns: string[] | undefined): string =>
  format.replace(/\{\{table\}\}/g, table ? escape(table.name) : '.+').replace(/\{\{column_list\}\}/g, columns ? escape(columns.join('_')) : '.+');

export const namingIndex = /* @__PURE__ */ rule({
  type: 'naming.index',
  title: 'Index naming convention',
  description: 'Names of new indexes and unique keys (CREATE INDEX, indexes and keys in CREATE TABLE and ALTER TABLE, index renames) match `format`, a regular expression in which `{{table}}` stands for the table name and `{{column_list}}` for the indexed columns joined by `_` (by default `^(idx|uk)_{{table}}_{{column_list}}$`), and are at most `maxLength` long. Unnamed indexes are not checked.',
  engines: BOTH,
  defaultLevel: 'WARNING',
  payload: /* @__PURE__ */ lazySchema(() => namingPayload('^(idx|uk)_{{table}}_{{column_list}}$')),
  check(ctx) {
    const check = (s: ParsedStatement, table: ObjectName | undefined, name: string | undefined, columns: string[] | undefined, at?: number) => {
      if (name) checkName(ctx, 'Index', name, s, at, indexFormat(ctx.payload.format, table, columns));
    };
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_INDEX')) check(s, f.table, f.index.name, f.index.columns, f.index.at);
    for (const [s, f] of withFacts(ctx.statements, 'CREATE_TABLE')) {
      for (const i of f.indexes) check(s, f.table, i.name, i.columns, i.at);
      for (const c of f.constraints) if (c.kind === 'UNIQUE') check(s, f.table, c.name, c.columns, c.at);
    }
    for (const [s, table, a] of actions(ctx.statements, 'ADD_INDEX', 'ADD_CONSTRAINT', 'RENAME_INDEX')) {
      if (a.kind === 'ADD_INDEX') check(s, table, a.index.name, a.index.columns, a.index.at);
      else if (a.kind === 'ADD_CONSTRAINT' && a.constraint.kind === 'UNIQUE') check(s, table, a.constraint.name, a.constraint.columns, a.constraint.at);
      else if (a.kind === 'RENAME_INDEX') check(s, table, a.to, undefined, a.at);
    }
    for (const [s, f] of withFacts(ctx.statements, 'RENAME_INDEX')) check(s, undefined, f.to, undefined);
  },
});
