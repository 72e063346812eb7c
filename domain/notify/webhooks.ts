// Project webhooks (API.md "Approval flows, notifications, audit"): where a project's events are
// sent. The URL and the signing secret are write-only: they live in the secret store (Secrets
// Manager deployed, the encrypted file locally) under `webhooks/{project}/{id}`, never in the
// item, a response or a log line. Storage, secrets, DNS and the queue are ports.
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import type { Access } from '../access/access.js';
import { ECHOED, Timestamp, Title, checkEtag, etagOf, parse, resolveUpdateMask } from '../common/values.js';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError, fieldError } from '../common/errors.js';
import { USER_CHOSEN_ID, projectName } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import type { SecretStore } from '../common/ports.js';
import { checkOutboundUrl, type OutboundPolicy, type Resolve } from '../common/outbound.js';
import type { Deps } from '../inventory/ports.js';
import { projectWith } from '../inventory/projects.js';
import { WEBHOOK_EVENTS, type WebhookEventType } from './events.js';

export const WEBHOOK_TYPES = ['SLACK', 'TEAMS', 'GOOGLE_CHAT', 'DISCORD', 'GENERIC'] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

export interface Webhook {
  project: string;
  id: string;
  title: string;
  type: WebhookType;
  events: WebhookEventType[];
  /** Whether a secret is stored (GENERIC deliveries are signed only with one). */
  hasSecret: boolean;
  createTime: string;
  updateTime: string;
  version: number;
}

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

export interface DeliveryAttempt {
  time: string;
  /** The receiver's HTTP status, when it answered. */
  statusCode?: number;
  /** Why the attempt failed without an answer (timeout, refused address, connection error), or a non-2xx. */
  error?: string;
  durationMs: number;
}

/** One event sent to one webhook, with every attempt. */
export interface WebhookDelivery {
  project: string;
  webhook: string;
  /** `{event id}.{webhook id}`: a redelivered event finds its delivery and is not sent twice. */
  id: string;
  event: string;
  eventId: string;
  createTime: string;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  /** When the next attempt is due (PENDING after a failed attempt). */
  nextAttemptTime?: string;
  /** The exact bytes sent (and signed): each attempt sends the same body. */
  body: string;
}

export interface WebhookRepo {
  get(project: string, id: string): Promise<Webhook | undefined>;
  list(project: string): Promise<Webhook[]>;
  /** Creates (AlreadyExistsError when the id is taken). */
  create(webhook: Webhook): Promise<Webhook>;
  /** Replaces, conditional on `expectedVersion` (ConcurrentModificationError). */
  update(next: Webhook, expectedVersion: number): Promise<Webhook>;
  delete(project: string, id: string): Promise<void>;
  /** Writes a delivery unless one with its id exists; false then (nothing written). */
  createDelivery(delivery: WebhookDelivery, expiresAt: Date): Promise<boolean>;
  getDelivery(project: string, webhook: string, id: string): Promise<WebhookDelivery | undefined>;
  putDelivery(delivery: WebhookDelivery, expiresAt: Date): Promise<void>;
  /** Newest first. */
  listDeliveries(project: string, webhook: string, limit: number): Promise<WebhookDelivery[]>;
}

export const webhookName = (project: string, id: string): string => `${projectName(project)}/webhooks/${id}`;
export const webhookSecretName = (project: string, id: string): string => `webhooks/${project}/${id}`;

/** What the secret store holds for a webhook: both write-only values in one secret. */
export interface WebhookSecret {
  url: string;
  secret?: string;
}

const Url = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(2048)));
const Secret = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(16, 'must be at least 16 characters'), z.maxLength(256)));
const Events = /* @__PURE__ */ lazySchema(() => z.array(z.enum(WEBHOOK_EVENTS)).check(z.minLength(1, 'name at least one event')));

export const WebhookCreate = /* @__PURE__ */ lazySchema(() => z.strictObject({
  id: z.optional(z.string().check(z.regex(USER_CHOSEN_ID, 'must match ^[a-z][a-z0-9-]{1,62}$'))),
  title: Title,
  type: z.enum(WEBHOOK_TYPES),
  url: Url,
  secret: z.optional(Secret),
  events: Events,
  ...ECHOED,
}));
export const WebhookPatch = /* @__PURE__ */ lazySchema(() => z.strictObject({
  title: z.optional(Title),
  url: z.optional(Url),
  secret: z.optional(Secret),
  events: z.optional(Events),
  id: z.optional(z.unknown()),
  type: z.optional(z.unknown()),
  hasSecret: z.optional(z.unknown()),
  ...ECHOED,
}));
const MUTABLE = ['title', 'url', 'secret', 'events'] as const;

