// PostgreSQL's schema from pg_catalog: one connection, one query per catalog, each over the whole
// database (never one per table), all sent as one message: 2,000 tables cost one round trip.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Column, Constraint, ConstraintType, DatabaseSchema, Index, Routine, Schema, Sequence, Table } from '../../../domain/schema/model.js';

const CONSTRAINT_TYPE: Record<string, ConstraintType> = { p: 'PRIMARY KEY', u: 'UNIQUE', f: 'FOREIGN KEY', c: 'CHECK' };
const FK_ACTION: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

const trimDefinition = (s: string): string => s.trim().replace(/;$/, '');

/**
 * FirstNormalObjectId: every object made after initdb has an oid at least this (the counter wraps
 * back to it), so the fingerprint reads the catalog rows of user objects only, by index range.
 */
const USER_OID = 16384;

/**
 * The reader's queries: one catalog each (routines also read pg_depend), all sent as one message
 * (MODEL below), joined here. On a new backend (every task's) the server plans each query from a
 * cold cache, and planning the joins of a query per object kind cost it several times what reading
 * the rows did: as single-catalog queries the full read took about a sixth of the server CPU
 * (BENCHMARKS.md). Every query reads user objects only (oid from USER_OID, by index range): system
 * rows are never in the model.
 */
const SQL = {
  namespaces: `SELECT oid, nspname AS name FROM pg_catalog.pg_namespace`,
  /** Objects an extension created belong to the extension, not to the schema. */
  extensionMembers: `SELECT CASE classid ${['pg_class', 'pg_namespace', 'pg_type', 'pg_proc'].map((t) => `WHEN 'pg_catalog.${t}'::regclass THEN '${t}'`).join(' ')} END AS catalog, objid
       FROM pg_catalog.pg_depend WHERE deptype = 'e'`,
  classes: `SELECT oid, relnamespace AS ns, relname AS name, relkind AS kind, relispartition AS partition, greatest(reltuples, 0)::bigint AS rows
       FROM pg_catalog.pg_class WHERE oid >= ${USER_OID} AND relnamespace <> 'pg_toast'::regnamespace`,
  // Every table's (partitions and foreign tables too: constraints and sequence owners name their columns).
  columns: `SELECT attrelid AS rel, attname AS name, attnum AS pos, pg_catalog.format_type(atttypid, atttypmod) AS type, attnotnull AS notnull,
            attidentity AS identity, attgenerated AS generated
       FROM pg_catalog.pg_attribute
      WHERE attrelid IN (SELECT oid FROM pg_catalog.pg_class WHERE oid >= ${USER_OID} AND relkind IN ('r', 'p', 'f')) AND attnum > 0 AND NOT attisdropped`,
  defaults: `SELECT adrelid AS rel, adnum AS pos, pg_catalog.pg_get_expr(adbin, adrelid) AS def FROM pg_catalog.pg_attrdef WHERE oid >= ${USER_OID}`,
  constraints: `SELECT conrelid AS rel, conname AS name, contype AS type, pg_catalog.pg_get_constraintdef(oid) AS def, conindid AS idx, conkey AS cols,
            confrelid AS frel, confkey AS fcols, confdeltype AS del, confupdtype AS upd
       FROM pg_catalog.pg_constraint WHERE oid >= ${USER_OID} AND contype IN ('p', 'u', 'f', 'c')`,
  indexes: `SELECT indexrelid AS oid, indrelid AS rel, indisunique AS unique, pg_catalog.pg_get_indexdef(indexrelid) AS def,
            (SELECT array_agg(pg_catalog.pg_get_indexdef(indexrelid, k, true) ORDER BY k) FROM generate_series(1, indnkeyatts) k) AS cols
       FROM pg_catalog.pg_index WHERE indexrelid >= ${USER_OID}`,
  views: `SELECT oid, pg_catalog.pg_get_viewdef(oid, true) AS def FROM pg_catalog.pg_class WHERE oid >= ${USER_OID} AND relkind = 'v'`,
  sequences: `SELECT seqrelid AS oid, pg_catalog.format_type(seqtypid, NULL) AS type, seqstart::text AS start, seqincrement::text AS inc,
            seqmin::text AS min, seqmax::text AS max, seqcache::text AS cache, seqcycle AS cycle
       FROM pg_catalog.pg_sequence WHERE seqrelid >= ${USER_OID}`,
  /** A sequence's owning column: OWNED BY (a), or the identity column it belongs to (i). */
  owners: `SELECT objid AS seq, refobjid AS rel, refobjsubid AS pos, deptype FROM pg_catalog.pg_depend
      WHERE classid = 'pg_catalog.pg_class'::regclass AND objid >= ${USER_OID} AND refclassid = 'pg_catalog.pg_class'::regclass AND deptype IN ('a', 'i')`,
  enumTypes: `SELECT oid, typnamespace AS ns, typname AS name FROM pg_catalog.pg_type WHERE oid >= ${USER_OID} AND typtype = 'e'`,
  enumLabels: `SELECT enumtypid AS type, enumlabel AS label, enumsortorder AS ord FROM pg_catalog.pg_enum WHERE enumtypid >= ${USER_OID}`,
  // Extension members left out here, not after: pg_get_functiondef of an extension's hundreds of functions is not free.
  routines: `SELECT p.pronamespace AS ns, p.proname AS name, p.prokind AS kind, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args,
            CASE WHEN p.prokind = 'f' THEN pg_catalog.pg_get_function_result(p.oid) END AS returns, pg_catalog.pg_get_functiondef(p.oid) AS def
       FROM pg_catalog.pg_proc p
      WHERE p.oid >= ${USER_OID} AND p.prokind IN ('f', 'p')
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`,
};

