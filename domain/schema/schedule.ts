// The scheduled sync (workspace setting syncInterval): a tick (deployed, an EventBridge rule every
// minute; on `npm start`, a timer) starts the sync of every active instance when the interval has
// passed since the last round, and nothing otherwise. The round is claimed on one item first, so
// ticks that overlap start it once. Each instance's sync is the same long-running operation as
// :sync; its schemas are compared with their baselines (drift.ts).
import { syncIntervalSeconds } from '../access/workspace.js';
import { eachLimit } from '../common/values.js';
import { instanceName } from '../common/names.js';
import type { SyncScheduleRepo } from './ports.js';
import { operationName, startSync, type SyncDeps } from './sync.js';

export interface ScheduleDeps extends SyncDeps {
  schedule: SyncScheduleRepo;
}

/** A tick may come this much early (timers and EventBridge are not exact) and still start the round. */
export const TICK_SLACK_MS = 5_000;
/** Instances whose databases are listed at once when a round starts (one connection each). */
const STARTS_AT_ONCE = 4;

export interface ScheduledRound {
  /** Whether the interval had passed (and this tick started the round). */
  due: boolean;
  started: string[];
  /** Instances whose sync could not start (unreachable, deleted data source): the next round tries again. */
  failed: { instance: string; error: string }[];
}

export async function scheduledSync(deps: ScheduleDeps): Promise<ScheduledRound> {
  const now = deps.now();
  const interval = syncIntervalSeconds(await deps.workspace.get());
  const dueBefore = new Date(now.getTime() - interval * 1000 + TICK_SLACK_MS).toISOString();
  if (!(await deps.schedule.claim(now.toISOString(), dueBefore))) return { due: false, started: [], failed: [] };
  const instances = (await deps.instances.listAll()).filter((i) => i.state === 'ACTIVE').map((i) => i.id).sort();
  const round: ScheduledRound = { due: true, started: [], failed: [] };
  await eachLimit(instances, STARTS_AT_ONCE, async (id) => {
    try {
      round.started.push(operationName((await startSync(deps, id)).id));
    } catch (e) {
      round.failed.push({ instance: instanceName(id), error: (e as Error).message });
    }
  });
  round.started.sort();
  round.failed.sort((a, b) => a.instance.localeCompare(b.instance));
  return round;
}
