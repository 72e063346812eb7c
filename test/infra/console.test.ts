// The deployed console: private bucket behind CloudFront (origin access control), the API on the
// same origin under /v1, a strict CSP, and Cognito's hosted sign-in for a public PKCE client.
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ADMIN, synth } from './synth.js';

const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

describe('the web console, deployed', () => {
  const { template, resources, stack, id } = synth();
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const [[, dist]] = of('AWS::CloudFront::Distribution') as [[string, (typeof resources)[string]]];
  const config = dist.Properties.DistributionConfig;

  it('serves the files from a private bucket that only this distribution may read (origin access control)', () => {
    const files = id(stack.console!.bucket);
    template.hasResourceProperties('AWS::S3::Bucket', Match.objectLike({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    }));
    expect(of('AWS::CloudFront::OriginAccessControl')).toHaveLength(1);
    const s3 = config.Origins.find((o: { S3OriginConfig?: unknown }) => o.S3OriginConfig);
    expect(s3.OriginAccessControlId).toBeDefined();
    expect(s3.DomainName).toEqual({ 'Fn::GetAtt': [files, 'RegionalDomainName'] });
    const policy = of('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties.Bucket).includes(files))![1];
    const read = policy.Properties.PolicyDocument.Statement.find((st: { Principal?: { Service?: string } }) => st.Principal?.Service === 'cloudfront.amazonaws.com');
    expect(read.Action).toBe('s3:GetObject');
    expect(JSON.stringify(read.Condition)).toContain(id(stack.console!.distribution));
  });

  it('sends a strict Content-Security-Policy and the other security headers with every page', () => {
    const [[, headers]] = of('AWS::CloudFront::ResponseHeadersPolicy') as [[string, (typeof resources)[string]]];
    const sec = headers.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = JSON.stringify(sec.ContentSecurityPolicy.ContentSecurityPolicy);
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) expect(csp).toContain(d);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(sec.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(31_536_000);
    expect(sec.FrameOptions.FrameOption).toBe('DENY');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.Logging.Bucket).toBeDefined();
  });

  it('puts the API on the same origin under /v1: nothing cached, the bearer token forwarded, every method', () => {
    const v1 = config.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === '/v1/*');
    expect(v1).toMatchObject({ CachePolicyId: CACHING_DISABLED, OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST, ViewerProtocolPolicy: 'https-only' });
    expect(v1.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']));
    const apiOrigin = config.Origins.find((o: { Id: string }) => o.Id === v1.TargetOriginId);
    expect(apiOrigin.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
    expect(JSON.stringify(apiOrigin.DomainName)).toContain(id(stack.api.api));
  });

  it("signs in through the user pool's hosted page: a public client, authorization code only, back to the console", () => {
    const web = resources[id(stack.console!.client)]!;
    expect(web.Properties).toMatchObject({ AllowedOAuthFlows: ['code'], AllowedOAuthFlowsUserPoolClient: true, GenerateSecret: false, SupportedIdentityProviders: ['COGNITO'] });
    expect(web.Properties.AllowedOAuthScopes.sort()).toEqual(['email', 'openid']);
    expect(JSON.stringify(web.Properties.CallbackURLs)).toContain(id(stack.console!.distribution));
    expect(of('AWS::Cognito::UserPoolDomain')).toHaveLength(1);
    // The API accepts ID tokens of both clients: the CLI's and the console's.
    const [[, authorizer]] = of('AWS::ApiGatewayV2::Authorizer') as [[string, (typeof resources)[string]]];
    expect(authorizer.Properties.JwtConfiguration.Audience).toEqual([{ Ref: id(stack.auth.client!) }, { Ref: id(stack.console!.client) }]);
    template.hasOutput('ConsoleUrl', Match.anyValue());
  });

  it('is not deployed with an external OIDC issuer (no user pool to sign in with)', () => {
    const external = synth({ adminEmail: ADMIN, jwtIssuer: 'https://login.example.com/', jwtAudience: 'sluice' });
    expect(external.stack.console).toBeUndefined();
    expect(Object.values(external.resources).filter((r) => r.Type === 'AWS::CloudFront::Distribution')).toHaveLength(0);
  });
});