/** Schemas Sluice never reports: the system's and its own (the runner's markers, prior backups): they are no drift. */
const skippedSchema = (name: string): boolean =>
  ['pg_catalog', 'information_schema', 'sluice_history', 'sluice_backup'].includes(name) || name.startsWith('pg_toast') || name.startsWith('pg_temp_');

/** System columns a CHECK constraint may name (tableoid), by their fixed attribute numbers. */
const SYSTEM_COLUMNS: Record<number, string> = { [-1]: 'ctid', [-2]: 'xmin', [-3]: 'cmin', [-4]: 'xmax', [-5]: 'cmax', [-6]: 'tableoid' };

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
  const results = (await c.query(MODEL)) as unknown as pg.QueryResult[];
  const q = <R>(kind: keyof typeof SQL): R[] => results[KINDS.indexOf(kind)]!.rows as R[];

  const members = new Set(q<{ catalog: string; objid: number }>('extensionMembers').map((r) => `${r.catalog}:${r.objid}`));
  const member = (catalog: string, oid: number) => members.has(`${catalog}:${oid}`);
  const namespaces = q<{ oid: number; name: string }>('namespaces');
  const nsName = new Map(namespaces.map((r) => [r.oid, r.name]));
  /** The namespace's name when its objects are reported (undefined: skipped, or unknown). */
  const shown = (ns: number): string | undefined => {
    const name = nsName.get(ns);
    return name === undefined || skippedSchema(name) ? undefined : name;
  };

  const schemas = new Map<string, Schema>();
  const schemaOf = (name: string): Schema => {
    let s = schemas.get(name);
    if (!s) schemas.set(name, (s = { name, tables: [], views: [], sequences: [], enums: [], routines: [] }));
    return s;
  };
  for (const r of namespaces) if (!skippedSchema(r.name) && !member('pg_namespace', r.oid)) schemaOf(r.name);

  const classes = new Map<number, { ns: number; name: string; kind: string; partition: boolean; rows: string }>();
  for (const r of q<{ oid: number; ns: number; name: string; kind: string; partition: boolean; rows: string }>('classes')) classes.set(r.oid, r);

  const tables = new Map<number, Table>();
  for (const [oid, r] of classes) {
    const schema = shown(r.ns);
    if ((r.kind !== 'r' && r.kind !== 'p') || r.partition || schema === undefined || member('pg_class', oid)) continue;
    const t: Table = { name: r.name, rowEstimate: Number(r.rows), columns: [], constraints: [], indexes: [] };
    tables.set(oid, t);
    schemaOf(schema).tables.push(t);
  }

  const defaults = new Map(q<{ rel: number; pos: number; def: string | null }>('defaults').map((r) => [`${r.rel}:${r.pos}`, r.def]));
  /** Column names by table and attribute number, for constraints and sequence owners. */
  const attnames = new Map<string, string>();
  for (const r of q<{ rel: number; name: string; pos: number; type: string; notnull: boolean; identity: string; generated: string }>('columns')) {
    attnames.set(`${r.rel}:${r.pos}`, r.name);
    const t = tables.get(r.rel);
    if (!t) continue;
    const def = defaults.get(`${r.rel}:${r.pos}`) ?? null;
    const col: Column = { name: r.name, position: r.pos, type: r.type, nullable: !r.notnull };
    if (r.generated === 's') col.generated = { expression: def ?? '', stored: true };
    else if (def !== null) col.default = def;
    if (r.identity === 'a') col.identity = 'ALWAYS';
    if (r.identity === 'd') col.identity = 'BY DEFAULT';
    t.columns.push(col);
  }
  const names = (rel: number, nums: number[] | null): string[] | undefined =>
    nums?.length ? nums.map((n) => (n < 0 ? SYSTEM_COLUMNS[n] : attnames.get(`${rel}:${n}`)) ?? String(n)) : undefined;

  const constraintIndexes = new Set<number>();
  for (const r of q<{ rel: number; name: string; type: string; def: string; idx: number; cols: number[] | null; frel: number; fcols: number[] | null; del: string; upd: string }>('constraints')) {
    const t = tables.get(r.rel);
    if (!t) continue;
    const type = CONSTRAINT_TYPE[r.type]!;
    const k: Constraint = { name: r.name, type, columns: names(r.rel, r.cols) ?? [], definition: r.def };
    if (type === 'FOREIGN KEY') {
      const f = classes.get(r.frel);
      k.references = { schema: (f && nsName.get(f.ns)) ?? '', table: f?.name ?? '', columns: names(r.frel, r.fcols) ?? [], onDelete: FK_ACTION[r.del] ?? 'NO ACTION', onUpdate: FK_ACTION[r.upd] ?? 'NO ACTION' };
    } else if (r.idx) constraintIndexes.add(r.idx);
    t.constraints.push(k);
  }

  for (const r of q<{ oid: number; rel: number; unique: boolean; def: string; cols: string[] | null }>('indexes')) {
    const t = tables.get(r.rel);
    const ic = classes.get(r.oid);
    if (!t || !ic || shown(ic.ns) === undefined || constraintIndexes.has(r.oid)) continue;
    const index: Index = { name: ic.name, unique: r.unique, columns: r.cols ?? [], definition: r.def };
    t.indexes.push(index);
  }

  for (const r of q<{ oid: number; def: string }>('views')) {
    const v = classes.get(r.oid)!;
    const schema = shown(v.ns);
    if (schema !== undefined && !member('pg_class', r.oid)) schemaOf(schema).views.push({ name: v.name, definition: trimDefinition(r.def) });
  }

  // Identity columns own a sequence of their own (deptype i): it is part of the column.
  const owners = new Map(q<{ seq: number; rel: number; pos: number; deptype: string }>('owners').map((r) => [r.seq, r]));
  for (const r of q<{ oid: number; type: string; start: string; inc: string; min: string; max: string; cache: string; cycle: boolean }>('sequences')) {
    const c = classes.get(r.oid);
    const schema = c && shown(c.ns);
    const owner = owners.get(r.oid);
    if (!c || schema === undefined || owner?.deptype === 'i' || member('pg_class', r.oid)) continue;
    const s: Sequence = { name: c.name, dataType: r.type, start: r.start, increment: r.inc, min: r.min, max: r.max, cache: r.cache, cycle: r.cycle };
    const ownerTable = owner && classes.get(owner.rel)?.name;
    const ownerColumn = owner && attnames.get(`${owner.rel}:${owner.pos}`);
    if (ownerTable && ownerColumn) s.ownedBy = `${ownerTable}.${ownerColumn}`;
    schemaOf(schema).sequences.push(s);
  }

  const labels = new Map<number, { label: string; ord: number }[]>();
  for (const r of q<{ type: number; label: string; ord: number }>('enumLabels')) {
    let l = labels.get(r.type);
    if (!l) labels.set(r.type, (l = []));
    l.push({ label: r.label, ord: Number(r.ord) });
  }
  for (const r of q<{ oid: number; ns: number; name: string }>('enumTypes')) {
    const schema = shown(r.ns);
    const l = labels.get(r.oid);
    // An enum without labels has no pg_enum rows: the catalog join the model is defined by leaves it out.
    if (schema === undefined || !l || member('pg_type', r.oid)) continue;
    schemaOf(schema).enums.push({ name: r.name, values: l.sort((a, b) => a.ord - b.ord).map((x) => x.label) });
  }

  for (const r of q<{ ns: number; name: string; kind: string; args: string; returns: string | null; def: string }>('routines')) {
    const schema = shown(r.ns);
    if (schema === undefined) continue;
    const routine: Routine = { name: r.name, kind: r.kind === 'p' ? 'PROCEDURE' : 'FUNCTION', signature: `(${r.args})`, definition: r.def.trim() };
    if (r.returns) routine.returns = r.returns;
    schemaOf(schema).routines.push(routine);
  }

  return { engine: 'POSTGRES', schemas: [...schemas.values()] };
}
