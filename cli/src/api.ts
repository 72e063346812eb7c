// The one way the CLI reaches Sluice: the public HTTP API (fetch), as any client does. Errors come
// back as the API wrote them (AIP-193 `{error: {code, status, message}}`; API Gateway's own 401 is
// `{message}`); a server that does not answer is one line, never a stack.
import { randomUUID } from 'node:crypto';
import { ApiError, UnreachableError, UsageError } from './errors.js';
import { claimsOf } from './jwt.js';
import type { Connection } from './config.js';

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Creates: a retry with the same key returns the first answer (API.md, Idempotency-Key). */
  idempotent?: boolean;
  /** Send no Authorization header (public routes). */
  anonymous?: boolean;
}

const TIMEOUT_MS = 30_000;
/** Connection-level failures retried (with the same Idempotency-Key for creates) before giving up. */
const RETRIES = 2;

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
};

/** Why fetch failed, in words: undici hides the socket error in `cause` (sometimes nested). */
export function networkReason(e: unknown): { reason: string; retry: boolean } {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return { reason: `no answer within ${TIMEOUT_MS / 1000} s`, retry: false };
  let c: unknown = e;
  for (let i = 0; i < 4 && c; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return { reason: NETWORK_WORDS[code] ?? code, retry: code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' };
    const nested = (c as { cause?: unknown; errors?: unknown[] }).cause ?? (c as { errors?: unknown[] }).errors?.[0];
    c = nested;
  }
  return { reason: e instanceof Error ? e.message : String(e), retry: false };
}

export class Api {
  constructor(readonly connection: Connection) {}

  get url(): string {
    return this.connection.url;
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.url + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (!options.anonymous) {
      if (!this.connection.token) throw new UsageError('no token: give --token, set SLUICE_TOKEN, or sign in with sluice login');
      headers.authorization = `Bearer ${this.connection.token}`;
    }
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotent) headers['idempotency-key'] = randomUUID();
    const label = `${method} ${url.pathname}`;
    let response: Response | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        response = await fetch(url, {
          method,
          headers,
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        break;
      } catch (e) {
        const { reason, retry } = networkReason(e);
        // A POST without a key may have been applied: never sent twice.
        const safe = method === 'GET' || options.idempotent === true;
        if (retry && safe && attempt < RETRIES) {
          await new Promise((r) => setTimeout(r, 300 * (attempt + 1)));
          continue;
        }
        throw new UnreachableError(`cannot reach ${this.url} (${reason}); is the server running? Check --url, SLUICE_URL or sluice login`);
      }
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const err = (body as { error?: { status?: string; message?: string } } | undefined)?.error;
      const message = err?.message ?? (body as { message?: string } | undefined)?.message ?? (text.trim().slice(0, 300) || response.statusText);
      const exp = response.status === 401 && this.connection.token ? claimsOf(this.connection.token)?.exp : undefined;
      const expired = typeof exp === 'number' && exp * 1000 < Date.now() ? ` [the token expired at ${new Date(exp * 1000).toISOString()}]` : '';
      throw new ApiError(response.status, err?.status ?? statusWord(response.status), message + expired, label, body);
    }
    return body as T;
  }

  get<T = unknown>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {});
  }

  post<T = unknown>(path: string, body: unknown = {}, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, body });
  }

  /** Every item of a list, page after page (`?pageSize=1000&pageToken=`), up to `limit`. */
  async list<T>(path: string, field: string, query: RequestOptions['query'] = {}, limit = Infinity): Promise<{ items: T[]; nextPageToken?: string }> {
    const items: T[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.get<Record<string, unknown>>(path, { ...query, pageSize: Math.min(1000, Math.max(1, limit - items.length)), pageToken });
      items.push(...((page[field] as T[] | undefined) ?? []));
      pageToken = typeof page.nextPageToken === 'string' && page.nextPageToken !== '' ? page.nextPageToken : undefined;
    } while (pageToken && items.length < limit);
    return { items, ...(pageToken ? { nextPageToken: pageToken } : {}) };
  }
}

function statusWord(code: number): string {
  return ({ 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ABORTED', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 502: 'UNAVAILABLE', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' } as Record<number, string>)[code] ?? 'UNKNOWN';
}
