// MySQL/MariaDB's schema from information_schema: one connection, one query per object kind over
// the whole database, plus SHOW CREATE per routine (information_schema has no full definition).
// A database has one schema, "". Names of the database itself are taken out of view and routine
// definitions, so the same schema in two databases reads the same.
import { createHash } from 'node:crypto';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Column, Constraint, DatabaseSchema, Index, Routine, Schema, Sequence, Table } from '../../../domain/schema/model.js';

type Rows<R> = (sql: string, values?: unknown[]) => Promise<R[]>;

const unqualify = (text: string, database: string): string => text.split(`\`${database.replace(/`/g, '``')}\`.`).join('');

/** MariaDB prints defaults as SQL (`'x'`, `NULL`, `current_timestamp()`); MySQL prints the raw value. */
function defaultOf(raw: string | null, extra: string, mariadb: boolean): string | undefined {
  if (raw === null) return undefined;
  if (mariadb) return raw === 'NULL' ? undefined : raw;
  if (/DEFAULT_GENERATED/i.test(extra) || /^CURRENT_TIMESTAMP/i.test(raw)) return /^CURRENT_TIMESTAMP/i.test(raw) ? raw : `(${raw})`;
  return `'${raw.replace(/'/g, "''")}'`;
}

export async function readMysqlSchema(c: Connection, database: string, timeoutMs: number): Promise<DatabaseSchema> {
  const rows = (async (sql: string, values: unknown[] = []) => {
    const [out] = await c.query<RowDataPacket[]>({ sql, values, timeout: timeoutMs });
    return out;
  }) as Rows<RowDataPacket>;
  // The handshake says which (no round trip); a driver that does not tell is asked.
  const mariadb = isMariadb(c) ?? /mariadb/i.test(((await rows('SELECT VERSION() AS v')) as [{ v: string }])[0].v);
  const schema: Schema = { name: '', tables: [], views: [], sequences: [], enums: [], routines: [] };
  const tables = new Map<string, Table>();

  for (const r of await rows("SELECT TABLE_NAME AS name, TABLE_TYPE AS type, TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", [database])) {
    if (r.type === 'BASE TABLE') {
      const t: Table = { name: r.name, rowEstimate: Number(r.n ?? 0), columns: [], constraints: [], indexes: [] };
      tables.set(r.name, t);
      schema.tables.push(t);
    } else if (r.type === 'SEQUENCE') {
      const [s] = await rows(`SELECT CAST(start_value AS CHAR) AS start, CAST(minimum_value AS CHAR) AS min, CAST(maximum_value AS CHAR) AS max, CAST(increment AS CHAR) AS increment, CAST(cache_size AS CHAR) AS cache, cycle_option AS cycle FROM \`${database.replace(/`/g, '``')}\`.\`${String(r.name).replace(/`/g, '``')}\``);
      const seq: Sequence = { name: r.name, dataType: 'bigint', start: String(s!.start), increment: String(s!.increment), min: String(s!.min), max: String(s!.max), cache: String(s!.cache), cycle: Number(s!.cycle) === 1 };
      schema.sequences.push(seq);
    }
  }

  for (const r of await rows(
    `SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, ORDINAL_POSITION AS pos, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS def,
            EXTRA AS extra, GENERATION_EXPRESSION AS gen
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?`,
    [database],
  )) {
    const t = tables.get(r.tbl);
    if (!t) continue;
    const extra = String(r.extra ?? '');
    const col: Column = { name: r.name, position: Number(r.pos), type: r.type, nullable: r.nullable === 'YES' };
    if (/VIRTUAL|STORED|PERSISTENT/i.test(extra) && r.gen) col.generated = { expression: unqualify(String(r.gen), database), stored: /STORED|PERSISTENT/i.test(extra) };
    else {
      const def = defaultOf(r.def, extra, mariadb);
      if (def !== undefined) col.default = def;
    }
    if (/auto_increment/i.test(extra)) col.identity = 'AUTO_INCREMENT';
    const onUpdate = /on update (\S+)/i.exec(extra);
    if (onUpdate) col.onUpdate = onUpdate[1]!;
    t.columns.push(col);
  }

  // Keys and indexes: PRIMARY and unique indexes are constraints; the rest are indexes.
  const grouped = new Map<string, { tbl: string; name: string; unique: boolean; type: string; cols: string[] }>();
  // MariaDB has no EXPRESSION column (no functional indexes).
  for (const r of await rows(
    `SELECT TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS nu, INDEX_TYPE AS type, COLUMN_NAME AS col, SUB_PART AS sub${mariadb ? '' : ', EXPRESSION AS expr'}
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    [database],
  )) {
    const key = `${r.tbl}\u0000${r.name}`;
    let g = grouped.get(key);
    if (!g) grouped.set(key, (g = { tbl: r.tbl, name: r.name, unique: Number(r.nu) === 0, type: r.type, cols: [] }));
    g.cols.push(r.col === null ? `(${r.expr})` : r.sub ? `${r.col}(${r.sub})` : r.col);
  }
  for (const g of grouped.values()) {
    const t = tables.get(g.tbl);
    if (!t) continue;
    if (g.name === 'PRIMARY') t.constraints.push({ name: 'PRIMARY', type: 'PRIMARY KEY', columns: g.cols });
    else if (g.unique) t.constraints.push({ name: g.name, type: 'UNIQUE', columns: g.cols });
    else t.indexes.push({ name: g.name, unique: false, columns: g.cols, definition: g.type } satisfies Index);
  }

  const fks = new Map<string, Constraint & { tbl: string }>();
  for (const r of await rows(
    `SELECT k.TABLE_NAME AS tbl, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS col, k.REFERENCED_TABLE_SCHEMA AS rschema, k.REFERENCED_TABLE_NAME AS rtable,
            k.REFERENCED_COLUMN_NAME AS rcol, rc.DELETE_RULE AS del, rc.UPDATE_RULE AS upd
       FROM information_schema.KEY_COLUMN_USAGE k
       JOIN information_schema.REFERENTIAL_CONSTRAINTS rc ON rc.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND rc.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND rc.TABLE_NAME = k.TABLE_NAME
      WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
    [database],
  )) {
    const key = `${r.tbl}\u0000${r.name}`;
    let k = fks.get(key);
    if (!k) {
      const refSchema = r.rschema === database ? '' : String(r.rschema);
      fks.set(key, (k = { tbl: r.tbl, name: r.name, type: 'FOREIGN KEY', columns: [], references: { schema: refSchema, table: r.rtable, columns: [], onDelete: r.del, onUpdate: r.upd } }));
    }
    k.columns.push(r.col);
    k.references!.columns.push(r.rcol);
  }
  for (const { tbl, ...k } of fks.values()) tables.get(tbl)?.constraints.push(k);

  for (const r of await rows('SELECT TABLE_NAME AS tbl, CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?', [database])) {
    tables.get(r.tbl)?.constraints.push({ name: r.name, type: 'CHECK', columns: [], definition: unqualify(String(r.clause), database) });
  }

  for (const r of await rows('SELECT TABLE_NAME AS name, VIEW_DEFINITION AS def FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?', [database])) {
    schema.views.push({ name: r.name, definition: unqualify(String(r.def), database) });
  }

  const params = new Map<string, string[]>();
  for (const r of await rows(
    `SELECT SPECIFIC_NAME AS name, ROUTINE_TYPE AS kind, PARAMETER_MODE AS mode, PARAMETER_NAME AS pname, DTD_IDENTIFIER AS type
       FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = ? AND ORDINAL_POSITION > 0 ORDER BY SPECIFIC_NAME, ORDINAL_POSITION`,
    [database],
  )) {
    const key = `${r.kind}\u0000${r.name}`;
    if (!params.has(key)) params.set(key, []);
    params.get(key)!.push(`${r.kind === 'PROCEDURE' && r.mode ? `${r.mode} ` : ''}${r.pname} ${r.type}`);
  }
  for (const r of await rows('SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS kind, DTD_IDENTIFIER AS returns FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?', [database])) {
    const kind = r.kind === 'PROCEDURE' ? 'PROCEDURE' : 'FUNCTION';
    const q = (s: string) => `\`${s.replace(/`/g, '``')}\``;
    const [shown] = await rows(`SHOW CREATE ${kind} ${q(database)}.${q(r.name)}`);
    const text = String(shown?.[kind === 'PROCEDURE' ? 'Create Procedure' : 'Create Function'] ?? '');
    const definition = unqualify(text.replace(/^CREATE\s+DEFINER\s*=\s*(`[^`]*`|\S+?)@(`[^`]*`|\S+?)\s+/i, 'CREATE '), database);
    const routine: Routine = { name: r.name, kind, signature: `(${(params.get(`${kind}\u0000${r.name}`) ?? []).join(', ')})`, definition };
    if (kind === 'FUNCTION' && r.returns) routine.returns = r.returns;
    schema.routines.push(routine);
  }

  return { engine: 'MYSQL', schemas: [schema] };
}

