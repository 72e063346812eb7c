// PostgreSQL's schema from pg_catalog: one connection, one query per object kind, each over the
// whole database (never one per table), so 2,000 tables cost the same handful of round trips.
import type pg from 'pg';
import type { Column, Constraint, ConstraintType, DatabaseSchema, Index, Routine, Schema, Sequence, Table } from '../../../domain/schema/model.js';

/** Schemas Sluice never reports: the system's and its own (the runner's markers, prior backups): they are no drift. */
const SKIP_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'sluice_history', 'sluice_backup') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;
/** Objects an extension created belong to the extension, not to the schema. */
const NOT_EXTENSION = (classid: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = '${classid}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

const CONSTRAINT_TYPE: Record<string, ConstraintType> = { p: 'PRIMARY KEY', u: 'UNIQUE', f: 'FOREIGN KEY', c: 'CHECK' };
const FK_ACTION: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

const trimDefinition = (s: string): string => s.trim().replace(/;$/, '');

/** The reader's queries, one per object kind; the fingerprint (below) hashes exactly their rows. */
const SQL = {
  schemas: `SELECT n.nspname AS name FROM pg_catalog.pg_namespace n WHERE ${SKIP_SCHEMAS} AND ${NOT_EXTENSION('pg_namespace', 'n.oid')}`,
  tables: `SELECT c.oid, n.nspname AS schema, c.relname AS name, greatest(c.reltuples, 0)::bigint AS rows
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${SKIP_SCHEMAS} AND ${NOT_EXTENSION('pg_class', 'c.oid')}`,
  columns: `SELECT a.attrelid AS rel, a.attname AS name, a.attnum AS pos, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity AS identity, a.attgenerated AS generated
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${SKIP_SCHEMAS}`,
  constraints: `SELECT k.conrelid AS rel, k.conname AS name, k.contype AS type, pg_catalog.pg_get_constraintdef(k.oid) AS def, k.conindid AS idx,
            (SELECT array_agg(a.attname::text ORDER BY x.i) FROM unnest(k.conkey) WITH ORDINALITY x(n, i) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.n) AS cols,
            fc.relname AS ftable, fn.nspname AS fschema,
            (SELECT array_agg(a.attname::text ORDER BY x.i) FROM unnest(k.confkey) WITH ORDINALITY x(n, i) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.n) AS fcols,
            k.confdeltype AS del, k.confupdtype AS upd
       FROM pg_catalog.pg_constraint k
       JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
      WHERE k.contype IN ('p', 'u', 'f', 'c') AND ${SKIP_SCHEMAS}`,
  indexes: `SELECT i.indexrelid AS oid, i.indrelid AS rel, ic.relname AS name, i.indisunique AS unique, pg_catalog.pg_get_indexdef(i.indexrelid) AS def,
            (SELECT array_agg(pg_catalog.pg_get_indexdef(i.indexrelid, k, true) ORDER BY k) FROM generate_series(1, i.indnkeyatts) k) AS cols
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
      WHERE ${SKIP_SCHEMAS}`,
  views: `SELECT n.nspname AS schema, c.relname AS name, pg_catalog.pg_get_viewdef(c.oid, true) AS def
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'v' AND ${SKIP_SCHEMAS} AND ${NOT_EXTENSION('pg_class', 'c.oid')}`,
  sequences: `SELECT n.nspname AS schema, c.relname AS name, pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start, s.seqincrement::text AS inc,
            s.seqmin::text AS min, s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
            oc.relname AS owner_table, oa.attname AS owner_column
       FROM pg_catalog.pg_sequence s
       JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       LEFT JOIN pg_catalog.pg_class oc ON oc.oid = d.refobjid LEFT JOIN pg_catalog.pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid
      WHERE ${SKIP_SCHEMAS} AND (d.deptype IS NULL OR d.deptype = 'a') AND ${NOT_EXTENSION('pg_class', 'c.oid')}`,
  enums: `SELECT n.nspname AS schema, t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
      WHERE ${SKIP_SCHEMAS} AND ${NOT_EXTENSION('pg_type', 't.oid')}
      GROUP BY n.nspname, t.typname`,
  routines: `SELECT n.nspname AS schema, p.proname AS name, p.prokind AS kind, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args,
            CASE WHEN p.prokind = 'f' THEN pg_catalog.pg_get_function_result(p.oid) END AS returns, pg_catalog.pg_get_functiondef(p.oid) AS def
       FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE p.prokind IN ('f', 'p') AND ${SKIP_SCHEMAS} AND ${NOT_EXTENSION('pg_proc', 'p.oid')}`,
};

/**
 * The catalog fingerprint: md5 over exactly the rows the reader's queries return (every field,
 * the row estimate left out), sorted, in ONE query. Equal fingerprints mean the reader would
 * build the same model, so the same checksum; a different one may still be the same schema (an
 * object dropped and made again has new oids): then the full read decides. Data changes (INSERT,
 * ANALYZE, nextval) move no row of these queries.
 */
const FINGERPRINT = `SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x COLLATE "C"), '')) AS fingerprint FROM (
  SELECT 'schema' || q::text FROM (${SQL.schemas}) q
  UNION ALL SELECT 'table' || (q.oid, q.schema, q.name)::text FROM (${SQL.tables}) q
  UNION ALL SELECT 'column' || q::text FROM (${SQL.columns}) q
  UNION ALL SELECT 'constraint' || q::text FROM (${SQL.constraints}) q
  UNION ALL SELECT 'index' || q::text FROM (${SQL.indexes}) q
  UNION ALL SELECT 'view' || q::text FROM (${SQL.views}) q
  UNION ALL SELECT 'sequence' || q::text FROM (${SQL.sequences}) q
  UNION ALL SELECT 'enum' || q::text FROM (${SQL.enums}) q
  UNION ALL SELECT 'routine' || q::text FROM (${SQL.routines}) q
) s(x)`;

/** The catalog fingerprint of the connection's database: one round trip (see FINGERPRINT). */
export async function postgresFingerprint(c: pg.Client): Promise<string> {
  return `pg:${(await c.query<{ fingerprint: string }>(FINGERPRINT)).rows[0]!.fingerprint}`;
}

export async function readPostgresSchema(c: pg.Client): Promise<DatabaseSchema> {
  const schemas = new Map<string, Schema>();
  const schemaOf = (name: string): Schema => {
    let s = schemas.get(name);
    if (!s) schemas.set(name, (s = { name, tables: [], views: [], sequences: [], enums: [], routines: [] }));
    return s;
  };
  const q = async <R extends pg.QueryResultRow>(sql: string): Promise<R[]> => (await c.query<R>(sql)).rows;

  for (const r of await q<{ name: string }>(SQL.schemas)) schemaOf(r.name);

  const tables = new Map<string, Table>();
  for (const r of await q<{ oid: number; schema: string; name: string; rows: number }>(SQL.tables)) {
    const t: Table = { name: r.name, rowEstimate: Number(r.rows), columns: [], constraints: [], indexes: [] };
    tables.set(String(r.oid), t);
    schemaOf(r.schema).tables.push(t);
  }

  for (const r of await q<{ rel: number; name: string; pos: number; type: string; notnull: boolean; def: string | null; identity: string; generated: string }>(SQL.columns)) {
    const t = tables.get(String(r.rel));
    if (!t) continue;
    const col: Column = { name: r.name, position: r.pos, type: r.type, nullable: !r.notnull };
    if (r.generated === 's') col.generated = { expression: r.def ?? '', stored: true };
    else if (r.def !== null) col.default = r.def;
    if (r.identity === 'a') col.identity = 'ALWAYS';
    if (r.identity === 'd') col.identity = 'BY DEFAULT';
    t.columns.push(col);
  }

  const constraintIndexes = new Set<string>();
  for (const r of await q<{ rel: number; name: string; type: string; def: string; cols: string[] | null; ftable: string | null; fschema: string | null; fcols: string[] | null; del: string; upd: string; idx: number }>(SQL.constraints)) {
    const t = tables.get(String(r.rel));
    if (!t) continue;
    const type = CONSTRAINT_TYPE[r.type]!;
    const k: Constraint = { name: r.name, type, columns: r.cols ?? [], definition: r.def };
    if (type === 'FOREIGN KEY') {
      k.references = { schema: r.fschema ?? '', table: r.ftable ?? '', columns: r.fcols ?? [], onDelete: FK_ACTION[r.del] ?? 'NO ACTION', onUpdate: FK_ACTION[r.upd] ?? 'NO ACTION' };
    } else if (r.idx) constraintIndexes.add(String(r.idx));
    t.constraints.push(k);
  }

  for (const r of await q<{ oid: number; rel: number; name: string; unique: boolean; def: string; cols: string[] }>(SQL.indexes)) {
    const t = tables.get(String(r.rel));
    if (!t || constraintIndexes.has(String(r.oid))) continue;
    const index: Index = { name: r.name, unique: r.unique, columns: r.cols ?? [], definition: r.def };
    t.indexes.push(index);
  }

  for (const r of await q<{ schema: string; name: string; def: string }>(SQL.views)) {
    schemaOf(r.schema).views.push({ name: r.name, definition: trimDefinition(r.def) });
  }

  // Identity columns own a sequence of their own (deptype i): it is part of the column.
  for (const r of await q<{ schema: string; name: string; type: string; start: string; inc: string; min: string; max: string; cache: string; cycle: boolean; owner_table: string | null; owner_column: string | null }>(SQL.sequences)) {
    const s: Sequence = { name: r.name, dataType: r.type, start: r.start, increment: r.inc, min: r.min, max: r.max, cache: r.cache, cycle: r.cycle };
    if (r.owner_table && r.owner_column) s.ownedBy = `${r.owner_table}.${r.owner_column}`;
    schemaOf(r.schema).sequences.push(s);
  }

  for (const r of await q<{ schema: string; name: string; labels: string[] }>(SQL.enums)) {
    schemaOf(r.schema).enums.push({ name: r.name, values: r.labels });
  }

  for (const r of await q<{ schema: string; name: string; kind: string; args: string; returns: string | null; def: string }>(SQL.routines)) {
    const routine: Routine = { name: r.name, kind: r.kind === 'p' ? 'PROCEDURE' : 'FUNCTION', signature: `(${r.args})`, definition: r.def.trim() };
    if (r.returns) routine.returns = r.returns;
    schemaOf(r.schema).routines.push(routine);
  }

  return { engine: 'POSTGRES', schemas: [...schemas.values()] };
}
