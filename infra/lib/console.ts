// The web console, deployed: its files in a private S3 bucket read by CloudFront through origin
// access control, the API behind the same distribution under /v1 (same origin: no CORS, and a CSP
// of 'self'), and Cognito's hosted sign-in (authorization code + PKCE) through a public web client.
import { Aws, DockerImage, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { OAuthScope, UserPoolClientIdentityProvider, type UserPool, type UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Construct } from 'constructs';
import { CONSOLE_ROOT, buildConsole } from '../console-build.js';
import { DEFAULTS } from './defaults.js';

export interface SluiceConsoleProps {
  readonly api: IHttpApi;
  /** The stack's user pool; absent with an external OIDC issuer (then the console is not deployed). */
  readonly userPool: UserPool;
  /** The hosted sign-in's domain prefix (`<prefix>.auth.<region>.amazoncognito.com`), unique in the region. */
  readonly domainPrefix?: string;
}

/** The console's Content-Security-Policy: its own files and API, and the sign-in domain's token endpoint. */
export const consoleCsp = (signInOrigin: string): string =>
  [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    `connect-src 'self' ${signInOrigin}`, "base-uri 'none'", `form-action 'self' ${signInOrigin}`, "frame-ancestors 'none'", "object-src 'none'",
  ].join('; ');

export class SluiceConsole extends Construct {
  readonly distribution: Distribution;
  readonly bucket: Bucket;
  readonly client: UserPoolClient;
  readonly url: string;

  constructor(scope: Construct, id: string, props: SluiceConsoleProps) {
    super(scope, id);
    const prefix = props.domainPrefix ?? Fn.join('-', ['sluice', Aws.ACCOUNT_ID]);
    props.userPool.addDomain('SignIn', { cognitoDomain: { domainPrefix: prefix } });
    const signInHost = Fn.join('', [prefix, '.auth.', Aws.REGION, '.amazoncognito.com']);
    const signInOrigin = Fn.join('', ['https://', signInHost]);

    const logs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // CloudFront's standard logs are written with an ACL.
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(DEFAULTS.consoleLogDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: "This bucket is itself the CloudFront distribution's access log; logging it again would log the logs. It is private, encrypted, TLS-only and expires its objects.",
    });
    this.bucket = new Bucket(this, 'Files', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // The files are a build of web/: the next deploy puts them back.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: "Only CloudFront reads this bucket (origin access control; public access blocked), and the distribution's own access log records every viewer request; objects change only by a deploy (CloudTrail). Server access logs would need an ACL-enabled target, which this stack avoids.",
    });

    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Sluice console: strict CSP, HSTS, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleCsp(signInOrigin), override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
    const apiHost = Fn.select(2, Fn.split('/', props.api.apiEndpoint));
    const api = new HttpOrigin(apiHost, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY });
    // The API through the same origin: nothing cached, every header but Host forwarded (Authorization
    // included, which CloudFront allows when caching is off), every method.
    const apiBehavior = {
      origin: api,
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    };
    this.distribution = new Distribution(this, 'Cdn', {
      comment: 'Sluice web console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
      },
      additionalBehaviors: { '/v1/*': apiBehavior, '/healthz': apiBehavior },
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cdn/',
    });
    this.url = `https://${this.distribution.distributionDomainName}`;
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason: "The distribution uses CloudFront's default *.cloudfront.net certificate, whose security policy CloudFront fixes (a minimum protocol can only be set with a custom certificate); a custom domain with an ACM certificate is a deployment choice outside this stack. Browsers negotiate TLS 1.2 or 1.3 with it.",
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'No geo restriction: the console serves a workspace whose users may sign in from anywhere; every API call behind it requires a Cognito JWT and is throttled at the API stage.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason: 'No WAF web ACL by default (it costs per month and per rule); the console is static files and the API behind it authenticates every call with a JWT and is throttled. An organisation that requires WAF attaches its own web ACL.',
    });

    this.client = props.userPool.addClient('WebClient', {
      // A public browser client: no secret, the hosted sign-in only, code flow with PKCE.
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL],
        callbackUrls: [`${this.url}/`],
        logoutUrls: [`${this.url}/`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: DEFAULTS.tokenValidity.id,
      accessTokenValidity: DEFAULTS.tokenValidity.access,
      refreshTokenValidity: DEFAULTS.tokenValidity.refresh,
    });

    const deployment = new BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [
        // Built by infra/console-build.ts at synth, locally (no Docker needed).
        Source.asset(CONSOLE_ROOT, {
          exclude: ['dist', 'node_modules'],
          bundling: {
            // Never pulled: the local build below always answers (or fails the synth with its error).
            image: DockerImage.fromRegistry('node:22-slim'),
            local: { tryBundle: (outputDir: string) => (buildConsole(outputDir), rmSync(join(outputDir, '.build-hash')), true) },
          },
        }),
        Source.jsonData('config.json', { mode: 'cognito', domain: signInHost, clientId: this.client.userPoolClientId }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      prune: true,
      memoryLimit: 512,
    });
    // CDK's BucketDeployment runs one stack-wide function (a singleton beside this construct).
    const copier = Stack.of(this).node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!copier) throw new Error('BucketDeployment made no Custom::CDKBucketDeployment function');
    void deployment;
    const filesArn = `<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/*`;
    const wildcards: [string, string][] = [
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a): [string, string] => [`Action::${a}`, 'the object-level actions aws-cdk-lib grants it to read the asset and replace (prune) the console files']),
      ['Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*', "the CDK asset bucket's objects, where the built console is uploaded by cdk deploy"],
      [`Resource::${filesArn}`, "the console bucket's objects, which it replaces"],
      ['Resource::*', 'cloudfront:CreateInvalidation (of /index.html and /config.json after a deploy), which takes no resource-level permission'],
    ];
    Validations.of(copier).acknowledge(
      { id: 'AwsSolutions-L1', reason: "CDK's BucketDeployment custom-resource function: its runtime is chosen by aws-cdk-lib and moves with it; it runs only during a deploy, to copy the console's files." },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's BucketDeployment function role carries AWSLambdaBasicExecutionRole (write its own logs) as aws-cdk-lib builds it; it runs only during a deploy, to copy the console's files.",
      },
      ...wildcards.map(([finding, what]) => ({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: `CDK's BucketDeployment function, which runs only during a deploy to copy the console's built files: ${what}.`,
      })),
    );
  }
}
