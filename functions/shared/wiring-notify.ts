// Module-scope wiring for events and webhooks. Deployed: EventBridge (SLUICE_EVENT_BUS) and the
// SQS delivery queue (WEBHOOK_QUEUE_URL). On one machine the local runtime (and tests) install an
// in-process sink and queue with setNotifyTransport before the first request; without either,
// events go nowhere (a unit of the stack that does not care about them).
import { lookup } from 'node:dns/promises';
import type { OutboundPolicy } from '../../domain/common/outbound.js';
import type { WebhookDeps } from '../../domain/notify/webhooks.js';
import { DynamoWebhookRepo } from '../adapters/dynamo/webhooks.js';
import { deps, store } from './wiring.js';
import { secretStoreFrom } from './wiring-secrets.js';

/** Loopback is allowed on one machine only: `npm start` and the tests set SLUICE_OUTBOUND_ALLOW_LOOPBACK=true. */
export const allowLoopback = (): boolean => process.env.SLUICE_OUTBOUND_ALLOW_LOOPBACK === 'true';
export const resolveHost = async (host: string): Promise<string[]> => (await lookup(host, { all: true })).map((a) => a.address);
export const outboundPolicy = async (): Promise<OutboundPolicy> => ({ allowLoopback: allowLoopback(), allowlist: (await deps.workspace.get())?.outboundAllowlist ?? [] });

// Marked pure, as in wiring-repos.ts: a function that imports this module for the outbound policy
// (vcs, hooks) carries no repository. What a delivery needs is in wiring-delivery.ts.
export const webhookRepo = /* @__PURE__ */ new DynamoWebhookRepo(store);
export const webhookDeps = (): WebhookDeps => ({ ...deps, webhooks: webhookRepo, secrets: secretStoreFrom(process.env), outbound: { allowLoopback: allowLoopback(), resolve: resolveHost } });

export { deliveryQueue, emitLog, eventSink, lateSink, setNotifyTransport } from './wiring-events.js';
