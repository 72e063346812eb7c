// What a rule is, and what it is given: the parsed script, its payload, the engine, and what the
// caller knows about the target (an affected-rows estimate, the synced schema).
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

/**
 * What a review may know of the target database's schema (its last sync). Names are as written
 * in the statement; `schema` absent means the connection's default (PostgreSQL's search path,
 * MySQL's current database): resolving that is the implementation's business.
 */
export interface SchemaCatalog {
  tableExists(table: ObjectName): boolean;
  /** The table's columns, or undefined when the table is not known. */
  columnsOf(table: ObjectName): CatalogColumn[] | undefined;
  primaryKeyOf(table: ObjectName): { name?: string; columns: string[] } | undefined;
  /** Views that read this column (for the compatibility rule's message). */
  viewsUsingColumn?(table: ObjectName, column: string): string[];
}

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
  /** A zod schema of the payload; absent when the rule takes none. Defaults fill what is left out. */
  payload?: z.ZodMiniType<P>;
  check(ctx: RuleContext<P>): void;
}

/** A rule definition with its payload type checked against its schema. */
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
