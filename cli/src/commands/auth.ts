// `sluice login` and `sluice whoami`. The API has no "who am I" route: the caller is found as the
// user whose email is the token's `email` claim (the rule the API itself applies), in GET /v1/users.
import { Api } from '../api.js';
import { cognitoSignIn, regionOfIssuer, regionOfUrl, type Prompts } from '../cognito.js';
import { configPath, normalizeUrl, writeConfig } from '../config.js';
import { CliError, UsageError } from '../errors.js';
import { claimsOf, expiryText } from '../jwt.js';
import type { Ctx } from '../context.js';
import type { User } from '../types.js';

/** The user the token names, as the API lists it. */
export async function currentUser(api: Api, token: string): Promise<User> {
  // The API judges the token first: a bad one is its 401, in its words.
  const { items } = await api.list<User>('/v1/users', 'users');
  const email = claimsOf(token)?.email;
  if (typeof email !== 'string' || email === '') throw new CliError('the token carries no email claim (a Cognito access token? use the ID token)');
  const user = items.find((u) => u.email.toLowerCase() === email.toLowerCase());
  if (!user) throw new CliError(`the API accepted the token, but lists no user ${email}`);
  return user;
}

export interface LoginOptions {
  url?: string;
  token?: string;
  email?: string;
  clientId?: string;
  region?: string;
}

async function readStdin(stdin: NodeJS.ReadStream): Promise<string> {
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) text += chunk as string;
  return text.trim();
}

/** The Cognito app client the deployed API publishes in its OpenAPI document, if it does. */
async function discoverCognito(api: Api): Promise<{ clientId?: string; region?: string }> {
  try {
    const doc = await api.request<{ components?: { securitySchemes?: { bearer?: Record<string, unknown> } } }>('GET', '/v1/openapi.json', { anonymous: true });
    const c = doc.components?.securitySchemes?.bearer?.['x-sluice-cognito'] as { clientId?: unknown; region?: unknown } | undefined;
    return {
      ...(typeof c?.clientId === 'string' ? { clientId: c.clientId } : {}),
      ...(typeof c?.region === 'string' ? { region: c.region } : {}),
    };
  } catch {
    return {};
  }
}

export async function login(ctx: Ctx, o: LoginOptions, prompts: Prompts): Promise<void> {
  if (!o.url) throw new UsageError('login: --url <url> is required (e.g. http://127.0.0.1:3000)');
  const url = normalizeUrl(o.url);
  if (o.token !== undefined && o.email !== undefined) throw new UsageError('give --token or --email, not both');
  let token: string;
  let via: 'token' | 'cognito' = 'token';
  if (o.email !== undefined) {
    const probe = new Api({ url });
    const found = o.clientId && o.region ? {} : await discoverCognito(probe);
    const clientId = o.clientId ?? ctx.io.env.SLUICE_COGNITO_CLIENT_ID ?? found.clientId;
    if (!clientId) throw new UsageError('--client-id: required (the stack output UserPoolClientId); the API does not publish it');
    const region = o.region ?? ctx.io.env.SLUICE_COGNITO_REGION ?? found.region ?? regionOfUrl(url);
    if (!region) throw new UsageError('--region: required (the API URL does not name its AWS region)');
    const password = await prompts.password(`Password for ${o.email}: `);
    if (!password) throw new UsageError('no password given');
    const endpoint = ctx.io.env.SLUICE_COGNITO_ENDPOINT;
    ({ idToken: token } = await cognitoSignIn({ region, clientId, ...(endpoint ? { endpoint } : {}) }, o.email, password, prompts));
    via = 'cognito';
    const iss = claimsOf(token)?.iss;
    if (typeof iss === 'string' && regionOfIssuer(iss) && regionOfIssuer(iss) !== region) throw new CliError(`the token comes from ${iss}, not region ${region}`);
  } else if (o.token === '-') {
    token = await readStdin(ctx.io.stdin);
  } else if (o.token !== undefined) {
    token = o.token;
  } else {
    throw new UsageError('give --token <token> (npm start prints one) or --email <email> (a deployed Cognito user pool)');
  }
  if (!token) throw new UsageError('--token: empty');
  const api = new Api({ url, token });
  // Checked before anything is saved: a refused token is an error and leaves the file as it was.
  const user = await currentUser(api, token);
  const claims = claimsOf(token);
  const expiresAt = typeof claims?.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : undefined;
  const path = writeConfig({ url, token, email: user.email, ...(expiresAt ? { expiresAt } : {}), via }, ctx.io.env);
  if (ctx.json) return ctx.printJson(user);
  ctx.say(`Signed in to ${url} as ${user.email} (${user.name}, ${user.role}).`);
  const expiry = expiryText(claims?.exp);
  ctx.say(expiry ? `The token expires ${expiry}.` : 'The token carries no expiry.');
  ctx.say(`Saved to ${path} (mode 0600).`);
}

export async function whoami(ctx: Ctx): Promise<void> {
  const connection = ctx.connection();
  if (!connection.token) throw new UsageError('not signed in: run sluice login --url <url> --token <token>, or set SLUICE_TOKEN');
  const user = await currentUser(ctx.api(), connection.token);
  if (ctx.json) return ctx.printJson(user);
  ctx.say(`${user.email} (${user.name}, ${user.role}) at ${connection.url}`);
  const expiry = expiryText(claimsOf(connection.token)?.exp);
  const from = connection.tokenSource === 'config' ? configPath(ctx.io.env) : connection.tokenSource;
  ctx.say(`Token from ${from}${expiry ? `, expires ${expiry}` : ''}.`);
}
