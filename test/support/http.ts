// An in-process local server (the same one `npm start` runs) on a fresh table, and a tiny client.
import { setOrchestrator } from '../../functions/shared/orchestrator.js';
import { setVcsDispatcher } from '../../functions/shared/vcs-dispatch.js';
import type { JWK } from 'jose';
import { generateJwk, keysFromJwk, type LocalKeys } from '../../infra/local/jwt.js';
import { localPipeline, synthesizePipeline, type SynthesizedPipeline } from '../../infra/local/pipeline.js';
import { localSync } from '../../infra/local/sync.js';
import { setSyncRunner } from '../../functions/shared/sync-runner.js';
import { startServer, type LocalServer } from '../../infra/local/server.js';
import type { LocalStepFunctions } from '../../infra/local/stepfunctions.js';
import { localVcsDispatcher, type LocalVcsDispatcher } from '../../infra/local/vcs-worker.js';
import { recordDelivery, recordPayloads } from './capture.js';
import { localNotify, type LocalNotify } from '../../infra/local/notify.js';
import { HttpWebhookSender } from '../../functions/adapters/notify/http-sender.js';
import type { DeliveryDeps } from '../../domain/notify/delivery.js';
import { freshTable, type TestTable } from './table.js';
import { waitForOperation } from './operations.js';

export interface Api {
  server: LocalServer;
  table: TestTable;
  keys: LocalKeys;
  /** The signing key (private JWK) behind `keys`: for tests that forge or craft tokens. */
  jwk: JWK;
  /** The local pipeline executions run on (the deployed definition); closed with the server. */
  pipeline: LocalStepFunctions;
  /** The GitOps worker, in-process as with `npm start`. */
  vcsWorker: LocalVcsDispatcher;
  /** Events and webhook deliveries, in-process as with `npm start` (backoff in tenths of a second). */
  notify: LocalNotify;
  token(email: string): Promise<string>;
  call(method: string, path: string, opts?: CallOptions): Promise<CallResult>;
}

export interface CallOptions {
  as?: string | null;
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
}

/** One synthesis per test file (module state is per file). */
let synthesized: SynthesizedPipeline | undefined;

/** Webhook retries for tests: the real schedule's shape (doubling), in milliseconds, and a short attempt timeout. */
export const TEST_DELIVERY: Partial<DeliveryDeps> = { backoffMs: [200, 400, 800], attemptTimeoutMs: 1500 };

export async function startApi(options: { delivery?: Partial<DeliveryDeps> } = {}): Promise<Api> {
  const table = await freshTable();
  const jwk = await generateJwk();
  const keys = await keysFromJwk(jwk);
  synthesized ??= synthesizePipeline();
  // Lambda service errors are retried at once here: the tests wait for no backoff.
  const pipeline = localPipeline({ synthesized, retryIntervals: { Advance: 0, RunTask: [0], RunTaskAlone: [0], StageResult: 0, ApprovalGate: 0, FailureGate: 0, PlanCheck: 0, CheckBatch: 0, ChecksResult: 0, ChecksGate: 0 } });
  setOrchestrator(pipeline);
  // Instance syncs run on the local sync state machine, as under npm start.
  const sync = localSync(synthesized);
  setSyncRunner(sync);
  const vcsWorker = localVcsDispatcher({ retryDelayMs: 0 });
  setVcsDispatcher(vcsWorker);
  // Loaded after freshTable: the wiring makes its DynamoDB store at import, for the table named then.
  const [{ outboundPolicy, setNotifyTransport }, { deliveryDeps }] = await Promise.all([import('../../functions/shared/wiring-notify.js'), import('../../functions/shared/wiring-delivery.js')]);
  // Every request a webhook receiver gets is also scanned for secrets (capture.ts).
  const sender = new HttpWebhookSender(outboundPolicy);
  const recording = { post: (r: Parameters<HttpWebhookSender['post']>[0]) => (recordDelivery(JSON.stringify({ headers: r.headers, body: r.body })), sender.post(r)) };
  const notify = localNotify((queue) => deliveryDeps({ queue, sender: recording, ...TEST_DELIVERY, ...options.delivery }), { redeliveryDelayMs: 100 });
  setNotifyTransport(notify);
  const started = await startServer({ port: 0, keys });
  const server: LocalServer = {
    ...started,
    close: async () => {
      await started.close();
      await vcsWorker.idle();
      notify.close();
      await notify.idle();
      await pipeline.close();
      await sync.close();
      // Every Step Functions payload of the run, for the secrets scan.
      recordPayloads(pipeline.events);
      recordPayloads(sync.stepFunctions.events);
      setSyncRunner(undefined);
      setOrchestrator(undefined);
      setVcsDispatcher(undefined);
      setNotifyTransport(undefined);
    },
  };
  const tokens = new Map<string, string>();
  const token = async (email: string) => {
    if (!tokens.has(email)) tokens.set(email, await keys.sign(email));
    return tokens.get(email)!;
  };
  return {
    server,
    table,
    keys,
    jwk,
    pipeline,
    vcsWorker,
    notify,
    token,
    async call(method, path, opts = {}) {
      const as = opts.as === undefined ? 'admin@example.com' : opts.as;
      const headers: Record<string, string> = { ...(as ? { authorization: `Bearer ${await token(as)}` } : {}) };
      let body: string | Buffer | undefined;
      if (opts.raw !== undefined) body = opts.raw;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(server.url + path, { method, headers: { ...headers, ...opts.headers }, body });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, json, text };
    },
  };
}

/** Polls `read` until `done` holds; the error shows what was seen last. */
export async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await read();
  }
  return last;
}

/**
 * `:sync` of an instance, waiting for its operation to finish: a setup that goes on while the
 * sync still works in the background races it (tables recorded late, a baseline taken after the
 * test's own change). Fails with the answer when the sync does not succeed.
 */
export async function syncInstance(api: Api, instance: string, as?: string): Promise<void> {
  const res = await api.call('POST', `/v1/instances/${instance}:sync`, as === undefined ? {} : { as });
  if (res.status !== 200) throw new Error(`:sync of ${instance}: ${res.status} ${res.text}`);
  const op = await waitForOperation(async (path) => (await api.call('GET', path, as === undefined ? {} : { as })).json, res.json.name);
  if ((op as { error?: unknown }).error) throw new Error(`:sync of ${instance} failed: ${JSON.stringify(op)}`);
}
