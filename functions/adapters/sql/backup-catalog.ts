// The catalog reads prior backup needs (domain/backup/plan.ts BackupCatalog), for each engine, on a
// connection that is already open: the runner reads them on the connection that then runs the
// change; `withBackupCatalog` opens one of its own (plan checks). Read-only queries of the system
// catalogs (pg_catalog, information_schema) and EXPLAIN, nothing else.
import type { Connection } from 'mysql2/promise';
import type pg from 'pg';
import type { BackupCatalog } from '../../../domain/backup/plan.js';
import type { DmlEvent, FkAction, ReferencingKey, TableFacts, TableRef } from '../../../domain/backup/model.js';
import type { ConnectionTarget } from '../../../domain/inventory/ports.js';
import { quote } from '../../../domain/backup/sql.js';
import { pgClient } from './connect-pg.js';
import { withMysqlConnection } from './connect-mysql.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, settleWithin } from './common.js';
import { DEFAULT_DATABASE } from './postgres.js';

type Row = Record<string, unknown>;

async function sequence(reads: (() => Promise<Row[]>)[]): Promise<Row[][]> {
  const out: Row[][] = [];
  for (const read of reads) out.push(await read());
  return out;
}
export type Query = (sql: string, values?: unknown[]) => Promise<Row[]>;

const PG_ACTIONS: Record<string, FkAction> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };
const PG_TRIGGER_EVENTS: [number, DmlEvent][] = [[4, 'INSERT'], [8, 'DELETE'], [16, 'UPDATE']];
const names = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.replace(/^\{|\}$/g, '').split(',').filter(Boolean).map((s) => s.replace(/^"|"$/g, '')) : []);

/** PostgreSQL: the catalog of the connection's database. */
export function pgBackupCatalog(query: Query): BackupCatalog {
  return {
    async table(ref: TableRef): Promise<TableFacts | undefined> {
      const regclass = `${ref.schema !== undefined ? `${quote('POSTGRES', ref.schema)}.` : ''}${quote('POSTGRES', ref.name)}`;
      const [rel] = await query(
        `SELECT c.oid::int8 AS oid, n.nspname, c.relname, c.relkind, c.relhasrules FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
        [regclass],
      );
      if (!rel) return undefined;
      const oid = String(rel.oid);
      // One query at a time: a connection runs one (the runner's catalog reads share its connection).
      const [columns = [], indexes = [], fks = [], triggers = []] = await sequence([
        () => query(`SELECT attname, attnotnull, attgenerated <> '' AS generated, attidentity = 'a' AS identity_always FROM pg_catalog.pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [oid]),
        () => query(
          `SELECT i.indisprimary, ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS cols
             FROM pg_catalog.pg_index i WHERE i.indrelid = $1::oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL ORDER BY NOT i.indisprimary, i.indexrelid`,
          [oid],
        ),
        () => query(
          `SELECT con.conname, cn.nspname, cc.relname, con.confdeltype, con.confupdtype,
                  ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS cols,
                  ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS refs
             FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class cc ON cc.oid = con.conrelid JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace
            WHERE con.contype = 'f' AND con.confrelid = $1::oid AND con.conparentid = 0 ORDER BY con.conname`,
          [oid],
        ),
        () => query(`SELECT tgname, tgtype FROM pg_catalog.pg_trigger WHERE tgrelid = $1::oid AND NOT tgisinternal AND tgenabled <> 'D' ORDER BY tgname`, [oid]),
      ]);
      const notNull = new Map(columns.map((c) => [String(c.attname), c.attnotnull === true]));
      const keys = indexes.map((i) => ({ primary: i.indisprimary === true, cols: names(i.cols) }));
      const kind = String(rel.relkind);
      return {
        schema: String(rel.nspname),
        name: String(rel.relname),
        kind: kind === 'r' || kind === 'p' ? 'TABLE' : kind === 'v' || kind === 'm' ? 'VIEW' : 'OTHER',
        transactional: true,
        hasRules: rel.relhasrules === true,
        columns: columns.map((c) => ({ name: String(c.attname), notNull: c.attnotnull === true, generated: c.generated === true, identityAlways: c.identity_always === true, autoIncrement: false })),
        primaryKey: keys.find((k) => k.primary)?.cols ?? [],
        uniqueKeys: keys.filter((k) => !k.primary && k.cols.length > 0 && k.cols.every((c) => notNull.get(c))).map((k) => k.cols),
        referencedBy: fks.map((f): ReferencingKey => ({
          name: String(f.conname), table: { schema: String(f.nspname), name: String(f.relname) }, columns: names(f.cols), references: names(f.refs),
          onDelete: PG_ACTIONS[String(f.confdeltype)] ?? 'NO ACTION', onUpdate: PG_ACTIONS[String(f.confupdtype)] ?? 'NO ACTION',
        })),
        triggers: triggers.map((t) => ({ name: String(t.tgname), events: PG_TRIGGER_EVENTS.filter(([bit]) => (Number(t.tgtype) & bit) !== 0).map(([, e]) => e) })),
      };
    },
    async estimateRows(select: string): Promise<number> {
      const [row] = await query(`EXPLAIN (FORMAT JSON) ${select}`);
      type Node = { 'Node Type'?: string; 'Plan Rows'?: number; Plans?: Node[] };
      const plan = (row?.['QUERY PLAN'] as { Plan?: Node }[] | undefined)?.[0]?.Plan;
      // EXPLAIN of an UPDATE/DELETE (plan checks): the ModifyTable node shows 0 rows; the rows it changes are its input's.
      const counted = plan?.['Node Type'] === 'ModifyTable' ? plan.Plans?.[0] : plan;
      return Math.round(Number(counted?.['Plan Rows'] ?? 0));
    },
  };
}