/** MariaDB or MySQL from the connection's handshake (no round trip); undefined when the driver does not say. */
export function isMariadb(c: Connection): boolean | undefined {
  const version = (c as unknown as { connection?: { _handshakePacket?: { serverVersion?: string } } }).connection?._handshakePacket?.serverVersion;
  return version === undefined ? undefined : /mariadb/i.test(version);
}

/** Each row of every kind the reader reads, as one hash per row (NULLs kept apart from '' by JSON_ARRAY). */
const fingerprintRows = (mariadb: boolean): string => `
  SELECT MD5(JSON_ARRAY('table', TABLE_NAME, TABLE_TYPE)) AS h FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?
  UNION ALL SELECT MD5(JSON_ARRAY('column', TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION))
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?
  UNION ALL SELECT MD5(JSON_ARRAY('index', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, NON_UNIQUE, INDEX_TYPE, COLUMN_NAME, SUB_PART${mariadb ? '' : ', EXPRESSION'}))
    FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ?
  UNION ALL SELECT MD5(JSON_ARRAY('foreign key', k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME,
                                  k.REFERENCED_COLUMN_NAME, rc.DELETE_RULE, rc.UPDATE_RULE))
    FROM information_schema.KEY_COLUMN_USAGE k
    JOIN information_schema.REFERENTIAL_CONSTRAINTS rc ON rc.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND rc.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND rc.TABLE_NAME = k.TABLE_NAME
   WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
  UNION ALL SELECT MD5(JSON_ARRAY('check', TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE)) FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?
  UNION ALL SELECT MD5(JSON_ARRAY('view', TABLE_NAME, VIEW_DEFINITION)) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
  UNION ALL SELECT MD5(JSON_ARRAY('parameter', SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION, PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER))
    FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = ? AND ORDINAL_POSITION > 0
  UNION ALL SELECT MD5(JSON_ARRAY('routine', ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_BODY, ROUTINE_DEFINITION, PARAMETER_STYLE, IS_DETERMINISTIC,
                                  SQL_DATA_ACCESS, SECURITY_TYPE, SQL_MODE, ROUTINE_COMMENT, DEFINER, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, DATABASE_COLLATION,
                                  CREATED, LAST_ALTERED))
    FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?`;

