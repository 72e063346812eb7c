import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../domain/common/errors.js';
import { decodePageToken, encodePageToken, fingerprint } from '../../functions/shared/page-token.js';

const key = randomBytes(32);
const scope = fingerprint('users', false);
const cursor = { pk: 'USERS', sk: 'USER#0000000007' };

function refused(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SluiceError) return e;
    throw e;
  }
  throw new Error('expected the token to be refused');
}

const INVALID = { field: 'pageToken', description: 'invalid or not issued for this list' };

describe('page tokens', () => {
  it('round-trip the cursor for the list that issued them, without showing it', () => {
    // Prepare
    const token = encodePageToken(key, cursor, scope);

    // Act
    const decoded = decodePageToken(key, token, scope);

    // Assess
    expect(decoded).toEqual(cursor);
    expect(token).not.toContain('USER');
  });

  it('treat an absent or empty token as the first page', () => {
    // Act & Assess
    expect(decodePageToken(key, undefined, scope)).toBeUndefined();
    expect(decodePageToken(key, '', scope)).toBeUndefined();
  });

  it('refuse a token whose payload was altered to point elsewhere', () => {
    // Prepare
    const [, sig] = encodePageToken(key, cursor, scope).split('.');
    const altered = Buffer.from(JSON.stringify({ c: { pk: 'USERS', sk: 'USER#0000000001' }, s: scope })).toString('base64url');

    // Act
    const e = refused(() => decodePageToken(key, `${altered}.${sig}`, scope));

    // Assess
    expect(e.httpStatus).toBe(400);
    expect(e.status).toBe('INVALID_ARGUMENT');
    expect(e.details).toEqual([INVALID]);
  });

  it('refuse a token signed with another key', () => {
    // Prepare
    const forged = encodePageToken(randomBytes(32), cursor, scope);

    // Act
    const e = refused(() => decodePageToken(key, forged, scope));

    // Assess
    expect(e.details).toEqual([INVALID]);
  });

  it('refuse a token issued for another list or other list parameters', () => {
    // Prepare
    const token = encodePageToken(key, cursor, scope);

    // Act
    const showDeleted = refused(() => decodePageToken(key, token, fingerprint('users', true)));
    const otherList = refused(() => decodePageToken(key, token, fingerprint('environments', false)));

    // Assess
    expect(showDeleted.details).toEqual([INVALID]);
    expect(otherList.details).toEqual([INVALID]);
  });

  it.each(['garbage', 'a.b.c', '.', `${'x'.repeat(5000)}.y`])('refuse the malformed token #%#', (token) => {
    // Act
    const e = refused(() => decodePageToken(key, token, scope));

    // Assess
    expect(e.details).toEqual([INVALID]);
  });
});
