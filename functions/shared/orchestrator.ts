// The orchestrator the HTTP handlers use: Step Functions in the cloud; the local runtime (and the
// tests) install the local runner with setOrchestrator before the first request.
import type { Orchestrator } from '../../domain/pipeline/orchestrator.js';
import { createOrchestrator } from '../adapters/sfn/orchestrator.js';

let current: Orchestrator | undefined;

export const orchestrator = (): Orchestrator => (current ??= createOrchestrator());
export const setOrchestrator = (next: Orchestrator | undefined): void => {
  current = next;
};
