// The orchestrator the HTTP handlers use: Step Functions in the cloud; the local runtime (and the
// tests) install the local runner with setOrchestrator before the first request.
import type { Orchestrator } from '../../domain/pipeline/orchestrator.js';

let current: Orchestrator | undefined;
let sfn: Promise<Orchestrator> | undefined;

/**
 * Step Functions, its client (23 KB) loaded on first use: most requests to a function that can
 * start or resume an execution (a GET of an issue) never do.
 */
const cloud = (): Promise<Orchestrator> =>
  (sfn ??= import('../adapters/sfn/orchestrator.js')
    .then((m) => m.createOrchestrator())
    .catch((e: unknown) => {
      sfn = undefined;
      throw e;
    }));
const lazyCloud: Orchestrator = {
  startExecution: async (name, input) => (await cloud()).startExecution(name, input),
  stopExecution: async (name, cause) => (await cloud()).stopExecution(name, cause),
  describeExecution: async (name) => (await cloud()).describeExecution(name),
  sendTaskSuccess: async (token, output) => (await cloud()).sendTaskSuccess(token, output),
  sendTaskFailure: async (token, error, cause) => (await cloud()).sendTaskFailure(token, error, cause),
};

export const orchestrator = (): Orchestrator => current ?? lazyCloud;
export const setOrchestrator = (next: Orchestrator | undefined): void => {
  current = next;
};
