// The pipeline's Advance state: the next stage with work, or done (docs/pipeline-state-machine.md).
import { advance } from '../../domain/pipeline/workflow.js';
import type { AdvanceOutput, PipelineInput } from '../../domain/pipeline/orchestrator.js';
import { workflowDeps } from '../shared/wiring-issues.js';

export const handler = (input: PipelineInput): Promise<AdvanceOutput> => advance(workflowDeps, input);
