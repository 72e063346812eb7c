// Prior backup of data changes: what a statement does to which rows, what the catalog says about
// the tables it touches, and the plan that copies those rows before the change runs. Pure types
// and names; the engines' SQL is built in sql.ts, the decision in decide.ts.
import { sha256 } from '../common/hash.js';
import type { Engine } from '../inventory/instances.js';

/** Where backups live on every instance: a schema (PostgreSQL) or database (MySQL) of this name. */
export const BACKUP_SCHEMA = 'sluice_backup';
/** The registry of backups in each database that holds some (one row per backup table). */
export const BACKUP_REGISTRY = 'sluice_backups';
/** The advice rule a refusal is reported under (plan checks) and named by in a FAILED task run. */
export const BACKUP_RULE = 'prior-backup.unsupported';

/** The project settings (priorBackup, priorBackupMaxRows, priorBackupRetention) live with the project: domain/inventory/projects.ts PRIOR_BACKUP. */

/** A table as a statement names it; no schema means the connection's default (search_path, USE). */
export interface TableRef {
  schema?: string;
  name: string;
}

export type FkAction = 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT';
export type DmlEvent = 'INSERT' | 'UPDATE' | 'DELETE';

export interface ColumnFacts {
  name: string;
  /** A computed (GENERATED … STORED/VIRTUAL) column: never written, never restored. */
  generated: boolean;
  /** PostgreSQL GENERATED ALWAYS AS IDENTITY: restoring a deleted row needs OVERRIDING SYSTEM VALUE. */
  identityAlways: boolean;
  /** MySQL AUTO_INCREMENT. */
  autoIncrement: boolean;
  notNull: boolean;
}

/** A foreign key of another table that references this one. */
export interface ReferencingKey {
  name: string;
  table: Required<TableRef>;
  columns: string[];
  /** The referenced columns of this table, in the same order. */
  references: string[];
  onDelete: FkAction;
  onUpdate: FkAction;
}

/** What the target's catalog says about one table (functions/adapters/sql/backup-catalog.ts reads it). */
export interface TableFacts {
  /** Resolved: the PostgreSQL schema or MySQL database it lives in. */
  schema: string;
  name: string;
  /** TABLE (or a partitioned one); anything else cannot be backed up. */
  kind: 'TABLE' | 'VIEW' | 'OTHER';
  /** MySQL: InnoDB (or another engine with transactions); PostgreSQL: always. */
  transactional: boolean;
  columns: ColumnFacts[];
  primaryKey: string[];
  /** Unique keys whose columns are all NOT NULL (no partial or expression index). */
  uniqueKeys: string[][];
  referencedBy: ReferencingKey[];
  /** User triggers that fire on the table (enabled), with their events. */
  triggers: { name: string; events: DmlEvent[] }[];
  /** PostgreSQL rewrite rules on the table (CREATE RULE): what runs is not what was written. */
  hasRules: boolean;
}

export const qualified = (t: Required<TableRef>): string => `${t.schema}.${t.name}`;

/**
 * What a statement changes, read from its own parse tree. The engine modules (postgres.ts,
 * mysql.ts) produce it; `select(alias, key)` gives the SELECT of the rows it will touch.
 */
export type StatementShape =
  /** Reads or session settings only: nothing to back up. */
  | { kind: 'READ' }
  | {
      kind: 'ROWS';
      op: 'UPDATE' | 'DELETE';
      target: TableRef;
      /** UPDATE: the columns SET assigns (lower case on PostgreSQL, as written on MySQL). */
      setColumns: string[];
      /** The SELECT of the target's rows the statement touches, every column, as `SELECT t.*` (locking them when `lock`). */
      rowsQuery(key: string[], lock: boolean): string;
    }
  | {
      kind: 'INSERT';
      target: TableRef;
      /**
       * PostgreSQL: the statement rewritten so that it also writes the keys it inserted (RETURNING)
       * into the backup table, in the same statement. MySQL: how the keys are known.
       */
      keys: InsertKeys;
    }
  | { kind: 'REFUSED'; reason: string };

