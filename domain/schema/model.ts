// The normalized schema of one database, as the catalogs describe it (pg_catalog,
// information_schema), the same shape for PostgreSQL and MySQL/MariaDB. MySQL has no schemas
// inside a database: its one schema is "". Enum types exist on PostgreSQL only (a MySQL enum is a
// column type); sequences on PostgreSQL and MariaDB.
import { sha256 } from '../common/hash.js';
import type { Engine } from '../inventory/instances.js';

export interface Column {
  name: string;
  /** 1-based, in the table's column order (gaps left by dropped columns closed). */
  position: number;
  /** The engine's own spelling: `character varying(100)`, `int(11)`, `enum('a','b')`. */
  type: string;
  nullable: boolean;
  /** The default expression, as the catalog prints it. */
  default?: string;
  /** PostgreSQL `ALWAYS`/`BY DEFAULT` identity; MySQL `auto_increment`. */
  identity?: 'ALWAYS' | 'BY DEFAULT' | 'AUTO_INCREMENT';
  /** A generated column's expression (stored on PostgreSQL; MySQL says STORED or VIRTUAL). */
  generated?: { expression: string; stored: boolean };
  /** MySQL: `on update current_timestamp()`. */
  onUpdate?: string;
}

export const CONSTRAINT_TYPES = ['PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY', 'CHECK'] as const;
export type ConstraintType = (typeof CONSTRAINT_TYPES)[number];

export interface Constraint {
  name: string;
  type: ConstraintType;
  /** Key columns in order (PRIMARY KEY, UNIQUE, FOREIGN KEY). */
  columns: string[];
  /** FOREIGN KEY: the referenced table (`schema.table` on PostgreSQL when outside the same schema). */
  references?: { schema: string; table: string; columns: string[]; onDelete: string; onUpdate: string };
  /** CHECK: the condition. PostgreSQL: the whole definition as pg_get_constraintdef prints it. */
  definition?: string;
}

export interface Index {
  name: string;
  unique: boolean;
  /** Columns or expressions, in order. */
  columns: string[];
  /** PostgreSQL: the CREATE INDEX statement (pg_get_indexdef); MySQL: the index type (BTREE, FULLTEXT…). */
  definition: string;
}

export interface Table {
  name: string;
  /** The planner's estimate (pg_class.reltuples, information_schema.TABLES.TABLE_ROWS): not part of the checksum. */
  rowEstimate: number;
  columns: Column[];
  constraints: Constraint[];
  /** Indexes that no constraint owns. */
  indexes: Index[];
}

export interface View {
  name: string;
  /** The SELECT (names of this database unqualified). */
  definition: string;
}

export interface Sequence {
  name: string;
  dataType: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  /** PostgreSQL: the column that owns it (`table.column`, serial columns). */
  ownedBy?: string;
}

export interface EnumType {
  name: string;
  values: string[];
}

export interface Routine {
  name: string;
  kind: 'FUNCTION' | 'PROCEDURE';
  /** The argument list, e.g. `(a integer, b text)`: overloads differ here. */
  signature: string;
  /** FUNCTION: what it returns. */
  returns?: string;
  /** The statement that creates it, as the engine prints it (definer left out). */
  definition: string;
}

export interface Schema {
  name: string;
  tables: Table[];
  views: View[];
  sequences: Sequence[];
  enums: EnumType[];
  routines: Routine[];
}

export interface DatabaseSchema {
  engine: Engine;
  schemas: Schema[];
}

/** A schema known by its checksum only (its snapshot is recorded already): what a catalog fingerprint tells. */
export interface KnownSchema {
  checksum: string;
}

export const isModel = (s: DatabaseSchema | KnownSchema): s is DatabaseSchema => 'schemas' in s;

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const routineKey = (r: Routine): string => `${r.name}${r.signature}`;

/**
 * The same schema in one order whatever order the catalog returned its rows in: everything by
 * name, columns by position, routines by name and signature. Key columns keep their order (it
 * matters); nothing else is reordered inside an object.
 */
export function normalize(schema: DatabaseSchema): DatabaseSchema {
  return {
    engine: schema.engine,
    schemas: [...schema.schemas].sort(byName).map((s) => ({
      name: s.name,
      tables: [...s.tables].sort(byName).map((t) => ({
        ...t,
        columns: [...t.columns].sort((a, b) => a.position - b.position).map((c, i) => ({ ...c, position: i + 1 })),
        constraints: [...t.constraints].sort(byName),
        indexes: [...t.indexes].sort(byName),
      })),
      views: [...s.views].sort(byName),
      sequences: [...s.sequences].sort(byName),
      enums: [...s.enums].sort(byName),
      routines: [...s.routines].sort((a, b) => (routineKey(a) < routineKey(b) ? -1 : routineKey(a) > routineKey(b) ? 1 : 0)),
    })),
  };
}

/** JSON with keys sorted, so two equal models print the same text whatever their key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The schema's checksum: SHA-256 over its normalized, canonical form without row estimates
 * (they move with the data, not the schema).
 */
export function schemaChecksum(schema: DatabaseSchema): string {
  const n = normalize(schema);
  const shape = { ...n, schemas: n.schemas.map((s) => ({ ...s, tables: s.tables.map(({ rowEstimate: _rows, ...t }) => t) })) };
  return sha256(canonical(shape));
}

/** The checksum of a model, or the one a known schema carries. */
export const checksumOf = (s: DatabaseSchema | KnownSchema): string => (isModel(s) ? schemaChecksum(s) : s.checksum);

/** The tables of a schema model, as the inventory records them (for table groups). */
export const tableRefs = (schema: DatabaseSchema): { schema: string; name: string }[] =>
  schema.schemas.flatMap((s) => s.tables.map((t) => ({ schema: s.name, name: t.name })));

export const countObjects = (schema: DatabaseSchema): number =>
  schema.schemas.reduce((n, s) => n + s.tables.length + s.views.length + s.sequences.length + s.enums.length + s.routines.length, 0);
