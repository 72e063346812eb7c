// Module-scope wiring: one DynamoDB client per container, reused across invocations.
import type { Deps } from '../../domain/inventory/ports.js';
import { createStore } from '../adapters/dynamo/client.js';
import { dynamoRepos } from '../adapters/dynamo/store.js';
import { DynamoConfigRepo, DynamoIdempotencyRepo } from '../adapters/dynamo/support.js';
import { DynamoAuditRepo } from '../adapters/dynamo/audit.js';
import { AuditTrail } from './audit.js';

export const store = createStore();
export const deps: Deps = { ...dynamoRepos(store), now: () => new Date() };
// Marked pure (as in wiring-repos.ts): the workflow functions import this module for the store and
// the repos, and carry neither the HTTP side's idempotency and paging repos nor the audit trail.
export const idempotency = /* @__PURE__ */ new DynamoIdempotencyRepo(store);
export const config = /* @__PURE__ */ new DynamoConfigRepo(store);
export const auditRepo = /* @__PURE__ */ new DynamoAuditRepo(store);
/** Every handler family's audit trail: one entry per request to a route that is not a GET. */
export const audit = /* @__PURE__ */ new AuditTrail({ repo: auditRepo, workspace: deps.workspace, users: deps.users });