const Str = /* @__PURE__ */ z.string();
export const WebhookResource = /* @__PURE__ */ z.object({
  name: Str,
  id: Str,
  title: Str,
  type: /* @__PURE__ */ z.enum(WEBHOOK_TYPES),
  events: /* @__PURE__ */ z.array(/* @__PURE__ */ z.enum(WEBHOOK_EVENTS)),
  /** Whether a signing secret is set (the secret itself, like the URL, is write-only). */
  hasSecret: /* @__PURE__ */ z.boolean(),
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: Str,
});
export const DeliveryResource = /* @__PURE__ */ z.object({
  name: Str,
  id: Str,
  event: Str,
  createTime: Timestamp,
  status: /* @__PURE__ */ z.enum(['PENDING', 'DELIVERED', 'FAILED']),
  attempts: /* @__PURE__ */ z.array(
    /* @__PURE__ */ z.object({ time: Timestamp, statusCode: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.number()), error: /* @__PURE__ */ z.optional(Str), durationMs: /* @__PURE__ */ z.number() }),
  ),
  nextAttemptTime: /* @__PURE__ */ z.optional(Timestamp),
  /** The body sent (the message; never the URL or the secret). */
  body: Str,
});

export const NOTIFY_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listWebhooks: { response: /* @__PURE__ */ z.object({ webhooks: /* @__PURE__ */ z.array(WebhookResource) }) },
  createWebhook: { request: WebhookCreate, response: WebhookResource },
  getWebhook: { response: WebhookResource },
  updateWebhook: { request: WebhookPatch, response: WebhookResource },
  deleteWebhook: { response: /* @__PURE__ */ z.object({}) },
  testWebhook: { response: DeliveryResource },
  listWebhookDeliveries: { response: /* @__PURE__ */ z.object({ deliveries: /* @__PURE__ */ z.array(DeliveryResource) }) },
};

/** Fields picked one by one: the URL and secret are not in the item, and could not leak from it. */
export const toWebhookResource = (w: Webhook): z.infer<typeof WebhookResource> => ({
  name: webhookName(w.project, w.id),
  id: w.id,
  title: w.title,
  type: w.type,
  events: w.events,
  hasSecret: w.hasSecret,
  createTime: w.createTime,
  updateTime: w.updateTime,
  etag: etagOf(webhookName(w.project, w.id), w.version),
});

export const toDeliveryResource = (d: WebhookDelivery): z.infer<typeof DeliveryResource> => ({
  name: `${webhookName(d.project, d.webhook)}/deliveries/${d.id}`,
  id: d.id,
  event: d.event,
  createTime: d.createTime,
  status: d.status,
  attempts: d.attempts,
  ...(d.nextAttemptTime ? { nextAttemptTime: d.nextAttemptTime } : {}),
  body: d.body,
});

export interface WebhookDeps extends Deps {
  webhooks: WebhookRepo;
  secrets: SecretStore;
  /** Local: loopback allowed; the allowlist comes from the workspace. */
  outbound: { allowLoopback: boolean; resolve: Resolve };
}

/** A project has at most this many webhooks (each event fans out to all of them). */
export const MAX_WEBHOOKS = 20;

async function policyOf(deps: WebhookDeps): Promise<OutboundPolicy> {
  const w = await deps.workspace.get();
  return { allowLoopback: deps.outbound.allowLoopback, allowlist: w?.outboundAllowlist ?? [] };
}

/** https anywhere; http only where loopback is allowed (one machine): the body goes out signed, not encrypted. */
export async function checkWebhookUrl(deps: Pick<WebhookDeps, 'outbound' | 'workspace'>, raw: string, field = 'url'): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fieldError(field, 'must be an absolute URL like https://hooks.slack.com/services/…');
  }
  if (url.username || url.password) throw fieldError(field, 'must not carry credentials');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && deps.outbound.allowLoopback)) throw fieldError(field, 'must be https');
  await checkOutboundUrl(await policyOf(deps as WebhookDeps), deps.outbound.resolve, url, field);
  return url.toString();
}

const live = async (deps: WebhookDeps, access: Access, project: string, permission: 'webhooks.get' | 'webhooks.update', resource?: string) => {
  const p = await projectWith(deps, access, project, permission, resource);
  return p;
};

export async function listWebhooks(deps: WebhookDeps, access: Access, project: string): Promise<Webhook[]> {
  await live(deps, access, project, 'webhooks.get');
  return deps.webhooks.list(project);
}

