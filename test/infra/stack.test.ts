import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAMILIES, gatewayRoutes } from '../../domain/api/routes.js';
import { TABLE_ATTRIBUTES, tableDefinition } from '../../functions/adapters/dynamo/table.js';
import { HANDLER_ENTRIES } from '../../infra/bundling.js';
import { createApp } from '../../infra/lib/app.js';
import { PROJECT_ROOT } from '../../infra/lib/defaults.js';
import { ADMIN, ofType, synth } from './synth.js';

const s = synth();
const fnId = (family: (typeof FAMILIES)[number]) => s.id(s.stack.functions[family].fn);

describe('table', () => {
  const [tableId, table] = ofType(s, 'AWS::DynamoDB::Table')[0]!;

  it('is the only table, retained, protected, encrypted, on-demand, with PITR and TTL', () => {
    expect(ofType(s, 'AWS::DynamoDB::Table')).toHaveLength(1);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: TABLE_ATTRIBUTES.ttl, Enabled: true },
    });
    expect(tableId).toMatch(/^DataTable/);
  });

  it('has exactly the keys and indexes of the local table definition', () => {
    const local = tableDefinition('x');
    const byName = (a: { AttributeName?: string }, b: { AttributeName?: string }) => a.AttributeName!.localeCompare(b.AttributeName!);
    expect([...table.Properties.AttributeDefinitions].sort(byName)).toEqual([...local.AttributeDefinitions!].sort(byName));
    expect(table.Properties.KeySchema).toEqual(local.KeySchema);
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
    expect(table.Properties.BillingMode).toBe(local.BillingMode);
  });
});

describe('functions', () => {
  const lambdas = ofType(s, 'AWS::Lambda::Function');

  it('run Node.js 22 or newer (ours on arm64), each logging to its own group with retention', () => {
    const groups = new Set<string>();
    for (const [id, fn] of lambdas) {
      // CDK's BucketDeployment (copies the web console's files at deploy time) is CDK's Python function.
      if (id.startsWith('CustomCDKBucketDeployment')) {
        expect(fn.Properties.Runtime).toMatch(/^python3\.\d+$/);
        continue;
      }
      expect(fn.Properties.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
      // The CDK provider framework's function keeps CDK's default architecture.
      if (fn.Properties.Handler !== 'framework.onEvent') expect(fn.Properties.Architectures).toEqual(['arm64']);
      const group = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(s.resources[group]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 90 } });
      groups.add(group);
    }
    expect(groups.size).toBe(lambdas.length - 1);
  });

  it('one per handler family, plus notFound, with table access only where needed', () => {
    for (const family of FAMILIES) {
      const fn = s.resources[fnId(family)]!;
      // The SQL editor waits on queries: up to API Gateway's 30 s integration limit.
      expect(fn.Properties).toMatchObject({ Handler: 'index.handler', MemorySize: 512, Timeout: family === 'sql' || family === 'issues' || family === 'instances' ? 29 : 10 });
      const env = fn.Properties.Environment.Variables;
      expect(env.LOG_LEVEL).toBe('info');
      if (family === 'meta') expect(env.TABLE_NAME).toBeUndefined();
      else expect(env.TABLE_NAME).toEqual({ Ref: s.id(s.stack.table.table) });
    }
    expect(lambdas.filter(([, f]) => f.Properties.Handler === 'index.notFound')).toHaveLength(1);
  });

  it('every entry module exists and exports the handler each function names', async () => {
    const entries = [
      ...FAMILIES.map((f) => [HANDLER_ENTRIES[f], 'handler'] as const),
      [HANDLER_ENTRIES.meta, 'notFound'] as const,
      [HANDLER_ENTRIES.seed, 'handler'] as const,
    ];
    for (const [entry, name] of entries) {
      const file = path.join(PROJECT_ROOT, entry);
      expect(existsSync(file), file).toBe(true);
      const mod = (await import(file)) as Record<string, unknown>;
      expect(typeof mod[name], `${entry} exports ${name}`).toBe('function');
    }
  });
});

describe('HTTP API', () => {
  const routes = ofType(s, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
  const authorizerId = ofType(s, 'AWS::ApiGatewayV2::Authorizer')[0]![0];
  /** The function an integration target (`integrations/<ref>`) invokes. */
  const targetFunction = (target: { 'Fn::Join': [string, [string, { Ref: string }]] }): string => {
    const integration = s.resources[target['Fn::Join'][1][1].Ref]!;
    expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    return integration.Properties.IntegrationUri['Fn::GetAtt'][0];
  };

  it('holds exactly the gateway routes of the route table, plus $default', () => {
    expect(routes.map((r) => r.RouteKey).sort()).toEqual([...gatewayRoutes().map((r) => `${r.method} ${r.path}`), '$default'].sort());
  });

  it.each(gatewayRoutes().map((r) => [`${r.method} ${r.path}`, r] as const))('%s: authorizer and target', (key, r) => {
    const route = routes.find((x) => x.RouteKey === key)!;
    if (r.public) {
      expect(route.AuthorizationType).toBe('NONE');
      expect(route.AuthorizerId).toBeUndefined();
    } else {
      expect(route.AuthorizationType).toBe('JWT');
      expect(route.AuthorizerId).toEqual({ Ref: authorizerId });
    }
    expect(targetFunction(route.Target)).toBe(fnId(r.family));
  });

  it('sends unrouted requests to notFound without an authorizer', () => {
    const route = routes.find((x) => x.RouteKey === '$default')!;
    expect(route.AuthorizationType).toBe('NONE');
    expect(s.resources[targetFunction(route.Target)]!.Properties.Handler).toBe('index.notFound');
  });

  it("checks JWTs from the stack user pool, audience its clients (the CLI's and the web console's)", () => {
    const pool = s.id(s.stack.auth.userPool!);
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: s.id(s.stack.auth.client!) }, { Ref: s.id(s.stack.console!.client) }],
        Issuer: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [pool, 'ProviderURL'] }]] },
      },
    });
  });

  it('has one auto-deployed $default stage with throttling and JSON access logs carrying requestId', () => {
    const stages = ofType(s, 'AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const stage = stages[0]![1].Properties;
    expect(stage).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 } });
    const group = stage.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
    expect(s.resources[group]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 90 } });
    expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });
});

