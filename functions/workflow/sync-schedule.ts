// The scheduled sync's tick (domain/schema/schedule.ts): deployed, an EventBridge rule invokes
// this Lambda every minute (infra/lib/sluice-stack.ts); `npm start` calls the same handler from a
// timer (infra/local/sync-schedule.ts). When the workspace's syncInterval has passed since the last
// round, it starts the sync of every active instance (an execution of the sync state machine each).
import { scheduledSync, type ScheduledRound } from '../../domain/schema/schedule.js';
import { logger } from '../shared/logger.js';

export async function runScheduledSync(): Promise<ScheduledRound> {
  const { syncDeps, syncScheduleRepo } = await import('../shared/wiring-schema.js');
  const round = await scheduledSync({ ...syncDeps(logger), schedule: syncScheduleRepo });
  if (round.due) logger.info('scheduled sync', { started: round.started.length, failed: round.failed });
  return round;
}

/** The rule's event carries nothing the tick uses. */
export const handler = async (): Promise<ScheduledRound> => runScheduledSync();
