// What the plan-check states add to the shared wiring: review configs, single-item reads of the
// issue and its tasks, and a read-only connection to a target (EXPLAIN and catalog reads).
import { connectionTarget, type Instance } from '../../domain/inventory/instances.js';
import type { PlanCheckDeps } from '../../domain/pipeline/plan-checks.js';
import { DynamoTaskRunStore } from '../adapters/dynamo/task-runs.js';
import { issueRepo } from './wiring-issues.js';
import { reviewConfigRepo, schemaRepo } from './wiring-repos.js';
import { secrets, sql } from './wiring-sql.js';
import { deps, store } from './wiring.js';

/** EXPLAIN and catalog reads are quick; a target that takes longer is reported, not waited on. */
const PROBE_TIMEOUT_MS = 20_000;

export const planCheckDeps: PlanCheckDeps = {
  issues: issueRepo,
  tasks: new DynamoTaskRunStore(store),
  instances: deps.instances,
  projects: deps.projects,
  reviewConfigs: reviewConfigRepo,
  schemas: schemaRepo,
  probe: {
    async withCatalog(instance: Instance, database, work) {
      // The drivers load on first use: PlanCheck, ChecksResult and ChecksGate never connect.
      const [target, { withBackupCatalog }] = await Promise.all([connectionTarget({ secrets, sql }, instance), import('../adapters/sql/backup-catalog.js')]);
      return withBackupCatalog(target, database, work, PROBE_TIMEOUT_MS);
    },
  },
  now: () => new Date(),
};
