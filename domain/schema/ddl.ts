// DDL generated from the schema model (no dump tool): a script that recreates the schema on an
// empty database of the same engine, and the statements each object needs on its own (the diff
// builds on them). PostgreSQL statements run in one simple-query batch; MySQL's in one
// multi-statement batch, so routine bodies need no DELIMITER.
import type { Engine } from '../inventory/instances.js';
import { normalize, type Column, type Constraint, type DatabaseSchema, type Index, type Routine, type Schema, type Sequence, type Table, type View } from './model.js';

export const quoteIdent = (engine: Engine, name: string): string =>
  engine === 'POSTGRES' ? `"${name.replace(/"/g, '""')}"` : `\`${name.replace(/`/g, '``')}\``;

const quoteLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** `"schema"."name"` on PostgreSQL; MySQL objects live in the database the script runs in. */
export function qualified(engine: Engine, schema: string, name: string): string {
  return engine === 'POSTGRES' ? `${quoteIdent(engine, schema)}.${quoteIdent(engine, name)}` : quoteIdent(engine, name);
}

/** Key columns; a MySQL prefix length travels as `name(10)`. */
const idents = (engine: Engine, names: readonly string[]): string =>
  names
    .map((n) => {
      const m = /^(.+)\((\d+)\)$/.exec(n);
      return m ? `${quoteIdent(engine, m[1]!)}(${m[2]})` : quoteIdent(engine, n);
    })
    .join(', ');

export function columnDefinition(engine: Engine, c: Column): string {
  const parts = [quoteIdent(engine, c.name), c.type];
  if (engine === 'POSTGRES') {
    if (c.generated) parts.push(`GENERATED ALWAYS AS (${c.generated.expression}) STORED`);
    if (c.identity === 'ALWAYS' || c.identity === 'BY DEFAULT') parts.push(`GENERATED ${c.identity} AS IDENTITY`);
    if (c.default !== undefined && !c.generated) parts.push(`DEFAULT ${c.default}`);
    if (!c.nullable) parts.push('NOT NULL');
    return parts.join(' ');
  }
  if (c.generated) parts.push(`GENERATED ALWAYS AS (${c.generated.expression}) ${c.generated.stored ? 'STORED' : 'VIRTUAL'}`);
  else {
    parts.push(c.nullable ? 'NULL' : 'NOT NULL');
    if (c.default !== undefined) parts.push(`DEFAULT ${c.default}`);
    if (c.identity === 'AUTO_INCREMENT') parts.push('AUTO_INCREMENT');
    if (c.onUpdate) parts.push(`ON UPDATE ${c.onUpdate}`);
  }
  return parts.join(' ');
}

/** The constraint's body, as `ADD CONSTRAINT name <body>` and inside CREATE TABLE take it. */
export function constraintBody(engine: Engine, schema: string, k: Constraint): string {
  if (engine === 'POSTGRES' && k.definition !== undefined) return k.definition;
  switch (k.type) {
    case 'PRIMARY KEY':
    case 'UNIQUE':
      return `${k.type} (${idents(engine, k.columns)})`;
    case 'CHECK':
      return `CHECK (${k.definition ?? 'true'})`;
    case 'FOREIGN KEY': {
      const r = k.references!;
      const table = r.schema === schema || r.schema === '' ? quoteIdent(engine, r.table) : qualified(engine, r.schema, r.table);
      return `FOREIGN KEY (${idents(engine, k.columns)}) REFERENCES ${table} (${idents(engine, r.columns)}) ON DELETE ${r.onDelete} ON UPDATE ${r.onUpdate}`;
    }
  }
}

export const addConstraint = (engine: Engine, schema: string, table: string, k: Constraint): string =>
  `ALTER TABLE ${qualified(engine, schema, table)} ADD CONSTRAINT ${quoteIdent(engine, k.name)} ${constraintBody(engine, schema, k)}`;

export function dropConstraint(engine: Engine, schema: string, table: string, k: Constraint): string {
  const t = qualified(engine, schema, table);
  if (engine === 'POSTGRES') return `ALTER TABLE ${t} DROP CONSTRAINT ${quoteIdent(engine, k.name)}`;
  if (k.type === 'PRIMARY KEY') return `ALTER TABLE ${t} DROP PRIMARY KEY`;
  if (k.type === 'FOREIGN KEY') return `ALTER TABLE ${t} DROP FOREIGN KEY ${quoteIdent(engine, k.name)}`;
  if (k.type === 'UNIQUE') return `ALTER TABLE ${t} DROP INDEX ${quoteIdent(engine, k.name)}`;
  return `ALTER TABLE ${t} DROP CONSTRAINT ${quoteIdent(engine, k.name)}`;
}

const mysqlIndexKind = (i: Index): string => (i.definition === 'FULLTEXT' || i.definition === 'SPATIAL' ? `${i.definition} ` : '');

export function createIndex(engine: Engine, schema: string, table: string, i: Index): string {
  if (engine === 'POSTGRES') return i.definition;
  return `CREATE ${i.unique ? 'UNIQUE ' : mysqlIndexKind(i)}INDEX ${quoteIdent(engine, i.name)} ON ${quoteIdent(engine, table)} (${idents(engine, i.columns)})`;
}

export const dropIndex = (engine: Engine, schema: string, table: string, i: Index): string =>
  engine === 'POSTGRES' ? `DROP INDEX ${qualified(engine, schema, i.name)}` : `DROP INDEX ${quoteIdent(engine, i.name)} ON ${quoteIdent(engine, table)}`;

