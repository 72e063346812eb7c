// A fresh, seeded table per test file on the run's DynamoDB Local.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { ensureTable } from '../../infra/local/dynamo-local.js';
import { seed, type SeedOptions, type SeedResult } from '../../functions/adapters/dynamo/seed.js';
import { createStore } from '../../functions/adapters/dynamo/client.js';
import type { DynamoStore } from '../../functions/adapters/dynamo/store.js';

export interface TestTable {
  tableName: string;
  endpoint: string;
  store: DynamoStore;
  seeded: SeedResult;
}

/** Creates and seeds a table, and points process.env at it so handlers imported afterwards use it. */
export async function freshTable(options: SeedOptions = { adminEmail: 'admin@example.com', environments: true }): Promise<TestTable> {
  const endpoint = inject('dynamoEndpoint');
  const tableName = `sluice-test-${randomUUID().slice(0, 8)}`;
  await ensureTable(endpoint, tableName);
  process.env.DYNAMODB_ENDPOINT = endpoint;
  process.env.TABLE_NAME = tableName;
  const store = createStore({ DYNAMODB_ENDPOINT: endpoint, TABLE_NAME: tableName, AWS_REGION: 'local' });
  const seeded = await seed(store, options);
  return { tableName, endpoint, store, seeded };
}
