// The web console on `npm start`: its built files at `/`, `/config.json` telling it to use the dev
// sign-in, and that sign-in itself (`POST /local/token {email}` → a token signed by the local key,
// what `npm run token` prints). Everything under /v1 and /healthz stays the API's.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { LocalKeys } from './jwt.js';

export interface ConsoleOptions {
  /** The built console (web/dist). */
  dir: string;
}

/** The console's Content-Security-Policy: its own scripts, styles and API only; no inline code, no framing. */
export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
  "connect-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'", "object-src 'none'",
].join('; ');

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };
const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-request-id': randomUUID(), ...SECURITY_HEADERS });
  res.end(JSON.stringify(body));
}

/**
 * The dev sign-in may only be used by the console served here: the Host must be this loopback
 * server (no DNS-rebound name), the request JSON (a cross-site page cannot send that without a
 * preflight this server never grants), and any Origin this server's own.
 */
function sameLoopbackOrigin(req: IncomingMessage, port: number): boolean {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  const host = req.headers.host ?? '';
  if (!hosts.includes(host)) return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${host}`;
}

/** Handles the console's requests; false for everything else (the API's). */
export async function serveConsole(req: IncomingMessage, res: ServerResponse, body: Buffer, opts: ConsoleOptions & { keys: LocalKeys; port: number }): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const method = req.method ?? 'GET';
  if (path === '/local/token') {
    if (method !== 'POST') return json(res, 405, { error: { code: 405, status: 'UNIMPLEMENTED', message: 'POST only', details: [] } }), true;
    if (!sameLoopbackOrigin(req, opts.port) || !/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
      return json(res, 403, { error: { code: 403, status: 'PERMISSION_DENIED', message: 'the dev sign-in answers only its own console on this machine', details: [] } }), true;
    }
    let email: unknown;
    try {
      email = (JSON.parse(body.toString('utf8')) as { email?: unknown }).email;
    } catch {
      /* answered below */
    }
    if (typeof email !== 'string' || !EMAIL.test(email)) {
      return json(res, 400, { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'email: must be an email address', details: [{ field: 'email', description: 'must be an email address' }] } }), true;
    }
    return json(res, 200, { token: await opts.keys.sign(email) }), true;
  }
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (path === '/config.json') return json(res, 200, { mode: 'local' }), true;
  let file: string | undefined;
  if (path === '/' || path === '/index.html') file = 'index.html';
  else if (/^\/assets\/[A-Za-z0-9._-]+$/.test(path)) file = normalize(path.slice(1));
  if (!file) return false;
  const full = join(opts.dir, file);
  if (!existsSync(full)) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('The console is not built: restart npm start (it builds web/ when the build is missing).\n');
    return true;
  }
  // Hashed asset names never change content: cache them; the page itself is always fresh.
  const cache = file === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable';
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': cache, ...SECURITY_HEADERS });
  res.end(method === 'HEAD' ? undefined : readFileSync(full));
  return true;
}
