// The issue collection's stores without the orchestrator: change histories (reads, accepted drift)
// and single-item reads of issues and tasks. Apart from wiring-repos.ts because esbuild keeps in a
// cold start the code a lazy chunk uses from any file the entry reaches statically: the sql
// function imports this only on its acceptDrift route.
import { DynamoIssueRepo } from '../adapters/dynamo/issues.js';
import { DynamoTaskRunStore } from '../adapters/dynamo/task-runs.js';
import { store } from './wiring.js';

export const issueRepo = /* @__PURE__ */ new DynamoIssueRepo(store);
/** Single-item reads of issues and tasks (no whole pipeline): a delivery's record shows its issues' plan checks. */
export const issueItems = /* @__PURE__ */ new DynamoTaskRunStore(store);
