// GitOps: a project peered with a VCS repository (API.md, "GitOps"). The connector resource, the
// webhook's signature and payload rules for GitHub and GitLab, migration file naming, and what a
// push turns into. Pure: storage, secrets, the provider's REST API and the async hand-off are ports.
import { createHmac, createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import type { Access } from '../access/access.js';
import { ECHOED, Timestamp, checkEtag, etagOf, parse } from '../common/values.js';
import { FailedPreconditionError, NotFoundError, UnauthenticatedError, fieldError } from '../common/errors.js';
import { projectName } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import type { Deps } from '../inventory/ports.js';
import type { SecretStore } from '../common/ports.js';
import { projectWith } from '../inventory/projects.js';
import { checkOutboundUrl, type Resolve } from '../common/outbound.js';

export const VCS_PROVIDERS = ['GITHUB', 'GITLAB'] as const;
export type VcsProvider = (typeof VCS_PROVIDERS)[number];

export const DEFAULT_API_URL: Record<VcsProvider, string> = { GITHUB: 'https://api.github.com', GITLAB: 'https://gitlab.com/api/v4' };

export interface VcsConnector {
  project: string;
  provider: VcsProvider;
  /** The provider's REST API base, e.g. https://api.github.com or https://gitlab.example.com/api/v4. */
  apiUrl: string;
  repository: string;
  branch: string;
  baseDirectory: string;
  createTime: string;
  updateTime: string;
  version: number;
}

/** A file of a push, as the receiver records it (never its content: that is read by the worker). */
export interface PushFile {
  path: string;
  /** ADDED: new in this push; MODIFIED: existed before (its content may have changed). */
  change: 'ADDED' | 'MODIFIED';
  /** The last commit of the push that touched it, and that commit's author. */
  commit: string;
  author: string;
}

export interface RejectedFile {
  path: string;
  reason: string;
}

export type DeliveryStatus = 'RECEIVED' | 'PROCESSED' | 'FAILED';

export interface VcsDelivery {
  project: string;
  /** The provider's delivery id (GitHub X-GitHub-Delivery, GitLab X-Gitlab-Event-UUID). */
  id: string;
  receiveTime: string;
  status: DeliveryStatus;
  /** The pushed head: every file is read at this commit. */
  commit: string;
  repository: string;
  files: PushFile[];
  /** Outcome, once processed: issues made, files already seen with the same content, files refused. */
  issues: string[];
  unchanged: string[];
  rejectedFiles: RejectedFile[];
  detail?: string;
}

/** What a migration file was last turned into (per path): a re-delivery with the same content is a no-op. */
export interface VcsFileRecord {
  project: string;
  path: string;
  checksum: string;
  version: string;
  /** Unset while the issue is being made (the record is the claim). */
  issue?: string;
  /** The delivery that took it up: a second run of the same delivery reports that issue as its own. */
  delivery: string;
  time: string;
}

export interface VcsRepo {
  getConnector(project: string): Promise<VcsConnector | undefined>;
  /** Creates (expectedVersion 0) or replaces the connector, conditional on the stored version. */
  putConnector(next: VcsConnector, expectedVersion: number): Promise<VcsConnector>;
  deleteConnector(project: string, expectedVersion: number): Promise<void>;
  /** Records a delivery once: false when its id was seen before (nothing written then). */
  recordDelivery(delivery: VcsDelivery, expiresAt: Date): Promise<boolean>;
  /** Removes a delivery the hand-off to the worker failed for, so the provider's retry is not a duplicate. */
  forgetDelivery(project: string, id: string, receiveTime: string): Promise<void>;
  getDelivery(project: string, id: string, receiveTime: string): Promise<VcsDelivery | undefined>;
  /** The delivery recorded under this id, if any (through its guard item). */
  findDelivery(project: string, id: string): Promise<VcsDelivery | undefined>;
  finishDelivery(delivery: VcsDelivery): Promise<void>;
  recentDeliveries(project: string, limit: number): Promise<VcsDelivery[]>;
  getFile(project: string, path: string): Promise<VcsFileRecord | undefined>;
  /**
   * Takes the path for this content: false when it is recorded with this very checksum already,
   * unless that record is a claim without an issue from before `staleBefore` (its worker died).
   */
  claimFile(record: VcsFileRecord, staleBefore: string): Promise<boolean>;
  /** Puts back what claimFile replaced (or removes the claim when there was nothing). */
  releaseFile(project: string, path: string, previous: VcsFileRecord | undefined): Promise<void>;
  setFileIssue(project: string, path: string, issue: string): Promise<void>;
}

/** Reads one file of a repository at a commit through the provider's REST API. */
export interface VcsFileReader {
  readFile(connector: VcsConnector, token: string, path: string, commit: string): Promise<{ found: true; content: string } | { found: false; reason: string }>;
}

/** Hands a recorded delivery to the worker without waiting for it (Lambda Event invoke; locally in-process). */
export interface VcsDispatcher {
  dispatch(input: VcsWorkerInput): Promise<void>;
}

export interface VcsWorkerInput {
  project: string;
  delivery: string;
  receiveTime: string;
}

// ---------------------------------------------------------------------------------------------
// The connector resource

export const connectorName = (project: string): string => `${projectName(project)}/vcsConnector`;
export const secretNames = (project: string) => ({ webhookSecret: `vcs/${project}/webhookSecret`, accessToken: `vcs/${project}/accessToken` });

const REPOSITORY = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;
const BRANCH = /^(?!\/|.*\/\/|.*\.\.|.*\/$)[A-Za-z0-9._/-]{1,255}$/;
const BASE_DIRECTORY = /^(?!\/|.*\/\/|.*\/$)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._@/ -]{0,255}$/;

