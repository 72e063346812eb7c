// What a parsed statement says, in one shape for every engine. Each engine's parser module turns
// its own tree (PostgreSQL's raw parse tree, node-sql-parser's MySQL AST) into these facts; the
// rules read the facts, so one rule serves both engines. The tree stays on the statement for a
// rule that needs more.

export const REVIEW_ENGINES = ['POSTGRES', 'MYSQL'] as const;
/** The same values as the instance engine (domain/instances.ts ENGINES). */
export type ReviewEngine = (typeof REVIEW_ENGINES)[number];

/**
 * What kind of command a statement is: approval rules match on these (`"DROP_TABLE" in
 * statement.types`). One statement has one type, except a MySQL ALTER TABLE … RENAME TO,
 * which is ALTER_TABLE and RENAME_TABLE.
 */
export const STATEMENT_TYPES = [
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY', 'TRUNCATE',
  'CREATE_TABLE', 'ALTER_TABLE', 'DROP_TABLE', 'RENAME_TABLE',
  'CREATE_INDEX', 'ALTER_INDEX', 'DROP_INDEX', 'REINDEX',
  'CREATE_VIEW', 'ALTER_VIEW', 'DROP_VIEW',
  'CREATE_DATABASE', 'ALTER_DATABASE', 'DROP_DATABASE',
  'CREATE_SCHEMA', 'DROP_SCHEMA',
  'CREATE_SEQUENCE', 'ALTER_SEQUENCE', 'DROP_SEQUENCE',
  'CREATE_TYPE', 'ALTER_TYPE', 'DROP_TYPE',
  'CREATE_FUNCTION', 'DROP_FUNCTION', 'CREATE_PROCEDURE', 'DROP_PROCEDURE',
  'CREATE_TRIGGER', 'DROP_TRIGGER', 'CREATE_EXTENSION', 'DROP_EXTENSION',
  'COMMENT', 'GRANT', 'REVOKE', 'CREATE_ROLE', 'ALTER_ROLE', 'DROP_ROLE',
  'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'SET', 'LOCK', 'VACUUM', 'ANALYZE', 'EXPLAIN', 'SHOW', 'CALL', 'DO',
  'OTHER',
] as const;
export type StatementType = (typeof STATEMENT_TYPES)[number];

/** DDL changes the schema, DML the data; SELECT reads; TCL is transaction control. */
export type StatementClass = 'DDL' | 'DML' | 'SELECT' | 'TCL' | 'OTHER';

/** The class of a statement from its type: shared by both engines. */
export function classOf(type: StatementType): StatementClass {
  if (type === 'SELECT') return 'SELECT';
  if (['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY', 'TRUNCATE'].includes(type)) return 'DML';
  if (['BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT'].includes(type)) return 'TCL';
  if (/^(CREATE|ALTER|DROP|RENAME)_/.test(type) || type === 'COMMENT' || type === 'REINDEX') return 'DDL';
  return 'OTHER';
}


export interface ObjectName {
  /** PostgreSQL schema or MySQL database, when written. */
  schema?: string;
  name: string;
}

/** A column as a CREATE TABLE, ADD COLUMN, MODIFY or CHANGE defines it. */
export interface ColumnDef {
  name: string;
  /** The type as written, lower case, with its arguments: `varchar(255)`, `numeric(10,2)`, `int unsigned`. */
  type: string;
  /** The base type name, lower case and canonical (`int4` → `integer`): `varchar`, `numeric`. */
  baseType: string;
  /** The type's arguments (`varchar(255)` → [255]); empty when none. */
  typeArgs: number[];
  notNull: boolean;
  /** NULL written explicitly. */
  nullable: boolean;
  default?: { volatile: boolean; text: string };
  primaryKey: boolean;
  unique: boolean;
  /** serial types, IDENTITY, AUTO_INCREMENT: the server fills it. */
  generatedValue: boolean;
  /** GENERATED ALWAYS AS (expr): computed, never written. */
  computed: boolean;
  /** REFERENCES on the column itself. */
  foreignKey?: ConstraintDef;
  /** UTF-16 offset of the definition in the script. */
  at?: number;
}

export interface IndexDef {
  name?: string;
  columns: string[];
  unique: boolean;
  primaryKey: boolean;
  at?: number;
}

export interface ConstraintDef {
  kind: 'PRIMARY_KEY' | 'UNIQUE' | 'FOREIGN_KEY' | 'CHECK' | 'EXCLUDE' | 'OTHER';
  name?: string;
  columns: string[];
  references?: ObjectName;
  /** PostgreSQL NOT VALID: existing rows are not checked now. */
  notValid: boolean;
  onDeleteCascade: boolean;
  /** ADD CONSTRAINT … USING INDEX: built from an index that exists already. */
  usingIndex: boolean;
  at?: number;
}

