// The SQL a backup and its restore run, for each engine: creating and filling backup tables,
// the registry row each one gets, and the restore statement that undoes what a task run did.
import type { Engine } from '../inventory/instances.js';
import { BACKUP_REGISTRY, BACKUP_SCHEMA, type BackupStep, type BackupTableRecord, type TableRef } from './model.js';

export const quote = (engine: Engine, name: string): string =>
  engine === 'POSTGRES' ? `"${name.replace(/"/g, '""')}"` : `\`${name.replace(/`/g, '``')}\``;
export const qualify = (engine: Engine, t: TableRef): string => `${t.schema !== undefined ? `${quote(engine, t.schema)}.` : ''}${quote(engine, t.name)}`;
export const backupRef = (name: string): Required<TableRef> => ({ schema: BACKUP_SCHEMA, name });
const list = (engine: Engine, cols: string[], alias?: string) => cols.map((c) => `${alias ? `${quote(engine, alias)}.` : ''}${quote(engine, c)}`).join(', ');
/** `(a.x, a.y)`, or `a.x` for a one-column key (both engines accept a row on each side of IN). */
const tuple = (engine: Engine, cols: string[], alias?: string) => (cols.length === 1 ? list(engine, cols, alias) : `(${list(engine, cols, alias)})`);

/** Splits `schema.table` as the records keep it (the first dot: schemas named with a dot are not supported). */
export function parseQualified(s: string): Required<TableRef> {
  const i = s.indexOf('.');
  return { schema: s.slice(0, i), name: s.slice(i + 1) };
}

