// The pipeline's PlanCheck state: statement-only checks once per engine and environment, then the task batches.
import { startPlanCheck, type PlanCheckOutput } from '../../domain/pipeline/plan-checks.js';
import type { PipelineInput } from '../../domain/pipeline/orchestrator.js';
import { planCheckDeps } from '../shared/wiring-checks.js';

export const handler = (input: PipelineInput): Promise<PlanCheckOutput> => startPlanCheck(planCheckDeps, input);
