// Module-scope wiring: one DynamoDB client per container, reused across invocations.
import type { Deps } from '../../domain/inventory/ports.js';
import { createStore } from '../adapters/dynamo/client.js';
import { dynamoRepos } from '../adapters/dynamo/store.js';
import { DynamoConfigRepo, DynamoIdempotencyRepo } from '../adapters/dynamo/support.js';
import { DynamoAuditRepo } from '../adapters/dynamo/audit.js';
import { AuditTrail } from './audit.js';

export const store = createStore();
export const deps: Deps = { ...dynamoRepos(store), now: () => new Date() };
export const idempotency = new DynamoIdempotencyRepo(store);
export const config = new DynamoConfigRepo(store);
export const auditRepo = new DynamoAuditRepo(store);
/** Every handler family's audit trail: one entry per request to a route that is not a GET. */
export const audit = new AuditTrail({ repo: auditRepo, workspace: deps.workspace, users: deps.users });