export type AlterAction =
  | { kind: 'ADD_COLUMN'; column: ColumnDef; ifNotExists: boolean }
  | { kind: 'DROP_COLUMN'; column: string; ifExists?: boolean; at?: number }
  | { kind: 'RENAME_COLUMN'; from: string; to: string; at?: number }
  /** PostgreSQL ALTER COLUMN … TYPE. */
  | { kind: 'ALTER_COLUMN_TYPE'; column: string; type: string; baseType: string; typeArgs: number[]; at?: number }
  /** MySQL MODIFY (from = to) and CHANGE: the whole definition is restated. */
  | { kind: 'REDEFINE_COLUMN'; from: string; column: ColumnDef; at?: number }
  | { kind: 'SET_NOT_NULL'; column: string; at?: number }
  | { kind: 'DROP_NOT_NULL'; column: string; at?: number }
  | { kind: 'SET_DEFAULT'; column: string; at?: number }
  | { kind: 'ADD_CONSTRAINT'; constraint: ConstraintDef }
  | { kind: 'DROP_CONSTRAINT'; name?: string; primaryKey: boolean; foreignKey: boolean; at?: number }
  | { kind: 'ADD_INDEX'; index: IndexDef }
  | { kind: 'DROP_INDEX'; name: string; at?: number }
  | { kind: 'RENAME_INDEX'; from: string; to: string; at?: number }
  | { kind: 'RENAME_TABLE'; to: ObjectName; at?: number }
  | { kind: 'ENGINE'; engine: string; at?: number }
  | { kind: 'OTHER'; at?: number };

/** The facts rules read, one variant per shape of statement. */
export type Facts =
  | {
      kind: 'CREATE_TABLE';
      table: ObjectName;
      columns: ColumnDef[];
      constraints: ConstraintDef[];
      indexes: IndexDef[];
      /** ENGINE = … (MySQL), as written, upper case. */
      engine?: string;
      /** CREATE TABLE … AS SELECT / LIKE: columns come from elsewhere. */
      copied: boolean;
      temporary: boolean;
      partitioned: boolean;
      ifNotExists?: boolean;
    }
  | { kind: 'ALTER_TABLE'; table: ObjectName; actions: AlterAction[]; ifExists?: boolean }
  | { kind: 'RENAME_TABLE'; pairs: { from: ObjectName; to: ObjectName }[] }
  /** PostgreSQL ALTER INDEX … RENAME TO. */
  | { kind: 'RENAME_INDEX'; from: ObjectName; to: string }
  | { kind: 'DROP'; object: 'TABLE' | 'VIEW' | 'INDEX' | 'SCHEMA' | 'DATABASE' | 'SEQUENCE' | 'TYPE' | 'FUNCTION' | 'OTHER'; names: ObjectName[]; concurrently: boolean; cascade: boolean; ifExists?: boolean }
  | { kind: 'CREATE_INDEX'; table: ObjectName; index: IndexDef; concurrently: boolean }
  | { kind: 'TRUNCATE'; tables: ObjectName[]; cascade: boolean }
  | {
      kind: 'UPDATE' | 'DELETE';
      tables: ObjectName[];
      hasWhere: boolean;
      hasLimit: boolean;
      hasOrderBy: boolean;
      /**
       * The columns of its one table that it sets or reads in WHERE, with their places; absent
       * when a reference could belong to another relation (a join, FROM/USING, a subquery, a CTE).
       */
      columns?: { name: string; at?: number }[];
    }
  /** CREATE VIEW: what it reads, for the view dependencies of later statements. */
  | { kind: 'CREATE_VIEW'; view: ObjectName; reads: Reads }
  | { kind: 'INSERT'; table: ObjectName; columns: string[] | null; fromSelect: boolean }
  | { kind: 'SELECT' }
  | { kind: 'TRANSACTION'; op: 'BEGIN' | 'COMMIT' | 'ROLLBACK' | 'SAVEPOINT' | 'OTHER' }
  | { kind: 'SET'; name: string; value: string }
  | { kind: 'OTHER' };

/**
 * The relations and columns a query reads, anywhere in its tree (subqueries included): what a
 * view depends on. A column's qualifier is a table name or alias as written; an unqualified one
 * may belong to any of the tables. `star`: a `*` that reads every column.
 */
export interface Reads {
  tables: { name: ObjectName; alias?: string }[];
  columns: { qualifier?: string; name: string }[];
  star: boolean;
}

/** Places inside a statement that some rules look for anywhere in its tree. */
export interface Findings {
  /** `SELECT *` (or `t.*`), at the star. */
  selectAll: number[];
  /** `LIKE '%…'`: a pattern that starts with a wildcard. */
  leadingWildcardLike: number[];
}

export interface ParsedStatement {
  /** 0-based position in the script. */
  index: number;
  /** The statement's own text, from its first token to its end, without the `;`. */
  text: string;
  /** UTF-16 offset of the statement's first token in the script. */
  start: number;
  line: number;
  column: number;
  types: StatementType[];
  class: StatementClass;
  /** Absent when the parser could not read the statement (MySQL only; see `unparsed`). */
  facts?: Facts;
  findings: Findings;
  /** The engine parser's own tree for this statement. */
  tree?: unknown;
  /** MySQL: the grammar could not read this statement; no rule that needs its tree sees it. */
  unparsed?: string;
}

export interface ParseError {
  message: string;
  /** UTF-16 offset in the script. */
  offset: number;
  line: number;
  column: number;
}

export interface ParseResult {
  engine: ReviewEngine;
  statements: ParsedStatement[];
  /** PostgreSQL syntax errors (the script is not split then: `statements` is empty). */
  errors: ParseError[];
}

/** A review config's resource name (here, not in configs.ts, so stores need not load the rule catalog). */
export const reviewConfigName = (id: string): string => `reviewConfigs/${id}`;
