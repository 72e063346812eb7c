// One DynamoDB Local (in memory) for the whole run; each test file makes its own table on it.
import type { TestProject } from 'vitest/node';
import { startDynamoLocal, type DynamoLocal } from '../../infra/local/dynamo-local.js';
import { setupMysql } from './mysql.js';
import { setupPostgres, type PostgresServers } from './postgres.js';

let dynamo: DynamoLocal | undefined;
let postgres: PostgresServers | undefined;

export async function setup(project: TestProject): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  dynamo = await startDynamoLocal();
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  project.provide('dynamoEndpoint', dynamo.endpoint);
  postgres = await setupPostgres(project);
  await setupMysql(project);
}

export async function teardown(): Promise<void> {
  await dynamo?.stop();
  await postgres?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
