// StageResult: DONE when every task of the stage is DONE or SKIPPED, else FAILED.
import { stageResult } from '../../domain/issues.js';
import type { StageResultInput, StageResultOutput } from '../../domain/orchestrator.js';
import { workflowDeps } from '../shared/wiring-issues.js';

export const handler = (input: StageResultInput): Promise<StageResultOutput> => stageResult(workflowDeps, input);
