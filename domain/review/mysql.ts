// MySQL and MariaDB through node-sql-parser's MySQL grammar (a PEG grammar of MySQL 8). It is not
// the server's own, so a statement it cannot read is not an error: it is reported as unparsed (a
// WARNING `syntax.unparsed` in the review) and rules that need a tree skip it. The script is cut
// into statements first (lexer.ts), so one statement the grammar cannot read costs only itself.
// The grammar is imported on first use only. node-sql-parser's MariaDB grammar as a second
// reader would read three more of the 67 statements docs/review.md compares them on (ADD COLUMN
// IF NOT EXISTS, RETURNING) for another 260 KiB in every bundle: not worth it.
import { classOf, type AlterAction, type ColumnDef, type ConstraintDef, type Facts, type Findings, type IndexDef, type ObjectName, type ParsedStatement, type ParseResult, type Reads, type StatementType } from './model.js';
import { SourceMap } from './positions.js';
import { splitMysql } from './lexer.js';
import { arr, at, num, obj, str, walk, type Json } from './tree.js';

interface Grammar {
  astify(sql: string, opts: { database: string; parseOptions: { includeLocations: boolean } }): unknown;
}
let loading: Promise<Grammar> | undefined;

export function loadMysqlParser(): Promise<Grammar> {
  loading ??= import('node-sql-parser/build/mysql.js').then((m) => new (m.default ?? m).Parser() as Grammar);
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

function tryAstify(grammar: Grammar, text: string): unknown {
  try {
    const ast = grammar.astify(text, { database: 'MySQL', parseOptions: { includeLocations: true } });
    // One statement in, one tree out (a trailing `;` inside would give a list).
    return Array.isArray(ast) ? (ast.length === 1 ? ast[0] : undefined) : ast;
  } catch {
    return undefined;
  }
}

export function parseMysqlWith(grammar: Grammar, sql: string): ParseResult {
  const map = new SourceMap(sql);
  const statements: ParsedStatement[] = [];
  for (const [index, piece] of splitMysql(sql).entries()) {
    const text = sql.slice(piece.start, piece.end);
    const tree = tryAstify(grammar, text);
    const base = { index, text, start: piece.start, ...map.position(piece.start) };
    if (tree === undefined) {
      const types = [typeFromWords(text)];
      statements.push({ ...base, types, class: classOf(types[0]!), findings: { selectAll: [], leadingWildcardLike: [] }, unparsed: summary(text) });
      continue;
    }
    const types = typesOf(obj(tree) ?? {});
    statements.push({
      ...base,
      types,
      class: classOf(types[0]!),
      facts: factsOf(obj(tree) ?? {}, piece.start),
      findings: findingsOf(tree, piece.start),
      tree,
    });
  }
  return { engine: 'MYSQL', statements, errors: [] };
}

/** The statement as an advice names it: its first line, at most 60 characters. */
function summary(text: string): string {
  const first = text.split(/\r\n|\r|\n/)[0]!.trim();
  return first.length > 60 || text.includes('\n') ? `${first.slice(0, 60)}…` : first;
}

// ---- statement types -------------------------------------------------------------------------

const WORD_TYPES: [RegExp, StatementType][] = [
  [/^(SELECT|WITH|TABLE|VALUES)\b/, 'SELECT'], [/^(INSERT|REPLACE)\b/, 'INSERT'], [/^UPDATE\b/, 'UPDATE'], [/^DELETE\b/, 'DELETE'],
  [/^TRUNCATE\b/, 'TRUNCATE'], [/^LOAD\s+DATA\b/, 'INSERT'],
  [/^CREATE\s+(OR\s+REPLACE\s+)?(TEMPORARY\s+)?TABLE\b/, 'CREATE_TABLE'], [/^ALTER\s+(ONLINE\s+|IGNORE\s+)*TABLE\b/, 'ALTER_TABLE'],
  [/^DROP\s+(TEMPORARY\s+)?TABLE\b/, 'DROP_TABLE'], [/^RENAME\s+TABLES?\b/, 'RENAME_TABLE'],
  [/^CREATE\s+(OR\s+REPLACE\s+)?(UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX\b/, 'CREATE_INDEX'], [/^DROP\s+INDEX\b/, 'DROP_INDEX'],
  [/^CREATE\s+(OR\s+REPLACE\s+)?(ALGORITHM\s*=\s*\w+\s+)?(DEFINER\s*=\s*\S+\s+)?(SQL\s+SECURITY\s+\w+\s+)?VIEW\b/, 'CREATE_VIEW'],
  [/^ALTER\s+.*?\bVIEW\b/, 'ALTER_VIEW'], [/^DROP\s+VIEW\b/, 'DROP_VIEW'],
  [/^CREATE\s+(DATABASE|SCHEMA)\b/, 'CREATE_DATABASE'], [/^ALTER\s+(DATABASE|SCHEMA)\b/, 'ALTER_DATABASE'], [/^DROP\s+(DATABASE|SCHEMA)\b/, 'DROP_DATABASE'],
  [/^CREATE\s+(OR\s+REPLACE\s+)?SEQUENCE\b/, 'CREATE_SEQUENCE'], [/^ALTER\s+SEQUENCE\b/, 'ALTER_SEQUENCE'], [/^DROP\s+SEQUENCE\b/, 'DROP_SEQUENCE'],
  [/^CREATE\s+.*?\bPROCEDURE\b/, 'CREATE_PROCEDURE'], [/^DROP\s+PROCEDURE\b/, 'DROP_PROCEDURE'],
  [/^CREATE\s+.*?\bFUNCTION\b/, 'CREATE_FUNCTION'], [/^DROP\s+FUNCTION\b/, 'DROP_FUNCTION'],
  [/^CREATE\s+.*?\bTRIGGER\b/, 'CREATE_TRIGGER'], [/^DROP\s+TRIGGER\b/, 'DROP_TRIGGER'],
  [/^GRANT\b/, 'GRANT'], [/^REVOKE\b/, 'REVOKE'], [/^CREATE\s+(USER|ROLE)\b/, 'CREATE_ROLE'], [/^ALTER\s+USER\b/, 'ALTER_ROLE'], [/^DROP\s+(USER|ROLE)\b/, 'DROP_ROLE'],
  [/^(BEGIN|START\s+TRANSACTION)\b/, 'BEGIN'], [/^COMMIT\b/, 'COMMIT'], [/^ROLLBACK\s+(WORK\s+)?TO\b/, 'SAVEPOINT'], [/^ROLLBACK\b/, 'ROLLBACK'],
  [/^(SAVEPOINT|RELEASE\s+SAVEPOINT)\b/, 'SAVEPOINT'], [/^SET\b/, 'SET'], [/^(LOCK|UNLOCK)\s+TABLES?\b/, 'LOCK'],
  [/^ANALYZE\b/, 'ANALYZE'], [/^OPTIMIZE\b/, 'ALTER_TABLE'], [/^(EXPLAIN|DESCRIBE|DESC)\b/, 'EXPLAIN'], [/^SHOW\b/, 'SHOW'], [/^CALL\b/, 'CALL'],
];

/** The type of a statement the grammar could not read, from its leading keywords. */
export function typeFromWords(text: string): StatementType {
  const head = text.slice(0, 300).replace(/\s+/g, ' ').toUpperCase();
  return WORD_TYPES.find(([re]) => re.test(head))?.[1] ?? 'OTHER';
}

function typesOf(n: Json): StatementType[] {
  const keyword = str(n.keyword)?.toLowerCase();
  switch (n.type) {
    case 'select': return ['SELECT'];
    case 'insert': case 'replace': return ['INSERT'];
    case 'update': return ['UPDATE'];
    case 'delete': return ['DELETE'];
    case 'truncate': return ['TRUNCATE'];
    case 'rename': return ['RENAME_TABLE'];
    case 'alter': {
      if (keyword && keyword !== 'table') return [keyword === 'view' ? 'ALTER_VIEW' : keyword === 'database' || keyword === 'schema' ? 'ALTER_DATABASE' : 'OTHER'];
      return arr(n.expr).some((e) => obj(e)?.action === 'rename' && obj(e)?.resource === 'table') ? ['ALTER_TABLE', 'RENAME_TABLE'] : ['ALTER_TABLE'];
    }
    case 'create': case 'drop': {
      const what = keyword === 'schema' ? 'DATABASE' : (keyword ?? '').toUpperCase();
      const t = `${n.type === 'create' ? 'CREATE' : 'DROP'}_${what}`;
      return [(WORD_TYPES.some(([, type]) => type === t) ? t : 'OTHER') as StatementType];
    }
    case 'transaction': {
      const action = String(at(n, 'expr', 'action', 'value') ?? '').toLowerCase();
      return [action === 'commit' ? 'COMMIT' : action === 'rollback' ? 'ROLLBACK' : 'BEGIN'];
    }
    case 'set': return ['SET'];
    case 'lock': case 'unlock': return ['LOCK'];
    case 'show': return ['SHOW'];
    case 'explain': case 'desc': return ['EXPLAIN'];
    case 'grant': return ['GRANT'];
    case 'revoke': return ['REVOKE'];
    case 'call': return ['CALL'];
    default: return ['OTHER'];
  }
}

// ---- facts -----------------------------------------------------------------------------------

const tableName = (t: unknown): ObjectName => {
  const o = obj(t) ?? {};
  const db = str(o.db);
  const name = str(o.table) ?? '';
  return db ? { schema: db, name } : { name };
};

/** A column name wherever node-sql-parser puts it: a string, a column_ref, or `{expr: {value}}`. */
function columnName(c: unknown): string {
  if (typeof c === 'string') return c;
  const o = obj(c);
  if (!o) return '';
  const col = o.column;
  if (typeof col === 'string') return col;
  const nested = str(at(col, 'expr', 'value')) ?? str(at(o, 'expr', 'value'));
  if (nested) return nested;
  if (o.type === 'function') return str(at(o, 'name', 'name', 0, 'value')) ?? '';
  return obj(col) ? columnName(col) : '';
}

/** The UTF-16 offset in the script of a node's `loc`, if it has one. */
const offsetOf = (n: unknown, base: number): number | undefined => {
  const off = num(at(n, 'loc', 'start', 'offset'));
  return off === undefined ? undefined : base + off;
};

function typeOf(def: Json): { type: string; baseType: string; typeArgs: number[] } {
  const baseType = (str(def.dataType) ?? '').toLowerCase();
  const typeArgs = [num(def.length), num(def.scale)].filter((x): x is number => x !== undefined);
  const suffix = arr(def.suffix).map((s) => String(s).toLowerCase()).join(' ');
  return { type: `${baseType}${typeArgs.length ? `(${typeArgs.join(',')})` : ''}${suffix ? ` ${suffix}` : ''}`, baseType, typeArgs };
}

// MySQL evaluates a DEFAULT once per ALTER; only an expression default (8.0.13+) can be non-constant.
function defaultOf(v: unknown): { volatile: boolean; text: string } {
  const value = obj(at(v, 'value')) ?? {};
  const fn = str(at(value, 'name', 'name', 0, 'value'));
  if (fn) return { volatile: !/^(CURRENT_TIMESTAMP|NOW|LOCALTIME|LOCALTIMESTAMP)$/i.test(fn), text: `${fn}()` };
  return { volatile: false, text: 'a constant' };
}

function columnDef(d: Json, base: number): ColumnDef {
  const t = typeOf(obj(d.definition) ?? {});
  const nullable = str(at(d, 'nullable', 'type'));
  const col: ColumnDef = {
    name: columnName(d.column),
    ...t,
    notNull: nullable === 'not null' || d.primary_key !== undefined && d.primary_key !== null,
    nullable: nullable === 'null',
    primaryKey: typeof d.primary_key === 'string',
    unique: typeof d.unique === 'string',
    generatedValue: typeof d.auto_increment === 'string' || t.baseType === 'serial',
    computed: obj(d.generated) !== undefined,
  };
  if (obj(d.default_val)) col.default = defaultOf(d.default_val);
  const off = offsetOf(d.column, base);
  if (off !== undefined) col.at = off;
  if (obj(d.reference_definition)) {
    const fk = constraintDef({ ...d, definition: [d.column], constraint_type: 'foreign key', resource: 'constraint', constraint: undefined }, base);
    if (!isIndex(fk)) col.foreignKey = fk;
  }
  return col;
}

function constraintDef(d: Json, base: number): ConstraintDef | IndexDef {
  const columns = arr(d.definition).map(columnName);
  const kind = (str(d.constraint_type) ?? '').toLowerCase();
  const at0 = offsetOf(arr(d.definition)[0], base);
  if (d.resource === 'index') {
    const index: IndexDef = { columns, unique: false, primaryKey: false };
    if (str(d.index)) index.name = str(d.index)!;
    if (at0 !== undefined) index.at = at0;
    return index;
  }
  const ref = obj(d.reference_definition);
  const def: ConstraintDef = {
    kind: kind === 'primary key' ? 'PRIMARY_KEY' : kind.startsWith('unique') ? 'UNIQUE' : kind === 'foreign key' ? 'FOREIGN_KEY' : kind === 'check' ? 'CHECK' : 'OTHER',
    columns,
    notValid: false,
    onDeleteCascade: arr(ref?.on_action).some((a) => obj(a)?.type === 'on delete' && String(at(a, 'value', 'value')).toLowerCase() === 'cascade'),
    usingIndex: false,
  };
  const name = str(d.constraint) ?? str(d.index);
  if (name) def.name = name;
  if (ref) def.references = tableName(at(ref, 'table', 0));
  if (at0 !== undefined) def.at = at0;
  return def;
}

const isIndex = (x: ConstraintDef | IndexDef): x is IndexDef => !('kind' in x);

function alterAction(e: Json, base: number): AlterAction {
  const action = str(e.action);
  const resource = str(e.resource);
  const at0 = offsetOf(e.column, base);
  const where = at0 !== undefined ? { at: at0 } : {};
  if (resource === 'column') {
    if (action === 'add') return { kind: 'ADD_COLUMN', column: columnDef(e, base), ifNotExists: e.if_not_exists !== undefined && e.if_not_exists !== null };
    if (action === 'drop') return { kind: 'DROP_COLUMN', column: columnName(e.column), ...where };
    if (action === 'rename') return { kind: 'RENAME_COLUMN', from: columnName(e.old_column), to: columnName(e.column), ...where };
    if (action === 'modify') return { kind: 'REDEFINE_COLUMN', from: columnName(e.column), column: columnDef(e, base), ...where };
    if (action === 'change') {
      const old = offsetOf(e.old_column, base);
      return { kind: 'REDEFINE_COLUMN', from: columnName(e.old_column), column: columnDef(e, base), ...(old !== undefined ? { at: old } : {}) };
    }
  }
  if ((resource === 'constraint' || resource === 'index') && action === 'add') {
    const def = constraintDef(obj(e.create_definitions) ?? e, base);
    if (isIndex(def)) return { kind: 'ADD_INDEX', index: def };
    return { kind: 'ADD_CONSTRAINT', constraint: def };
  }
  if (action === 'drop' && resource === 'key') {
    const keyword = str(e.keyword)?.toLowerCase();
    return { kind: 'DROP_CONSTRAINT', ...(str(e.key) ? { name: str(e.key)! } : {}), primaryKey: keyword === 'primary key', foreignKey: keyword === 'foreign key' };
  }
  if (action === 'drop' && resource === 'index') return { kind: 'DROP_INDEX', name: str(e.index) ?? '' };
  if (action === 'drop' && resource === 'constraint') return { kind: 'DROP_CONSTRAINT', ...(str(e.constraint) ? { name: str(e.constraint)! } : {}), primaryKey: false, foreignKey: false };
  if (action === 'rename' && resource === 'table') return { kind: 'RENAME_TABLE', to: { name: str(e.table) ?? '' } };
  if (resource === 'engine') return { kind: 'ENGINE', engine: (str(e.engine) ?? '').toUpperCase() };
  return { kind: 'OTHER' };
}

function factsOf(n: Json, base: number): Facts {
  const keyword = str(n.keyword)?.toLowerCase();
  switch (n.type) {
    case 'create':
      if (keyword === 'table') {
        const columns: ColumnDef[] = [];
        const constraints: ConstraintDef[] = [];
        const indexes: IndexDef[] = [];
        for (const d of arr(n.create_definitions)) {
          const def = obj(d) ?? {};
          if (def.resource === 'column') {
            const col = columnDef(def, base);
            columns.push(col);
            if (col.foreignKey) constraints.push(col.foreignKey);
          } else {
            const c = constraintDef(def, base);
            if (isIndex(c)) indexes.push(c);
            else constraints.push(c);
          }
        }
        const engine = arr(n.table_options).map(obj).find((o) => str(o?.keyword)?.toLowerCase() === 'engine');
        return {
          kind: 'CREATE_TABLE', table: tableName(arr(n.table)[0]), columns, constraints, indexes,
          ...(engine ? { engine: String(engine.value).toUpperCase() } : {}),
          copied: obj(n.like) !== undefined || obj(n.query_expr) !== undefined, temporary: n.temporary !== null && n.temporary !== undefined, partitioned: false,
          ...(typeof n.if_not_exists === 'string' ? { ifNotExists: true } : {}),
        };
      }
      if (keyword === 'index') {
        const columns = arr(n.index_columns).map(columnName);
        const index: IndexDef = { columns, unique: str(n.index_type)?.toLowerCase() === 'unique', primaryKey: false };
        if (str(n.index)) index.name = str(n.index)!;
        const off = offsetOf(arr(n.index_columns)[0], base);
        if (off !== undefined) index.at = off;
        return { kind: 'CREATE_INDEX', table: tableName(n.table), index, concurrently: false };
      }
      if (keyword === 'view') {
        const v = obj(n.view) ?? {};
        const db = str(v.db);
        const name = str(v.view) ?? str(v.table) ?? '';
        return { kind: 'CREATE_VIEW', view: db ? { schema: db, name } : { name }, reads: mysqlReads(n.select) };
      }
      return { kind: 'OTHER' };
    case 'alter':
      if (keyword && keyword !== 'table') return { kind: 'OTHER' };
      return { kind: 'ALTER_TABLE', table: tableName(arr(n.table)[0]), actions: arr(n.expr).map((e) => alterAction(obj(e) ?? {}, base)) };
    case 'rename':
      return { kind: 'RENAME_TABLE', pairs: arr(n.table).map((p) => ({ from: tableName(arr(p)[0]), to: tableName(arr(p)[1]) })) };
    case 'drop': {
      const object = keyword === 'table' ? 'TABLE' : keyword === 'view' ? 'VIEW' : keyword === 'index' ? 'INDEX' : keyword === 'database' || keyword === 'schema' ? 'DATABASE' : 'OTHER';
      const dropped = object === 'INDEX' ? [{ name: columnName(n.name) }] : typeof n.name === 'string' ? [{ name: n.name }] : arr(n.name).map(tableName);
      return { kind: 'DROP', object, names: dropped, concurrently: false, cascade: false, ...(/^if exists$/i.test(String(n.prefix ?? '')) ? { ifExists: true } : {}) };
    }
    case 'truncate':
      return { kind: 'TRUNCATE', tables: arr(n.name).map(tableName), cascade: false };
    case 'update':
    case 'delete': {
      const tables = arr(n.table).map(tableName);
      const columns = ownColumns(n, base);
      return {
        kind: n.type === 'update' ? 'UPDATE' : 'DELETE', tables, hasWhere: n.where !== null && n.where !== undefined,
        hasLimit: obj(n.limit) !== undefined && arr(at(n, 'limit', 'value')).length > 0, hasOrderBy: arr(n.orderby).length > 0,
        ...(columns ? { columns } : {}),
      };
    }
    case 'insert':
    case 'replace': {
      const cols = n.columns;
      return { kind: 'INSERT', table: tableName(arr(n.table)[0]), columns: Array.isArray(cols) ? cols.map(columnName) : arr(n.set).length ? arr(n.set).map((s) => columnName(s)) : null, fromSelect: at(n, 'values', 'type') === 'select' };
    }
    case 'select':
      return { kind: 'SELECT' };
    case 'transaction': {
      const [t] = typesOf(n);
      return { kind: 'TRANSACTION', op: t === 'COMMIT' || t === 'ROLLBACK' || t === 'BEGIN' ? t : 'OTHER' };
    }
    case 'set': {
      const e = obj(arr(n.expr)[0]) ?? {};
      const left = obj(e.left) ?? {};
      const name = [str(left.name), ...arr(left.members).map(String)].filter(Boolean).join('.');
      const right = obj(e.right) ?? {};
      return { kind: 'SET', name: name.replace(/^(session|global|local)\./i, ''), value: String(right.value ?? columnName(right)) };
    }
    default:
      return { kind: 'OTHER' };
  }
}

/** A column reference's table, written plainly or in backticks (`{type: 'backticks_quote_string', value}`). */
const qualifierOf = (t: unknown): string | undefined => str(t) ?? str(at(t, 'value'));

/** A FROM item that names a table (not a subquery, not a column reference). */
const isTableRef = (n: Json): boolean => n.type !== 'column_ref' && typeof n.table === 'string' && 'as' in n;

/** What a query reads (a view's definition): its tables and column references, CTE names left out. */
export function mysqlReads(tree: unknown): Reads {
  const ctes = new Set<string>();
  walk(tree, (n) => {
    for (const w of arr(n.with)) {
      const name = str(at(w, 'name', 'value')) ?? str(at(w, 'name'));
      if (name) ctes.add(name.toLowerCase());
    }
  });
  const reads: Reads = { tables: [], columns: [], star: false };
  walk(tree, (n) => {
    if (isTableRef(n)) {
      const name = tableName(n);
      if (!name.schema && ctes.has(name.name.toLowerCase())) return;
      const alias = str(n.as);
      reads.tables.push(alias ? { name, alias } : { name });
    } else if (n.type === 'column_ref') {
      const name = columnName(n);
      const qualifier = qualifierOf(n.table);
      if (name === '*' && !qualifier) reads.star = true;
      else reads.columns.push(qualifier ? { qualifier, name } : { name });
    }
  });
  return reads;
}

/**
 * UPDATE/DELETE: the columns of its one table it sets or reads, when every reference is surely
 * that table's (one table, no join, no subquery; a qualifier only the table's name or alias).
 */
function ownColumns(n: Json, base: number): { name: string; at?: number }[] | undefined {
  const from = n.type === 'delete' ? arr(n.from) : arr(n.table);
  if (from.length !== 1 || obj(from[0])?.join || arr(n.with).length) return undefined;
  const own = new Set([str(at(from[0], 'table')), str(at(from[0], 'as'))].filter((x): x is string => x !== undefined).map((x) => x.toLowerCase()));
  let nested = false;
  walk([n.where, n.set], (x) => {
    if (x.ast !== undefined || x.type === 'select') nested = true;
  });
  if (nested) return undefined;
  const found: { name: string; at?: number }[] = [];
  let foreign = false;
  const mine = (table: unknown) => {
    const qualifier = qualifierOf(table);
    return qualifier === undefined || own.has(qualifier.toLowerCase());
  };
  for (const set of arr(n.set)) {
    const o = obj(set) ?? {};
    if (!mine(o.table)) foreign = true;
    const off = offsetOf(o, base);
    found.push({ name: columnName(o.column), ...(off !== undefined ? { at: off } : {}) });
  }
  walk([n.where, arr(n.set).map((x) => obj(x)?.value)], (x) => {
    if (x.type !== 'column_ref') return;
    if (!mine(x.table)) foreign = true;
    const name = columnName(x);
    const off = offsetOf(x, base);
    if (name !== '*') found.push({ name, ...(off !== undefined ? { at: off } : {}) });
  });
  return foreign ? undefined : found;
}

function findingsOf(tree: unknown, base: number): Findings {
  const findings: Findings = { selectAll: [], leadingWildcardLike: [] };
  walk(tree, (n) => {
    if (n.type === 'select') {
      for (const c of arr(n.columns)) {
        if (at(c, 'expr', 'type') === 'column_ref' && at(c, 'expr', 'column') === '*') findings.selectAll.push(offsetOf(c, base) ?? offsetOf(n, base) ?? base);
      }
    }
    if (n.type === 'binary_expr' && /^(NOT )?LIKE$/i.test(String(n.operator))) {
      const pattern = str(at(n, 'right', 'value'));
      if (pattern !== undefined && /^[%_]/.test(pattern)) findings.leadingWildcardLike.push(offsetOf(n, base) ?? base);
    }
  });
  return findings;
}
