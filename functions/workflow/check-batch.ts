// One item of the CheckTargets Map: the target checks of a batch of tasks (EXPLAIN on each target).
import { checkBatch, type CheckBatchInput } from '../../domain/pipeline/plan-checks.js';
import { planCheckDeps } from '../shared/wiring-checks.js';

export const handler = (input: CheckBatchInput): Promise<{ checked: number }> => checkBatch(planCheckDeps, input);