export const VcsConnectorPut = /* @__PURE__ */ lazySchema(() => z.strictObject({
  provider: z.enum(VCS_PROVIDERS),
  apiUrl: z.optional(z.string().check(z.maxLength(2048))),
  repository: z.string().check(z.regex(REPOSITORY, 'must be owner/name (GitLab: group/subgroup/name)'), z.maxLength(255)),
  branch: z.optional(z.string().check(z.regex(BRANCH, 'must be a branch name like main'))),
  baseDirectory: z.optional(z.string().check(z.regex(BASE_DIRECTORY, 'must be a relative directory like migrations (no leading or trailing /, no ..)'))),
  webhookSecret: z.optional(z.string().check(z.minLength(16, 'must be at least 16 characters'), z.maxLength(256))),
  accessToken: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  ...ECHOED,
  webhookUrl: z.optional(z.unknown()),
  recentDeliveries: z.optional(z.unknown()),
}));

const Str = /* @__PURE__ */ z.string();
export const VcsDeliveryResource = /* @__PURE__ */ z.object({
  id: Str,
  receiveTime: Timestamp,
  status: /* @__PURE__ */ z.enum(['RECEIVED', 'PROCESSED', 'FAILED']),
  commit: Str,
  files: /* @__PURE__ */ z.array(Str),
  issues: /* @__PURE__ */ z.array(Str),
  unchanged: /* @__PURE__ */ z.array(Str),
  rejectedFiles: /* @__PURE__ */ z.array(/* @__PURE__ */ z.object({ path: Str, reason: Str })),
  detail: /* @__PURE__ */ z.optional(Str),
  /** The plan checks of each issue the push made, as they stand (a file with an ERROR shows here as on its issue). */
  planChecks: /* @__PURE__ */ z.optional(
    /* @__PURE__ */ z.array(/* @__PURE__ */ z.object({ issue: Str, status: /* @__PURE__ */ z.enum(['RUNNING', 'SUCCESS', 'WARNING', 'ERROR']), errorCount: /* @__PURE__ */ z.number(), warningCount: /* @__PURE__ */ z.number() })),
  ),
});
export const VcsConnectorResource = /* @__PURE__ */ z.object({
  name: Str,
  provider: /* @__PURE__ */ z.enum(VCS_PROVIDERS),
  apiUrl: Str,
  repository: Str,
  branch: Str,
  baseDirectory: Str,
  webhookUrl: Str,
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: Str,
  /** The last deliveries (newest first) and what each turned into: issues, unchanged and rejected files. */
  recentDeliveries: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.array(VcsDeliveryResource)),
});
export const WebhookAnswer = /* @__PURE__ */ z.object({ message: Str, delivery: /* @__PURE__ */ z.optional(Str), files: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.number()) });

