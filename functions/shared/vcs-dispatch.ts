// The hand-off the webhook uses: the worker Lambda in the cloud; the local runtime (and the tests)
// install an in-process one with setVcsDispatcher before the first delivery.
import type { VcsDispatcher } from '../../domain/gitops/vcs.js';

let current: VcsDispatcher | undefined;

export const vcsDispatcher = async (): Promise<VcsDispatcher> => {
  if (!current) {
    // Loaded on first use: the Lambda client stays out of the way of a receiver that only answers 401s.
    const { lambdaDispatcherFrom } = await import('../adapters/vcs/lambda-dispatch.js');
    current = lambdaDispatcherFrom(process.env);
  }
  return current;
};

export const setVcsDispatcher = (next: VcsDispatcher | undefined): void => {
  current = next;
};
