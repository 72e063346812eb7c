// CloudFormation custom resource (onEvent of a CDK Provider): seeds the table at deploy time.
// Create and Update seed (every write is create-if-absent, so a re-run only adds what is
// missing, e.g. a new adminEmail); Delete does nothing because the table is retained.
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createStore } from '../adapters/dynamo/client.js';
import { seed } from '../adapters/dynamo/seed.js';
import { logger } from '../shared/logger.js';

const store = createStore();

export interface SeedResponse {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<SeedResponse> {
  // Stable across updates: a new id would make CloudFormation delete the "old" resource.
  const physicalId = event.RequestType === 'Create' ? `sluice-seed:${store.tableName}` : event.PhysicalResourceId;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalId };

  const adminEmail = String(event.ResourceProperties.adminEmail ?? '').trim() || undefined;
  try {
    const { admin } = await seed(store, { adminEmail, environments: true });
    logger.info('seeded', { requestType: event.RequestType, table: store.tableName, admin: admin ? `users/${admin.id}` : null });
    return { PhysicalResourceId: physicalId, Data: { admin: admin ? `users/${admin.id}` : '' } };
  } catch (err) {
    // The provider framework puts this message in the stack event, so make it say what failed.
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    logger.error('seed failed', { table: store.tableName, reason });
    throw new Error(`Sluice seed of table ${store.tableName} failed: ${reason}`, { cause: err });
  }
}
