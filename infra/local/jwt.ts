// The local stand-in for API Gateway's JWT authorizer: an ES256 key kept in the data folder,
// tokens with issuer `sluice-local` and audience `sluice`, checked as the gateway would.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';

export const LOCAL_ISSUER = 'sluice-local';
export const LOCAL_AUDIENCE = 'sluice';
export const TOKEN_TTL_SECONDS = 12 * 3600;
const ALG = 'ES256';

export interface LocalKeys {
  sign(email: string, ttlSeconds?: number): Promise<string>;
  verify(token: string): Promise<JWTPayload>;
}

export async function keysFromJwk(privateJwk: JWK): Promise<LocalKeys> {
  const privateKey = await importJWK(privateJwk, ALG);
  const { d: _d, ...publicJwk } = privateJwk;
  const publicKey = await importJWK(publicJwk, ALG);
  return {
    sign: (email, ttlSeconds = TOKEN_TTL_SECONDS) =>
      new SignJWT({ email })
        .setProtectedHeader({ alg: ALG, typ: 'JWT' })
        .setSubject(email)
        .setIssuer(LOCAL_ISSUER)
        .setAudience(LOCAL_AUDIENCE)
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(privateKey),
    verify: async (token) =>
      (await jwtVerify(token, publicKey, { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE, algorithms: [ALG], clockTolerance: 5 })).payload,
  };
}

export async function generateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return exportJWK(privateKey);
}

/** Loads the signing key from `<dataDir>/signing-key.json`, creating it (mode 0600) on first use. */
export async function loadOrCreateKeys(dataDir: string): Promise<LocalKeys> {
  const file = join(dataDir, 'signing-key.json');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(await generateJwk()), { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  return keysFromJwk(JSON.parse(readFileSync(file, 'utf8')) as JWK);
}