export const VCS_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  getVcsConnector: { response: VcsConnectorResource },
  putVcsConnector: { request: VcsConnectorPut, response: VcsConnectorResource },
  deleteVcsConnector: { response: /* @__PURE__ */ z.object({}) },
  receiveVcsWebhook: { response: WebhookAnswer },
};

/** An issue's plan-check summary, by issue name (what a delivery's record shows for the issues it made). */
export type DeliveryChecks = ReadonlyMap<string, { status: 'RUNNING' | 'SUCCESS' | 'WARNING' | 'ERROR'; errorCount: number; warningCount: number }>;

export const toDeliveryResource = (d: VcsDelivery, checks?: DeliveryChecks): z.infer<typeof VcsDeliveryResource> => ({
  id: d.id,
  receiveTime: d.receiveTime,
  status: d.status,
  commit: d.commit,
  files: d.files.map((f) => f.path),
  issues: d.issues,
  unchanged: d.unchanged,
  rejectedFiles: d.rejectedFiles,
  ...(d.detail ? { detail: d.detail } : {}),
  ...(checks && d.issues.some((i) => checks.has(i)) ? { planChecks: d.issues.flatMap((i) => (checks.has(i) ? [{ issue: i, ...checks.get(i)! }] : [])) } : {}),
});

/** Never a secret: the stored connector holds none, and this picks fields one by one. */
export function toConnectorResource(c: VcsConnector, apiBase: string, deliveries?: VcsDelivery[], checks?: DeliveryChecks): z.infer<typeof VcsConnectorResource> {
  return {
    name: connectorName(c.project),
    provider: c.provider,
    apiUrl: c.apiUrl,
    repository: c.repository,
    branch: c.branch,
    baseDirectory: c.baseDirectory,
    webhookUrl: webhookUrl(apiBase, c.project),
    createTime: c.createTime,
    updateTime: c.updateTime,
    etag: etagOf(connectorName(c.project), c.version),
    ...(deliveries ? { recentDeliveries: deliveries.map((d) => toDeliveryResource(d, checks)) } : {}),
  };
}

export const webhookUrl = (apiBase: string, project: string): string => `${apiBase.replace(/\/+$/, '')}/v1/hooks/vcs/${project}`;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or http on loopback only (a local fake provider): the access token never crosses a network in clear. */
export function checkApiUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fieldError('apiUrl', 'must be an absolute URL like https://gitlab.example.com/api/v4');
  }
  if (url.username || url.password) throw fieldError('apiUrl', 'must not carry credentials (give accessToken)');
  if (url.search || url.hash) throw fieldError('apiUrl', 'must not have a query or fragment');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw fieldError('apiUrl', 'must be https (http only on localhost, for a local provider)');
  }
  return url.toString().replace(/\/+$/, '');
}

export interface VcsDeps extends Deps {
  vcs: VcsRepo;
  secrets: SecretStore;
  /** The outbound-address guard (domain/common/outbound.ts): loopback only on one machine. */
  outbound: { allowLoopback: boolean; resolve: Resolve };
}

/** GET: projects.get in the project (any member, DBAs and admins); the connector holds no secret to leak. */
export async function getVcsConnector(deps: VcsDeps, access: Access, project: string): Promise<{ connector: VcsConnector; deliveries: VcsDelivery[] }> {
  await projectWith(deps, access, project, 'vcsConnectors.get', connectorName(project));
  const connector = await deps.vcs.getConnector(project);
  if (!connector) throw new NotFoundError(connectorName(project));
  return { connector, deliveries: await deps.vcs.recentDeliveries(project, 10) };
}

