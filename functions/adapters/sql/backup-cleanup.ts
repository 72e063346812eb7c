// Dropping expired backup tables on a target (domain/backup/cleanup.ts BackupDropper), with the
// instance's ADMIN data source: each table and its registry row, then the backup schema's tables
// that no registry row describes and that are older than the shortest retention (a MySQL runner
// that died between making its backup tables and its transaction leaves them, empty).
import type { BackupDropper } from '../../../domain/backup/cleanup.js';
import { BACKUP_REGISTRY, BACKUP_SCHEMA } from '../../../domain/backup/model.js';
import { backupRef, parseQualified, qualify } from '../../../domain/backup/sql.js';
import type { SecretStore } from '../../../domain/common/ports.js';
import { connectionTarget, type Instance } from '../../../domain/inventory/instances.js';
import type { SqlDriver } from '../../../domain/inventory/ports.js';
import { mysqlQueryOn, pgQuery, type Query } from './backup-catalog.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, settleWithin } from './common.js';
import { pgClient } from './connect-pg.js';
import { withMysqlConnection } from './connect-mysql.js';

const TIMEOUT_MS = 60_000;
/** connectionTarget reads the secret store only. */
const NO_DRIVER = undefined as unknown as SqlDriver;

async function dropAll(engine: Instance['engine'], query: Query, tables: string[], orphansBefore: string): Promise<void> {
  const registry = qualify(engine, backupRef(BACKUP_REGISTRY));
  const names = tables.map((t) => parseQualified(t).name);
  for (const name of names) await query(`DROP TABLE IF EXISTS ${qualify(engine, backupRef(name))}`);
  if (names.length > 0) {
    const params = names.map((_, i) => (engine === 'POSTGRES' ? `$${i + 1}` : '?')).join(', ');
    await query(`DELETE FROM ${registry} WHERE backup_table IN (${params})`, names);
  }
  // Tables nobody registered (a MySQL runner died after making them): gone once old enough.
  const orphans = engine === 'POSTGRES'
    ? [] // PostgreSQL makes backup tables inside the change's transaction: none can be left unregistered.
    : await query(
        `SELECT t.TABLE_NAME AS name FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME <> ? AND t.CREATE_TIME < ?
            AND NOT EXISTS (SELECT 1 FROM ${registry} r WHERE r.backup_table = t.TABLE_NAME)`,
        [BACKUP_SCHEMA, BACKUP_REGISTRY, new Date(orphansBefore)],
      );
  for (const o of orphans) await query(`DROP TABLE IF EXISTS ${qualify(engine, backupRef(String(o.name ?? o.NAME)))}`);
}

export function sqlBackupDropper(secrets: SecretStore): BackupDropper {
  return {
    async drop(instance, database, tables, orphansBefore) {
      const target = await connectionTarget({ secrets, sql: NO_DRIVER }, instance);
      if (target.engine === 'POSTGRES') {
        const { client, destroy } = pgClient(target, database, { connectMs: DEFAULT_CONNECT_TIMEOUT_MS, statementMs: TIMEOUT_MS, queryMs: TIMEOUT_MS + 5_000, applicationName: 'sluice-backup-cleanup' });
        try {
          await client.connect();
          await dropAll('POSTGRES', pgQuery(client), tables, orphansBefore);
        } finally {
          await settleWithin(client.end(), 1_000);
          destroy();
        }
        return;
      }
      await withMysqlConnection(
        target,
        { connectMs: DEFAULT_CONNECT_TIMEOUT_MS, deadlineMs: DEFAULT_CONNECT_TIMEOUT_MS + TIMEOUT_MS, timeoutMessage: `timed out dropping backups in ${database}`, options: { database } },
        (c) => dropAll('MYSQL', mysqlQueryOn(c, TIMEOUT_MS), tables, orphansBefore),
      );
    },
  };
}
