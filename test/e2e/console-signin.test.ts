// The deployed console's sign-in (Cognito's hosted page, authorization code + PKCE), in Chromium,
// under the deployed Content-Security-Policy (infra/lib/console.ts). The console's files and API
// are npm start's; what CloudFront and Cognito would add is played by the browser's request
// routing: config.json in Cognito mode, the document with the deployed CSP, and a hosted sign-in
// that checks what Cognito checks (state round trip, S256 verifier against the challenge) and
// answers with an ID token the API accepts (npm start's own key stands in for the user pool's).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleCsp } from '../../infra/lib/console.js';
import { freePort } from '../../infra/local/dynamo-local.js';
import { chromiumMissing, openProfile, type Profile } from '../support/browser.js';
import { npmStart, stopNpmStart, type NpmStart } from '../support/npm-start.js';

const HOST = 'sluice-test.auth.eu-west-1.amazoncognito.com';
const CLIENT = 'console-client-1';

if (chromiumMissing) process.stderr.write('test/e2e/console-signin.test.ts skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, as .ci/run does)\n');

interface HostedSignIn {
  authorize: URLSearchParams[];
  token: URLSearchParams[];
  /** The state the hosted page sends back; the one it was given unless a test tampers with it. */
  stateBack?: (state: string) => string;
}

describe.skipIf(chromiumMissing)('the deployed console signs in through the hosted page with PKCE', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-console-signin-'));
  let server: NpmStart;
  let idToken: string;

  beforeAll(async () => {
    server = await npmStart({ port: await freePort(), dataDir, env: { SLUICE_SAMPLES: '0' } });
    const res = await fetch(`${server.url}/local/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@example.com' }) });
    idToken = ((await res.json()) as { token: string }).token;
  }, 180_000);

  afterAll(async () => {
    if (server) await stopNpmStart(server);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A profile that sees npm start as CloudFront would serve it, and a hosted sign-in at HOST. */
  async function deployedProfile(hosted: HostedSignIn): Promise<Profile> {
    const profile = await openProfile();
    const challenges = new Map<string, string>();
    await profile.context.route(`${server.url}/config.json`, (route) => route.fulfill({ json: { mode: 'cognito', domain: HOST, clientId: CLIENT } }));
    await profile.context.route((url) => url.origin === server.url && (url.pathname === '/' || url.pathname === '/index.html'), async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, headers: { ...res.headers(), 'content-security-policy': consoleCsp(`https://${HOST}`) } });
    });
    await profile.context.route(`https://${HOST}/oauth2/authorize?**`, async (route: Route) => {
      const q = new URL(route.request().url()).searchParams;
      hosted.authorize.push(q);
      const code = `code-${hosted.authorize.length}`;
      challenges.set(code, q.get('code_challenge') ?? '');
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', hosted.stateBack ? hosted.stateBack(q.get('state')!) : q.get('state')!);
      // The hosted page, signed in, sends the browser back (a page of its own, as Cognito's is: a
      // redirect answered here would not pass through the document route above).
      await route.fulfill({ contentType: 'text/html', body: `<meta http-equiv="refresh" content="0;url=${back.toString().replace(/&/g, '&amp;')}">` });
    });
    await profile.context.route(`https://${HOST}/oauth2/token`, async (route: Route) => {
      const cors = { 'access-control-allow-origin': server.url, 'access-control-allow-headers': 'content-type' };
      if (route.request().method() === 'OPTIONS') return route.fulfill({ status: 204, headers: cors });
      const form = new URLSearchParams(route.request().postData() ?? '');
      hosted.token.push(form);
      const verifier = form.get('code_verifier') ?? '';
      const ok = form.get('grant_type') === 'authorization_code' && form.get('client_id') === CLIENT && challenges.get(form.get('code') ?? '') === createHash('sha256').update(verifier).digest('base64url');
      return route.fulfill(ok ? { json: { id_token: idToken, token_type: 'Bearer', expires_in: 3600 }, headers: cors } : { status: 400, json: { error: 'invalid_grant' }, headers: cors });
    });
    return profile;
  }

  it('a sign-in goes to the hosted page with an S256 challenge and comes back signed in, where it started', async () => {
    // Prepare
    const hosted: HostedSignIn = { authorize: [], token: [] };
    const profile = await deployedProfile(hosted);
    try {
      // Act
      await profile.page.goto(`${server.url}/#/projects`);
      await profile.page.getByRole('button', { name: 'Sign in' }).click();
      await profile.page.getByTestId('me').waitFor();

      // Assess
      const [authorize] = hosted.authorize;
      expect(Object.fromEntries(authorize!)).toMatchObject({ response_type: 'code', client_id: CLIENT, redirect_uri: `${server.url}/`, scope: 'openid email', code_challenge_method: 'S256' });
      expect(authorize!.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(hosted.token).toHaveLength(1);
      expect(hosted.token[0]!.get('redirect_uri')).toBe(`${server.url}/`);
      expect(await profile.page.getByTestId('me').textContent()).toBe('admin@example.com');
      // Back where the user was, with the code and state gone from the address bar.
      expect(profile.page.url()).toBe(`${server.url}/#/projects`);
      expect(await profile.page.evaluate('Object.keys(sessionStorage).sort()')).toEqual(['sluice.token']);
      expect(profile.problems).toEqual([]);
    } finally {
      await profile.close();
    }
  }, 120_000);

  it('an answer whose state is not this session\'s is refused: no token is asked for, nobody is signed in', async () => {
    // Prepare
    const hosted: HostedSignIn = { authorize: [], token: [], stateBack: () => 'forged-state' };
    const profile = await deployedProfile(hosted);
    try {
      // Act
      await profile.page.goto(`${server.url}/`);
      await profile.page.getByRole('button', { name: 'Sign in' }).click();
      await profile.page.getByText('does not match this browser session').waitFor();

      // Assess
      expect(hosted.authorize).toHaveLength(1);
      expect(hosted.token).toHaveLength(0);
      expect(await profile.page.getByTestId('me').count()).toBe(0);
      expect(await profile.page.evaluate("sessionStorage.getItem('sluice.token')")).toBeNull();
    } finally {
      await profile.close();
    }
  }, 120_000);
});
