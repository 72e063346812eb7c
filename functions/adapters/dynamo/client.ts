import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withAuditJoin } from './audit.js';
import { DynamoStore } from './store.js';

/** A store on TABLE_NAME; DYNAMODB_ENDPOINT points it at DynamoDB Local. */
export function createStore(env: NodeJS.ProcessEnv = process.env): DynamoStore {
  const endpoint = env.DYNAMODB_ENDPOINT;
  const client = new DynamoDBClient(
    endpoint
      ? { endpoint, region: env.AWS_REGION ?? 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {},
  );
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const tableName = env.TABLE_NAME ?? 'sluice';
  // A write made while an audited request runs carries its audit entry (adapters/dynamo/audit.ts).
  return new DynamoStore(withAuditJoin(doc, tableName), tableName);
}
