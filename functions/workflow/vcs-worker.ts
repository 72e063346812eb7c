// The GitOps worker: turns a recorded push delivery into issues (domain/gitops/gitops.ts). Invoked
// asynchronously by the webhook (Lambda Event invoke; locally in-process), with ids only.
import { processDelivery } from '../../domain/gitops/gitops.js';
import type { VcsWorkerInput } from '../../domain/gitops/vcs.js';
import { logger } from '../shared/logger.js';
import { issueDeps } from '../shared/wiring-issues.js';
import { restFileReader, vcsRepo, vcsSecrets } from '../shared/wiring-vcs.js';

const reader = restFileReader();

export const handler = async (input: VcsWorkerInput): Promise<{ status: string }> => {
  const log = logger.child({ worker: 'vcs', project: input.project, delivery: input.delivery });
  const done = await processDelivery({ ...issueDeps(), vcs: vcsRepo, secrets: vcsSecrets, reader, log }, input);
  return { status: done?.status ?? 'NOT_FOUND' };
};
