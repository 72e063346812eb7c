// Wiring for the schema context: recorded schemas, operations, the catalog readers and the
// runner of background syncs. Deployed, a sync runs as an execution of the sync state machine
// (SYNC_STATE_MACHINE_ARN); `npm start` installs the local runner of the same state machine
// (functions/shared/sync-runner.ts). Without either (handler tests in one process), the same steps run in this
// process, one after another, as the state machine would run them.
import { failSync, syncStep, type SyncDeps, type SyncRunner } from '../../domain/schema/sync.js';
import { DynamoOperationRepo, DynamoSyncScheduleRepo } from '../adapters/dynamo/operations.js';
import { sqlDrivers } from '../adapters/sql/index.js';
import type { Logger } from './logger.js';
import { store } from './wiring.js';
import { schemaRepo } from './wiring-repos.js';
import { sqlDeps } from './wiring-sql.js';
import { installedSyncRunner } from './sync-runner.js';
import { driftNotifier } from './wiring-drift.js';

export { schemaRepo };
export const operationRepo = new DynamoOperationRepo(store);
/** The scheduled sync's last round (functions/workflow/sync-schedule.ts). */
export const syncScheduleRepo = new DynamoSyncScheduleRepo(store);
/** Catalog reads of a large schema take longer than a connection test: 60 s per query. */
export const schemaReader = sqlDrivers({ queryTimeoutMs: 60_000 });

/** How long one in-process step works before yielding (the Lambda uses its remaining time). */
const IN_PROCESS_BUDGET_MS = 10_000;

class InProcessSyncRunner implements SyncRunner {
  private readonly running = new Set<Promise<void>>();
  constructor(private readonly deps: () => SyncDeps) {}

  start(operationId: string): Promise<void> {
    const run = (async () => {
      try {
        while (!(await syncStep(this.deps(), operationId, IN_PROCESS_BUDGET_MS)).done);
      } catch (e) {
        // As the state machine's SyncFailed does; a store that is gone too (a test's table dropped) leaves it at that.
        await failSync(this.deps(), operationId, (e as Error).message).catch(() => undefined);
      }
    })();
    this.running.add(run);
    void run.then(() => this.running.delete(run));
    return Promise.resolve();
  }

  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}

/**
 * The deployed runner, its Step Functions client (22 KB) loaded on the first sync started (as the
 * issues function's orchestrator, functions/shared/orchestrator.ts): most requests to the instances
 * function, and every step of a sync, start none.
 */
function lazySfnSyncRunner(stateMachineArn: string): SyncRunner {
  let runner: Promise<SyncRunner> | undefined;
  const load = (): Promise<SyncRunner> =>
    (runner ??= import('../adapters/sfn/sync.js')
      .then((m) => m.sfnSyncRunner(stateMachineArn))
      .catch((e: unknown) => {
        runner = undefined;
        throw e;
      }));
  return { start: async (operationId) => (await load()).start(operationId) };
}

let deployed: SyncRunner | undefined;
const inProcess = new InProcessSyncRunner(() => syncDeps());

export function syncRunner(): SyncRunner {
  const installed = installedSyncRunner();
  if (installed) return installed;
  const arn = process.env.SYNC_STATE_MACHINE_ARN;
  return arn ? (deployed ??= lazySfnSyncRunner(arn)) : inProcess;
}
/** Waits for the syncs running in this process (tests, and a local shutdown). */
export const syncsIdle = (): Promise<void> => inProcess.idle();

export const syncDeps = (log?: Logger): SyncDeps => ({ ...sqlDeps(log), schemaReader, schemas: schemaRepo, operations: operationRepo, syncRunner: syncRunner(), drift: driftNotifier });
