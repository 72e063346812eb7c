// The pipeline's ChecksResult state: the plan-check summary; an ERROR blocks every stage.
import { checksResult, type ChecksResultOutput } from '../../domain/pipeline/plan-checks.js';
import type { PipelineInput } from '../../domain/pipeline/orchestrator.js';
import { planCheckDeps } from '../shared/wiring-checks.js';

export const handler = (input: PipelineInput): Promise<ChecksResultOutput> => checksResult(planCheckDeps, input);
