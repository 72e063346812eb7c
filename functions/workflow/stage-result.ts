// StageResult: DONE when every task of the stage is DONE or SKIPPED, else FAILED.
import { stageResult } from '../../domain/pipeline/workflow.js';
import type { StageResultInput, StageResultOutput } from '../../domain/pipeline/orchestrator.js';
import { workflowDeps } from '../shared/wiring-issues.js';

export const handler = (input: StageResultInput): Promise<StageResultOutput> => stageResult(workflowDeps, input);
