// Module-scope wiring for events and webhooks. Deployed: EventBridge (SLUICE_EVENT_BUS) and the
// SQS delivery queue (WEBHOOK_QUEUE_URL). On one machine the local runtime (and tests) install an
// in-process sink and queue with setNotifyTransport before the first request; without either,
// events go nowhere (a unit of the stack that does not care about them).
import { lookup } from 'node:dns/promises';
import type { OutboundPolicy } from '../../domain/common/outbound.js';
import type { DeliveryDeps } from '../../domain/notify/delivery.js';
import type { WebhookDeps } from '../../domain/notify/webhooks.js';
import { DynamoWebhookRepo } from '../adapters/dynamo/webhooks.js';
import { DynamoIssueRepo } from '../adapters/dynamo/issues.js';
import { HttpWebhookSender } from '../adapters/notify/http-sender.js';
import { logger } from './logger.js';
import { deliveryQueue } from './wiring-events.js';
import { deps, store } from './wiring.js';
import { secretStoreFrom } from './wiring-secrets.js';

/** Loopback is allowed on one machine only: `npm start` and the tests set SLUICE_OUTBOUND_ALLOW_LOOPBACK=true. */
export const allowLoopback = (): boolean => process.env.SLUICE_OUTBOUND_ALLOW_LOOPBACK === 'true';
export const resolveHost = async (host: string): Promise<string[]> => (await lookup(host, { all: true })).map((a) => a.address);
export const outboundPolicy = async (): Promise<OutboundPolicy> => ({ allowLoopback: allowLoopback(), allowlist: (await deps.workspace.get())?.outboundAllowlist ?? [] });

// Marked pure, as in wiring-repos.ts: a function that imports this module for the outbound policy
// (vcs, hooks) carries neither repository.
export const webhookRepo = /* @__PURE__ */ new DynamoWebhookRepo(store);
export const webhookDeps = (): WebhookDeps => ({ ...deps, webhooks: webhookRepo, secrets: secretStoreFrom(process.env), outbound: { allowLoopback: allowLoopback(), resolve: resolveHost } });

export { deliveryQueue, emitLog, eventSink, lateSink, setNotifyTransport } from './wiring-events.js';

const issueReader = /* @__PURE__ */ new DynamoIssueRepo(store);
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