describe('Cognito', () => {
  it('admin-created users only, email sign-in, strong passwords, Plus threat protection', () => {
    s.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameAttributes: ['email'],
      UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
      Policies: { PasswordPolicy: { MinimumLength: 14, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      MfaConfiguration: 'OPTIONAL',
    });
  });

  it('a public CLI client with password and SRP flows', () => {
    s.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH']),
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it('creates the first admin, invited by email', () => {
    s.template.hasResourceProperties('AWS::Cognito::UserPoolUser', {
      Username: ADMIN,
      DesiredDeliveryMediums: ['EMAIL'],
      UserAttributes: Match.arrayWith([{ Name: 'email', Value: ADMIN }]),
    });
  });
});

describe('seed and outputs', () => {
  it('seeds through a custom resource that re-runs when adminEmail or the seed bundle changes', () => {
    const seed = ofType(s, 'Custom::SluiceSeed')[0]![1];
    expect(seed.Properties.adminEmail).toBe(ADMIN);
    expect(seed.Properties.seedCode).toBe(s.resources[s.id(s.stack.seed.handler.fn)]!.Properties.Code.S3Key);
    expect(seed.Properties.seedCode).toMatch(/^[0-9a-f]{64}\.zip$/);
    const provider = s.resources[seed.Properties.ServiceToken['Fn::GetAtt'][0]]!;
    expect(provider.Properties.Handler).toBe('framework.onEvent');
    expect(provider.Properties.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN).toEqual({ 'Fn::GetAtt': [s.id(s.stack.seed.handler.fn), 'Arn'] });
    expect(s.resources[s.id(s.stack.seed.handler.fn)]!.Properties.Environment.Variables.TABLE_NAME).toEqual({ Ref: s.id(s.stack.table.table) });
  });

  it('outputs the API and console URLs, user pool, client and table', () => {
    const outputs = s.template.toJSON().Outputs;
    expect(Object.keys(outputs).sort()).toEqual(['ApiUrl', 'ConsoleUrl', 'StateMachineArn', 'TableName', 'UserPoolClientId', 'UserPoolId']);
    expect(outputs.ApiUrl.Value).toEqual({ 'Fn::GetAtt': [s.id(s.stack.api.api), 'ApiEndpoint'] });
    expect(outputs.TableName.Value).toEqual({ Ref: s.id(s.stack.table.table) });
  });
});

describe('context', () => {
  it('external OIDC replaces the user pool', () => {
    const x = synth({ adminEmail: ADMIN, jwtIssuer: 'https://login.example.com/', jwtAudience: 'sluice, sluice-cli' });
    expect(ofType(x, 'AWS::Cognito::UserPool')).toHaveLength(0);
    expect(ofType(x, 'AWS::Cognito::UserPoolUser')).toHaveLength(0);
    x.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: { Issuer: 'https://login.example.com/', Audience: ['sluice', 'sluice-cli'] },
    });
    expect(Object.keys(x.template.toJSON().Outputs).sort()).toEqual(['ApiUrl', 'StateMachineArn', 'TableName']);
    expect(ofType(x, 'Custom::SluiceSeed')[0]![1].Properties.adminEmail).toBe(ADMIN);
  });

  it('throttling, log retention and MFA come from context (as -c strings)', () => {
    const x = synth({ throttleRateLimit: '7', throttleBurstLimit: 9, logRetentionDays: '30', requireMfa: 'true' });
    x.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 } });
    for (const [, g] of ofType(x, 'AWS::Logs::LogGroup')) expect(g.Properties.RetentionInDays).toBe(30);
    x.template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON' });
  });

  it('without adminEmail: synthesizes, seeds no admin, and warns', () => {
    const x = synth({});
    expect(ofType(x, 'AWS::Cognito::UserPoolUser')).toHaveLength(0);
    expect(ofType(x, 'Custom::SluiceSeed')[0]![1].Properties.adminEmail).toBe('');
    Annotations.fromStack(x.stack).hasWarning('/Sluice', Match.stringLikeRegexp('No adminEmail.*no first admin is seeded'));
  });

  it.each([
    [{ jwtIssuer: 'https://login.example.com/' }, /jwtIssuer and jwtAudience go together/],
    [{ jwtIssuer: 'http://login.example.com/', jwtAudience: 'a' }, /https URL/],
    [{ logRetentionDays: 42 }, /not a CloudWatch Logs retention/],
    [{ throttleRateLimit: 'fast' }, /positive integer/],
    [{ adminEmail: 'not-an-email' }, /not an email address/],
  ])('rejects bad context %j', (context, message) => {
    expect(() => createApp({ 'aws:cdk:bundling-stacks': [], ...context })).toThrow(message);
  });
});
