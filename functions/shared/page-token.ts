// Opaque, tamper-evident page tokens: the store's cursor plus a fingerprint of the list's
// parameters, HMAC-signed. A forged, altered or re-targeted token is a 400, never another page.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { fieldError } from '../../domain/common/errors.js';

const MAC_BYTES = 16;

const mac = (key: Buffer, payload: string): Buffer => createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);

/** What a token is bound to: the collection and every list parameter but the page size. */
export const fingerprint = (...parts: unknown[]): string =>
  createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);

export function encodePageToken(key: Buffer, cursor: unknown, scope: string): string {
  const payload = Buffer.from(JSON.stringify({ c: cursor, s: scope })).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

export function decodePageToken(key: Buffer, token: string | undefined, scope: string): unknown {
  if (token === undefined || token === '') return undefined;
  const invalid = fieldError('pageToken', 'invalid or not issued for this list');
  const [payload, sig, extra] = token.split('.');
  if (!payload || !sig || extra !== undefined || token.length > 4096) throw invalid;
  const expected = mac(key, payload);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
  const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { c: unknown; s: string };
  if (body.s !== scope) throw invalid;
  return body.c;
}
