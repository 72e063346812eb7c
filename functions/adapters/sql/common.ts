// What every SQL driver shares: timeouts, a hard deadline, closing in every case, and failure
// messages a DBA can act on that never carry the password.
import { SqlConnectionError, type ConnectionTarget } from '../../../domain/inventory/ports.js';

export interface DriverOptions {
  /** Time to connect and sign in; at most 5 s by default. */
  connectTimeoutMs?: number;
  /** Time for each statement (client side, and server side where the engine allows). */
  queryTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** A change's statement timeout unless SLUICE_STATEMENT_TIMEOUT_MS says otherwise: 5 min. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 5_000;

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

/** Removes the password, as typed and URL-encoded, from any text a driver produced. */
export function scrub(text: string, password: string | undefined): string {
  if (!password) return text;
  let out = text;
  for (const form of new Set([password, encodeURIComponent(password)])) out = out.split(form).join('***');
  return out;
}

interface DriverError {
  code?: unknown;
  message?: unknown;
}

/**
 * Turns a driver or socket failure into one sentence saying what to check. The password is
 * scrubbed from everything that came from outside (the driver's text, host, user): our own words
 * stay readable even when the password is a common word.
 */
export function describeFailure(e: unknown, target: ConnectionTarget, connectTimeoutMs: number, queryTimeoutMs: number): string {
  const err = (typeof e === 'object' && e !== null ? e : {}) as DriverError;
  const code = typeof err.code === 'string' ? err.code : '';
  const raw = typeof err.message === 'string' ? err.message : String(e);
  const safe = (s: string) => scrub(s, target.password);
  const host = safe(target.host);
  const where = `${host}:${target.port}`;
  const engine = target.engine === 'POSTGRES' ? 'PostgreSQL' : 'MySQL';
  if (code === 'ECONNREFUSED') return `connection refused at ${where} (is the server running and listening on that port?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_NONAME' || code === 'EAI_AGAIN' || code === 'EAI_FAIL') return `host not found: ${host} (check the host name and DNS)`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `host unreachable: ${where} (check routing, VPC and security groups)`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `connection reset by ${where} (is it a ${engine} server? does it require TLS?)`;
  if (code === 'ETIMEDOUT' || /connection timeout|timeout expired|connect ETIMEDOUT/i.test(raw)) {
    return `timed out after ${seconds(connectTimeoutMs)} connecting to ${where} (is a firewall or security group dropping the connection?)`;
  }
  if (code === 'PROTOCOL_SEQUENCE_TIMEOUT' || /query read timeout|canceling statement due to statement timeout/i.test(raw)) {
    return `timed out after ${seconds(queryTimeoutMs)} waiting for ${where} to answer`;
  }
  // Sign-in failures name the password in the server's own words: rebuilt, so they stay readable.
  if (code === '28P01') return `password authentication failed for user "${safe(target.username)}"`;
  const denied = /^Access denied for user '(.*)'@'(.*)' \(using password: (YES|NO)\)$/.exec(raw);
  if (code === 'ER_ACCESS_DENIED_ERROR' && denied) return `Access denied for user '${safe(denied[1]!)}'@'${safe(denied[2]!)}' (using password: ${denied[3]})`;
  return safe(raw);
}

/** Settles with `work`, or fails after `ms` (then `onTimeout` cleans up). */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => void, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new SqlConnectionError(message));
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for a graceful close at most `ms`; the caller then destroys the socket regardless. */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export const timeoutMessage = (target: ConnectionTarget, ms: number): string =>
  `timed out after ${seconds(ms)} talking to ${scrub(target.host, target.password)}:${target.port}`;

/**
 * The sync's catalog read (SchemaReader.readSchemaFingerprinted): the fingerprint; when it is the
 * one recorded (`known`), nothing more; otherwise the full model, bracketed by a second
 * fingerprint so the one recorded with the model was the catalog's all along.
 */
export async function readFingerprinted<M>(fingerprint: () => Promise<string>, model: () => Promise<M>, known?: string): Promise<{ fingerprint?: string; model?: M }> {
  const first = await fingerprint();
  if (first === known) return { fingerprint: first };
  const read = await model();
  return { model: read, ...((await fingerprint()) === first ? { fingerprint: first } : {}) };
}
