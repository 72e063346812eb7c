// A fresh, seeded table per test file on the run's DynamoDB Local.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { ensureTable } from '../../infra/local/dynamo-local.js';
import { seed, type SeedOptions, type SeedResult } from '../../functions/adapters/dynamo/seed.js';
import { createStore } from '../../functions/adapters/dynamo/client.js';
import type { DynamoStore } from '../../functions/adapters/dynamo/store.js';
import { DynamoAuditRepo } from '../../functions/adapters/dynamo/audit.js';
import { recordAuditSource } from './capture.js';

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
  // The secrets scan reads every audit entry of the table after the file.
  recordAuditSource(() => auditEntries(store));
  return { tableName, endpoint, store, seeded };
}

/** Every audit entry in the table (all of the log, paged; the retention window does not apply). */
export async function auditEntries(store: DynamoStore): Promise<unknown[]> {
  const repo = new DynamoAuditRepo(store);
  const out: unknown[] = [];
  let cursor: unknown;
  do {
    const page = await repo.list({}, { limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.next;
  } while (cursor !== undefined);
  return out;
}
