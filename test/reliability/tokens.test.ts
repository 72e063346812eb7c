// Bad bearer tokens against the local server (infra/local/server.ts checks them the way API
// Gateway's JWT authorizer does: ES256 signature, issuer, audience, exp, nbf; the handlers then
// map the email claim to an active user). Each one is a 401 or 403 in the API's error shape,
// on a read and on a write, and the table is byte for byte what it was.
import { createPublicKey } from 'node:crypto';
import { SignJWT, generateKeyPair, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../infra/local/jwt.js';
import { scanTable } from '../support/api.js';
import { startApi, type Api } from '../support/http.js';

let api: Api;
const ADMIN = 'admin@example.com';
const GONE = 'gone@example.com';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** A token signed with the server's own key, with the claims given (a valid one by default). */
async function signed(claims: Record<string, unknown> = {}, opts: { iss?: string; aud?: string; iat?: number; nbf?: number; exp?: number } = {}): Promise<string> {
  const key = await importJWK(api.jwk, 'ES256');
  return new SignJWT({ email: ADMIN, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
    .setSubject(String(claims.email ?? ADMIN))
    .setIssuer(opts.iss ?? LOCAL_ISSUER)
    .setAudience(opts.aud ?? LOCAL_AUDIENCE)
    .setIssuedAt(opts.iat ?? now())
    .setNotBefore(opts.nbf ?? now())
    .setExpirationTime(opts.exp ?? now() + 600)
    .sign(key);
}

const validPayload = () => ({ email: ADMIN, sub: ADMIN, iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, iat: now(), nbf: now(), exp: now() + 600 });

/** Every way a token can be wrong, by name. */
async function badTokens(): Promise<Record<string, string>> {
  const { d: _d, ...publicJwk } = api.jwk;
  const publicPem = createPublicKey({ key: publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
  const other = await generateKeyPair('ES256');
  // Signed for a nobody, then the payload swapped for the admin's.
  const [h, , s] = (await signed({ email: 'nobody@example.com' })).split('.');
  return {
    expired: await signed({}, { iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 }),
    'not yet valid': await signed({}, { nbf: now() + 3600, exp: now() + 7200 }),
    'wrong issuer': await signed({}, { iss: 'https://evil.example.com' }),
    'wrong audience': await signed({}, { aud: 'someone-else' }),
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(validPayload())}.`,
    'HS256 signed with the public key': await new SignJWT(validPayload()).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(publicPem)),
    'tampered payload': `${h}.${b64(validPayload())}.${s}`,
    'another key': await new SignJWT(validPayload()).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(other.privateKey),
    'a deleted user': await signed({ email: GONE }),
    'an unknown user': await signed({ email: 'stranger@example.com' }),
    'no email claim': await signed({ email: undefined }),
    garbage: 'not.a.jwt',
  };
}

beforeAll(async () => {
  api = await startApi();
  const created = await api.call('POST', '/v1/users', { body: { email: GONE, title: 'Gone', role: 'workspaceAdmin' } });
  expect(created.status).toBe(201);
  expect((await api.call('DELETE', `/v1/${created.json.name}`)).status).toBe(200);
}, 120_000);
afterAll(async () => api?.server.close());

const WRITE: { method: string; path: string; body?: unknown } = { method: 'POST', path: '/v1/environments', body: { id: 'forged', title: 'Forged' } };
const READ: { method: string; path: string; body?: unknown } = { method: 'GET', path: '/v1/users' };

describe('bad tokens', () => {
  it('a good token from the same key works (the control: the cases below fail for their one flaw)', async () => {
    const token = await signed();
    const res = await api.call('GET', READ.path, { as: null, headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  });

  it('every bad token is a 401 or 403 in the error shape, on a read and a write, and nothing is written', async () => {
    const tokens = await badTokens();
    const before = await scanTable(api.table.store);
    const outcomes: Record<string, number[]> = {};
    for (const [name, token] of Object.entries(tokens)) {
      for (const r of [WRITE, READ]) {
        const res = await api.call(r.method, r.path, { as: null, headers: { authorization: `Bearer ${token}` }, ...(r.body ? { body: r.body } : {}) });
        (outcomes[name] ??= []).push(res.status);
        expect(res.json, `${name}: ${res.text}`).toEqual({ error: { code: res.status, status: res.status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED', message: expect.any(String), details: expect.any(Array) } });
      }
    }
    expect(await scanTable(api.table.store)).toEqual(before);
    // Signature, issuer, audience and time are the authorizer's (401); the user lookup is Sluice's (403).
    expect(outcomes).toEqual({
      expired: [401, 401],
      'not yet valid': [401, 401],
      'wrong issuer': [401, 401],
      'wrong audience': [401, 401],
      'alg none': [401, 401],
      'HS256 signed with the public key': [401, 401],
      'tampered payload': [401, 401],
      'another key': [401, 401],
      'a deleted user': [403, 403],
      'an unknown user': [403, 403],
      'no email claim': [401, 401],
      garbage: [401, 401],
    });
  });

  it('the same write with a good token goes through, so the table would have shown a forged write', async () => {
    const res = await api.call(WRITE.method, WRITE.path, { body: WRITE.body });
    expect(res.status).toBe(201);
  });
});
