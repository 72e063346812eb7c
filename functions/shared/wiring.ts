// Module-scope wiring: one DynamoDB client per container, reused across invocations.
import type { Deps } from '../../domain/inventory/ports.js';
import { createStore } from '../adapters/dynamo/client.js';
import { dynamoRepos } from '../adapters/dynamo/store.js';
import { DynamoConfigRepo, DynamoIdempotencyRepo } from '../adapters/dynamo/support.js';

export const store = createStore();
export const deps: Deps = { ...dynamoRepos(store), now: () => new Date() };
export const idempotency = new DynamoIdempotencyRepo(store);
export const config = new DynamoConfigRepo(store);