/**
 * CREATE TABLE with its columns. MySQL also takes its keys and indexes inline (an AUTO_INCREMENT
 * column must be a key when the table is created); foreign keys always come later, once every
 * table they may reference exists.
 */
export function createTable(engine: Engine, schema: string, t: Table): string {
  const lines = t.columns.map((c) => `  ${columnDefinition(engine, c)}`);
  if (engine === 'MYSQL') {
    for (const k of t.constraints.filter((k) => k.type !== 'FOREIGN KEY')) {
      lines.push(k.type === 'PRIMARY KEY' ? `  PRIMARY KEY (${idents(engine, k.columns)})` : `  CONSTRAINT ${quoteIdent(engine, k.name)} ${constraintBody(engine, schema, k)}`);
    }
    for (const i of t.indexes) lines.push(`  ${i.unique ? 'UNIQUE ' : mysqlIndexKind(i)}KEY ${quoteIdent(engine, i.name)} (${idents(engine, i.columns)})`);
  }
  return `CREATE TABLE ${qualified(engine, schema, t.name)} (\n${lines.join(',\n')}\n)`;
}

/** What a table needs after CREATE TABLE, foreign keys excluded. */
export function tableExtras(engine: Engine, schema: string, t: Table): string[] {
  if (engine === 'MYSQL') return [];
  return [
    ...t.constraints.filter((k) => k.type !== 'FOREIGN KEY').map((k) => addConstraint(engine, schema, t.name, k)),
    ...t.indexes.map((i) => createIndex(engine, schema, t.name, i)),
  ];
}

export const foreignKeys = (engine: Engine, schema: string, t: Table): string[] =>
  t.constraints.filter((k) => k.type === 'FOREIGN KEY').map((k) => addConstraint(engine, schema, t.name, k));

export const createView = (engine: Engine, schema: string, v: View): string => `CREATE VIEW ${qualified(engine, schema, v.name)} AS ${v.definition}`;
export const dropView = (engine: Engine, schema: string, v: View): string => `DROP VIEW ${qualified(engine, schema, v.name)}`;

function createSequence(engine: Engine, schema: string, s: Sequence): string {
  const as = engine === 'POSTGRES' ? ` AS ${s.dataType}` : '';
  return (
    `CREATE SEQUENCE ${qualified(engine, schema, s.name)}${as} INCREMENT BY ${s.increment} MINVALUE ${s.min} MAXVALUE ${s.max} ` +
    `START WITH ${s.start} CACHE ${s.cache} ${s.cycle ? 'CYCLE' : engine === 'POSTGRES' ? 'NO CYCLE' : 'NOCYCLE'}`
  );
}

const routineStatement = (r: Routine): string => r.definition.trim().replace(/;\s*$/, '');

/**
 * Views in an order where each comes after the views its definition names (those of this
 * schema); a cycle cannot exist in a real catalog, and anything left keeps name order.
 */
export function viewsInDependencyOrder(views: readonly View[]): View[] {
  const done = new Set<string>();
  const out: View[] = [];
  const mentions = (v: View, other: View) => other.name !== v.name && new RegExp(`(^|[^A-Za-z0-9_$])${other.name.replace(/[$]/g, '\\$')}($|[^A-Za-z0-9_$])`).test(v.definition);
  const visit = (v: View, path: Set<string>) => {
    if (done.has(v.name) || path.has(v.name)) return;
    path.add(v.name);
    for (const other of views) if (mentions(v, other)) visit(other, path);
    done.add(v.name);
    out.push(v);
  };
  for (const v of views) visit(v, new Set());
  return out;
}

/** Every statement that recreates the schema on an empty database, in an order that works. */
export function ddlStatements(model: DatabaseSchema): string[] {
  const { engine, schemas } = normalize(model);
  const out: string[] = [];
  const each = (f: (s: Schema) => string[]) => schemas.forEach((s) => out.push(...f(s)));
  if (engine === 'POSTGRES') {
    // Function bodies may name tables created further down.
    out.push('SET check_function_bodies = false');
    each((s) => (s.name === 'public' ? [] : [`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(engine, s.name)}`]));
    each((s) => s.enums.map((e) => `CREATE TYPE ${qualified(engine, s.name, e.name)} AS ENUM (${e.values.map(quoteLiteral).join(', ')})`));
  }
  each((s) => s.sequences.map((q) => createSequence(engine, s.name, q)));
  if (engine === 'POSTGRES') each((s) => s.routines.map(routineStatement));
  each((s) => s.tables.map((t) => createTable(engine, s.name, t)));
  each((s) => s.tables.flatMap((t) => tableExtras(engine, s.name, t)));
  each((s) => s.tables.flatMap((t) => foreignKeys(engine, s.name, t)));
  if (engine === 'POSTGRES') {
    each((s) =>
      s.sequences.filter((q) => q.ownedBy).map((q) => {
        const [table, column] = q.ownedBy!.split('.') as [string, string];
        return `ALTER SEQUENCE ${qualified(engine, s.name, q.name)} OWNED BY ${qualified(engine, s.name, table)}.${quoteIdent(engine, column)}`;
      }),
    );
  }
  each((s) => viewsInDependencyOrder(s.views).map((v) => createView(engine, s.name, v)));
  // MySQL routines may use views and tables, which must exist when a routine is created there.
  if (engine === 'MYSQL') each((s) => s.routines.map(routineStatement));
  return out;
}

/** The script: each statement ends with `;`, one blank line between them. */
export const toDdl = (model: DatabaseSchema): string => ddlStatements(model).map((s) => `${s};\n`).join('\n');
