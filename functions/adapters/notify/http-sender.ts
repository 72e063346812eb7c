// The webhook sender: one HTTPS (or, on one machine, HTTP) POST, with the outbound-address guard
// applied to every address DNS gives at connection time, so a host that resolved to a public
// address when the webhook was saved cannot be pointed at the VPC or the metadata service later.
// Errors name the kind of failure, never the URL (write-only: its path often is the credential).
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { addressKind, addressRefusal, type OutboundPolicy } from '../../../domain/common/outbound.js';
import type { OutboundRequest, OutboundResult, WebhookSender } from '../../../domain/notify/delivery.js';

class RefusedAddress extends Error {
  constructor(readonly kind: string) {
    super(`refused: the receiver's host resolves to a ${kind} address (not in the workspace's outboundAllowlist)`);
  }
}

/** dns.lookup that answers only with addresses the policy allows (all of them must be). */
export function guardedLookup(policy: () => Promise<OutboundPolicy>): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    void policy().then(
      (p) =>
        dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
          if (err) return callback(err, '', 0);
          for (const a of addresses) {
            if (addressRefusal(p, hostname, a.address)) return callback(new RefusedAddress(addressKind(a.address) ?? 'private'), '', 0);
          }
          if (options.all) return callback(null, addresses);
          const first = addresses[0]!;
          return callback(null, first.address, first.family);
        }),
      (e: Error) => callback(e, '', 0),
    );
  }) as LookupFunction;
}

export interface OutboundCall {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}
export type OutboundAnswer = { statusCode: number; body: string } | { error: string };

/** Answers kept at most this long (a receiver's reply is not needed beyond its status; a file is). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * One request through the guard: host names resolve through `guardedLookup`; an IP literal in
 * the URL (no lookup happens for it) is checked here. No redirect is followed.
 */
export async function outboundRequest(policy: OutboundPolicy, call: OutboundCall): Promise<OutboundAnswer> {
  const url = new URL(call.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (/^[\d.]+$|:/.test(host) && addressRefusal(policy, host, host)) return { error: new RefusedAddress(addressKind(host) ?? 'private').message };
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowLoopback && addressKind(host) === 'loopback') && !(url.protocol === 'http:' && policy.allowLoopback && host === 'localhost')) {
    return { error: 'refused: the URL is not https' };
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<OutboundAnswer>((resolve) => {
    let settled = false;
    const done = (r: OutboundAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const headers = { ...call.headers, ...(call.body !== undefined ? { 'content-length': String(Buffer.byteLength(call.body)) } : {}) };
    const r = send(url, { method: call.method, headers, lookup: guardedLookup(async () => policy), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_ANSWER_BYTES) chunks.push(c);
      });
      res.on('end', () => done({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => done({ statusCode: res.statusCode ?? 0, body: '' }));
    });
    const timer = setTimeout(() => {
      r.destroy();
      done({ error: `timeout: no answer within ${call.timeoutMs} ms` });
    }, call.timeoutMs);
    r.on('error', (e: NodeJS.ErrnoException) => done({ error: e instanceof RefusedAddress ? e.message : `connection failed: ${e.code ?? e.name}` }));
    r.end(call.body);
  });
}

/** What project webhooks are sent with. */
export class HttpWebhookSender implements WebhookSender {
  constructor(private readonly policy: () => Promise<OutboundPolicy>) {}

  async post(req: OutboundRequest): Promise<OutboundResult> {
    const a = await outboundRequest(await this.policy(), { method: 'POST', url: req.url, headers: req.headers, body: req.body, timeoutMs: req.timeoutMs });
    return 'error' in a ? a : { statusCode: a.statusCode };
  }
}

/** A `fetch` for GETs through the guard (the GitOps file reader): a refused address or timeout rejects, like fetch. */
export const guardedFetch = (policy: () => Promise<OutboundPolicy>): typeof fetch =>
  (async (input: string | URL | Request, init?: RequestInit) => {
    const a = await outboundRequest(await policy(), {
      method: 'GET',
      url: String(input instanceof Request ? input.url : input),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      timeoutMs: 10_000,
    });
    if ('error' in a) throw new Error(a.error);
    return new Response([101, 204, 205, 304].includes(a.statusCode) ? null : a.body, { status: a.statusCode });
  }) as typeof fetch;
