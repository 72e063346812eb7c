// Module-scope wiring for the GitOps functions: the VCS store on the shared DynamoDB client and
// the secret store (the connector's webhook secret and access token), without the SQL drivers.
import type { VcsDeps } from '../../domain/gitops/vcs.js';
import { DynamoVcsRepo } from '../adapters/dynamo/vcs.js';
import { deps, store } from './wiring.js';
import { secretStoreFrom } from './wiring-secrets.js';

export const vcsRepo = new DynamoVcsRepo(store);
export const vcsSecrets = secretStoreFrom(process.env);
export const vcsDeps: VcsDeps = { ...deps, vcs: vcsRepo, secrets: vcsSecrets };
export { restFileReader } from '../adapters/vcs/rest.js';
