// The one middy stack every HTTP handler family uses (API.md conventions):
// observe (request id, access log) → audit (records the outcome: functions/shared/audit.ts) →
// errors (AIP-193 shape) → route → JSON body → authenticate → idempotency → the operation, run so
// that its first write carries its audit entry. Each middleware is a factory of before/after/onError.
import { createHash } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { PermissionDeniedError, SluiceError, AbortedError, MethodNotAllowedError, NotFoundError, PayloadTooLargeError, UnauthenticatedError, UnsupportedMediaTypeError, fieldError } from '../../domain/common/errors.js';
import { matchRoute, type Family, type HttpMethod, type OperationOf, type RouteDef } from '../../domain/api/routes.js';
import { PROJECT_SCOPED, roleHas } from '../../domain/access/roles.js';
import { Access } from '../../domain/access/access.js';
import { normalizeEmail } from '../../domain/common/names.js';
import type { User } from '../../domain/access/users.js';
import type { Deps } from '../../domain/inventory/ports.js';
import type { IdempotencyRepo, StoredResponse } from '../../domain/common/ports.js';
import { logger as rootLogger, type Logger } from './logger.js';
import { AuditTrail, noteOn, type AuditedCall, type AuditSession } from './audit.js';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };

export const MAX_BODY_BYTES = 1024 * 1024;
/** A webhook's body (a push of many commits is larger than an API body); Lambda's own limit is 6 MB. */
export const MAX_RAW_BODY_BYTES = 5 * 1024 * 1024;
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** An in-progress claim outlives the function timeout, so a crashed create frees its key soon. */
const IDEMPOTENCY_LEASE_MS = 60 * 1000;

export interface Request {
  readonly requestId: string;
  readonly log: Logger;
  readonly route: RouteDef;
  readonly params: Record<string, string>;
  readonly query: Record<string, string | undefined>;
  readonly headers: Record<string, string | undefined>;
  readonly body: unknown;
  /** The body as sent (empty for a route without one): a webhook checks its signature over it. */
  readonly rawBody: string;
  readonly principal: User | undefined;
  /** The caller's rights; project-scoped checks happen in the domain with `access.require`. */
  readonly access: Access | undefined;
  /** Adds to the request's audit entry what only the operation learns (a sheet's statement); scrubbed. */
  readonly auditNote: (detail: Record<string, unknown>) => void;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Operation = (req: Request) => Promise<Reply>;

interface State {
  requestId: string;
  log: Logger;
  started: number;
  route?: RouteDef;
  params: Record<string, string>;
  body?: unknown;
  rawBody: string;
  principal?: User;
  idempotencyScope?: string;
  requestHash?: string;
  replay?: StoredResponse;
  /** middy answered at the function's deadline while the operation still ran. */
  deadlinePassed?: boolean;
  /** Keeps the Idempotency-Key's claim alive while the operation runs. */
  heartbeat?: ReturnType<typeof setInterval>;
  /** The audit entry while the operation runs (a route that is not a GET). */
  audit?: AuditSession;
}
type Ctx = Context & { sluice: State };
type MiddyRequest = middy.Request<HttpEvent, HttpResult, Error, Ctx>;

const JSON_HEADERS = { 'content-type': 'application/json' };

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { ...JSON_HEADERS, ...headers },
  body: JSON.stringify(body),
});

export function errorBody(e: SluiceError): unknown {
  return { error: { code: e.httpStatus, status: e.status, message: e.message, details: e.details } };
}

const header = (event: HttpEvent, name: string): string | undefined => {
  const headers = event.headers ?? {};
  return headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
};

/** Request id on every log line and response; one access-log line per request. */
export const observe = (): middy.MiddlewareObj<HttpEvent, HttpResult, Error, Ctx> => {
  const finish = (request: MiddyRequest) => {
    const state = request.context.sluice;
    const response = request.response;
    if (!response) return;
    response.headers = { ...response.headers, 'x-request-id': state.requestId };
    state.log.info('request', {
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
      operation: state.route?.operation,
      status: response.statusCode,
      user: state.principal ? `users/${state.principal.id}` : undefined,
      durationMs: Date.now() - state.started,
    });
  };
  return {
    before: (request) => {
      const requestId = request.event.requestContext?.requestId || request.context.awsRequestId || crypto.randomUUID();
      request.context.sluice = { requestId, log: rootLogger.child({ requestId }), started: Date.now(), params: {}, rawBody: '' };
    },
    after: finish,
    onError: finish,
  };
};

