// `npm start`'s stand-in for the deployed EventBridge rule of the scheduled sync: the same handler
// (functions/workflow/sync-schedule.ts) on a timer. Each tick reads the workspace's syncInterval
// afresh (a PATCH takes effect at the next tick) and starts every instance's sync when it has
// passed. SLUICE_SYNC_TICK_MS changes how often it looks (default 10 s; the deployed rule: 1 min).
import { handler } from '../../functions/workflow/sync-schedule.js';

const DEFAULT_TICK_MS = 10_000;

export function startSyncScheduleTimer(say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): { stop(): Promise<void> } {
  const configured = Number(env.SLUICE_SYNC_TICK_MS);
  const every = Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_TICK_MS;
  let running: Promise<unknown> | undefined;
  const tick = () => {
    if (running) return;
    running = handler()
      .then((round) => {
        if (round.due) say(`scheduled sync: started the sync of ${round.started.length} instance(s)`);
        for (const f of round.failed) say(`scheduled sync: ${f.instance}: ${f.error}`);
      })
      .catch((e: unknown) => say(`scheduled sync failed: ${(e as Error).message}`))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, every);
  timer.unref();
  tick();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
