// `npm start`: Sluice on one machine, on embedded defaults. The same handlers as the cloud, with
// DynamoDB Local for the table and a local gateway for API Gateway.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createStore } from '../../functions/adapters/dynamo/client.js';
import { seed } from '../../functions/adapters/dynamo/seed.js';
import { setOrchestrator } from '../../functions/shared/orchestrator.js';
import { setVcsDispatcher } from '../../functions/shared/vcs-dispatch.js';
import { localConfig } from './config.js';
import { JavaMissingError, checkJava, ensureTable, startDynamoLocal, type DynamoLocal } from './dynamo-local.js';
import { loadOrCreateKeys } from './jwt.js';
import { localPipeline, resumeOpenIssues, synthesizePipeline } from './pipeline.js';
import { localSync, type LocalSync } from './sync.js';
import { setSyncRunner } from '../../functions/shared/sync-runner.js';
import { startServer, type LocalServer } from './server.js';
import type { LocalStepFunctions } from './stepfunctions.js';
import { startSamples, type Samples } from './samples.js';
import { localVcsDispatcher } from './vcs-worker.js';
import { startBackupCleanupTimer } from './backup-cleanup.js';
import { startSyncScheduleTimer } from './sync-schedule.js';
import { CONSOLE_DIST, ensureConsoleBuilt } from '../console-build.js';
import { localNotify, type LocalNotify } from './notify.js';

const say = (line: string) => process.stderr.write(line + '\n');

async function main(): Promise<void> {
  const config = localConfig();
  try {
    checkJava();
  } catch (e) {
    if (e instanceof JavaMissingError) {
      say(`sluice: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
  mkdirSync(join(config.dataDir, 'dynamodb'), { recursive: true });

  let dynamo: DynamoLocal | undefined;
  let server: LocalServer | undefined;
  let samples: Samples | undefined;
  let pipeline: LocalStepFunctions | undefined;
  let sync: LocalSync | undefined;
  let cleanup: { stop(): Promise<void> } | undefined;
  let syncSchedule: { stop(): Promise<void> } | undefined;
  let notify: LocalNotify | undefined;
  const vcsWorker = localVcsDispatcher();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await server?.close();
    await cleanup?.stop();
    await syncSchedule?.stop();
    // A push being turned into issues finishes first (the next start would not pick it up).
    await vcsWorker.idle();
    // Deliveries under way finish; pending retries are dropped (EventBridge and SQS do not exist here).
    notify?.close();
    await notify?.idle();
    // Stops the executions (the next start resumes them) and releases their gates' timers.
    await pipeline?.close();
    await sync?.close();
    setOrchestrator(undefined);
    setSyncRunner(undefined);
    await Promise.all([dynamo?.stop(), samples?.stop()]);
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));
  // npm forwards only SIGINT and SIGTERM (package.json execs node, so no shell sits in between and
  // swallows them). Killed by anything else (SIGHUP, SIGKILL), npm leaves this process to init:
  // a new parent means whoever started us is gone, so stop as on SIGTERM.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid === parent || stopping) return;
    say(`sluice: the process that started it (pid ${parent}) is gone; stopping`);
    void stop(0);
  }, 500).unref();

  try {
    dynamo = await startDynamoLocal({ dataDir: join(config.dataDir, 'dynamodb') });
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_NAME = config.tableName;
    // Instance passwords: encrypted in the data folder (the cloud uses Secrets Manager).
    process.env.SLUICE_SECRETS_DIR ??= join(config.dataDir, 'secrets');
    process.env.AWS_REGION ??= 'local';
    // Webhooks and the GitOps apiUrl may reach 127.0.0.1 on one machine (a receiver, a fake provider).
    process.env.SLUICE_OUTBOUND_ALLOW_LOOPBACK ??= 'true';
    await ensureTable(dynamo.endpoint, config.tableName);
    const { admin } = await seed(createStore(), { adminEmail: config.adminEmail, environments: true });
    const keys = await loadOrCreateKeys(config.dataDir);
    // The pipeline state machine SluiceStack deploys, synthesized here and run in this process.
    const synthesized = synthesizePipeline();
    pipeline = localPipeline({ synthesized });
    setOrchestrator(pipeline);
    // Instance syncs: the sync state machine SluiceStack deploys, run in this process.
    sync = localSync(synthesized);
    setSyncRunner(sync);
    // GitOps pushes: the webhook answers at once, the worker runs in this process.
    setVcsDispatcher(vcsWorker);
    // Events and webhook deliveries: the same delivery code as the cloud's, on an in-process queue.
    const [{ setNotifyTransport }, { deliveryDeps }] = await Promise.all([import('../../functions/shared/wiring-notify.js'), import('../../functions/shared/wiring-delivery.js')]);
    notify = localNotify((queue) => deliveryDeps({ queue }));
    setNotifyTransport(notify);
    const resumed = await resumeOpenIssues(createStore(), pipeline);
    if (resumed.length > 0) say(`Resumed the pipelines of ${resumed.length} open issue(s): ${resumed.join(', ')}`);
    // The web console: built here when the build is missing or older than its sources.
    try {
      if (ensureConsoleBuilt()) say(`Built the web console (web/ → ${CONSOLE_DIST})`);
    } catch (e) {
      say(`sluice: the web console could not be built, the API runs without it: ${(e as Error).message}`);
    }
    server = await startServer({ port: config.port, keys, console: { dir: CONSOLE_DIST } });
    // The connector's webhookUrl: where this server is reached.
    process.env.SLUICE_API_URL ??= server.url;
    // Prior backup retention: the handler the deployed schedule invokes, on a timer.
    cleanup = startBackupCleanupTimer((line) => say(line));
    // The scheduled sync (workspace syncInterval): the handler the deployed rule invokes, on a timer.
    syncSchedule = startSyncScheduleTimer((line) => say(line));
    const token = await keys.sign(admin!.email);
    samples = await startSamples({ dataDir: config.dataDir, apiUrl: server.url, token });
    say(`Sluice is running at ${server.url}  (data: ${config.dataDir}, DynamoDB Local: ${dynamo.endpoint})`);
    for (const line of samples.lines) say(line);
    say(`Signed in as ${admin!.email} (workspaceAdmin). Token, valid 12 h:`);
    say('');
    say(`export TOKEN=${token}`);
    say('');
    say(`Open the console: ${server.url}/  (sign in with any user's email, e.g. ${admin!.email})`);
    say(`Try:  curl -s ${server.url}/v1/environments -H "Authorization: Bearer $TOKEN"`);
    say(`Or sign the sluice command line in (docs/cli.md):`);
    say('');
    say(`npx sluice login --url ${server.url} --token ${token}`);
    say('');
    say('Another user\'s token: npm run --silent token -- <email>.  Stop with Ctrl-C.');
  } catch (e) {
    say(`sluice: could not start: ${(e as Error).message}`);
    await stop(1);
  }
}

void main();
