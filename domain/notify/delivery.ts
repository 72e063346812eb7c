// Webhook delivery: at least once, with exponential backoff. The same code runs behind SQS on
// Lambda (deployed: EventBridge rule → queue → this, retries as delayed messages, a DLQ for
// messages it keeps failing on) and on the in-process queue of `npm start`. A receiver's
// answer, error or silence only ever changes its own delivery record.
import { createHmac } from 'node:crypto';
import type { SecretStore } from '../common/ports.js';
import type { UserRepo } from '../access/ports.js';
import type { IssueRepo } from '../pipeline/model.js';
import { parseIssueName } from '../pipeline/model.js';
import { WEBHOOK_EVENTS, type SluiceEvent } from './events.js';
import { renderMessage, type MessageContext } from './messages.js';
import { readWebhookSecret, type Webhook, type WebhookDelivery, type WebhookRepo } from './webhooks.js';

/**
 * Waits after attempt n (1-based) before attempt n+1: attempts 1-3 within 25 seconds, then
 * backing off to 8 hours; the last attempt is about 31 hours after the first.
 */
export const BACKOFF_MS: readonly number[] = [5_000, 20_000, 60_000, 300_000, 900_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000, 28_800_000];
/** How long one attempt may take before it counts as failed. */
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** Deliveries are kept this long, then expire by TTL. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 3600 * 1000;

export type DeliveryMessage =
  | { kind: 'event'; event: SluiceEvent }
  | { kind: 'attempt'; project: string; webhook: string; delivery: string; notBefore: string }
  /** `:test` — one delivery of a TEST event to one webhook, made by the API handler. */
  | { kind: 'test'; project: string; webhook: string; delivery: string };

/** The queue behind delivery: SQS deployed (delay at most 15 minutes per hop), an in-process timer locally. */
export interface DeliveryQueue {
  send(message: DeliveryMessage, delayMs: number): Promise<void>;
}

export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** What came back; `error` when there was no HTTP answer (timeout, refused address, connection error). */
export type OutboundResult = { statusCode: number } | { error: string };

/** Sends one POST; refuses addresses the outbound guard refuses, at connection time. */
export interface WebhookSender {
  post(request: OutboundRequest): Promise<OutboundResult>;
}

export interface DeliveryDeps {
  webhooks: WebhookRepo;
  secrets: Pick<SecretStore, 'get'>;
  sender: WebhookSender;
  queue: DeliveryQueue;
  users: Pick<UserRepo, 'get'>;
  issues: Pick<IssueRepo, 'view'>;
  now(): Date;
  /** The console (else the API) base URL links point at. */
  linkBase: string;
  backoffMs?: readonly number[];
  attemptTimeoutMs?: number;
  log?: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
}

/** Longest one queue hop may wait (SQS DelaySeconds ≤ 900): longer waits take several hops. */
export const MAX_HOP_MS = 900_000;

const expiry = (deps: DeliveryDeps): Date => new Date(deps.now().getTime() + DELIVERY_RETENTION_MS);

/** The webhooks of the event's project that subscribe to its type. */
const subscribers = async (deps: DeliveryDeps, e: SluiceEvent): Promise<Webhook[]> =>
  (WEBHOOK_EVENTS as readonly string[]).includes(e.type) ? (await deps.webhooks.list(e.project)).filter((w) => w.events.includes(e.type as never)) : [];

export async function messageContext(deps: Pick<DeliveryDeps, 'users' | 'issues' | 'linkBase'>, e: SluiceEvent): Promise<MessageContext> {
  const id = Number(/^users\/(\d+)$/.exec(e.actor)?.[1] ?? NaN);
  const user = Number.isFinite(id) && id !== 1 ? await deps.users.get(id) : undefined;
  let issueTitle: string | undefined;
  if (e.issue) {
    const { project, number } = parseIssueName(e.issue);
    // The issue item (and its counters), not its tasks: a batch change emits an event per failed task.
    issueTitle = (await deps.issues.view(project, number, 0))?.issue.title;
  }
  const base = deps.linkBase.replace(/\/+$/, '');
  return {
    event: e,
    ...(issueTitle ? { issueTitle } : {}),
    actorLabel: id === 1 ? 'Sluice' : user ? `${user.title} <${user.email}> (${e.actor})` : e.actor,
    ...(user ? { actorEmail: user.email } : {}),
    link: e.issue ? `${base}/v1/${e.issue}` : `${base}/v1/projects/${e.project}`,
  };
}

