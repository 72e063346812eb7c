// PostgreSQL through the server's own parser: libpg_query (PostgreSQL 18's grammar and scanner)
// compiled to WebAssembly by the `libpg-query` package. The whole script is parsed at once, as
// the server would: a syntax error anywhere is the server's own error at its own position, and
// each statement comes back with its location and length, which also cut the script.
//
// Loading: the package is imported on first use only, and its 1.7 MB WebAssembly module is read
// from disk then. Bundled by esbuild into an ES module (infra/bundling.ts), the package's
// Emscripten loader still looks for CommonJS `__dirname` to find `libpg-query.wasm`: it is given
// the bundle's own folder, where the build must copy the file (POSTGRES_PARSER_WASM in parse.ts).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classOf, type AlterAction, type ColumnDef, type ConstraintDef, type Facts, type Findings, type ObjectName, type ParsedStatement, type ParseResult, type Reads, type StatementType } from './model.js';
import { SourceMap } from './positions.js';
import { skipTrivia, trimEnd } from './lexer.js';
import { arr, at, num, obj, pgNode, str, walk, type Json } from './tree.js';

interface PgParser {
  parseSync(sql: string): { stmts?: { stmt: unknown; stmt_location?: number; stmt_len?: number }[] };
}
interface PgSqlError extends Error {
  sqlDetails?: { cursorPosition?: number };
}

let loading: Promise<PgParser> | undefined;

