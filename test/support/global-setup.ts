// One DynamoDB Local (in memory) for the whole run; each test file makes its own table on it.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynamoLocal, type DynamoLocal } from '../../infra/local/dynamo-local.js';
import { setupMysql } from './mysql.js';
import { setupPostgres, type PostgresServers } from './postgres.js';

let dynamo: DynamoLocal | undefined;
/** Where each test file's secrets-scan counts go (capture.ts); totalled at teardown. */
let scanDir: string | undefined;
let postgres: PostgresServers | undefined;

export async function setup(project: TestProject): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // First: where MariaDB is required and missing, the run fails at once (test/support/mysql.ts).
  await setupMysql(project);
  scanDir = mkdtempSync(join(tmpdir(), 'sluice-secrets-scan-'));
  project.provide('secretsScanDir', scanDir);
  dynamo = await startDynamoLocal();
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  project.provide('dynamoEndpoint', dynamo.endpoint);
  postgres = await setupPostgres(project);
}

export async function teardown(): Promise<void> {
  if (scanDir) {
    const files = readdirSync(scanDir).flatMap((f) => readFileSync(join(scanDir!, f), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number>));
    const sum = (k: string) => files.reduce((n, f) => n + (f[k] ?? 0), 0);
    process.stderr.write(
      `secrets scan: ${files.length} test files, ${sum('passwords')} passwords looked for in ${sum('responses')} responses, ${sum('logs')} log lines, ${sum('payloads')} Step Functions payloads, ${sum('audit')} audit entries: ${sum('hits')} hits\n`,
    );
    rmSync(scanDir, { recursive: true, force: true });
  }
  await dynamo?.stop();
  await postgres?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
