// Reads a JWT's claims without checking its signature: only to say whom a token names and when it
// expires. The server is what checks tokens.
export interface Claims {
  email?: string;
  exp?: number;
  iss?: string;
  [claim: string]: unknown;
}

export function claimsOf(token: string): Claims | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' ? (claims as Claims) : undefined;
  } catch {
    return undefined;
  }
}

/** `2026-11-26T10:00:00Z (in 11 h 59 min)` or `… (expired 3 min ago)`. */
export function expiryText(exp: number | undefined, now = Date.now()): string | undefined {
  if (exp === undefined || !Number.isFinite(exp)) return undefined;
  const at = new Date(exp * 1000);
  const mins = Math.round((at.getTime() - now) / 60_000);
  const span = (m: number) => (m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`);
  return `${at.toISOString().replace(/\.\d{3}Z$/, 'Z')} (${mins >= 0 ? `in ${span(mins)}` : `expired ${span(-mins)} ago`})`;
}