/** What the audit trail knows of the request; undefined before it was routed. */
function auditedCall(event: HttpEvent, state: State | undefined): AuditedCall | undefined {
  if (!state?.route) return undefined;
  const email = event.requestContext.authorizer?.jwt?.claims?.email;
  return {
    route: state.route,
    params: state.params,
    query: event.queryStringParameters ?? {},
    body: state.body,
    requestId: state.requestId,
    started: state.started,
    principal: state.principal,
    email: typeof email === 'string' && email !== '' ? email : undefined,
    sourceIp: event.requestContext.http?.sourceIp,
    log: state.log,
  };
}

/**
 * Records every request to a route that is not a GET, success or failure, once the answer (and,
 * for a failure, its error shape) is known. Never changes the answer.
 */
export const audit = (trail: AuditTrail | undefined): middy.MiddlewareObj<HttpEvent, HttpResult, Error, Ctx> => {
  const finish = async (request: MiddyRequest) => {
    const call = auditedCall(request.event, request.context.sluice);
    const response = request.response;
    if (!trail || !call || !response) return;
    const e = request.error;
    let body: unknown;
    if (response.statusCode < 300 && AuditTrail.wantsResponse(call.route) && typeof response.body === 'string') {
      try {
        body = JSON.parse(response.body);
      } catch {
        body = undefined;
      }
    }
    await trail.finish(call, request.context.sluice.audit, {
      code: response.statusCode,
      ...(e instanceof SluiceError ? { errorStatus: e.status, errorDetails: e.details } : {}),
      ...(body === undefined ? {} : { response: body }),
      ...(request.context.sluice.replay ? { replayed: true } : {}),
    });
  };
  return { after: finish, onError: finish };
};

/** Maps every failure to the API.md error shape; anything unexpected is a bare 500. */
export const errors = (): middy.MiddlewareObj<HttpEvent, HttpResult, Error, Ctx> => ({
  onError: (request) => {
    const e = request.error;
    const log = request.context.sluice?.log ?? rootLogger;
    if (e instanceof SluiceError) {
      request.response = json(e.httpStatus, errorBody(e), e instanceof MethodNotAllowedError ? { allow: e.allow.join(', ') } : {});
      return;
    }
    log.error('unhandled error', { error: e?.name, message: e?.message, stack: e?.stack });
    request.response = json(500, { error: { code: 500, status: 'INTERNAL', message: 'internal error', details: [] } });
  },
});

const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** A request no route takes: 405 with the methods the path does take, or 404 for an unknown path. */
export function unrouted(method: string, rawPath: string): SluiceError {
  const allow = METHODS.filter((m) => matchRoute(m, rawPath) !== undefined);
  return allow.length > 0 ? new MethodNotAllowedError(method, rawPath, allow) : new NotFoundError(`${method} ${rawPath}`);
}

/** Finds the operation by the full route template (custom verbs included). */
export const route = (family: Family): middy.MiddlewareObj<HttpEvent, HttpResult, Error, Ctx> => ({
  before: (request) => {
    const method = request.event.requestContext.http.method.toUpperCase();
    const match = matchRoute(method, request.event.rawPath);
    if (!match) throw unrouted(method, request.event.rawPath);
    if (match.route.family !== family) throw new NotFoundError(`${method} ${request.event.rawPath}`);
    request.context.sluice.route = match.route;
    request.context.sluice.params = match.params;
  },
});

