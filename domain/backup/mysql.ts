// MySQL and MariaDB: what a statement changes, from node-sql-parser's tree, and the backup queries
// built from that tree (its tables, joins and WHERE put into a SELECT node that the same library
// writes back as SQL). A statement the grammar could not read cannot be backed up.
import type { ParsedStatement } from '../review/model.js';
import { arr, obj, str, type Json } from '../review/tree.js';
import type { InsertKeys, StatementShape, TableRef } from './model.js';

/** node-sql-parser's writer (its Parser's `sqlify`). */
export type Sqlify = (ast: unknown) => string;

const ALIAS = 'sluice_t';
const q = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
const LITERALS = new Set(['number', 'single_quote_string', 'double_quote_string', 'natural_string', 'hex_string', 'full_hex_string', 'bit_string', 'bool', 'backticks_quote_string']);

const refused = (reason: string): StatementShape => ({ kind: 'REFUSED', reason });
const tableOf = (t: Json): TableRef => ({ ...(str(t.db) ? { schema: str(t.db)! } : {}), name: str(t.table) ?? '' });
const nameOf = (c: unknown): string => str(c) ?? str(obj(obj(c)?.expr)?.value) ?? '';
const selectAst = (body: Json) => ({ with: null, type: 'select', options: null, distinct: null, into: { position: null }, groupby: null, having: null, orderby: null, limit: null, locking_read: null, window: null, ...body });
const colRef = (table: string | null, column: string) => ({ expr: { type: 'column_ref', table, column }, as: null });

export function mysqlShape(statement: ParsedStatement, sqlify: Sqlify): StatementShape {
  if (statement.unparsed !== undefined || statement.tree === undefined) {
    return refused(`the MySQL grammar cannot read this statement (${statement.unparsed ?? 'unparsed'}), so the rows it changes cannot be told`);
  }
  const n = obj(statement.tree) ?? {};
  switch (n.type) {
    case 'select':
      if (str(obj(n.into)?.position)) return refused('SELECT … INTO writes elsewhere: it cannot be backed up');
      return { kind: 'READ' };
    case 'set':
    case 'show':
      return { kind: 'READ' };
    case 'update':
    case 'delete':
      return rowsShape(n.type === 'update' ? 'UPDATE' : 'DELETE', n, sqlify);
    case 'insert':
      return insertShape(n, sqlify);
    default:
      return refused(`${(statement.types[0] ?? 'OTHER').replace(/_/g, ' ')} cannot be backed up (prior backup covers UPDATE, DELETE and INSERT)`);
  }
}

