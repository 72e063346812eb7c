// `npm start`'s stand-in for the deployed EventBridge schedule of the prior-backup cleanup: the
// same handler (functions/workflow/backup-cleanup.ts), every CLEANUP_INTERVAL_MINUTES, first a
// minute after the start. SLUICE_BACKUP_CLEANUP_MS changes the interval (tests, demos).
import { CLEANUP_INTERVAL_MINUTES } from '../../domain/backup/cleanup.js';
import { handler } from '../../functions/workflow/backup-cleanup.js';

export function startBackupCleanupTimer(say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): { stop(): Promise<void> } {
  const configured = Number(env.SLUICE_BACKUP_CLEANUP_MS);
  const every = Number.isInteger(configured) && configured > 0 ? configured : CLEANUP_INTERVAL_MINUTES * 60_000;
  let running: Promise<unknown> | undefined;
  const tick = () => {
    if (running) return;
    running = handler()
      .then((s) => {
        if (s.dropped > 0) say(`backup cleanup: dropped the backups of ${s.dropped} task run(s) (${s.tables} table(s)) past their retention`);
        for (const f of s.failed) say(`backup cleanup: ${f.database}: ${f.error}`);
      })
      .catch((e: unknown) => say(`backup cleanup failed: ${(e as Error).message}`))
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(tick, Math.min(every, 60_000));
  const timer = setInterval(tick, every);
  first.unref();
  timer.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
