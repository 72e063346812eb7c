// Retention: the scheduled cleanup drops backup tables older than their project's
// priorBackupRetention (deployed: an EventBridge schedule invokes functions/workflow/backup-cleanup.ts;
// `npm start`: a timer calls the same handler). Each backup is found through the index the task
// run wrote with it; its tables are dropped on the target, then the task run says when
// (`priorBackup.dropTime`), so a rollback after that is a 400 that says the backup expired.
import type { Instance } from '../inventory/instances.js';
import type { InstanceRepo } from '../inventory/ports.js';
import { retentionSeconds, type ProjectRepo } from '../inventory/projects.js';

/** How often the cleanup runs: the deployed schedule and the `npm start` timer. */
export const CLEANUP_INTERVAL_MINUTES = 60;

/** One task run's backup, as the index holds it. */
export interface BackupIndexEntry {
  instance: string;
  database: string;
  project: string;
  issue: number;
  task: number;
  attempt: number;
  createTime: string;
  /** `sluice_backup.<name>` of each table. */
  tables: string[];
}

export interface BackupIndex {
  /** The instance's backups made before `before`, oldest first. */
  listBefore(instance: string, before: string): Promise<BackupIndexEntry[]>;
  /** Records the drop on the task run (`priorBackup.dropTime`) and removes the entry, in one transaction. */
  markDropped(entry: BackupIndexEntry, dropTime: string): Promise<void>;
}

/** Drops backup tables on a target database (functions/adapters/sql/backup-cleanup.ts). */
export interface BackupDropper {
  /**
   * Drops `tables` and their registry rows; also drops tables of the backup schema that no
   * registry row describes and that are older than `orphansBefore` (left by a runner that died
   * on MySQL, where backup tables are made before the transaction).
   */
  drop(instance: Instance, database: string, tables: string[], orphansBefore: string): Promise<void>;
}

export interface CleanupDeps {
  index: BackupIndex;
  instances: Pick<InstanceRepo, 'listAll'>;
  projects: Pick<ProjectRepo, 'listAll'>;
  dropper: BackupDropper;
  now(): Date;
  log?: { warn(msg: string, fields?: Record<string, unknown>): void };
}

export interface CleanupSummary {
  /** Task runs whose backups were dropped. */
  dropped: number;
  /** Tables dropped. */
  tables: number;
  /** Databases where dropping failed (tried again at the next run). */
  failed: { database: string; error: string }[];
}

export async function cleanupBackups(deps: CleanupDeps): Promise<CleanupSummary> {
  const now = deps.now();
  const projects = await deps.projects.listAll();
  const retention = new Map(projects.map((p) => [p.id, retentionSeconds(p)]));
  // Nothing younger than the shortest retention of any project can be due.
  const shortest = Math.min(...projects.map((p) => retentionSeconds(p)), retentionSeconds(undefined));
  const before = new Date(now.getTime() - shortest * 1000).toISOString();
  const summary: CleanupSummary = { dropped: 0, tables: 0, failed: [] };
  // A deleted instance keeps its backups (nothing connects to it); they go if it is undeleted.
  for (const instance of (await deps.instances.listAll()).filter((i) => i.state !== 'DELETED')) {
    const due = (await deps.index.listBefore(instance.id, before)).filter(
      (e) => Date.parse(e.createTime) + (retention.get(e.project) ?? retentionSeconds(undefined)) * 1000 <= now.getTime(),
    );
    const byDatabase = new Map<string, BackupIndexEntry[]>();
    for (const e of due) byDatabase.set(e.database, [...(byDatabase.get(e.database) ?? []), e]);
    for (const [database, entries] of byDatabase) {
      try {
        await deps.dropper.drop(instance, database, entries.flatMap((e) => e.tables), before);
      } catch (e) {
        const error = (e as Error).message;
        summary.failed.push({ database: `instances/${instance.id}/databases/${database}`, error });
        deps.log?.warn('backup cleanup: could not drop backups', { instance: instance.id, database, error });
        continue;
      }
      const time = now.toISOString();
      for (const e of entries) {
        await deps.index.markDropped(e, time);
        summary.dropped++;
        summary.tables += e.tables.length;
      }
    }
  }
  return summary;
}
