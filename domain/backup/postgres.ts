// PostgreSQL: what a statement changes, from libpg_query's tree (the server's own parser), and the
// backup queries built from that same tree: its target, its FROM/USING and WHERE (and WITH) go
// into a SELECT node, which pgsql-deparser turns back into SQL. Nothing is cut out of the text.
import { deparseSync } from 'pgsql-deparser';
import type { ParsedStatement } from '../review/model.js';
import { arr, obj, pgNode, str, walk, type Json } from '../review/tree.js';
import type { StatementShape, TableRef } from './model.js';

/** The alias the backup queries give the target when the statement has a FROM/USING list. */
const ALIAS = 'sluice_t';
/** The CTE that holds what a PostgreSQL INSERT inserted (its RETURNING keys). */
const INSERTED = 'sluice_inserted';

const DML = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);
const deparse = (node: unknown): string => deparseSync([node as never], { pretty: false });

const colRef = (...fields: string[]) => ({ ColumnRef: { fields: fields.map((f) => (f === '*' ? { A_Star: {} } : { String: { sval: f } })) } });
const resTarget = (val: unknown, name?: string) => ({ ResTarget: { ...(name ? { name } : {}), val } });
const rangeVar = (t: Required<TableRef> | TableRef, alias?: string, inh = true) => ({
  RangeVar: { ...(t.schema ? { schemaname: t.schema } : {}), relname: t.name, inh, relpersistence: 'p', ...(alias ? { alias: { aliasname: alias } } : {}) },
});
const rowOf = (items: unknown[]) => (items.length === 1 ? items[0] : { RowExpr: { args: items, row_format: 'COERCE_IMPLICIT_CAST' } });

