// PostgreSQL's schema from pg_catalog: one connection, one query per object kind, each over the
// whole database (never one per table), all sent as one statement: 2,000 tables cost one round trip.
import { createHash } from 'node:crypto';
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

/**
 * FirstNormalObjectId: every object made after initdb has an oid at least this (the counter wraps
 * back to it), so the fingerprint reads the catalog rows of user objects only, by index range.
 */
const USER_OID = 16384;

/**
 * The reader's queries, one per object kind (MODEL below sends them as one). Each reads user objects
 * only (oid from USER_OID, by index range): system rows are never in the model, and scanning them cost
 * the server more than the rest of the read.
 */
const SQL = {
  schemas: `SELECT n.nspname AS name FROM pg_catalog.pg_namespace n WHERE ${SKIP_SCHEMAS} AND ${NOT_EXTENSION('pg_namespace', 'n.oid')}`,
  tables: `SELECT c.oid, n.nspname AS schema, c.relname AS name, greatest(c.reltuples, 0)::bigint AS rows
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid >= ${USER_OID} AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${SKIP_SCHEMAS} AND ${NOT_EXTENSION('pg_class', 'c.oid')}`,
  columns: `SELECT a.attrelid AS rel, a.attname AS name, a.attnum AS pos, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity AS identity, a.attgenerated AS generated
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid >= ${USER_OID} AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${SKIP_SCHEMAS}`,
  constraints: `SELECT k.conrelid AS rel, k.conname AS name, k.contype AS type, pg_catalog.pg_get_constraintdef(k.oid) AS def, k.conindid AS idx,
            (SELECT array_agg(a.attname::text ORDER BY x.i) FROM unnest(k.conkey) WITH ORDINALITY x(n, i) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.n) AS cols,
            fc.relname AS ftable, fn.nspname AS fschema,
            (SELECT array_agg(a.attname::text ORDER BY x.i) FROM unnest(k.confkey) WITH ORDINALITY x(n, i) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.n) AS fcols,
            k.confdeltype AS del, k.confupdtype AS upd
       FROM pg_catalog.pg_constraint k
       JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
      WHERE k.oid >= ${USER_OID} AND k.contype IN ('p', 'u', 'f', 'c') AND ${SKIP_SCHEMAS}`,
  indexes: `SELECT i.indexrelid AS oid, i.indrelid AS rel, ic.relname AS name, i.indisunique AS unique, pg_catalog.pg_get_indexdef(i.indexrelid) AS def,
            (SELECT array_agg(pg_catalog.pg_get_indexdef(i.indexrelid, k, true) ORDER BY k) FROM generate_series(1, i.indnkeyatts) k) AS cols
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
      WHERE i.indexrelid >= ${USER_OID} AND ${SKIP_SCHEMAS}`,
  views: `SELECT n.nspname AS schema, c.relname AS name, pg_catalog.pg_get_viewdef(c.oid, true) AS def
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid >= ${USER_OID} AND c.relkind = 'v' AND ${SKIP_SCHEMAS} AND ${NOT_EXTENSION('pg_class', 'c.oid')}`,
  sequences: `SELECT n.nspname AS schema, c.relname AS name, pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start, s.seqincrement::text AS inc,
            s.seqmin::text AS min, s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
            oc.relname AS owner_table, oa.attname AS owner_column
       FROM pg_catalog.pg_sequence s
       JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       LEFT JOIN pg_catalog.pg_class oc ON oc.oid = d.refobjid LEFT JOIN pg_catalog.pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid
      WHERE s.seqrelid >= ${USER_OID} AND ${SKIP_SCHEMAS} AND (d.deptype IS NULL OR d.deptype = 'a') AND ${NOT_EXTENSION('pg_class', 'c.oid')}`,
  enums: `SELECT n.nspname AS schema, t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
      WHERE t.oid >= ${USER_OID} AND ${SKIP_SCHEMAS} AND ${NOT_EXTENSION('pg_type', 't.oid')}
      GROUP BY n.nspname, t.typname`,
  routines: `SELECT n.nspname AS schema, p.proname AS name, p.prokind AS kind, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args,
            CASE WHEN p.prokind = 'f' THEN pg_catalog.pg_get_function_result(p.oid) END AS returns, pg_catalog.pg_get_functiondef(p.oid) AS def
       FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE p.oid >= ${USER_OID} AND p.prokind IN ('f', 'p') AND ${SKIP_SCHEMAS} AND ${NOT_EXTENSION('pg_proc', 'p.oid')}`,
};

/** Namespaces never in the model whose objects come and go under Sluice: its own (the marker table
 * a first change makes), TOAST, and other sessions' temporary ones. */
const FP_SKIP = `SELECT oid FROM pg_catalog.pg_namespace WHERE nspname IN ('sluice_history', 'sluice_backup') OR nspname LIKE 'pg\\_toast%' OR nspname LIKE 'pg\\_temp\\_%'`;

/** Session settings that change how the server prints types, names and constants in definitions. */
const PRINT_SETTINGS = ['server_version_num', 'search_path', 'DateStyle', 'IntervalStyle', 'TimeZone', 'extra_float_digits', 'bytea_output', 'standard_conforming_strings', 'quote_all_identifiers', 'lc_monetary'];

