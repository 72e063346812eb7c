// The approval gate (.waitForTaskToken): stores the token on the stage and returns at once.
import { approvalGate } from '../../domain/pipeline/workflow.js';
import type { GateInput } from '../../domain/pipeline/orchestrator.js';
import { workflowDeps } from '../shared/wiring-issues.js';

export const handler = async (input: GateInput): Promise<Record<string, never>> => {
  await approvalGate(workflowDeps, input);
  return {};
};