function select(body: Json): unknown {
  return { SelectStmt: { limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE', ...body } };
}

function forUpdate(alias: string) {
  return [{ LockingClause: { strength: 'LCS_FORUPDATE', waitPolicy: 'LockWaitBlock', lockedRels: [rangeVar({ name: alias })] } }];
}

/** A nested data-changing statement (a CTE that writes, for one): its rows cannot be told in advance. */
function writesElsewhere(root: Json): boolean {
  let found = false;
  walk(root, (n) => {
    if (n === root) return;
    for (const k of Object.keys(n)) if (DML.has(k)) found = true;
  });
  return found;
}

export function postgresShape(statement: ParsedStatement): StatementShape {
  const [kind, body] = pgNode(statement.tree) ?? ['', {} as Json];
  const type = statement.types[0] ?? 'OTHER';
  switch (kind) {
    case 'SelectStmt':
      if (body.intoClause) return { kind: 'REFUSED', reason: 'SELECT … INTO creates a table: run it as a schema change' };
      if (writesElsewhere(body)) return { kind: 'REFUSED', reason: 'a WITH clause that changes data: the rows it changes cannot be backed up' };
      return { kind: 'READ' };
    case 'VariableSetStmt':
    case 'VariableShowStmt':
      return { kind: 'READ' };
    case 'UpdateStmt':
    case 'DeleteStmt':
      return rowsShape(kind === 'UpdateStmt' ? 'UPDATE' : 'DELETE', body);
    case 'InsertStmt':
      return insertShape(body);
    default:
      return { kind: 'REFUSED', reason: `${type.replace(/_/g, ' ')} cannot be backed up (prior backup covers UPDATE, DELETE and INSERT)` };
  }
}

function rowsShape(op: 'UPDATE' | 'DELETE', body: Json): StatementShape {
  if (writesElsewhere(body)) return { kind: 'REFUSED', reason: `${op} with a WITH clause that changes data: the rows it changes cannot be backed up` };
  let cursor = false;
  walk(body.whereClause, (n) => {
    if ('CurrentOfExpr' in n) cursor = true;
  });
  if (cursor) return { kind: 'REFUSED', reason: `${op} … WHERE CURRENT OF a cursor: its row is not known before it runs` };
  const relation = obj(body.relation) ?? {};
  const target: TableRef = { ...(str(relation.schemaname) ? { schema: str(relation.schemaname)! } : {}), name: str(relation.relname) ?? '' };
  const alias = str(obj(relation.alias)?.aliasname);
  const inh = relation.inh !== false;
  const others = arr(op === 'UPDATE' ? body.fromClause : body.usingClause);
  const setColumns = op === 'UPDATE' ? arr(body.targetList).map((t) => str(obj(obj(t)?.ResTarget)?.name) ?? '').filter((c) => c !== '') : [];
  const withClause = body.withClause;
  const ref = alias ?? target.name;
  const rowsQuery = (key: string[], lock: boolean): string => {
    if (others.length === 0) {
      return deparse(select({
        targetList: [resTarget(colRef(ref, '*'))],
        fromClause: [{ RangeVar: relation }],
        ...(body.whereClause ? { whereClause: body.whereClause } : {}),
        ...(withClause ? { withClause } : {}),
        ...(lock ? { lockingClause: forUpdate(ref) } : {}),
      }));
    }
    // With FROM/USING a target row may match several rows of the others: each row once, by key.
    const inner = select({
      targetList: key.map((k) => resTarget(colRef(ref, k))),
      fromClause: [{ RangeVar: relation }, ...others],
      ...(body.whereClause ? { whereClause: body.whereClause } : {}),
    });
    return deparse(select({
      targetList: [resTarget(colRef(ALIAS, '*'))],
      fromClause: [rangeVar(target, ALIAS, inh)],
      whereClause: { SubLink: { subLinkType: 'ANY_SUBLINK', testexpr: rowOf(key.map((k) => colRef(ALIAS, k))), subselect: inner } },
      ...(withClause ? { withClause } : {}),
      ...(lock ? { lockingClause: forUpdate(ALIAS) } : {}),
    }));
  };
  return { kind: 'ROWS', op, target, setColumns, rowsQuery };
}

function insertShape(body: Json): StatementShape {
  if (writesElsewhere(body)) return { kind: 'REFUSED', reason: 'INSERT with a WITH clause that changes data: the rows it changes cannot be backed up' };
  if (obj(body.onConflictClause)?.action === 'ONCONFLICT_UPDATE') {
    return { kind: 'REFUSED', reason: 'INSERT … ON CONFLICT DO UPDATE changes rows that exist: it cannot be backed up (split it into an UPDATE and an INSERT)' };
  }
  const relation = obj(body.relation) ?? {};
  const target: TableRef = { ...(str(relation.schemaname) ? { schema: str(relation.schemaname)! } : {}), name: str(relation.relname) ?? '' };
  const ref = str(obj(relation.alias)?.aliasname) ?? target.name;
  const { withClause, returningClause: _r, returningList: _l, ...insert } = body;
  const userCtes = arr(obj(withClause)?.ctes);
  // WITH <the statement's own CTEs>, sluice_inserted AS (<the INSERT> RETURNING <key>)
  //   INSERT INTO sluice_backup.<backup> (<key>) SELECT <key> FROM sluice_inserted
  const rewrite = (key: string[], backup: Required<TableRef>): string => {
    const returning = key.map((k) => resTarget(colRef(ref, k)));
    const cte = { CommonTableExpr: { ctename: INSERTED, ctematerialized: 'CTEMaterializeDefault', ctequery: { InsertStmt: { ...insert, returningClause: { exprs: returning } } } } };
    return deparse({
      InsertStmt: {
        relation: rangeVar(backup).RangeVar,
        cols: key.map((k) => ({ ResTarget: { name: k } })),
        selectStmt: select({ targetList: key.map((k) => resTarget(colRef(k))), fromClause: [rangeVar({ name: INSERTED })] }),
        withClause: { ctes: [...userCtes, cte], ...(obj(withClause)?.recursive ? { recursive: true } : {}) },
        override: 'OVERRIDING_NOT_SET',
      },
    });
  };
  return { kind: 'INSERT', target, keys: { how: 'RETURNING', rewrite } };
}
