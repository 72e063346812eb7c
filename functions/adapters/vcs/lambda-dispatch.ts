// Deployed: the webhook hands a recorded delivery to the GitOps worker Lambda with an
// asynchronous invoke (InvocationType Event): Lambda queues it and retries, the receiver answers
// within the provider's 10 s. The payload is ids only; the worker reads the rest from the table.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { VcsDispatcher, VcsWorkerInput } from '../../../domain/gitops/vcs.js';

export class LambdaVcsDispatcher implements VcsDispatcher {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async dispatch(input: VcsWorkerInput): Promise<void> {
    const out = await this.client.send(new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(input)) }));
    if (out.StatusCode !== 202) throw new Error(`the GitOps worker was not queued (status ${out.StatusCode})`);
  }
}

/** VCS_WORKER_FUNCTION: the worker's name or ARN (set by the stack). */
export function lambdaDispatcherFrom(env: NodeJS.ProcessEnv): VcsDispatcher {
  const name = env.VCS_WORKER_FUNCTION;
  if (!name) return { dispatch: async () => Promise.reject(new Error('no GitOps worker configured: set VCS_WORKER_FUNCTION')) };
  return new LambdaVcsDispatcher(new LambdaClient({}), name);
}
