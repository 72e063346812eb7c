// The audit log (API.md "Approval flows, notifications, audit"): one entry per mutating request
// (every route but a GET: the API's and the VCS webhook's) and per SQL-editor query, whether it
// succeeded or not. Pure: the HTTP layer (functions/shared/audit.ts) says what happened, this
// module turns it into an entry; domain/audit/detail.ts and redact.ts decide what `detail` may hold.
import * as z from 'zod/mini';
import type { ErrorDetail } from '../common/errors.js';
import { requestDetail, responseDetail } from './detail.js';
import { safeDetail, safeText } from './redact.js';

export interface AuditStatus {
  /** The HTTP status code answered. */
  code: number;
  /** `OK` for a 2xx, else the error's status (`PERMISSION_DENIED`, `ABORTED`, ...). */
  status: string;
}

export interface AuditEntry {
  /** `auditLogs/{requestId}`. */
  name: string;
  /** When the request arrived (RFC 3339, milliseconds). */
  time: string;
  /** `users/N`; `vcs:<project>` for the VCS webhook; `anonymous` when the caller is no Sluice user. */
  actor: string;
  /** The route's operation id (`createIssue`). */
  method: string;
  httpMethod: string;
  /** The resource acted on (`projects/shop/issues/12`); a create's new resource once it exists. */
  resource: string;
  status: AuditStatus;
  /** The x-request-id header of the response (API Gateway's request id). */
  requestId: string;
  sourceIp?: string;
  /** Safe detail only: never a secret, a password, a token, a webhook URL or a row of data. */
  detail: Record<string, unknown>;
}

/** The route an entry is about: its operation id, HTTP method and path template. */
export interface AuditedRoute {
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly create?: boolean;
}

/** Every route but a GET is audited: writes, custom methods, the webhook, and the SQL editor's POSTs. */
export const isAudited = (route: AuditedRoute): boolean => route.method !== 'GET';

/** Where a route acts when its path is not a resource name (the webhook feeds the project's connector). */
const RESOURCE_TEMPLATES: Readonly<Record<string, string>> = {
  receiveVcsWebhook: 'projects/{project}/vcsConnector',
};

const MAX_RESOURCE_CHARS = 512;

/**
 * The resource name a route acts on: its path without `/v1/` and the custom verb, with the path
 * parameters filled in (`/v1/projects/{project}/issues/{issue}:cancel` → `projects/shop/issues/12`).
 * A create acts on its collection until the new resource has a name.
 */
export function resourceOf(route: AuditedRoute, params: Readonly<Record<string, string>>): string {
  const template = RESOURCE_TEMPLATES[route.operation] ?? route.path.replace(/^\/v1\//, '').replace(/:[A-Za-z]+$/, '');
  return safeText(template.replace(/\{(\w+)\}/g, (_m, p: string) => params[p] ?? `{${p}}`), MAX_RESOURCE_CHARS);
}

export const entryName = (requestId: string): string => `auditLogs/${encodeURIComponent(requestId)}`;

export interface AuditedRequest {
  route: AuditedRoute;
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string | undefined>>;
  /** The parsed JSON body (undefined for a raw-body route or none). */
  body: unknown;
  requestId: string;
  time: Date;
  actor: string;
  sourceIp?: string;
}

/** The entry as it will read if the operation succeeds: written with the operation's first write. */
export function draftEntry(req: AuditedRequest): AuditEntry {
  return {
    name: entryName(req.requestId),
    time: req.time.toISOString(),
    actor: req.actor,
    method: req.route.operation,
    httpMethod: req.route.method,
    resource: resourceOf(req.route, req.params),
    status: { code: req.route.create ? 201 : 200, status: 'OK' },
    requestId: req.requestId,
    ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}),
    detail: safeDetail(requestDetail(req.route.operation, req.route.method, req.body, req.query)),
  };
}

export interface AuditOutcome {
  code: number;
  /** The error's status; absent for a success. */
  errorStatus?: string;
  errorDetails?: readonly ErrorDetail[];
  /** The parsed response body of a success. */
  response?: unknown;
  /** What the operation noted while it ran (the statement of a sheet it ran). */
  notes?: Record<string, unknown>;
  /** An Idempotency-Key retry answered with the first response. */
  replayed?: boolean;
}

/** The entry as it happened. */
export function finalEntry(draft: AuditEntry, outcome: AuditOutcome): AuditEntry {
  const ok = outcome.code < 400;
  const response = ok && outcome.response && typeof outcome.response === 'object' ? (outcome.response as Record<string, unknown>) : undefined;
  const created = response && typeof response.name === 'string' && draft.status.code === 201 ? safeText(response.name, MAX_RESOURCE_CHARS) : undefined;
  const error = ok ? undefined : errorDetail(outcome.errorDetails ?? []);
  return {
    ...draft,
    ...(created ? { resource: created } : {}),
    status: { code: outcome.code, status: ok ? 'OK' : outcome.errorStatus ?? (outcome.code >= 500 ? 'INTERNAL' : 'UNKNOWN') },
    detail: safeDetail({
      ...draft.detail,
      ...outcome.notes,
      ...(response ? responseDetail(draft.method, response) : {}),
      ...(outcome.replayed ? { replayed: true } : {}),
      ...(error ? { error } : {}),
    }),
  };
}

/** Of an error, what says why without echoing input: the permission lacking, the fields at fault. */
function errorDetail(details: readonly ErrorDetail[]): Record<string, unknown> | undefined {
  const permission = details.find((d) => d.permission)?.permission;
  const fields = [...new Set(details.map((d) => d.field).filter((f): f is string => typeof f === 'string'))];
  if (!permission && fields.length === 0) return undefined;
  return { ...(permission ? { permission } : {}), ...(fields.length ? { fields } : {}) };
}

/** Two entries say the same (the one written with the change needs no second write). */
export const sameEntry = (a: AuditEntry, b: AuditEntry): boolean => JSON.stringify(a) === JSON.stringify(b);

export const AuditLogResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.string(),
  time: /* @__PURE__ */ z.string(),
  actor: /* @__PURE__ */ z.string(),
  method: /* @__PURE__ */ z.string(),
  httpMethod: /* @__PURE__ */ z.string(),
  resource: /* @__PURE__ */ z.string(),
  status: /* @__PURE__ */ z.object({ code: /* @__PURE__ */ z.number(), status: /* @__PURE__ */ z.string() }),
  requestId: /* @__PURE__ */ z.string(),
  sourceIp: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
  detail: /* @__PURE__ */ z.record(/* @__PURE__ */ z.string(), /* @__PURE__ */ z.unknown()),
});

/** The entry as the API shows it, fields in a fixed order. */
export const toAuditLogResource = (e: AuditEntry): z.infer<typeof AuditLogResource> => ({
  name: e.name,
  time: e.time,
  actor: e.actor,
  method: e.method,
  httpMethod: e.httpMethod,
  resource: e.resource,
  status: { code: e.status.code, status: e.status.status },
  requestId: e.requestId,
  ...(e.sourceIp ? { sourceIp: e.sourceIp } : {}),
  detail: e.detail,
});