/**
 * PUT: creates or replaces the connector. The secrets are write-only: required when creating,
 * kept when a replacement leaves them out. They go to the secret store first, then the item.
 */
export async function putVcsConnector(deps: VcsDeps, access: Access, project: string, body: unknown, ifMatch: string | undefined): Promise<VcsConnector> {
  const p = await projectWith(deps, access, project, 'vcsConnectors.update', connectorName(project));
  if (p.state === 'DELETED') throw new FailedPreconditionError(`${projectName(project)} is deleted; undelete it first`);
  const input = parse(VcsConnectorPut, body);
  const current = await deps.vcs.getConnector(project);
  if (current) checkEtag(connectorName(project), current.version, ifMatch, input.etag);
  else if (ifMatch !== undefined || input.etag !== undefined) checkEtag(connectorName(project), 0, ifMatch, input.etag);
  if (!current) {
    const missing = (['webhookSecret', 'accessToken'] as const).filter((f) => input[f] === undefined);
    if (missing.length > 0) throw fieldError(missing[0]!, 'required when the connector is created (write-only: never returned)');
  }
  const apiUrl = checkApiUrl(input.apiUrl ?? DEFAULT_API_URL[input.provider]);
  // Deployed, loopback is the Lambda runtime's own API and a private address is inside the VPC.
  const workspace = await deps.workspace.get();
  await checkOutboundUrl({ allowLoopback: deps.outbound.allowLoopback, allowlist: workspace?.outboundAllowlist ?? [] }, deps.outbound.resolve, new URL(apiUrl), 'apiUrl');
  const now = deps.now().toISOString();
  const names = secretNames(project);
  if (input.webhookSecret !== undefined) await deps.secrets.put(names.webhookSecret, input.webhookSecret);
  if (input.accessToken !== undefined) await deps.secrets.put(names.accessToken, input.accessToken);
  return deps.vcs.putConnector(
    {
      project, provider: input.provider, apiUrl, repository: input.repository, branch: input.branch ?? 'main', baseDirectory: input.baseDirectory ?? 'migrations',
      createTime: current?.createTime ?? now, updateTime: now, version: (current?.version ?? 0) + 1,
    },
    current?.version ?? 0,
  );
}

/** DELETE: the connector, then its secrets; the webhook answers 401 from then on. */
export async function deleteVcsConnector(deps: VcsDeps, access: Access, project: string, ifMatch: string | undefined): Promise<void> {
  await projectWith(deps, access, project, 'vcsConnectors.update', connectorName(project));
  const current = await deps.vcs.getConnector(project);
  if (!current) throw new NotFoundError(connectorName(project));
  checkEtag(connectorName(project), current.version, ifMatch);
  await deps.vcs.deleteConnector(project, current.version);
  const names = secretNames(project);
  await Promise.all([deps.secrets.delete(names.webhookSecret), deps.secrets.delete(names.accessToken)]);
}

// ---------------------------------------------------------------------------------------------
// The webhook: signatures and payloads

const sha256Bytes = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

/** Equal-length digests compared in constant time, so neither length nor content leaks through timing. */
const sameSecret = (given: string, expected: string | Buffer): boolean => timingSafeEqual(sha256Bytes(given), sha256Bytes(expected));

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`; GitLab: `X-Gitlab-Token`
 * equal to the secret. Both compared in constant time; a missing header is a failure.
 */
export function verifySignature(provider: VcsProvider, secret: string, rawBody: string, headers: Record<string, string | undefined>): boolean {
  if (provider === 'GITHUB') {
    const given = headers['x-hub-signature-256'];
    if (!given) return false;
    const expected = `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
    return sameSecret(given.trim().toLowerCase(), expected);
  }
  const given = headers['x-gitlab-token'];
  return given !== undefined && sameSecret(given, secret);
}

export type WebhookEvent = { kind: 'push' } | { kind: 'ping' } | { kind: 'other'; name: string };