/** Relations in those namespaces (their columns, defaults, indexes, rules, sequences, dependencies). */
const FP_SKIP_REL = `SELECT oid FROM pg_catalog.pg_class WHERE oid >= ${USER_OID} AND relnamespace IN (${FP_SKIP})`;

/** One catalog's part: its row count and the sum of its rows' 64-bit hashes (order-free). */
const part = (hash: string, from: string) => `SELECT count(*) AS n, sum(${hash}) AS h FROM pg_catalog.${from}`;
/** A row version: its xmin, hashed with the row's key (the same xmin on another row hashes apart). */
const version = (key: string, from: string) => part(`hashtextextended(xmin::text, ${key})`, from);

/**
 * The catalog fingerprint: the state of the catalog rows the model is printed from, not the
 * printed model (RELIABILITY.md, "The catalog fingerprint"). PostgreSQL writes a new row version,
 * with a new xmin, for every catalog change DDL makes, and updates statistics (ANALYZE, VACUUM's
 * relpages, reltuples, relhas*) in place: so a row's key and xmin name its content. pg_class is
 * read by its printed columns instead, since VACUUM FULL, CLUSTER and TRUNCATE write a new version
 * of it for a new relfilenode. The rows: every user object's (oid from 16384) in the catalogs the
 * reader and the pg_get_*def functions read names and definitions from, outside the skipped
 * namespaces; then md5, in Node, over the parts and the settings that change printing. No
 * pg_get_*def call and no system row. Equal fingerprints mean the reader would print the same
 * model; a spurious difference (a GRANT, an object made again) costs one full read, which decides
 * by checksum. Not seen: a superuser changing PostgreSQL's own objects (a built-in function renamed
 * in this database).
 *
 * One plain statement a catalog, all in one message: on a new backend (every task's) the server
 * spent about 40% less CPU than on the same parts as one statement of UNIONs, CTEs and string
 * aggregates (whose operator and function look-ups are themselves catalog reads: BENCHMARKS.md).
 */
const FINGERPRINT_PARTS: [string, string][] = [
  ['namespace', version('oid::bigint', `pg_namespace WHERE oid NOT IN (${FP_SKIP})`)],
  ['class', part(`hashtextextended(concat_ws('|', relname, relnamespace, relkind, relam, reltablespace, relpersistence, relispartition, reloptions::text), oid::bigint)`,
    `pg_class WHERE oid >= ${USER_OID} AND relnamespace NOT IN (${FP_SKIP})`)],
  ['attribute', version('attrelid::bigint * 4096 + attnum', `pg_attribute WHERE attrelid >= ${USER_OID} AND attnum > 0 AND attrelid NOT IN (${FP_SKIP_REL})`)],
  ['attrdef', version('oid::bigint', `pg_attrdef WHERE oid >= ${USER_OID} AND adrelid NOT IN (${FP_SKIP_REL})`)],
  ['constraint', version('oid::bigint', `pg_constraint WHERE oid >= ${USER_OID} AND connamespace NOT IN (${FP_SKIP})`)],
  ['index', version('indexrelid::bigint', `pg_index WHERE indexrelid >= ${USER_OID} AND indrelid NOT IN (${FP_SKIP_REL})`)],
  ['rewrite', version('oid::bigint', `pg_rewrite WHERE oid >= ${USER_OID} AND ev_class NOT IN (${FP_SKIP_REL})`)],
  ['sequence', version('seqrelid::bigint', `pg_sequence WHERE seqrelid >= ${USER_OID} AND seqrelid NOT IN (${FP_SKIP_REL})`)],
  ['type', version('oid::bigint', `pg_type WHERE oid >= ${USER_OID} AND typnamespace NOT IN (${FP_SKIP})`)],
  ['proc', version('oid::bigint', `pg_proc WHERE oid >= ${USER_OID} AND pronamespace NOT IN (${FP_SKIP})`)],
  ...['enum', 'operator', 'collation', 'opclass', 'ts_config', 'ts_dict'].map((t): [string, string] => [t, version('oid::bigint', `pg_${t} WHERE oid >= ${USER_OID}`)]),
  ['depend', part(`hashtextextended(concat_ws('|', classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype), 0)`,
    `pg_depend WHERE deptype = 'e' OR (classid = 'pg_catalog.pg_class'::regclass AND objid >= ${USER_OID} AND deptype IN ('a', 'i') AND objid NOT IN (${FP_SKIP_REL}))`)],
  ['language', version('oid::bigint', 'pg_language')],
  ['tablespace', part('hashtextextended(spcname::text, oid::bigint)', 'pg_tablespace')],
  ['settings', `SELECT concat_ws('|', ${PRINT_SETTINGS.map((s) => `current_setting('${s}')`).join(', ')}) AS h`],
];

