// Builds the app from CDK context (cdk.json, `-c key=value`, or a test's context object), with
// cdk-nag's AwsSolutions checks on every construct.
import { App, Validations } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Node } from 'constructs';
import { DEFAULTS } from './defaults.js';
import { SluiceStack, type SluiceStackProps } from './sluice-stack.js';

/** Context values arrive as strings from `-c` and as JSON values from cdk.json. */
function str(node: Node, key: string): string | undefined {
  const v: unknown = node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  return String(v).trim();
}

function int(node: Node, key: string, fallback: number): number {
  const s = str(node, key);
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`context ${key}: expected a positive integer, got "${s}"`);
  return n;
}

export function stackPropsFromContext(node: Node): SluiceStackProps {
  const adminEmail = str(node, 'adminEmail');
  if (adminEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(adminEmail)) {
    throw new Error(`context adminEmail: "${adminEmail}" is not an email address`);
  }
  const issuer = str(node, 'jwtIssuer');
  const audience = str(node, 'jwtAudience')?.split(',').map((a) => a.trim()).filter(Boolean);
  if ((issuer === undefined) !== (audience === undefined)) {
    throw new Error('context jwtIssuer and jwtAudience go together: give both (external OIDC) or neither (Cognito)');
  }
  if (issuer !== undefined && !issuer.startsWith('https://')) throw new Error(`context jwtIssuer: must be an https URL, got "${issuer}"`);

  const retention = int(node, 'logRetentionDays', DEFAULTS.logRetention);
  if (!(Object.values(RetentionDays) as number[]).includes(retention)) {
    throw new Error(`context logRetentionDays: ${retention} is not a CloudWatch Logs retention (e.g. 30, 90, 365)`);
  }
  const throttle = {
    rateLimit: int(node, 'throttleRateLimit', DEFAULTS.throttle.rateLimit),
    burstLimit: int(node, 'throttleBurstLimit', DEFAULTS.throttle.burstLimit),
  };
  const vpcId = str(node, 'vpcId');
  const ids = (key: string) => str(node, key)?.split(',').map((x) => x.trim()).filter(Boolean);
  const subnetIds = ids('subnetIds');
  const securityGroupIds = ids('securityGroupIds');
  if (vpcId !== undefined && (!subnetIds?.length || !securityGroupIds?.length)) {
    throw new Error('context vpcId needs subnetIds and securityGroupIds (comma-separated) for the task runner');
  }
  if (vpcId === undefined && (subnetIds !== undefined || securityGroupIds !== undefined)) {
    throw new Error('context subnetIds and securityGroupIds need vpcId');
  }
  const badId = (ids: string[] | undefined, kind: string) => ids?.find((x) => !new RegExp(`^${kind}-[0-9a-f]{8,17}$`).test(x));
  for (const [ids, kind] of [[vpcId === undefined ? undefined : [vpcId], 'vpc'], [subnetIds, 'subnet'], [securityGroupIds, 'sg']] as const) {
    const bad = badId(ids as string[] | undefined, kind);
    if (bad !== undefined) throw new Error(`context: "${bad}" is not a ${kind} id (${kind}-0123456789abcdef0)`);
  }
  const signInDomainPrefix = str(node, 'signInDomainPrefix');
  // Cognito's rule for hosted-UI prefixes: lower case, digits, hyphens; never the word "aws" or "cognito".
  if (signInDomainPrefix !== undefined && (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(signInDomainPrefix) || /aws|amazon|cognito/.test(signInDomainPrefix))) {
    throw new Error(`context signInDomainPrefix: "${signInDomainPrefix}" must be lower-case letters, digits and hyphens, without aws, amazon or cognito`);
  }
  return {
    signInDomainPrefix,
    runnerVpc: vpcId !== undefined ? { vpcId, subnetIds: subnetIds!, securityGroupIds: securityGroupIds! } : undefined,
    adminEmail: adminEmail?.toLowerCase(),
    externalJwt: issuer && audience ? { issuer, audience } : undefined,
    requireMfa: str(node, 'requireMfa') === 'true',
    throttle,
    logRetention: retention as RetentionDays,
  };
}

export function createApp(context: Record<string, unknown> = {}): { app: App; stack: SluiceStack } {
  const app = new App({ context });
  // No env: the stack is environment-agnostic, so synth needs no credentials or lookups.
  const stack = new SluiceStack(app, 'Sluice', {
    description: 'Sluice: serverless database change management API',
    ...stackPropsFromContext(app.node),
  });
  // cdk-nag 3 is a policy validation plugin (not an Aspect): any unacknowledged error fails synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