/** The delivery's body for the webhook's type (the GENERIC one is what is signed). */
export async function newDelivery(deps: DeliveryDeps, w: Webhook, e: SluiceEvent, id = `${e.id}.${w.id}`): Promise<WebhookDelivery> {
  const body = JSON.stringify(renderMessage(w.type, await messageContext(deps, e)));
  return { project: w.project, webhook: w.id, id, event: e.type, eventId: e.id, createTime: deps.now().toISOString(), status: 'PENDING', attempts: [], body };
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`: what X-Sluice-Signature-256 carries. */
export const signature = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

/**
 * One attempt: POSTs the stored body, records the outcome, and queues the next attempt after a
 * failure until the backoff schedule runs out (then FAILED).
 */
export async function attempt(deps: DeliveryDeps, d: WebhookDelivery): Promise<WebhookDelivery> {
  const stored = await readWebhookSecret(deps.secrets, d.project, d.webhook);
  const start = deps.now();
  let result: OutboundResult;
  if (!stored || !(await deps.webhooks.get(d.project, d.webhook))) result = { error: 'the webhook was deleted' };
  else {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Sluice-Webhook/1', 'x-sluice-event': d.event, 'x-sluice-delivery': d.id };
    if (stored.secret) headers['x-sluice-signature-256'] = signature(stored.secret, d.body);
    result = await deps.sender.post({ url: stored.url, headers, body: d.body, timeoutMs: deps.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS });
  }
  const end = deps.now();
  const ok = 'statusCode' in result && result.statusCode >= 200 && result.statusCode < 300;
  const record = {
    time: start.toISOString(),
    ...('statusCode' in result ? { statusCode: result.statusCode } : {}),
    ...('error' in result ? { error: result.error } : ok ? {} : { error: `the receiver answered ${result.statusCode}` }),
    durationMs: end.getTime() - start.getTime(),
  };
  const backoff = deps.backoffMs ?? BACKOFF_MS;
  const attempts = [...d.attempts, record];
  const gone = 'error' in result && result.error === 'the webhook was deleted';
  const wait = ok || gone ? undefined : backoff[attempts.length - 1];
  const next: WebhookDelivery = { ...d, attempts, status: ok ? 'DELIVERED' : wait === undefined ? 'FAILED' : 'PENDING' };
  delete next.nextAttemptTime;
  if (wait !== undefined) next.nextAttemptTime = new Date(end.getTime() + wait).toISOString();
  await deps.webhooks.putDelivery(next, expiry(deps));
  deps.log?.info('webhook attempt', { project: d.project, webhook: d.webhook, delivery: d.id, event: d.event, attempt: attempts.length, statusCode: record.statusCode, error: record.error, status: next.status });
  if (next.nextAttemptTime) await deps.queue.send({ kind: 'attempt', project: d.project, webhook: d.webhook, delivery: d.id, notBefore: next.nextAttemptTime }, Math.min(wait!, MAX_HOP_MS));
  return next;
}

/** Handles one queue message. Throws only for a store or queue failure (the queue then redelivers it). */
export async function handleDeliveryMessage(deps: DeliveryDeps, m: DeliveryMessage): Promise<void> {
  if (m.kind === 'event') {
    for (const w of await subscribers(deps, m.event)) {
      const d = await newDelivery(deps, w, m.event);
      // A redelivered event: the first handling made the delivery (and its attempts go on from there).
      if (!(await deps.webhooks.createDelivery(d, expiry(deps)))) {
        const seen = await deps.webhooks.getDelivery(w.project, w.id, d.id);
        if (!seen || seen.attempts.length > 0) continue;
        await attempt(deps, seen);
        continue;
      }
      await attempt(deps, d);
    }
    return;
  }
  const d = await deps.webhooks.getDelivery(m.project, m.webhook, m.delivery);
  if (!d || d.status !== 'PENDING') return;
  if (m.kind === 'test' && d.attempts.length > 0) return;
  if (m.kind === 'attempt') {
    // A duplicate of an older hop, or an early one: only the attempt the record waits for, when due.
    if (d.nextAttemptTime !== m.notBefore) return;
    const left = Date.parse(m.notBefore) - deps.now().getTime();
    if (left > 1000) return deps.queue.send(m, Math.min(left, MAX_HOP_MS));
  }
  await attempt(deps, d);
}

/**
 * `:test`: records a TEST delivery (PENDING, no attempt yet) and queues it; the answer does not
 * wait for the receiver. Its attempts show in the delivery log like any other.
 */
export async function testWebhook(deps: DeliveryDeps, w: Webhook, actor: string): Promise<WebhookDelivery> {
  const time = deps.now().toISOString();
  const event: SluiceEvent = { id: `test-${Date.parse(time).toString(36)}-${Math.random().toString(36).slice(2, 8)}`, type: 'TEST', project: w.project, actor, time, comment: `a test message for webhook ${w.id}` };
  const d = await newDelivery(deps, w, event);
  await deps.webhooks.createDelivery(d, expiry(deps));
  await deps.queue.send({ kind: 'test', project: w.project, webhook: w.id, delivery: d.id }, 0);
  return d;
}