export async function getWebhook(deps: WebhookDeps, access: Access, project: string, id: string): Promise<Webhook> {
  await live(deps, access, project, 'webhooks.get', webhookName(project, id));
  const w = await deps.webhooks.get(project, id);
  if (!w) throw new NotFoundError(webhookName(project, id));
  return w;
}

/** The webhook `:test` sends to: the caller must be allowed to change it (the permission is checked before anything is read). */
export async function webhookToTest(deps: WebhookDeps, access: Access, project: string, id: string): Promise<Webhook> {
  await live(deps, access, project, 'webhooks.update', webhookName(project, id));
  const w = await deps.webhooks.get(project, id);
  if (!w) throw new NotFoundError(webhookName(project, id));
  return w;
}

/** POST: the URL is checked (scheme, address) before anything is written; the secret store first, then the item. */
export async function createWebhook(deps: WebhookDeps, access: Access, project: string, body: unknown): Promise<Webhook> {
  const p = await live(deps, access, project, 'webhooks.update');
  if (p.state === 'DELETED') throw new FailedPreconditionError(`${projectName(project)} is deleted; undelete it first`);
  const input = parse(WebhookCreate, body);
  const url = await checkWebhookUrl(deps, input.url);
  const id = input.id ?? `wh-${randomBytes(4).toString('hex')}`;
  if (await deps.webhooks.get(project, id)) throw new AlreadyExistsError(`${webhookName(project, id)} already exists`);
  if ((await deps.webhooks.list(project)).length >= MAX_WEBHOOKS) throw new FailedPreconditionError(`${projectName(project)} has ${MAX_WEBHOOKS} webhooks already, the most it may have`);
  const now = deps.now().toISOString();
  const secret: WebhookSecret = { url, ...(input.secret ? { secret: input.secret } : {}) };
  await deps.secrets.put(webhookSecretName(project, id), JSON.stringify(secret));
  return deps.webhooks.create({
    project, id, title: input.title, type: input.type, events: [...new Set(input.events)], hasSecret: input.secret !== undefined,
    createTime: now, updateTime: now, version: 1,
  });
}

export async function updateWebhook(deps: WebhookDeps, access: Access, project: string, id: string, body: unknown, updateMask: string | undefined, ifMatch: string | undefined): Promise<Webhook> {
  await live(deps, access, project, 'webhooks.update', webhookName(project, id));
  const input = parse(WebhookPatch, body);
  const current = await deps.webhooks.get(project, id);
  if (!current) throw new NotFoundError(webhookName(project, id));
  checkEtag(webhookName(project, id), current.version, ifMatch, input.etag);
  const fields = resolveUpdateMask(updateMask, input as Record<string, unknown>, MUTABLE);
  const next: Webhook = { ...current, updateTime: deps.now().toISOString(), version: current.version + 1 };
  if (fields.includes('title')) next.title = input.title!;
  if (fields.includes('events')) next.events = [...new Set(input.events!)];
  if (fields.includes('url') || fields.includes('secret')) {
    const stored = await readWebhookSecret(deps.secrets, project, id);
    const url = fields.includes('url') ? await checkWebhookUrl(deps, input.url!) : stored?.url;
    if (!url) throw fieldError('url', 'the stored URL is missing; give url');
    const secret = fields.includes('secret') ? input.secret : stored?.secret;
    await deps.secrets.put(webhookSecretName(project, id), JSON.stringify({ url, ...(secret ? { secret } : {}) }));
    next.hasSecret = secret !== undefined;
  }
  return deps.webhooks.update(next, current.version);
}

export async function deleteWebhook(deps: WebhookDeps, access: Access, project: string, id: string, ifMatch: string | undefined): Promise<void> {
  await live(deps, access, project, 'webhooks.update', webhookName(project, id));
  const current = await deps.webhooks.get(project, id);
  if (!current) throw new NotFoundError(webhookName(project, id));
  checkEtag(webhookName(project, id), current.version, ifMatch);
  await deps.webhooks.delete(project, id);
  await deps.secrets.delete(webhookSecretName(project, id));
}

export async function listDeliveries(deps: WebhookDeps, access: Access, project: string, id: string, limit: number): Promise<WebhookDelivery[]> {
  await getWebhook(deps, access, project, id);
  return deps.webhooks.listDeliveries(project, id, limit);
}

export async function readWebhookSecret(secrets: Pick<SecretStore, 'get'>, project: string, id: string): Promise<WebhookSecret | undefined> {
  const raw = await secrets.get(webhookSecretName(project, id));
  return raw === undefined ? undefined : (JSON.parse(raw) as WebhookSecret);
}