export function webhookEvent(provider: VcsProvider, headers: Record<string, string | undefined>): WebhookEvent {
  const name = provider === 'GITHUB' ? headers['x-github-event'] : headers['x-gitlab-event'];
  if (provider === 'GITHUB' && name === 'push') return { kind: 'push' };
  if (provider === 'GITHUB' && name === 'ping') return { kind: 'ping' };
  if (provider === 'GITLAB' && name === 'Push Hook') return { kind: 'push' };
  return { kind: 'other', name: name ?? '(no event header)' };
}

/** The delivery id: the provider's header, else a hash of the body (identical bodies are one delivery). */
export function deliveryId(provider: VcsProvider, headers: Record<string, string | undefined>, rawBody: string): string {
  const given = provider === 'GITHUB' ? headers['x-github-delivery'] : (headers['x-gitlab-event-uuid'] ?? headers['x-gitlab-webhook-uuid'] ?? headers['idempotency-key']);
  if (given && /^[A-Za-z0-9._-]{1,128}$/.test(given)) return given;
  return `sha256-${createHash('sha256').update(rawBody).digest('hex')}`;
}

interface PushCommit {
  id?: unknown;
  author?: { name?: unknown; email?: unknown; username?: unknown };
  added?: unknown;
  modified?: unknown;
  removed?: unknown;
}

export interface Push {
  ref: string;
  /** The pushed head; all zeros when the branch was deleted. */
  after: string;
  files: PushFile[];
}

const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);

/**
 * A push payload (GitHub and GitLab share this shape: ref, after, commits with added/modified/removed)
 * reduced to the files under `baseDirectory` as they stand at the head: a file added then removed
 * within the push is gone; added then modified is still ADDED.
 */
export function parsePush(payload: unknown, baseDirectory: string): Push {
  const p = (payload ?? {}) as { ref?: unknown; after?: unknown; checkout_sha?: unknown; commits?: unknown };
  if (typeof p.ref !== 'string' || typeof p.after !== 'string') throw fieldError('(body)', 'not a push payload: ref and after are required');
  const head = typeof p.checkout_sha === 'string' && p.checkout_sha ? p.checkout_sha : p.after;
  const prefix = baseDirectory === '' ? '' : `${baseDirectory}/`;
  const files = new Map<string, PushFile>();
  for (const c of (Array.isArray(p.commits) ? p.commits : []) as PushCommit[]) {
    const commit = typeof c.id === 'string' ? c.id : head;
    const a = c.author ?? {};
    const author = [a.name, a.email ? `<${String(a.email)}>` : undefined].filter((x) => typeof x === 'string' && x !== '').join(' ') || String(a.username ?? 'unknown');
    for (const path of strings(c.added)) if (path.startsWith(prefix)) files.set(path, { path, change: files.get(path)?.change ?? 'ADDED', commit, author });
    for (const path of strings(c.modified)) if (path.startsWith(prefix)) files.set(path, { path, change: files.get(path)?.change ?? 'MODIFIED', commit, author });
    for (const path of strings(c.removed)) files.delete(path);
  }
  return { ref: p.ref, after: head, files: [...files.values()] };
}

export const isDeletedBranch = (push: Push): boolean => /^0+$/.test(push.after);

// ---------------------------------------------------------------------------------------------
// Migration files: their naming and version rules are domain/common/migrations.ts (the CLI shares them)

export const checksumOf = (content: string): string => createHash('sha256').update(content, 'utf8').digest('hex');

/** How long a delivery id is remembered (a provider redelivers within days). */
export const DELIVERY_RETENTION_MS = 90 * 24 * 3600 * 1000;
/** A delivery still RECEIVED after this long lost its worker (Lambda gave up): a redelivery re-queues it. */
export const STALE_DELIVERY_MS = 15 * 60 * 1000;
/** Files per push Sluice takes; the rest are rejected with this reason (one item per delivery). */
export const MAX_PUSH_FILES = 200;

// ---------------------------------------------------------------------------------------------
// The receiver

export interface ReceiverDeps {
  vcs: VcsRepo;
  secrets: Pick<SecretStore, 'get'>;
  dispatcher: () => Promise<VcsDispatcher>;
  now(): Date;
  log?: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void };
}

