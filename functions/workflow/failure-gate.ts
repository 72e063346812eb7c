// The failure gate (.waitForTaskToken): stores the token on the failed stage; :run / :skip use it.
import { failureGate } from '../../domain/pipeline/workflow.js';
import type { GateInput } from '../../domain/pipeline/orchestrator.js';
import { workflowDeps } from '../shared/wiring-issues.js';

export const handler = async (input: GateInput): Promise<Record<string, never>> => {
  await failureGate(workflowDeps, input);
  return {};
};