export type InsertKeys =
  | { how: 'RETURNING'; rewrite(key: string[], backup: Required<TableRef>): string }
  /** MySQL: the server numbers the rows (AUTO_INCREMENT column not given): LAST_INSERT_ID and ROW_COUNT after it. */
  | { how: 'AUTO_INCREMENT'; givenColumns: string[] }
  /** MySQL: the statement gives every key value itself (VALUES or INSERT … SELECT): a SELECT of them, run just before. */
  | { how: 'GIVEN'; givenColumns: string[]; keysQuery(key: string[]): string | undefined };

/** What a statement did to the rows in one backup table, and so what its restore does. */
export type BackupAction = 'UPDATE' | 'DELETE' | 'INSERT';

/** One backup table of a statement: filled before the statement runs (INSERT: with it, or just after). */
export interface BackupStep {
  source: Required<TableRef>;
  /** The backup table's own name (in BACKUP_SCHEMA). */
  backup: string;
  action: BackupAction;
  /** The key the restore matches rows by (primary key, or a not-null unique key). */
  key: string[];
  /** Columns the backup table holds: every column (UPDATE, DELETE), the key (INSERT). */
  columns: string[];
  /** UPDATE: the columns to put back; DELETE: the columns to insert again; INSERT: none. */
  restore: string[];
  /** DELETE: the table has identity columns that need OVERRIDING SYSTEM VALUE (PostgreSQL). */
  overriding: boolean;
  /** The SELECT that fills it (absent for INSERT, filled by the statement or from the server's ids). */
  fill?: string;
  /** Why this table is touched: the statement itself, or a foreign key that cascades from another. */
  via?: string;
}

export interface StatementPlan {
  /** 0-based index of the statement in the script. */
  index: number;
  line: number;
  /** What to run: the statement's text, or (PostgreSQL INSERT) the rewrite that records its keys. */
  run: string;
  kind: 'READ' | 'ROWS' | 'INSERT';
  /** In fill order: the statement's own target first, then tables reached through foreign keys. */
  steps: BackupStep[];
  /** The SELECT whose EXPLAIN estimates the rows (ROWS only). */
  estimateQuery?: string;
  /** MySQL INSERT: how its keys are recorded. */
  insertKeys?: Exclude<InsertKeys, { how: 'RETURNING' }>;
}

export type BackupDecision =
  | { ok: true; statements: StatementPlan[] }
  | { ok: false; index: number; line: number; reason: string };

/** A recorded backup table, as the task run keeps it and the restore reads it. */
export interface BackupTableRecord {
  /** `schema.table` of the source. */
  source: string;
  /** `sluice_backup.<name>`. */
  backup: string;
  rows: number;
  action: BackupAction;
  /** The script's statement it belongs to (restores run in reverse statement order). */
  statement: number;
  key: string[];
  restore: string[];
  overriding?: boolean;
}

export interface PriorBackupRecord {
  tables: BackupTableRecord[];
  /** When the backup was taken (its tables' age, for retention). */
  createTime: string;
  /** Set by the cleanup when it dropped the tables: a rollback is no longer possible. */
  dropTime?: string;
}

/** Identifier limits: PostgreSQL 63 bytes, MySQL 64 characters. */
const fits = (engine: Engine, s: string): boolean => (engine === 'POSTGRES' ? Buffer.byteLength(s, 'utf8') <= 63 : [...s].length <= 64);

/**
 * A backup table's name: `{project}_{issue}_t{task}_{table}_{hash}`, so a person can tell the
 * issue, task and source table. The hash (8 hex) is of the task's marker key, the attempt, the
 * statement and the source, so every attempt and statement gets its own table; the readable part
 * is cut to fit the engine's identifier limit.
 */
export function backupTableName(engine: Engine, p: { project: string; issue: number; task: number; taskKey: string; attempt: number; statement: number; seq: number; source: Required<TableRef> }): string {
  const hash = sha256(`${p.taskKey}#${p.attempt}#${p.statement}#${p.seq}#${p.source.schema}.${p.source.name}`).slice(0, 8);
  let head = `${p.project}_${p.issue}_t${p.task}_${p.source.name}`;
  while (!fits(engine, `${head}_${hash}`)) head = [...head].slice(0, -1).join('');
  return `${head}_${hash}`;
}