const MYSQL_ACTIONS = new Set<FkAction>(['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT']);
const mysqlAction = (v: unknown): FkAction => (MYSQL_ACTIONS.has(String(v).toUpperCase() as FkAction) ? (String(v).toUpperCase() as FkAction) : 'NO ACTION');
const col = (r: Row, k: string): unknown => r[k] ?? r[k.toLowerCase()];

/** MySQL/MariaDB: information_schema, tables named without a database resolved against DATABASE(). */
export function mysqlBackupCatalog(query: Query): BackupCatalog {
  return {
    async table(ref: TableRef): Promise<TableFacts | undefined> {
      const [t] = await query(
        'SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?',
        [ref.schema ?? null, ref.name],
      );
      if (!t) return undefined;
      const schema = String(col(t, 'TABLE_SCHEMA'));
      const name = String(col(t, 'TABLE_NAME'));
      const [columns = [], stats = [], fks = [], triggers = []] = await sequence([
        () => query('SELECT COLUMN_NAME, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [schema, name]),
        () => query('SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX', [schema, name]),
        () => query(
          `SELECT rc.CONSTRAINT_NAME, rc.CONSTRAINT_SCHEMA, rc.TABLE_NAME, rc.DELETE_RULE, rc.UPDATE_RULE, k.COLUMN_NAME, k.REFERENCED_COLUMN_NAME
             FROM information_schema.REFERENTIAL_CONSTRAINTS rc
             JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME AND k.TABLE_NAME = rc.TABLE_NAME
            WHERE rc.UNIQUE_CONSTRAINT_SCHEMA = ? AND rc.REFERENCED_TABLE_NAME = ? AND k.REFERENCED_COLUMN_NAME IS NOT NULL
            ORDER BY rc.CONSTRAINT_SCHEMA, rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
          [schema, name],
        ),
        () => query('SELECT TRIGGER_NAME, EVENT_MANIPULATION FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ? ORDER BY TRIGGER_NAME', [schema, name]),
      ]);
      const notNull = new Map(columns.map((c) => [String(col(c, 'COLUMN_NAME')).toLowerCase(), String(col(c, 'IS_NULLABLE')) === 'NO']));
      const indexes = new Map<string, { unique: boolean; cols: (string | null)[] }>();
      for (const s of stats) {
        const index = String(col(s, 'INDEX_NAME'));
        const entry = indexes.get(index) ?? { unique: Number(col(s, 'NON_UNIQUE')) === 0, cols: [] };
        const c = col(s, 'COLUMN_NAME');
        entry.cols.push(c === null || c === undefined ? null : String(c));
        indexes.set(index, entry);
      }
      const usable = (cols: (string | null)[]): cols is string[] => cols.every((c) => c !== null);
      const primary = indexes.get('PRIMARY');
      const referencedBy = new Map<string, ReferencingKey>();
      for (const f of fks) {
        const id = `${String(col(f, 'CONSTRAINT_SCHEMA'))}.${String(col(f, 'TABLE_NAME'))}.${String(col(f, 'CONSTRAINT_NAME'))}`;
        const fk = referencedBy.get(id) ?? {
          name: String(col(f, 'CONSTRAINT_NAME')), table: { schema: String(col(f, 'CONSTRAINT_SCHEMA')), name: String(col(f, 'TABLE_NAME')) }, columns: [], references: [],
          onDelete: mysqlAction(col(f, 'DELETE_RULE')), onUpdate: mysqlAction(col(f, 'UPDATE_RULE')),
        };
        fk.columns.push(String(col(f, 'COLUMN_NAME')));
        fk.references.push(String(col(f, 'REFERENCED_COLUMN_NAME')));
        referencedBy.set(id, fk);
      }
      const byTrigger = new Map<string, DmlEvent[]>();
      for (const tr of triggers) byTrigger.set(String(col(tr, 'TRIGGER_NAME')), [...(byTrigger.get(String(col(tr, 'TRIGGER_NAME'))) ?? []), String(col(tr, 'EVENT_MANIPULATION')).toUpperCase() as DmlEvent]);
      return {
        schema,
        name,
        kind: String(col(t, 'TABLE_TYPE')) === 'BASE TABLE' ? 'TABLE' : String(col(t, 'TABLE_TYPE')).includes('VIEW') ? 'VIEW' : 'OTHER',
        transactional: String(col(t, 'ENGINE') ?? '').toLowerCase() === 'innodb',
        hasRules: false,
        columns: columns.map((c) => {
          const extra = String(col(c, 'EXTRA') ?? '').toLowerCase();
          return { name: String(col(c, 'COLUMN_NAME')), notNull: String(col(c, 'IS_NULLABLE')) === 'NO', generated: extra.includes('generated'), identityAlways: false, autoIncrement: extra.includes('auto_increment') };
        }),
        primaryKey: primary && usable(primary.cols) ? primary.cols : [],
        uniqueKeys: [...indexes.entries()]
          .filter(([n, i]) => n !== 'PRIMARY' && i.unique && usable(i.cols) && i.cols.every((c) => notNull.get(String(c).toLowerCase())))
          .map(([, i]) => i.cols as string[]),
        referencedBy: [...referencedBy.values()],
        triggers: [...byTrigger.entries()].map(([n, events]) => ({ name: n, events })),
      };
    },
    async estimateRows(select: string): Promise<number> {
      const rows = await query(`EXPLAIN ${select}`);
      return rows.reduce<number>((max, r) => Math.max(max, Number(col(r, 'rows') ?? 0)), 0);
    },
  };
}

export const pgQuery = (c: pg.Client): Query => async (sql, values = []) => (await c.query(sql, values)).rows as Row[];
export const mysqlQueryOn = (c: Connection, timeoutMs: number): Query => async (sql, values = []) => {
  const [rows] = await c.query({ sql, values, timeout: timeoutMs });
  return rows as Row[];
};

/**
 * Opens a connection to `database` on the target and hands a catalog over it to `work` (plan
 * checks). Reads only; the connection is closed whatever happens.
 */
export async function withBackupCatalog<T>(target: ConnectionTarget, database: string, work: (catalog: BackupCatalog) => Promise<T>, timeoutMs = 30_000): Promise<T> {
  if (target.engine === 'POSTGRES') {
    const { client, destroy } = pgClient(target, database ?? DEFAULT_DATABASE, { connectMs: DEFAULT_CONNECT_TIMEOUT_MS, statementMs: timeoutMs, queryMs: timeoutMs + 5_000 });
    try {
      await client.connect();
      return await work(pgBackupCatalog(pgQuery(client)));
    } finally {
      await settleWithin(client.end(), 1_000);
      destroy();
    }
  }
  return withMysqlConnection(
    target,
    { connectMs: DEFAULT_CONNECT_TIMEOUT_MS, deadlineMs: DEFAULT_CONNECT_TIMEOUT_MS + timeoutMs, timeoutMessage: `timed out reading the catalog of ${database}`, options: { database } },
    (c) => work(mysqlBackupCatalog(mysqlQueryOn(c, timeoutMs))),
  );
}
