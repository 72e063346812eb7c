// Who may call the API: a Cognito user pool made here (default) or an external OIDC issuer.
// Either way API Gateway checks the JWT, and the handlers map its `email` claim to a user.
import { Lazy, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnUserPoolUser,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { DEFAULTS } from './defaults.js';

export interface ExternalJwt {
  /** The OIDC issuer URL, exactly as in the tokens' `iss` claim. */
  readonly issuer: string;
  readonly audience: readonly string[];
}

export interface SluiceAuthProps {
  /** An external OIDC issuer instead of the user pool; its tokens must carry `email`. */
  readonly external?: ExternalJwt;
  /** Created in the user pool; Cognito emails a temporary password. */
  readonly adminEmail?: string;
  /** MFA (TOTP) required of every user pool user, not just offered. */
  readonly requireMfa?: boolean;
}

export class SluiceAuth extends Construct {
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly userPool?: UserPool;
  readonly client?: UserPoolClient;
  private readonly clientIds: string[] = [];

  constructor(scope: Construct, id: string, props: SluiceAuthProps) {
    super(scope, id);
    if (props.external) {
      this.issuer = props.external.issuer;
      this.audience = props.external.audience;
      return;
    }

    const pool = new UserPool(this, 'UserPool', {
      // Only a workspace admin adds people (API.md): no sign-up page.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      // Identity is the email claim: a changed address counts only once verified.
      keepOriginal: { email: true },
      userInvitation: {
        emailSubject: 'Your Sluice account',
        emailBody: 'Your Sluice username is {username} and your temporary password is {####}',
      },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: DEFAULTS.passwordMinLength,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      mfa: props.requireMfa ? Mfa.REQUIRED : Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Plus plan: compromised-credential and risky sign-in detection, enforced (AwsSolutions-COG8).
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      // Identities outlive the stack, like the table that refers to them.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (!props.requireMfa) {
      Validations.of(pool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason:
          'MFA (TOTP) is offered to every user; requiring it is one context flag (requireMfa=true). It is optional by default so the first admin can bootstrap with the CLI password flow; the pool also enforces Plus threat protection and a 14-character password policy.',
      });
    }

    this.client = pool.addClient('CliClient', {
      // A public client for the CLI: SRP, or plain USER_PASSWORD_AUTH over TLS for scripts.
      authFlows: { userSrp: true, userPassword: true },
      generateSecret: false,
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: DEFAULTS.tokenValidity.id,
      accessTokenValidity: DEFAULTS.tokenValidity.access,
      refreshTokenValidity: DEFAULTS.tokenValidity.refresh,
    });
    this.userPool = pool;
    this.issuer = `https://${pool.userPoolProviderUrl}`;
    // ID tokens carry `aud` = client id and the `email` claim the handlers read. Resolved at synth,
    // so clients added later (the console's, which needs the distribution's URL) count too.
    this.clientIds.push(this.client.userPoolClientId);
    this.audience = Lazy.list({ produce: () => this.clientIds });

    if (props.adminEmail) {
      new CfnUserPoolUser(this, 'FirstAdmin', {
        userPoolId: pool.userPoolId,
        username: props.adminEmail,
        userAttributes: [
          { name: 'email', value: props.adminEmail },
          // Cognito sends the invitation to this address, so it is proven on first sign-in.
          { name: 'email_verified', value: 'true' },
        ],
        desiredDeliveryMediums: ['EMAIL'],
      });
    }
  }

  /** Accepts ID tokens of another app client of the pool (the web console's). */
  addAudience(client: UserPoolClient): void {
    this.clientIds.push(client.userPoolClientId);
  }
}