/** The fingerprint's statements, one result each (`fingerprintOf` reads them), for one message. */
export const FINGERPRINT_SQL = FINGERPRINT_PARTS.map(([, sql]) => sql).join(';\n');
export const FINGERPRINT_RESULTS = FINGERPRINT_PARTS.length;
export function fingerprintOf(results: pg.QueryResult[]): string {
  if (results.length !== FINGERPRINT_RESULTS) throw new Error(`catalog fingerprint: ${results.length} results, expected ${FINGERPRINT_RESULTS}`);
  const parts = results.map((r, i) => {
    const row = r.rows[0] as { n?: string; h: string | null };
    return `${FINGERPRINT_PARTS[i]![0]}:${row.n ?? ''}:${row.h ?? ''}`;
  });
  return `pg3:${createHash('md5').update(parts.join(',')).digest('hex')}`;
}

/** The catalog fingerprint of the connection's database: one round trip (see FINGERPRINT_PARTS). */
export async function postgresFingerprint(c: pg.Client): Promise<string> {
  return fingerprintOf((await c.query(FINGERPRINT_SQL)) as unknown as pg.QueryResult[]);
}

/**
 * The reader's queries in one message, one result each: one round trip. (As one statement with a
 * JSON aggregate per kind the server spent about twice the CPU, measured: BENCHMARKS.md.)
 */
const KINDS = Object.keys(SQL) as (keyof typeof SQL)[];
const MODEL = KINDS.map((k) => SQL[k]).join(';\n');

export async function readPostgresSchema(c: pg.Client): Promise<DatabaseSchema> {
  const schemas = new Map<string, Schema>();
  const schemaOf = (name: string): Schema => {
    let s = schemas.get(name);
    if (!s) schemas.set(name, (s = { name, tables: [], views: [], sequences: [], enums: [], routines: [] }));
    return s;
  };
  const results = (await c.query(MODEL)) as unknown as pg.QueryResult[];
  const q = <R>(kind: keyof typeof SQL): R[] => results[KINDS.indexOf(kind)]!.rows as R[];

  for (const r of q<{ name: string }>('schemas')) schemaOf(r.name);

  const tables = new Map<string, Table>();
  for (const r of q<{ oid: number; schema: string; name: string; rows: number }>('tables')) {
    const t: Table = { name: r.name, rowEstimate: Number(r.rows), columns: [], constraints: [], indexes: [] };
    tables.set(String(r.oid), t);
    schemaOf(r.schema).tables.push(t);
  }

  for (const r of q<{ rel: number; name: string; pos: number; type: string; notnull: boolean; def: string | null; identity: string; generated: string }>('columns')) {
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
  for (const r of q<{ rel: number; name: string; type: string; def: string; cols: string[] | null; ftable: string | null; fschema: string | null; fcols: string[] | null; del: string; upd: string; idx: number }>('constraints')) {
    const t = tables.get(String(r.rel));
    if (!t) continue;
    const type = CONSTRAINT_TYPE[r.type]!;
    const k: Constraint = { name: r.name, type, columns: r.cols ?? [], definition: r.def };
    if (type === 'FOREIGN KEY') {
      k.references = { schema: r.fschema ?? '', table: r.ftable ?? '', columns: r.fcols ?? [], onDelete: FK_ACTION[r.del] ?? 'NO ACTION', onUpdate: FK_ACTION[r.upd] ?? 'NO ACTION' };
    } else if (r.idx) constraintIndexes.add(String(r.idx));
    t.constraints.push(k);
  }

  for (const r of q<{ oid: number; rel: number; name: string; unique: boolean; def: string; cols: string[] }>('indexes')) {
    const t = tables.get(String(r.rel));
    if (!t || constraintIndexes.has(String(r.oid))) continue;
    const index: Index = { name: r.name, unique: r.unique, columns: r.cols ?? [], definition: r.def };
    t.indexes.push(index);
  }

  for (const r of q<{ schema: string; name: string; def: string }>('views')) {
    schemaOf(r.schema).views.push({ name: r.name, definition: trimDefinition(r.def) });
  }

  // Identity columns own a sequence of their own (deptype i): it is part of the column.
  for (const r of q<{ schema: string; name: string; type: string; start: string; inc: string; min: string; max: string; cache: string; cycle: boolean; owner_table: string | null; owner_column: string | null }>('sequences')) {
    const s: Sequence = { name: r.name, dataType: r.type, start: r.start, increment: r.inc, min: r.min, max: r.max, cache: r.cache, cycle: r.cycle };
    if (r.owner_table && r.owner_column) s.ownedBy = `${r.owner_table}.${r.owner_column}`;
    schemaOf(r.schema).sequences.push(s);
  }

  for (const r of q<{ schema: string; name: string; labels: string[] }>('enums')) {
    schemaOf(r.schema).enums.push({ name: r.name, values: r.labels });
  }

  for (const r of q<{ schema: string; name: string; kind: string; args: string; returns: string | null; def: string }>('routines')) {
    const routine: Routine = { name: r.name, kind: r.kind === 'p' ? 'PROCEDURE' : 'FUNCTION', signature: `(${r.args})`, definition: r.def.trim() };
    if (r.returns) routine.returns = r.returns;
    schemaOf(r.schema).routines.push(routine);
  }

  return { engine: 'POSTGRES', schemas: [...schemas.values()] };
}
