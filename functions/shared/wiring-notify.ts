// Module-scope wiring for events and webhooks. Deployed: EventBridge (SLUICE_EVENT_BUS) and the
// SQS delivery queue (WEBHOOK_QUEUE_URL). On one machine the local runtime (and tests) install an
// in-process sink and queue with setNotifyTransport before the first request; without either,
// events go nowhere (a unit of the stack that does not care about them).
import { lookup } from 'node:dns/promises';
import type { OutboundPolicy } from '../../domain/common/outbound.js';
import type { EmitLog, EventSink } from '../../domain/notify/events.js';
import type { DeliveryDeps, DeliveryQueue } from '../../domain/notify/delivery.js';
import type { WebhookDeps } from '../../domain/notify/webhooks.js';
import { DynamoWebhookRepo } from '../adapters/dynamo/webhooks.js';
import { DynamoIssueRepo } from '../adapters/dynamo/issues.js';
import { HttpWebhookSender } from '../adapters/notify/http-sender.js';
import { logger } from './logger.js';
import { deps, store } from './wiring.js';
import { secretStoreFrom } from './wiring-secrets.js';

/** Loopback is allowed on one machine only: `npm start` and the tests set SLUICE_OUTBOUND_ALLOW_LOOPBACK=true. */
export const allowLoopback = (): boolean => process.env.SLUICE_OUTBOUND_ALLOW_LOOPBACK === 'true';
export const resolveHost = async (host: string): Promise<string[]> => (await lookup(host, { all: true })).map((a) => a.address);
export const outboundPolicy = async (): Promise<OutboundPolicy> => ({ allowLoopback: allowLoopback(), allowlist: (await deps.workspace.get())?.outboundAllowlist ?? [] });

export const webhookRepo = new DynamoWebhookRepo(store);
export const webhookDeps = (): WebhookDeps => ({ ...deps, webhooks: webhookRepo, secrets: secretStoreFrom(process.env), outbound: { allowLoopback: allowLoopback(), resolve: resolveHost } });

let local: { sink: EventSink; queue: DeliveryQueue } | undefined;
let aws: { sink?: EventSink; queue?: DeliveryQueue } | undefined;

export const setNotifyTransport = (next: { sink: EventSink; queue: DeliveryQueue } | undefined): void => {
  local = next;
};
// The EventBridge and SQS clients load on first use: a cold start of a handler that may emit
// (issues, the GitOps worker) does not pay for them (test/infra/bundles.test.ts).
const awsModule = () => import('../adapters/notify/aws.js');
let awsSink: EventSink | undefined;
let awsQueue: DeliveryQueue | undefined;
const awsTransport = () =>
  (aws ??= {
    sink: process.env.SLUICE_EVENT_BUS ? { emit: async (events) => (awsSink ??= (await awsModule()).eventBridgeSinkFrom(process.env)!).emit(events) } : undefined,
    queue: process.env.WEBHOOK_QUEUE_URL ? { send: async (message, delayMs) => (awsQueue ??= (await awsModule()).sqsQueueFrom(process.env)!).send(message, delayMs) } : undefined,
  });

/** Where events go (resolved per call: the local runtime installs its own first). */
export const eventSink = (): EventSink | undefined => local?.sink ?? awsTransport().sink;
/** A sink that looks the transport up at emit time, for stores built at module scope. */
export const lateSink: EventSink = {
  emit: async (events) => {
    const sink = eventSink();
    if (sink) await sink.emit(events);
  },
};
export const emitLog: EmitLog = { warn: (msg, f) => logger.warn(msg, f) };

const noQueue: DeliveryQueue = {
  send: async () => {
    throw new Error('no delivery queue: set WEBHOOK_QUEUE_URL (AWS) or install the local one');
  },
};
export const deliveryQueue = (): DeliveryQueue => local?.queue ?? awsTransport().queue ?? noQueue;

const issueReader = new DynamoIssueRepo(store);
/** The console or API base URL links point at. */
const linkBase = (): string => process.env.SLUICE_CONSOLE_URL || process.env.SLUICE_API_URL || 'http://localhost:8080';

export const deliveryDeps = (overrides: Partial<DeliveryDeps> = {}): DeliveryDeps => ({
  webhooks: webhookRepo,
  secrets: secretStoreFrom(process.env),
  sender: new HttpWebhookSender(outboundPolicy),
  queue: deliveryQueue(),
  users: deps.users,
  issues: issueReader,
  now: () => new Date(),
  linkBase: linkBase(),
  log: { info: (m, f) => logger.info(m, f), warn: (m, f) => logger.warn(m, f) },
  ...overrides,
});