/** JSON bodies only, at most 1 MiB; malformed JSON is a 400 naming the problem. */
export const jsonBody = (): middy.MiddlewareObj<HttpEvent, HttpResult, Error, Ctx> => ({
  before: (request) => {
    const state = request.context.sluice;
    if (!state.route?.body && !state.route?.rawBody) return;
    const { body: raw, isBase64Encoded } = request.event;
    const text = raw === undefined || raw === null ? '' : isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    const limit = state.route.rawBody ? MAX_RAW_BODY_BYTES : MAX_BODY_BYTES;
    if (Buffer.byteLength(text) > limit) throw new PayloadTooLargeError(limit);
    if (state.route.rawBody) {
      // Parsed by the operation, after it checked the signature over these exact bytes.
      state.rawBody = text;
      return;
    }
    state.rawBody = text;
    if (text.trim() === '') {
      state.body = {};
      return;
    }
    const type = (header(request.event, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(type)) throw new UnsupportedMediaTypeError();
    try {
      state.body = JSON.parse(text);
    } catch (e) {
      throw fieldError('(body)', `malformed JSON: ${(e as Error).message}`);
    }
    if (typeof state.body !== 'object' || state.body === null || Array.isArray(state.body)) {
      throw fieldError('(body)', 'must be a JSON object');
    }
  },
});

/**
 * The gateway (or the local server) has verified the token; here the `email` claim becomes a
 * Sluice user, and the route's one permission is checked against that user's role.
 */
export const authenticate = (deps: Pick<Deps, 'users'>): middy.MiddlewareObj<HttpEvent, HttpResult, Error, Ctx> => ({
  before: async (request) => {
    const state = request.context.sluice;
    const permission = state.route?.permission;
    if (!permission) return;
    const claims = request.event.requestContext.authorizer?.jwt?.claims ?? {};
    const email = claims.email;
    if (typeof email !== 'string' || email === '') throw new UnauthenticatedError('the token carries no email claim');
    if (claims.email_verified === false || claims.email_verified === 'false') {
      throw new PermissionDeniedError(`the email ${email} is not verified`);
    }
    const user = await deps.users.getByEmail(normalizeEmail(email));
    if (!user || user.state !== 'ACTIVE') throw new PermissionDeniedError(`no active Sluice user has the email ${email}`);
    if (user.userType !== 'USER') throw new PermissionDeniedError('the system bot cannot sign in');
    state.principal = user;
    state.log = state.log.child({ user: `users/${user.id}` });
    // A permission some project role grants is decided per project, in the domain.
    if (!roleHas(user.role, permission) && !PROJECT_SCOPED.has(permission)) {
      throw new PermissionDeniedError(`users/${user.id} (${user.role}) lacks ${permission}`, permission);
    }
  },
});

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

/** middy's own error at the function's deadline (its timeoutEarlyResponse), not an SDK timeout. */
const isDeadline = (e: unknown): boolean =>
  e instanceof Error && e.name === 'TimeoutError' && (e.cause as { package?: string } | undefined)?.package === '@middy/core';

/** Idempotency-Key on creates: a retry replays the first answer; another body is a 409. */
export const idempotent = (repo: IdempotencyRepo, leaseMs = IDEMPOTENCY_LEASE_MS): middy.MiddlewareObj<HttpEvent, HttpResult, Error, Ctx> => ({
  before: async (request) => {
    const state = request.context.sluice;
    const key = header(request.event, 'idempotency-key');
    if (!state.route?.create || key === undefined) return;
    if (key.length === 0 || key.length > 256) throw fieldError('Idempotency-Key', 'must be 1 to 256 characters');
    const scope = sha256(JSON.stringify([state.principal?.id ?? 0, state.route.method, request.event.rawPath, key]));
    const hash = sha256(state.rawBody);
    const existing = await repo.claim(scope, hash, new Date(Date.now() + leaseMs));
    if (existing && existing.requestHash !== hash) throw new AbortedError('Idempotency-Key was already used with a different request body');
    if (existing?.state === 'IN_PROGRESS') throw new AbortedError('a request with this Idempotency-Key is still in progress; retry later');
    if (existing?.state === 'COMPLETED') {
      state.replay = existing.response;
      return;
    }
    state.idempotencyScope = scope;
    state.requestHash = hash;
    // An operation may outlive the lease (a slow dependency; locally nothing stops it at the
    // deadline): the claim is renewed while it runs, so a retry never runs it a second time.
    state.heartbeat = setInterval(() => void repo.extend(scope, hash, new Date(Date.now() + leaseMs)).catch(() => undefined), Math.max(10, leaseMs / 3));
    state.heartbeat.unref?.();
  },
  after: async (request) => {
    clearInterval(request.context.sluice.heartbeat);
    const { idempotencyScope: scope, requestHash } = request.context.sluice;
    const response = request.response;
    if (!scope || !requestHash || !response) return;
    if (response.statusCode < 300) {
      await repo.complete(scope, requestHash, { statusCode: response.statusCode, body: String(response.body ?? '') }, new Date(Date.now() + IDEMPOTENCY_TTL_MS));
    } else {
      await repo.release(scope);
    }
  },
  onError: async (request) => {
    const scope = request.context.sluice?.idempotencyScope;
    // At the function's deadline middy answers while the operation may still finish: the key
    // stays claimed until its lease ends, or a retry with it would make the resource twice.
    if (isDeadline(request.error)) {
      if (request.context.sluice) request.context.sluice.deadlinePassed = true;
      return;
    }
    clearInterval(request.context.sluice?.heartbeat);
    // Release the key so that a corrected retry can go through.
    if (scope) await repo.release(scope).catch(() => undefined);
  },
});

export interface HandlerDeps {
  deps: Deps;
  idempotency: IdempotencyRepo;
  /** The Idempotency-Key claim's lease (renewed while the operation runs); tests shorten it. */
  idempotencyLeaseMs?: number;
  /** Records every request to a route that is not a GET (functions/shared/audit.ts). */
  audit?: AuditTrail;
}

/** A family of public routes only (no token, no Idempotency-Key): at most an audit trail. */
export interface PublicDeps {
  audit?: AuditTrail;
}

/**
 * Builds the Lambda handler of one family from its operations; `wiring` is PublicDeps (or null)
 * for a family of public routes only.
 */
export function httpHandler<F extends Family>(family: F, wiring: HandlerDeps | PublicDeps | null, operations: Record<OperationOf<F>, Operation>) {
  const ops = operations as Record<string, Operation>;
  const stack = middy<HttpEvent, HttpResult, Error, Ctx>().use(observe()).use(audit(wiring?.audit)).use(errors()).use(route(family)).use(jsonBody());
  if (wiring && 'deps' in wiring) stack.use(authenticate(wiring.deps)).use(idempotent(wiring.idempotency, wiring.idempotencyLeaseMs));
  return stack.handler(async (event, context) => {
      const state = context.sluice;
      if (state.replay) return { statusCode: state.replay.statusCode, headers: { ...JSON_HEADERS, 'idempotent-replayed': 'true' }, body: state.replay.body };
      const r = state.route!;
      const query: Record<string, string | undefined> = { ...(event.queryStringParameters ?? {}) };
      const headers: Record<string, string | undefined> = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      let reply: Reply;
      try {
        const call = auditedCall(event, state);
        state.audit = wiring?.audit && call ? await wiring.audit.open(call) : undefined;
        const req: Request = {
          requestId: state.requestId, log: state.log, route: r, params: state.params, query, headers, body: state.body, rawBody: state.rawBody, principal: state.principal,
          access: state.principal ? new Access(state.principal) : undefined,
          auditNote: noteOn(state.audit),
        };
        const operation = ops[r.operation]!;
        reply = state.audit ? await state.audit.join.run(() => operation(req)) : await operation(req);
      } catch (e) {
        if (state.deadlinePassed) await settleLate(wiring, state, undefined);
        throw e;
      }
      const status = reply.status ?? (r.create ? 201 : 200);
      const result: HttpResult = reply.body === undefined ? { statusCode: status, headers: { ...reply.headers } } : json(status, reply.body, reply.headers);
      if (state.deadlinePassed) await settleLate(wiring, state, result);
      return result;
    });
}

/**
 * An operation that finished after middy answered at the deadline: its Idempotency-Key, kept
 * claimed, now records the real outcome (a retry with the key replays it), or is released when
 * the operation failed.
 */
async function settleLate(wiring: HandlerDeps | PublicDeps | null, state: State, result: HttpResult | undefined): Promise<void> {
  clearInterval(state.heartbeat);
  const { idempotencyScope: scope, requestHash } = state;
  if (!wiring || !('deps' in wiring) || !scope || !requestHash) return;
  if (result && result.statusCode < 300) {
    await wiring.idempotency.complete(scope, requestHash, { statusCode: result.statusCode, body: String(result.body ?? '') }, new Date(Date.now() + IDEMPOTENCY_TTL_MS)).catch(() => undefined);
  } else await wiring.idempotency.release(scope).catch(() => undefined);
  state.log.warn('finished after the deadline', { operation: state.route?.operation, status: result?.statusCode });
}

/**
 * API Gateway's `$default` route: whatever no gateway route takes. A path of the route table
 * asked with another method is a 405 with `Allow`; any other path the API's own 404.
 */
export const notFoundHandler = () =>
  middy<HttpEvent, HttpResult, Error, Ctx>()
    .use(observe())
    .use(errors())
    .handler(async (event) => {
      throw unrouted(event.requestContext.http.method.toUpperCase(), event.rawPath);
    });
