// Signing in. Locally (`npm start`) a dev sign-in asks for an email and has the local server mint
// a token with its own key; deployed, Cognito's hosted sign-in (authorization code + PKCE) gives
// the ID token the API's JWT authorizer accepts. The token lives in sessionStorage: one tab, one
// user, so a second browser profile (or window) can be another user.

export type ConsoleConfig =
  | { mode: 'local' }
  | { mode: 'cognito'; domain: string; clientId: string; redirectUri?: string };

const TOKEN = 'sluice.token';
const PKCE = 'sluice.pkce';
let listeners: ((reason?: string) => void)[] = [];

export const currentToken = (): string | null => sessionStorage.getItem(TOKEN);

/** The email the token was issued to (the API's identity of the caller). */
export function tokenEmail(token = currentToken()): string | null {
  if (!token) return null;
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { email?: string; exp?: number };
    if (payload.exp !== undefined && payload.exp * 1000 < Date.now()) return null;
    return payload.email ?? null;
  } catch {
    return null;
  }
}

export function onAuthChange(f: (reason?: string) => void): () => void {
  listeners.push(f);
  return () => (listeners = listeners.filter((g) => g !== f));
}

function setToken(token: string): void {
  sessionStorage.setItem(TOKEN, token);
  for (const f of listeners) f();
}

export function signOut(reason?: string): void {
  sessionStorage.removeItem(TOKEN);
  for (const f of listeners) f(reason);
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch('/config.json');
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  return (await res.json()) as ConsoleConfig;
}

/** Local only: the server signs a token for this email with its own key (npm start's dev sign-in). */
export async function devSignIn(email: string): Promise<void> {
  const res = await fetch('/local/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { message: string } };
  if (!res.ok || !body.token) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
  setToken(body.token);
}

const b64url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const redirectUri = (c: Extract<ConsoleConfig, { mode: 'cognito' }>) => c.redirectUri ?? `${location.origin}/`;

/** Sends the browser to the hosted sign-in page with a fresh PKCE verifier and state. */
export async function startHostedSignIn(c: Extract<ConsoleConfig, { mode: 'cognito' }>): Promise<void> {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state, hash: location.hash }));
  const q = new URLSearchParams({
    response_type: 'code', client_id: c.clientId, redirect_uri: redirectUri(c), scope: 'openid email',
    state, code_challenge: challenge, code_challenge_method: 'S256',
  });
  location.assign(`https://${c.domain}/oauth2/authorize?${q}`);
}

/** On the way back from the hosted sign-in: trades the code (with the verifier) for the ID token. */
export async function finishHostedSignIn(c: Extract<ConsoleConfig, { mode: 'cognito' }>): Promise<boolean> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (!code) return false;
  const saved = JSON.parse(sessionStorage.getItem(PKCE) ?? 'null') as { verifier: string; state: string; hash: string } | null;
  sessionStorage.removeItem(PKCE);
  history.replaceState(null, '', `/${saved?.hash ?? ''}`);
  if (!saved || params.get('state') !== saved.state) throw new Error('sign-in answer does not match this browser session: sign in again');
  const res = await fetch(`https://${c.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: c.clientId, code, redirect_uri: redirectUri(c), code_verifier: saved.verifier }),
  });
  const body = (await res.json()) as { id_token?: string; error?: string };
  if (!res.ok || !body.id_token) throw new Error(`sign-in failed: ${body.error ?? res.status}`);
  setToken(body.id_token);
  return true;
}