export interface WebhookReply {
  status: 200 | 202;
  body: z.infer<typeof WebhookAnswer>;
}

/** One answer for a bad signature, a missing one and an unknown project: nothing to tell them apart by. */
const UNAUTHENTICATED = 'the webhook signature does not verify for this project';

/**
 * Checks the signature, then records a push to the connector's branch that touches migration
 * files (once per delivery id) and hands it to the worker. Answers at once: the work is async.
 */
export async function receiveWebhook(deps: ReceiverDeps, projectRaw: string, rawBody: string, headers: Record<string, string | undefined>): Promise<WebhookReply> {
  const project = /^[a-z][a-z0-9-]{1,62}$/.test(projectRaw) ? projectRaw : undefined;
  const connector = project === undefined ? undefined : await deps.vcs.getConnector(project);
  const secret = connector ? await deps.secrets.get(secretNames(connector.project).webhookSecret) : undefined;
  if (!connector || secret === undefined || !verifySignature(connector.provider, secret, rawBody, headers)) {
    deps.log?.warn('vcs webhook refused', { project: projectRaw, reason: !connector ? 'no connector' : 'signature' });
    throw new UnauthenticatedError(UNAUTHENTICATED);
  }
  const event = webhookEvent(connector.provider, headers);
  if (event.kind === 'ping') return { status: 200, body: { message: 'pong: the signature verifies' } };
  if (event.kind === 'other') return { status: 200, body: { message: `acknowledged; ${event.name} events are not used` } };
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch {
    throw fieldError('(body)', 'a push payload must be JSON (GitHub: content type application/json)');
  }
  const push = parsePush(payload, connector.baseDirectory);
  if (push.ref !== `refs/heads/${connector.branch}`) return { status: 200, body: { message: `ignored: a push to ${push.ref}, not refs/heads/${connector.branch}` } };
  if (isDeletedBranch(push)) return { status: 200, body: { message: 'ignored: the branch was deleted' } };
  if (push.files.length === 0) return { status: 200, body: { message: `ignored: no file under ${connector.baseDirectory || 'the repository root'} was added or changed` } };

  const id = deliveryId(connector.provider, headers, rawBody);
  const now = deps.now();
  const files = push.files.slice(0, MAX_PUSH_FILES);
  const delivery: VcsDelivery = {
    project: connector.project, id, receiveTime: now.toISOString(), status: 'RECEIVED', commit: push.after, repository: connector.repository, files,
    issues: [], unchanged: [],
    rejectedFiles: push.files.slice(MAX_PUSH_FILES).map((f) => ({ path: f.path, reason: `more than ${MAX_PUSH_FILES} migration files in one push; push the rest again` })),
  };
  if (!(await deps.vcs.recordDelivery(delivery, new Date(now.getTime() + DELIVERY_RETENTION_MS)))) {
    // A delivery still unprocessed long after it came (its worker never ran): the provider's redelivery queues it again.
    const seen = await deps.vcs.findDelivery(connector.project, id);
    if (seen?.status === 'RECEIVED' && seen.receiveTime < new Date(now.getTime() - STALE_DELIVERY_MS).toISOString()) {
      await (await deps.dispatcher()).dispatch({ project: connector.project, delivery: id, receiveTime: seen.receiveTime });
      return { status: 202, body: { message: 're-queued: this delivery was received before but never processed', delivery: id, files: seen.files.length } };
    }
    return { status: 200, body: { message: 'duplicate: this delivery was received before; nothing done', delivery: id } };
  }
  try {
    await (await deps.dispatcher()).dispatch({ project: connector.project, delivery: id, receiveTime: delivery.receiveTime });
  } catch (e) {
    // Not queued: forget it, so that the provider's redelivery is taken as new.
    await deps.vcs.forgetDelivery(connector.project, id, delivery.receiveTime);
    throw e;
  }
  deps.log?.info('vcs push received', { project: connector.project, delivery: id, commit: push.after, files: files.length });
  return { status: 202, body: { message: `accepted: ${files.length} migration file(s) queued`, delivery: id, files: files.length } };
}
