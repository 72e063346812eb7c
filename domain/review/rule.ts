// What a rule is, and what it is given: the parsed script, its payload, the engine, and what the
// caller knows about the target (an affected-rows estimate, the synced schema as the script changes it).
import type * as z from 'zod/mini';
import type { AlterAction, ColumnDef, Facts, ObjectName, ParsedStatement, ReviewEngine } from './model.js';

export type Level = 'ERROR' | 'WARNING';

export interface Advice {
  status: Level;
  rule: string;
  title: string;
  content: string;
  /** From 1, in the statement as sent. */
  line: number;
  /** From 1, in characters, in the statement as sent. */
  column: number;
}

export interface RuleConfig {
  type: string;
  level: Level;
  payload?: unknown;
}

export interface CatalogColumn {
  name: string;
  /** As the server shows it: `character varying(255)`, `int unsigned`, `numeric(10,2)`. */
  type: string;
  notNull: boolean;
  hasDefault: boolean;
}

/** A table as the review knows it at one point of the script. */
export interface CatalogTable {
  /** Its schema in the synced model (MySQL: "") and its name as recorded. */
  schema: string;
  name: string;
  /** Undefined when not known (CREATE TABLE … AS / LIKE, PARTITION OF earlier in the script). */
  columns: CatalogColumn[] | undefined;
  primaryKey: { name?: string; columns: string[] } | undefined;
  /** A view, not a table (UPDATE and INSERT may name an updatable one). */
  view: boolean;
}

/** What the catalog knows of a name: the table, that there is none, or nothing (another database, an unread statement). */
export type CatalogLookup = { state: 'EXISTS'; table: CatalogTable } | { state: 'ABSENT' } | { state: 'UNKNOWN' };

/**
 * What a review knows of the target database's schema: its last sync, changed statement by
 * statement by the script itself (a table created at statement 0 exists at statement 1). Names
 * are as written; an absent `schema` is the connection's default (PostgreSQL: public, then any
 * schema that has the name; MySQL: the target database). domain/review/schema-catalog.ts builds it.
 */
export interface SchemaCatalog {
  /** The table or view just before statement `index` runs. */
  lookup(table: ObjectName, index: number): CatalogLookup;
  /** What is already at the place CREATE TABLE would put this name (PostgreSQL: public when unqualified), just before statement `index`. */
  atCreate(table: ObjectName, index: number): CatalogLookup;
  /** The views that read `column` of the table (any column when undefined) just before statement `index`, by name. */
  viewsReading(table: ObjectName, column: string | undefined, index: number): string[];
}

/** The table (not a view) just before statement `index`, when the catalog knows it. */
export const tableAt = (catalog: SchemaCatalog | undefined, table: ObjectName, index: number): CatalogTable | undefined => {
  const found = catalog?.lookup(table, index);
  return found?.state === 'EXISTS' && !found.table.view ? found.table : undefined;
};

/** A column of a known table, by name (case-insensitive). */
export const columnOf = (table: CatalogTable | undefined, column: string): CatalogColumn | undefined =>
  table?.columns?.find((c) => c.name.toLowerCase() === column.toLowerCase());

export interface RuleContext<P> {
  engine: ReviewEngine;
  /** Every statement of the script, the unparsed ones included (without facts). */
  statements: ParsedStatement[];
  payload: P;
  catalog?: SchemaCatalog;
  affectedRows?: (statementIndex: number) => number | undefined;
  /** Whether the table exists before statement `index` runs: not made earlier in the script, and not known absent. */
  existsBefore(table: ObjectName, index: number): boolean;
  report(statement: ParsedStatement, content: string, at?: number): void;
}

export interface Rule<P = undefined> {
  type: string;
  title: string;
  description: string;
  engines: readonly ReviewEngine[];
  defaultLevel: Level;
  /**
   * Whether the rule reads the target's schema: REQUIRED rules are skipped without one (and the
   * review says so: `schema.unknown`), OPTIONAL ones judge more with it. Plan checks run both per
   * target, with that target's synced schema; the statement-only pass runs neither.
   */
  schema?: 'REQUIRED' | 'OPTIONAL';
  /** A zod schema of the payload; absent when the rule takes none. Defaults fill what is left out. */
  payload?: z.ZodMiniType<P>;
  check(ctx: RuleContext<P>): void;
}

/**
 * A rule definition with its payload type checked against its schema. Each call is marked
 * pure (the `@__PURE__` annotation), so a bundle that reads no rule (ChecksResult, ChecksGate)
 * drops them all (esbuild does not honour `@__NO_SIDE_EFFECTS__` across modules, evanw/esbuild#4369).
 */
export const rule = <P = undefined>(r: Rule<P>): Rule<P> => r;

// ---- helpers rules share ---------------------------------------------------------------------

export const BOTH = ['POSTGRES', 'MYSQL'] as const;
export const PG = ['POSTGRES'] as const;
export const MY = ['MYSQL'] as const;

/** Each statement whose facts are of `kind`, with those facts typed. */
export function* withFacts<K extends Facts['kind']>(statements: ParsedStatement[], ...kinds: K[]): Generator<[ParsedStatement, Extract<Facts, { kind: K }>]> {
  for (const s of statements) {
    if (s.facts && (kinds as string[]).includes(s.facts.kind)) yield [s, s.facts as Extract<Facts, { kind: K }>];
  }
}

/** Each ALTER TABLE action of `kind`, with its statement and table. */
export function* actions<K extends AlterAction['kind']>(statements: ParsedStatement[], ...kinds: K[]): Generator<[ParsedStatement, ObjectName, Extract<AlterAction, { kind: K }>]> {
  for (const [s, f] of withFacts(statements, 'ALTER_TABLE')) {
    for (const a of f.actions) if ((kinds as string[]).includes(a.kind)) yield [s, f.table, a as Extract<AlterAction, { kind: K }>];
  }
}

/** Every column a statement defines: CREATE TABLE columns, ADD COLUMN, MODIFY and CHANGE. */
export function* definedColumns(statements: ParsedStatement[]): Generator<[ParsedStatement, ObjectName, ColumnDef, 'CREATE' | 'ADD' | 'REDEFINE']> {
  for (const s of statements) {
    const f = s.facts;
    if (f?.kind === 'CREATE_TABLE') for (const c of f.columns) yield [s, f.table, c, 'CREATE'];
    if (f?.kind === 'ALTER_TABLE') {
      for (const a of f.actions) {
        if (a.kind === 'ADD_COLUMN') yield [s, f.table, a.column, 'ADD'];
        if (a.kind === 'REDEFINE_COLUMN') yield [s, f.table, a.column, 'REDEFINE'];
      }
    }
  }
}

export const display = (n: ObjectName): string => (n.schema ? `${n.schema}.${n.name}` : n.name);
export const tableKey = (n: ObjectName): string => `${n.schema ?? ''}.${n.name}`.toLowerCase();
