// The GitOps worker on one machine: what Lambda's asynchronous invoke does in the cloud, in this
// process. The webhook's dispatch returns at once; the worker runs on the next turn of the event
// loop, and a failed run is tried twice more, as Lambda retries an Event invocation.
import type { VcsDispatcher, VcsWorkerInput } from '../../domain/gitops/vcs.js';
import { logger } from '../../functions/shared/logger.js';

export interface LocalVcsDispatcher extends VcsDispatcher {
  /** Resolves when every queued delivery has been processed (tests, shutdown). */
  idle(): Promise<void>;
}

export function localVcsDispatcher(options: { retryDelayMs?: number } = {}): LocalVcsDispatcher {
  const running = new Set<Promise<void>>();
  const delay = options.retryDelayMs ?? 1000;
  const run = async (input: VcsWorkerInput): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    const { handler } = await import('../../functions/workflow/vcs-worker.js');
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(input);
        return;
      } catch (e) {
        logger.error('vcs worker failed', { project: input.project, delivery: input.delivery, attempt, error: (e as Error).name, message: (e as Error).message });
        if (attempt === 3) return;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
  return {
    async dispatch(input) {
      const p = run(input).finally(() => running.delete(p));
      running.add(p);
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