/** DDL that makes the backup schema/database and its registry (both engines: IF NOT EXISTS). */
export function backupSchemaDdl(engine: Engine): string[] {
  const s = quote(engine, BACKUP_SCHEMA);
  const reg = `${s}.${quote(engine, BACKUP_REGISTRY)}`;
  return engine === 'POSTGRES'
    ? [
        `CREATE SCHEMA IF NOT EXISTS ${s}`,
        `CREATE TABLE IF NOT EXISTS ${reg} (backup_table text PRIMARY KEY, task_key text NOT NULL, attempt int NOT NULL, statement int NOT NULL, seq int NOT NULL, source text NOT NULL, action text NOT NULL, key_columns text NOT NULL, restore_columns text NOT NULL, overriding boolean NOT NULL, row_count bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
      ]
    : [
        `CREATE DATABASE IF NOT EXISTS ${s}`,
        `CREATE TABLE IF NOT EXISTS ${reg} (backup_table varchar(64) PRIMARY KEY, task_key varchar(255) NOT NULL, attempt int NOT NULL, statement int NOT NULL, seq int NOT NULL, source varchar(300) NOT NULL, action varchar(16) NOT NULL, key_columns text NOT NULL, restore_columns text NOT NULL, overriding boolean NOT NULL, row_count bigint NOT NULL, created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, KEY (task_key)) ENGINE=InnoDB`,
      ];
}

/** An empty table shaped like the rows it will hold (plain columns, no defaults or triggers), keyed as its source. */
export function createBackupTable(engine: Engine, step: BackupStep): string {
  const bk = qualify(engine, backupRef(step.backup));
  const cols = step.action === 'INSERT' ? list(engine, step.key) : '*';
  const key = list(engine, step.key);
  return engine === 'POSTGRES'
    ? `CREATE TABLE ${bk} AS SELECT ${cols} FROM ${qualify(engine, step.source)} WITH NO DATA; ALTER TABLE ${bk} ADD PRIMARY KEY (${key})`
    : `CREATE TABLE ${bk} (PRIMARY KEY (${key})) ENGINE=InnoDB AS SELECT ${cols} FROM ${qualify(engine, step.source)} WHERE 1 = 0`;
}

export const fillFrom = (engine: Engine, step: BackupStep, select: string): string => `INSERT INTO ${qualify(engine, backupRef(step.backup))} ${select}`;
export const insertKeysInto = (engine: Engine, step: BackupStep, select: string): string =>
  `INSERT INTO ${qualify(engine, backupRef(step.backup))} (${list(engine, step.key)}) ${select}`;

/** The rows of `child` that reference rows in the parent's backup through `columns` → `references`, locked. */
export function childRowsQuery(engine: Engine, child: Required<TableRef>, columns: string[], parentBackup: string, references: string[]): string {
  const alias = 'sluice_c';
  const lock = engine === 'POSTGRES' ? ` FOR UPDATE OF ${quote(engine, alias)}` : ' FOR UPDATE';
  return `SELECT ${quote(engine, alias)}.* FROM ${qualify(engine, child)} AS ${quote(engine, alias)} WHERE ${tuple(engine, columns, alias)} IN (SELECT ${list(engine, references)} FROM ${qualify(engine, backupRef(parentBackup))})${lock}`;
}

/** The registry row of one backup table (values bound as parameters: `$n` on PostgreSQL, `?` on MySQL). */
export function registryInsert(engine: Engine): string {
  const cols = ['backup_table', 'task_key', 'attempt', 'statement', 'seq', 'source', 'action', 'key_columns', 'restore_columns', 'overriding', 'row_count'];
  const params = cols.map((_, i) => (engine === 'POSTGRES' ? `$${i + 1}` : '?')).join(', ');
  return `INSERT INTO ${qualify(engine, backupRef(BACKUP_REGISTRY))} (${cols.join(', ')}) VALUES (${params})`;
}

/**
 * The statement that undoes a task run's changes from its backup tables: statements in reverse
 * order; within one statement, the tables in the order they were filled (a parent before the rows
 * that cascaded from it, so re-inserted children find their parent). Updated rows get their old
 * values back by key, deleted rows are inserted again, inserted rows are deleted.
 */
export function restoreStatement(engine: Engine, tables: readonly BackupTableRecord[]): string {
  const byStatement = new Map<number, BackupTableRecord[]>();
  for (const t of tables) byStatement.set(t.statement, [...(byStatement.get(t.statement) ?? []), t]);
  const order = [...byStatement.keys()].sort((a, b) => b - a);
  const out: string[] = [];
  for (const s of order) {
    for (const t of byStatement.get(s)!) {
      const src = parseQualified(t.source);
      const bk = parseQualified(t.backup);
      const on = t.key.map((k) => `${quote(engine, 't')}.${quote(engine, k)} = ${quote(engine, 'b')}.${quote(engine, k)}`).join(' AND ');
      if (t.action === 'UPDATE') {
        if (t.restore.length === 0) continue;
        const sets = t.restore.map((c) => `${quote(engine, c)} = ${quote(engine, 'b')}.${quote(engine, c)}`);
        out.push(
          engine === 'POSTGRES'
            ? `UPDATE ${qualify(engine, src)} AS ${quote(engine, 't')} SET ${sets.join(', ')} FROM ${qualify(engine, bk)} AS ${quote(engine, 'b')} WHERE ${on}`
            : `UPDATE ${qualify(engine, src)} AS ${quote(engine, 't')} JOIN ${qualify(engine, bk)} AS ${quote(engine, 'b')} ON ${on} SET ${t.restore.map((c) => `${quote(engine, 't')}.${quote(engine, c)} = ${quote(engine, 'b')}.${quote(engine, c)}`).join(', ')}`,
        );
      } else if (t.action === 'DELETE') {
        const cols = list(engine, t.restore);
        out.push(`INSERT INTO ${qualify(engine, src)} (${cols})${t.overriding && engine === 'POSTGRES' ? ' OVERRIDING SYSTEM VALUE' : ''} SELECT ${cols} FROM ${qualify(engine, bk)}`);
      } else {
        out.push(`DELETE FROM ${qualify(engine, src)} WHERE ${tuple(engine, t.key)} IN (SELECT ${list(engine, t.key)} FROM ${qualify(engine, bk)})`);
      }
    }
  }
  return out.map((s) => `${s};`).join('\n');
}
