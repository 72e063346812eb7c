// The checks gate (.waitForTaskToken): stores the token on the issue; :overrideChecks or an edited statement resolves it.
import { checksGate } from '../../domain/pipeline/plan-checks.js';
import { planCheckDeps } from '../shared/wiring-checks.js';

export const handler = async (input: { issue: string; token: string }): Promise<Record<string, never>> => {
  await checksGate(planCheckDeps, input);
  return {};
};