/**
 * The catalog fingerprint: every row the reader reads from information_schema, row estimates
 * left out, each hashed (MD5 of a JSON array) and summed in two 64-bit halves with the row count,
 * in ONE query: no GROUP_CONCAT, so no group_concat_max_len to mind, and no order to agree on.
 * Routines add what SHOW CREATE prints (characteristics, definer) and their CREATED/LAST_ALTERED
 * times: a routine made again differs even where information_schema prints its text the same.
 * The same query lists the sequences (MariaDB): their settings live in each sequence's own table,
 * so a database with sequences costs a second query that reads them all at once.
 */
export async function mysqlFingerprint(c: Connection, database: string, timeoutMs: number): Promise<string> {
  let mariadb = isMariadb(c);
  if (mariadb === undefined) {
    const [[row]] = await c.query<RowDataPacket[]>({ sql: 'SELECT VERSION() AS v', timeout: timeoutMs });
    mariadb = /mariadb/i.test(String(row!.v));
  }
  const sql = `SELECT 'sum' AS k, CAST(COUNT(*) AS CHAR) AS n,
         CAST(SUM(CAST(CONV(SUBSTRING(h, 1, 16), 16, 10) AS UNSIGNED)) AS CHAR) AS a, CAST(SUM(CAST(CONV(SUBSTRING(h, 17, 16), 16, 10) AS UNSIGNED)) AS CHAR) AS b
    FROM (${fingerprintRows(mariadb)}) x
  UNION ALL SELECT 'sequence', TABLE_NAME, NULL, NULL FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'SEQUENCE'`;
  const [rows] = await c.query<RowDataPacket[]>({ sql, values: Array<string>(9).fill(database), timeout: timeoutMs });
  const sum = rows.find((r) => r.k === 'sum')!;
  const sequences = rows.filter((r) => r.k === 'sequence').map((r) => String(r.n)).sort();
  let settings = '';
  if (sequences.length > 0) {
    const q = (s: string) => `\`${s.replace(/`/g, '``')}\``;
    const [seq] = await c.query<RowDataPacket[]>({
      sql: sequences
        .map((s) => `SELECT JSON_ARRAY(${c.escape(s)}, start_value, minimum_value, maximum_value, increment, cache_size, cycle_option) AS s FROM ${q(database)}.${q(s)}`)
        .join(' UNION ALL '),
      timeout: timeoutMs,
    });
    settings = seq.map((r) => String(r.s)).sort().join('\n');
  }
  return `my:${createHash('md5').update(`${sum.n}:${sum.a ?? 0}:${sum.b ?? 0}\n${settings}`).digest('hex')}`;
}