/** Imports and instantiates the parser once per process. */
export function loadPostgresParser(): Promise<PgParser> {
  loading ??= (async () => {
    const g = globalThis as { __dirname?: string };
    const shim = g.__dirname === undefined;
    // Inside an ES module bundle the package's loader reads a global `__dirname`; unbundled, Node
    // gives the package its own and this one is not looked at.
    if (shim) g.__dirname = dirname(fileURLToPath(import.meta.url));
    try {
      const mod = await import('libpg-query');
      await mod.loadModule();
      return mod as PgParser;
    } finally {
      if (shim) delete g.__dirname;
    }
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

export function parsePostgresWith(parser: PgParser, sql: string): ParseResult {
  const map = new SourceMap(sql);
  if (skipTrivia(sql, 0, 'POSTGRES') >= sql.length) return { engine: 'POSTGRES', statements: [], errors: [] };
  let stmts: { stmt: unknown; stmt_location?: number; stmt_len?: number }[];
  try {
    stmts = parser.parseSync(sql).stmts ?? [];
  } catch (e) {
    const err = e as PgSqlError;
    const offset = map.fromCodePoint(err.sqlDetails?.cursorPosition ?? 0);
    return { engine: 'POSTGRES', statements: [], errors: [{ message: err.message, offset, ...map.position(offset) }] };
  }
  const statements: ParsedStatement[] = stmts.map((s, index) => {
    const from = map.fromUtf8(s.stmt_location ?? 0);
    const to = s.stmt_len ? map.fromUtf8((s.stmt_location ?? 0) + s.stmt_len) : sql.length;
    const start = skipTrivia(sql, from, 'POSTGRES');
    const end = trimEnd(sql, start, to, 'POSTGRES');
    const [kind, body] = pgNode(s.stmt) ?? ['', {}];
    const types = [typeOf(kind, body)];
    return {
      index,
      text: sql.slice(start, end),
      start,
      ...map.position(start),
      types,
      class: classOf(types[0]!),
      facts: factsOf(kind, body, map),
      findings: findingsOf(s.stmt, map),
      tree: s.stmt,
    };
  });
  return { engine: 'POSTGRES', statements, errors: [] };
}

// ---- statement types -------------------------------------------------------------------------

const BY_NODE: Record<string, StatementType> = {
  SelectStmt: 'SELECT', InsertStmt: 'INSERT', UpdateStmt: 'UPDATE', DeleteStmt: 'DELETE', MergeStmt: 'MERGE',
  CopyStmt: 'COPY', TruncateStmt: 'TRUNCATE', CreateStmt: 'CREATE_TABLE', IndexStmt: 'CREATE_INDEX',
  ReindexStmt: 'REINDEX', ViewStmt: 'CREATE_VIEW', CreatedbStmt: 'CREATE_DATABASE', DropdbStmt: 'DROP_DATABASE',
  AlterDatabaseStmt: 'ALTER_DATABASE', AlterDatabaseSetStmt: 'ALTER_DATABASE', AlterDatabaseRefreshCollStmt: 'ALTER_DATABASE',
  CreateSchemaStmt: 'CREATE_SCHEMA', CreateSeqStmt: 'CREATE_SEQUENCE', AlterSeqStmt: 'ALTER_SEQUENCE',
  CreateEnumStmt: 'CREATE_TYPE', CompositeTypeStmt: 'CREATE_TYPE', CreateRangeStmt: 'CREATE_TYPE', CreateDomainStmt: 'CREATE_TYPE',
  AlterEnumStmt: 'ALTER_TYPE', AlterDomainStmt: 'ALTER_TYPE', CreateTrigStmt: 'CREATE_TRIGGER',
  CreateExtensionStmt: 'CREATE_EXTENSION', CommentStmt: 'COMMENT', CreateRoleStmt: 'CREATE_ROLE', AlterRoleStmt: 'ALTER_ROLE',
  AlterRoleSetStmt: 'ALTER_ROLE', DropRoleStmt: 'DROP_ROLE', VariableSetStmt: 'SET', LockStmt: 'LOCK', ExplainStmt: 'EXPLAIN',
  VariableShowStmt: 'SHOW', CallStmt: 'CALL', DoStmt: 'DO', RefreshMatViewStmt: 'ALTER_VIEW',
};

const DROPPED: Record<string, StatementType> = {
  OBJECT_TABLE: 'DROP_TABLE', OBJECT_FOREIGN_TABLE: 'DROP_TABLE', OBJECT_INDEX: 'DROP_INDEX', OBJECT_VIEW: 'DROP_VIEW',
  OBJECT_MATVIEW: 'DROP_VIEW', OBJECT_SCHEMA: 'DROP_SCHEMA', OBJECT_SEQUENCE: 'DROP_SEQUENCE', OBJECT_TYPE: 'DROP_TYPE',
  OBJECT_DOMAIN: 'DROP_TYPE', OBJECT_FUNCTION: 'DROP_FUNCTION', OBJECT_PROCEDURE: 'DROP_PROCEDURE', OBJECT_TRIGGER: 'DROP_TRIGGER',
  OBJECT_EXTENSION: 'DROP_EXTENSION',
};

const ALTERED: Record<string, StatementType> = {
  OBJECT_TABLE: 'ALTER_TABLE', OBJECT_FOREIGN_TABLE: 'ALTER_TABLE', OBJECT_COLUMN: 'ALTER_TABLE', OBJECT_TABCONSTRAINT: 'ALTER_TABLE',
  OBJECT_INDEX: 'ALTER_INDEX', OBJECT_VIEW: 'ALTER_VIEW', OBJECT_MATVIEW: 'ALTER_VIEW', OBJECT_SEQUENCE: 'ALTER_SEQUENCE',
  OBJECT_TYPE: 'ALTER_TYPE', OBJECT_DOMAIN: 'ALTER_TYPE', OBJECT_DATABASE: 'ALTER_DATABASE',
};

const TRANSACTION: Record<string, StatementType> = {
  TRANS_STMT_BEGIN: 'BEGIN', TRANS_STMT_START: 'BEGIN', TRANS_STMT_COMMIT: 'COMMIT', TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT', TRANS_STMT_RELEASE: 'SAVEPOINT', TRANS_STMT_ROLLBACK_TO: 'SAVEPOINT',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT', TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK',
};

function typeOf(kind: string, n: Json): StatementType {
  switch (kind) {
    case 'CreateTableAsStmt':
      return n.objtype === 'OBJECT_MATVIEW' ? 'CREATE_VIEW' : 'CREATE_TABLE';
    case 'AlterTableStmt':
      return ALTERED[str(n.objtype) ?? ''] ?? 'ALTER_TABLE';
    case 'RenameStmt':
      return ALTERED[str(n.renameType) ?? ''] ?? 'OTHER';
    case 'DropStmt':
      return DROPPED[str(n.removeType) ?? ''] ?? 'OTHER';
    case 'CreateFunctionStmt':
      return n.is_procedure ? 'CREATE_PROCEDURE' : 'CREATE_FUNCTION';
    case 'GrantStmt':
    case 'GrantRoleStmt':
      return n.is_grant ? 'GRANT' : 'REVOKE';
    case 'TransactionStmt':
      return TRANSACTION[str(n.kind) ?? ''] ?? 'OTHER';
    case 'VacuumStmt':
      return n.is_vacuumcmd ? 'VACUUM' : 'ANALYZE';
    default:
      return BY_NODE[kind] ?? 'OTHER';
  }
}

// ---- facts -----------------------------------------------------------------------------------

const rangeVar = (v: unknown): ObjectName => {
  const o = obj(v) ?? {};
  const schema = str(o.schemaname);
  return schema ? { schema, name: str(o.relname) ?? '' } : { name: str(o.relname) ?? '' };
};

const names = (list: unknown): string[] => arr(list).map((s) => str(at(s, 'String', 'sval')) ?? '');

const qualified = (parts: string[]): ObjectName => (parts.length > 1 ? { schema: parts[parts.length - 2]!, name: parts[parts.length - 1]! } : { name: parts[0] ?? '' });

const CANONICAL: Record<string, string> = {
  int4: 'integer', int: 'integer', int8: 'bigint', int2: 'smallint', float8: 'double precision', float4: 'real',
  bool: 'boolean', bpchar: 'char', timestamptz: 'timestamptz', timetz: 'timetz', serial4: 'serial', serial8: 'bigserial', serial2: 'smallserial',
};
const SERIAL = new Set(['serial', 'bigserial', 'smallserial']);

/** A TypeName node as `{type, baseType, typeArgs}`. */
function typeName(t: unknown): { type: string; baseType: string; typeArgs: number[] } {
  const parts = names(at(t, 'names')).filter((p) => p !== 'pg_catalog');
  const raw = parts.join('.').toLowerCase();
  const baseType = CANONICAL[raw] ?? raw;
  const typeArgs = arr(at(t, 'typmods')).map((m) => num(at(m, 'A_Const', 'ival', 'ival')) ?? 0);
  const array = arr(at(t, 'arrayBounds')).length > 0 ? '[]' : '';
  return { type: `${baseType}${typeArgs.length ? `(${typeArgs.join(',')})` : ''}${array}`, baseType: baseType + array, typeArgs };
}

// Functions a DEFAULT may call without PostgreSQL rewriting the table on ADD COLUMN (11+): STABLE
// and IMMUTABLE ones are evaluated once. Any other call may be VOLATILE (random(), clock_timestamp(),
// gen_random_uuid(), nextval(), a user function) and forces a rewrite under an ACCESS EXCLUSIVE lock.
const NON_VOLATILE = new Set([
  'now', 'transaction_timestamp', 'statement_timestamp', 'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp',
  'lower', 'upper', 'coalesce', 'nullif', 'greatest', 'least', 'concat', 'length', 'abs', 'round', 'to_jsonb', 'jsonb_build_object',
  'json_build_object', 'jsonb_build_array', 'array', 'make_interval', 'make_date', 'date_trunc', 'current_user', 'current_schema',
]);

function defaultOf(expr: unknown): { volatile: boolean; text: string } {
  let volatile = false;
  let firstCall: string | undefined;
  walk(expr, (n) => {
    const call = obj(n.FuncCall);
    if (!call) return;
    const fn = names(call.funcname).filter((p) => p !== 'pg_catalog').join('.').toLowerCase();
    firstCall ??= fn;
    if (!NON_VOLATILE.has(fn)) volatile = true;
  });
  return { volatile, text: firstCall ? `${firstCall}()` : 'a constant expression' };
}

function columnDef(def: Json, map: SourceMap): ColumnDef {
  const t = typeName(def.typeName);
  const col: ColumnDef = {
    name: str(def.colname) ?? '',
    ...t,
    notNull: false,
    nullable: false,
    primaryKey: false,
    unique: false,
    generatedValue: SERIAL.has(t.baseType),
    computed: false,
  };
  const loc = num(def.location);
  if (loc !== undefined) col.at = map.fromUtf8(loc);
  for (const c of arr(def.constraints)) {
    const con = obj(at(c, 'Constraint')) ?? {};
    switch (con.contype) {
      case 'CONSTR_NOTNULL': col.notNull = true; break;
      case 'CONSTR_NULL': col.nullable = true; break;
      case 'CONSTR_DEFAULT': col.default = defaultOf(con.raw_expr); break;
      case 'CONSTR_IDENTITY': col.generatedValue = true; break;
      case 'CONSTR_GENERATED': col.computed = true; break;
      case 'CONSTR_PRIMARY': col.primaryKey = true; col.notNull = true; break;
      case 'CONSTR_UNIQUE': col.unique = true; break;
      case 'CONSTR_FOREIGN': col.foreignKey = { ...constraintDef(con, map), columns: [col.name] }; break;
    }
  }
  return col;
}

const CONSTRAINT_KIND: Record<string, ConstraintDef['kind']> = {
  CONSTR_PRIMARY: 'PRIMARY_KEY', CONSTR_UNIQUE: 'UNIQUE', CONSTR_FOREIGN: 'FOREIGN_KEY', CONSTR_CHECK: 'CHECK', CONSTR_EXCLUSION: 'EXCLUDE',
};

function constraintDef(con: Json, map: SourceMap): ConstraintDef {
  const kind = CONSTRAINT_KIND[str(con.contype) ?? ''] ?? 'OTHER';
  const def: ConstraintDef = {
    kind,
    columns: names(kind === 'FOREIGN_KEY' ? con.fk_attrs : con.keys),
    notValid: con.skip_validation === true,
    onDeleteCascade: con.fk_del_action === 'c',
    usingIndex: str(con.indexname) !== undefined,
  };
  const name = str(con.conname);
  if (name) def.name = name;
  if (kind === 'FOREIGN_KEY') def.references = rangeVar(con.pktable);
  const loc = num(con.location);
  if (loc !== undefined) def.at = map.fromUtf8(loc);
  return def;
}

function alterAction(cmd: Json, map: SourceMap): AlterAction {
  const column = str(cmd.name) ?? '';
  const def = obj(cmd.def);
  switch (cmd.subtype) {
    case 'AT_AddColumn':
      return { kind: 'ADD_COLUMN', column: columnDef(obj(def?.ColumnDef) ?? {}, map), ifNotExists: cmd.missing_ok === true };
    case 'AT_DropColumn':
      return { kind: 'DROP_COLUMN', column, ...(cmd.missing_ok === true ? { ifExists: true } : {}) };
    case 'AT_AlterColumnType': {
      const cd = obj(def?.ColumnDef) ?? {};
      const loc = num(cd.location);
      return { kind: 'ALTER_COLUMN_TYPE', column, ...typeName(cd.typeName), ...(loc !== undefined ? { at: map.fromUtf8(loc) } : {}) };
    }
    case 'AT_SetNotNull':
      return { kind: 'SET_NOT_NULL', column };
    case 'AT_DropNotNull':
      return { kind: 'DROP_NOT_NULL', column };
    case 'AT_ColumnDefault':
      return def ? { kind: 'SET_DEFAULT', column } : { kind: 'OTHER' };
    case 'AT_AddConstraint':
      return { kind: 'ADD_CONSTRAINT', constraint: constraintDef(obj(def?.Constraint) ?? {}, map) };
    case 'AT_DropConstraint':
      return { kind: 'DROP_CONSTRAINT', name: column, primaryKey: false, foreignKey: false };
    default:
      return { kind: 'OTHER' };
  }
}

function factsOf(kind: string, n: Json, map: SourceMap): Facts {
  switch (kind) {
    case 'CreateStmt': {
      const columns: ColumnDef[] = [];
      const constraints: ConstraintDef[] = [];
      let copied = false;
      for (const e of arr(n.tableElts)) {
        const [k, body] = pgNode(e) ?? ['', {}];
        if (k === 'ColumnDef') {
          const col = columnDef(body, map);
          columns.push(col);
          if (col.foreignKey) constraints.push(col.foreignKey);
        }
        else if (k === 'Constraint') constraints.push(constraintDef(body, map));
        else if (k === 'TableLikeClause') copied = true;
      }
      return {
        kind: 'CREATE_TABLE', table: rangeVar(n.relation), columns, constraints, indexes: [],
        copied: copied || arr(n.inhRelations).length > 0 || obj(n.partbound) !== undefined,
        temporary: at(n.relation, 'relpersistence') === 't', partitioned: obj(n.partspec) !== undefined,
        ...(n.if_not_exists === true ? { ifNotExists: true } : {}),
      };
    }
    case 'CreateTableAsStmt':
      // A materialized view reads like a view: its columns cannot be dropped while it does.
      if (n.objtype === 'OBJECT_MATVIEW') return { kind: 'CREATE_VIEW', view: rangeVar(at(n, 'into', 'rel')), reads: postgresReads(n.query) };
      return { kind: 'CREATE_TABLE', table: rangeVar(at(n, 'into', 'rel')), columns: [], constraints: [], indexes: [], copied: true, temporary: at(n, 'into', 'rel', 'relpersistence') === 't', partitioned: false, ...(n.if_not_exists === true ? { ifNotExists: true } : {}) };
    case 'AlterTableStmt':
      if (n.objtype !== 'OBJECT_TABLE') return { kind: 'OTHER' };
      return { kind: 'ALTER_TABLE', table: rangeVar(n.relation), actions: arr(n.cmds).map((c) => alterAction(obj(at(c, 'AlterTableCmd')) ?? {}, map)), ...(n.missing_ok === true ? { ifExists: true } : {}) };
    case 'RenameStmt': {
      const table = rangeVar(n.relation);
      const to = str(n.newname) ?? '';
      if (n.renameType === 'OBJECT_TABLE') return { kind: 'ALTER_TABLE', table, actions: [{ kind: 'RENAME_TABLE', to: { ...(table.schema ? { schema: table.schema } : {}), name: to } }] };
      if (n.renameType === 'OBJECT_COLUMN' && n.relationType === 'OBJECT_TABLE') return { kind: 'ALTER_TABLE', table, actions: [{ kind: 'RENAME_COLUMN', from: str(n.subname) ?? '', to }] };
      if (n.renameType === 'OBJECT_INDEX') return { kind: 'RENAME_INDEX', from: table, to };
      return { kind: 'OTHER' };
    }
    case 'DropStmt': {
      const object = (({ OBJECT_TABLE: 'TABLE', OBJECT_VIEW: 'VIEW', OBJECT_MATVIEW: 'VIEW', OBJECT_INDEX: 'INDEX', OBJECT_SCHEMA: 'SCHEMA', OBJECT_SEQUENCE: 'SEQUENCE', OBJECT_TYPE: 'TYPE', OBJECT_FUNCTION: 'FUNCTION' }) as const)[str(n.removeType) as 'OBJECT_TABLE'] ?? 'OTHER';
      const dropped = arr(n.objects).map((o) => {
        const list = at(o, 'List', 'items');
        if (list) return qualified(names(list));
        const single = str(at(o, 'String', 'sval'));
        return { name: single ?? '' };
      });
      return { kind: 'DROP', object, names: dropped, concurrently: n.concurrent === true, cascade: n.behavior === 'DROP_CASCADE', ...(n.missing_ok === true ? { ifExists: true } : {}) };
    }
    case 'DropdbStmt':
      return { kind: 'DROP', object: 'DATABASE', names: [{ name: str(n.dbname) ?? '' }], concurrently: false, cascade: false };
    case 'IndexStmt': {
      const columns = arr(n.indexParams).map((p) => str(at(p, 'IndexElem', 'name')) ?? '(expression)');
      const index = { columns, unique: n.unique === true, primaryKey: n.primary === true, ...(str(n.idxname) ? { name: str(n.idxname)! } : {}) };
      return { kind: 'CREATE_INDEX', table: rangeVar(n.relation), index, concurrently: n.concurrent === true };
    }
    case 'TruncateStmt':
      return { kind: 'TRUNCATE', tables: arr(n.relations).map((r) => rangeVar(at(r, 'RangeVar'))), cascade: n.behavior === 'DROP_CASCADE' };
    case 'UpdateStmt':
    case 'DeleteStmt': {
      const columns = ownColumns(n, map);
      return { kind: kind === 'UpdateStmt' ? 'UPDATE' : 'DELETE', tables: [rangeVar(n.relation)], hasWhere: n.whereClause !== undefined, hasLimit: false, hasOrderBy: false, ...(columns ? { columns } : {}) };
    }
    case 'ViewStmt':
      return { kind: 'CREATE_VIEW', view: rangeVar(n.view), reads: postgresReads(n.query) };
    case 'InsertStmt': {
      const select = obj(at(n, 'selectStmt', 'SelectStmt'));
      const cols = arr(n.cols);
      return { kind: 'INSERT', table: rangeVar(n.relation), columns: cols.length ? cols.map((c) => str(at(c, 'ResTarget', 'name')) ?? '') : null, fromSelect: select !== undefined && select.valuesLists === undefined };
    }
    case 'SelectStmt':
      return { kind: 'SELECT' };
    case 'TransactionStmt': {
      const t = typeOf(kind, n);
      return { kind: 'TRANSACTION', op: t === 'BEGIN' || t === 'COMMIT' || t === 'ROLLBACK' || t === 'SAVEPOINT' ? t : 'OTHER' };
    }
    case 'VariableSetStmt':
      return { kind: 'SET', name: str(n.name) ?? '', value: arr(n.args).map((a) => String(str(at(a, 'A_Const', 'sval', 'sval')) ?? num(at(a, 'A_Const', 'ival', 'ival')) ?? '')).join(', ') };
    default:
      return { kind: 'OTHER' };
  }
}

/** A ColumnRef's parts: its qualifier (table or alias, schema left off) and column ('*' for a star). */
function columnRef(ref: Json): { qualifier?: string; name: string } {
  const fields = arr(ref.fields);
  const last = fields[fields.length - 1];
  const name = obj(last)?.A_Star !== undefined ? '*' : (str(at(last, 'String', 'sval')) ?? '');
  const qualifier = fields.length > 1 ? str(at(fields[fields.length - 2], 'String', 'sval')) : undefined;
  return qualifier ? { qualifier, name } : { name };
}

/** What a query reads (a view's definition): its relations and column references, CTE names left out. */
export function postgresReads(tree: unknown): Reads {
  const ctes = new Set<string>();
  walk(tree, (n) => {
    const name = str(at(n, 'CommonTableExpr', 'ctename'));
    if (name) ctes.add(name);
  });
  const reads: Reads = { tables: [], columns: [], star: false };
  walk(tree, (n) => {
    const rv = obj(n.RangeVar);
    if (rv) {
      const name = rangeVar(rv);
      const alias = str(at(rv, 'alias', 'aliasname'));
      if (!name.schema && ctes.has(name.name)) return;
      reads.tables.push(alias ? { name, alias } : { name });
    }
    const ref = obj(n.ColumnRef);
    if (ref) {
      const c = columnRef(ref);
      if (c.name === '*' && !c.qualifier) reads.star = true;
      else reads.columns.push(c);
    }
  });
  return reads;
}

/**
 * UPDATE/DELETE: the columns of its own table it sets or reads, when every reference is surely
 * that table's (no FROM/USING, CTE or subquery; a qualifier only the table's name or alias).
 */
function ownColumns(n: Json, map: SourceMap): { name: string; at?: number }[] | undefined {
  if (arr(n.fromClause).length || arr(n.usingClause).length || n.withClause !== undefined) return undefined;
  let nested = false;
  walk([n.whereClause, n.targetList], (x) => {
    if (x.SubLink !== undefined) nested = true;
  });
  if (nested) return undefined;
  const own = new Set([str(at(n, 'relation', 'relname')), str(at(n, 'relation', 'alias', 'aliasname'))].filter((x): x is string => x !== undefined));
  const found: { name: string; at?: number }[] = [];
  let foreign = false;
  const place = (loc: unknown) => (num(loc) !== undefined ? { at: map.fromUtf8(num(loc)!) } : {});
  for (const t of arr(n.targetList)) {
    const target = obj(at(t, 'ResTarget'));
    const name = str(target?.name);
    if (name) found.push({ name, ...place(target?.location) });
  }
  walk([n.whereClause, arr(n.targetList).map((t) => at(t, 'ResTarget', 'val'))], (x) => {
    const ref = obj(x.ColumnRef);
    if (!ref) return;
    const c = columnRef(ref);
    if (c.qualifier !== undefined && !own.has(c.qualifier)) foreign = true;
    else if (c.name !== '*') found.push({ name: c.name, ...place(ref.location) });
  });
  return foreign ? undefined : found;
}

function findingsOf(stmt: unknown, map: SourceMap): Findings {
  const findings: Findings = { selectAll: [], leadingWildcardLike: [] };
  walk(stmt, (n) => {
    const select = obj(n.SelectStmt);
    if (select) {
      for (const t of arr(select.targetList)) {
        const ref = obj(at(t, 'ResTarget', 'val', 'ColumnRef'));
        const fields = arr(ref?.fields);
        if (obj(fields[fields.length - 1])?.A_Star !== undefined) findings.selectAll.push(map.fromUtf8(num(ref?.location) ?? 0));
      }
    }
    const expr = obj(n.A_Expr);
    if (expr && (expr.kind === 'AEXPR_LIKE' || expr.kind === 'AEXPR_ILIKE')) {
      const pattern = str(at(expr, 'rexpr', 'A_Const', 'sval', 'sval'));
      if (pattern !== undefined && /^[%_]/.test(pattern)) findings.leadingWildcardLike.push(map.fromUtf8(num(expr.location) ?? 0));
    }
  });
  return findings;
}

// ---- what must run outside a transaction block -----------------------------------------------

/**
 * Why PostgreSQL refuses this statement inside a transaction block, or undefined when it does not.
 * Decided from the parse tree. `serverVersion` is the major version; `ALTER TYPE … ADD VALUE` is
 * refused in a transaction only before 12, so it counts only when an older version is given.
 */
export function postgresNonTransactional(tree: unknown, serverVersion?: number): string | undefined {
  const [kind, n] = pgNode(tree) ?? ['', {}];
  const options = (list: unknown) => arr(list).map((d) => str(at(d, 'DefElem', 'defname'))?.toLowerCase());
  switch (kind) {
    case 'IndexStmt':
      return n.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return n.concurrent ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt':
      if (options(n.params).includes('concurrently')) return 'REINDEX CONCURRENTLY';
      return n.kind === 'REINDEX_OBJECT_DATABASE' || n.kind === 'REINDEX_OBJECT_SYSTEM' || n.kind === 'REINDEX_OBJECT_SCHEMA' ? 'REINDEX SCHEMA, DATABASE or SYSTEM' : undefined;
    case 'VacuumStmt':
      return n.is_vacuumcmd ? 'VACUUM' : undefined;
    case 'CreatedbStmt':
      return 'CREATE DATABASE';
    case 'DropdbStmt':
      return 'DROP DATABASE';
    case 'AlterDatabaseStmt':
      return options(n.options).includes('tablespace') ? 'ALTER DATABASE … SET TABLESPACE' : undefined;
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM';
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE';
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE';
    case 'ClusterStmt':
      return n.relation === undefined ? 'CLUSTER without a table' : undefined;
    case 'DiscardStmt':
      return n.target === 'DISCARD_ALL' ? 'DISCARD ALL' : undefined;
    case 'CreateSubscriptionStmt':
      return 'CREATE SUBSCRIPTION';
    case 'DropSubscriptionStmt':
      return 'DROP SUBSCRIPTION';
    case 'AlterEnumStmt':
      return serverVersion !== undefined && serverVersion < 12 && n.newVal !== undefined && n.oldVal === undefined ? 'ALTER TYPE … ADD VALUE (before PostgreSQL 12)' : undefined;
    case 'TransactionStmt':
      return n.kind === 'TRANS_STMT_COMMIT_PREPARED' || n.kind === 'TRANS_STMT_ROLLBACK_PREPARED' ? 'COMMIT PREPARED or ROLLBACK PREPARED' : undefined;
    case 'AlterTableStmt':
      return arr(n.cmds).some((c) => at(c, 'AlterTableCmd', 'subtype') === 'AT_DetachPartition' && at(c, 'AlterTableCmd', 'def', 'PartitionCmd', 'concurrent') === true)
        ? 'ALTER TABLE … DETACH PARTITION … CONCURRENTLY'
        : undefined;
    default:
      return undefined;
  }
}
