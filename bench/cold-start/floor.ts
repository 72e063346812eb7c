// The cold-start floor: the least a DynamoDB-backed handler can import. Only the document client
// over the DynamoDB client, created at module scope like a real handler's init, and one GetCommand.
// bench/cold-start/run.ts bundles this with the same options as every handler and compares against it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });

export const handler = async (event: { id?: string }) =>
  doc.send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: event.id ?? 'x', sk: event.id ?? 'x' } }));
