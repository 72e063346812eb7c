// Deployed sign-in: Cognito's USER_PASSWORD_AUTH through the identity provider's JSON API (a plain
// HTTPS POST with X-Amz-Target, no AWS SDK or credentials needed), answering the two challenges a
// Sluice user pool can ask (a first password to set; a TOTP code when MFA is on). The bearer the
// API wants is the ID token: it carries the email claim (README, "Deploying to AWS").
import { CliError } from './errors.js';
import { networkReason } from './api.js';

export interface CognitoTarget {
  region: string;
  clientId: string;
  /** `https://cognito-idp.<region>.amazonaws.com/` unless overridden (SLUICE_COGNITO_ENDPOINT, tests). */
  endpoint?: string;
}

export interface Prompts {
  password(label: string): Promise<string>;
  line(label: string): Promise<string>;
}

export interface SignedIn {
  idToken: string;
  expiresIn?: number;
}

export const cognitoEndpoint = (t: CognitoTarget): string => t.endpoint ?? `https://cognito-idp.${t.region}.amazonaws.com/`;

/** The region of an API Gateway URL (`https://abc.execute-api.eu-west-1.amazonaws.com`), if it is one. */
export function regionOfUrl(url: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(url).hostname)?.[1];
}

/** The region of a Cognito issuer (`https://cognito-idp.<region>.amazonaws.com/<pool>`). */
export const regionOfIssuer = (iss: string): string | undefined => /^https:\/\/cognito-idp\.([a-z0-9-]+)\.amazonaws\.com\//.exec(iss)?.[1];

interface AuthAnswer {
  AuthenticationResult?: { IdToken?: string; ExpiresIn?: number };
  ChallengeName?: string;
  Session?: string;
  ChallengeParameters?: Record<string, string>;
}

async function call(t: CognitoTarget, action: 'InitiateAuth' | 'RespondToAuthChallenge', body: unknown): Promise<AuthAnswer> {
  let res: Response;
  try {
    res = await fetch(cognitoEndpoint(t), {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${action}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new CliError(`cannot reach Cognito at ${cognitoEndpoint(t)} (${networkReason(e).reason})`);
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // not JSON: reported below with the status
  }
  if (!res.ok) {
    const type = String(json.__type ?? json.code ?? res.status).replace(/^.*#/, '');
    throw new CliError(`Cognito ${action}: ${type}: ${String(json.message ?? json.Message ?? text.slice(0, 200))}`);
  }
  return json as AuthAnswer;
}

/** Signs in with email and password; asks for what a challenge needs. */
export async function cognitoSignIn(t: CognitoTarget, email: string, password: string, prompts: Prompts): Promise<SignedIn> {
  let answer = await call(t, 'InitiateAuth', { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: t.clientId, AuthParameters: { USERNAME: email, PASSWORD: password } });
  for (let round = 0; round < 3 && !answer.AuthenticationResult; round++) {
    const name = answer.ChallengeName;
    const username = answer.ChallengeParameters?.USER_ID_FOR_SRP ?? email;
    let responses: Record<string, string>;
    if (name === 'NEW_PASSWORD_REQUIRED') {
      const next = await prompts.password('New password (the temporary one must be replaced): ');
      if ((await prompts.password('New password again: ')) !== next) throw new CliError('the two new passwords differ; nothing changed');
      responses = { USERNAME: username, NEW_PASSWORD: next };
    } else if (name === 'SOFTWARE_TOKEN_MFA') {
      responses = { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: (await prompts.line('Code from your authenticator app: ')).trim() };
    } else {
      throw new CliError(`Cognito asks for ${name ?? 'an unknown challenge'}, which sluice login cannot answer; sign in with the AWS CLI and use --token`);
    }
    answer = await call(t, 'RespondToAuthChallenge', { ChallengeName: name, ClientId: t.clientId, Session: answer.Session, ChallengeResponses: responses });
  }
  const idToken = answer.AuthenticationResult?.IdToken;
  if (!idToken) throw new CliError('Cognito answered without an ID token');
  return { idToken, ...(answer.AuthenticationResult?.ExpiresIn !== undefined ? { expiresIn: answer.AuthenticationResult.ExpiresIn } : {}) };
}