function rowsShape(op: 'UPDATE' | 'DELETE', n: Json, sqlify: Sqlify): StatementShape {
  if (n.with) return refused(`${op} with a WITH clause: write it without the CTE (a join or a subquery) to have it backed up`);
  if (n.limit) return refused(`${op} … LIMIT: which rows it picks is not fixed, so the backup could copy others`);
  // UPDATE lists its tables (joins included) in `table`; DELETE lists the tables it deletes from
  // in `table` and its FROM (joins included) in `from`.
  const from = arr(op === 'UPDATE' ? n.table : n.from).map((t) => obj(t) ?? {});
  const refOf = (t: Json): string => str(t.as) ?? str(t.table) ?? '';
  let targetEntry: Json | undefined;
  let setColumns: string[] = [];
  if (op === 'UPDATE') {
    const set = arr(n.set).map((s) => obj(s) ?? {});
    setColumns = set.map((s) => nameOf(s.column));
    if (from.length === 1) targetEntry = from[0];
    else {
      const named = new Set(set.map((s) => str(s.table)));
      if (named.has(undefined)) return refused('a multi-table UPDATE whose SET names a column without its table: qualify every SET column');
      if (named.size !== 1) return refused('UPDATE of more than one table at once: split it into one UPDATE per table');
      const ref = [...named][0]!;
      targetEntry = from.find((t) => refOf(t) === ref);
    }
  } else {
    const deleted = arr(n.table).map((t) => obj(t) ?? {});
    if (deleted.length !== 1) return refused('DELETE from more than one table at once: split it into one DELETE per table');
    const ref = str(deleted[0]!.table) ?? '';
    targetEntry = from.find((t) => refOf(t) === ref) ?? (from.length === 1 ? from[0] : undefined);
  }
  if (!targetEntry) return refused(`the ${op}'s target table is not among its tables`);
  const target = tableOf(targetEntry);
  const ref = refOf(targetEntry);
  const where = n.where ?? null;
  const rowsQuery = (key: string[], lock: boolean): string => {
    const forUpdate = lock ? ' FOR UPDATE' : '';
    if (from.length === 1) return `${sqlify(selectAst({ columns: [colRef(ref, '*')], from: [targetEntry], where }))}${forUpdate}`;
    // Joined: each target row once, by key.
    const inner = sqlify(selectAst({ columns: key.map((k) => colRef(ref, k)), from, where }));
    const qualified = `${target.schema ? `${q(target.schema)}.` : ''}${q(target.name)}`;
    const tuple = (alias: string) => (key.length === 1 ? `${q(alias)}.${q(key[0]!)}` : `(${key.map((k) => `${q(alias)}.${q(k)}`).join(', ')})`);
    return `SELECT ${q(ALIAS)}.* FROM ${qualified} AS ${q(ALIAS)} WHERE ${tuple(ALIAS)} IN (${inner})${forUpdate}`;
  };
  return { kind: 'ROWS', op, target, setColumns, rowsQuery };
}

function insertShape(n: Json, sqlify: Sqlify): StatementShape {
  const prefix = (str(n.prefix) ?? '').toLowerCase();
  if (prefix.includes('ignore')) return refused('INSERT IGNORE: which rows it inserted is not known (rows it skips exist already)');
  if (n.on_duplicate_update) return refused('INSERT … ON DUPLICATE KEY UPDATE changes rows that exist: it cannot be backed up (split it into an UPDATE and an INSERT)');
  const target = tableOf(obj(arr(n.table)[0]) ?? {});
  const set = arr(n.set).map((s) => obj(s) ?? {});
  const columns = Array.isArray(n.columns) ? n.columns.map(nameOf) : set.length > 0 ? set.map((s) => nameOf(s.column)) : null;
  if (columns === null) return refused('INSERT without a column list: name the columns so the inserted keys can be told');
  const values = obj(n.values);
  const keysQuery = (key: string[]): string | undefined => {
    const positions = key.map((k) => columns.findIndex((c) => c.toLowerCase() === k.toLowerCase()));
    if (positions.some((p) => p < 0)) return undefined;
    const literal = (e: unknown) => LITERALS.has(str(obj(e)?.type) ?? '');
    if (set.length > 0) {
      const items = positions.map((p) => set[p]!.value);
      return items.every(literal) ? sqlify(selectAst({ columns: items.map((expr) => ({ expr, as: null })) })) : undefined;
    }
    if (values?.type === 'values') {
      const rows = arr(values.values).map((r) => arr(obj(r)?.value));
      const picked = rows.map((r) => positions.map((p) => r[p]));
      if (!picked.every((r) => r.every(literal))) return undefined;
      return picked.map((r) => sqlify(selectAst({ columns: r.map((expr) => ({ expr, as: null })) }))).join(' UNION ALL ');
    }
    if (values?.type === 'select' && !values._next) {
      const items = arr(values.columns).map((c) => obj(c) ?? {});
      const picked = positions.map((p) => obj(items[p]?.expr));
      if (items.length !== columns.length || picked.some((e) => !e || (e.type !== 'column_ref' && !literal(e)) || e.column === '*')) return undefined;
      return sqlify({ ...values, columns: picked.map((expr) => ({ expr, as: null })) });
    }
    return undefined;
  };
  const keys: InsertKeys = { how: 'GIVEN', givenColumns: columns, keysQuery };
  return { kind: 'INSERT', target, keys };
}
