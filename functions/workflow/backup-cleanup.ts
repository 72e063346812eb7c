// The scheduled cleanup of prior backups (domain/backup/cleanup.ts): deployed, an EventBridge
// schedule invokes this Lambda (infra/lib/sluice-stack.ts); `npm start` calls the same handler
// from a timer (infra/local/main.ts). It drops backup tables older than their project's
// priorBackupRetention and records the drop on each task run. Safe to run twice at once: a drop
// is IF EXISTS, and the index entry goes with the record of the drop.
import { cleanupBackups, type CleanupSummary } from '../../domain/backup/cleanup.js';
import { logger } from '../shared/logger.js';

/** One cleanup as of `now` (the handler: the clock; tests: a time past a retention). */
export async function runBackupCleanup(now: Date): Promise<CleanupSummary> {
  const [{ deps }, { backupIndex, backupDropper }] = await Promise.all([import('../shared/wiring.js'), import('../shared/wiring-backup.js')]);
  const summary = await cleanupBackups({ index: backupIndex, instances: deps.instances, projects: deps.projects, dropper: backupDropper, now: () => now, log: logger });
  if (summary.dropped > 0 || summary.failed.length > 0) logger.info('backup cleanup', { ...summary });
  return summary;
}

/** The schedule's event carries nothing the cleanup uses: it always runs as of now. */
export const handler = async (): Promise<CleanupSummary> => runBackupCleanup(new Date());
