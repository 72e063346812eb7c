// Module-scope wiring for the GitOps functions: the VCS store on the shared DynamoDB client and
// the secret store (the connector's webhook secret and access token), without the SQL drivers.
import type { VcsDeps } from '../../domain/gitops/vcs.js';
import { DynamoVcsRepo } from '../adapters/dynamo/vcs.js';
import { deps, store } from './wiring.js';
import { secretStoreFrom } from './wiring-secrets.js';
import { allowLoopback, outboundPolicy, resolveHost } from './wiring-notify.js';
import { guardedFetch } from '../adapters/notify/http-sender.js';
import { restFileReader as restReader } from '../adapters/vcs/rest.js';

export const vcsRepo = new DynamoVcsRepo(store);
export const vcsSecrets = secretStoreFrom(process.env);
export const vcsDeps: VcsDeps = {
  ...deps, vcs: vcsRepo, secrets: vcsSecrets,
  get outbound() {
    return { allowLoopback: allowLoopback(), resolve: resolveHost };
  },
};
/** The provider's files, read through the outbound-address guard (checked again at each connection). */
export const restFileReader = (fetchImpl: typeof fetch = guardedFetch(outboundPolicy)) => restReader(fetchImpl);
