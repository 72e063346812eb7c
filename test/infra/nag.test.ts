// cdk-nag 3 is a CDK policy-validation plugin, not an Aspect: findings are not annotations but
// violations in the synth's validation report. NagPack.validateScope gives the same report
// directly, including warnings, after acknowledgements.
import { Validations, type Stack } from 'aws-cdk-lib';
import { CfnRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../infra/lib/app.js';
import { ADMIN } from './synth.js';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const CONTEXTS: Record<string, Record<string, unknown>> = {
  default: { adminEmail: ADMIN },
  'no adminEmail': {},
  'external OIDC': { adminEmail: ADMIN, jwtIssuer: 'https://login.example.com/', jwtAudience: 'sluice' },
  'required MFA': { adminEmail: ADMIN, requireMfa: 'true' },
  'runner in a VPC': { adminEmail: ADMIN, vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1', securityGroupIds: 'sg-0123456789abcdef0' },
};

const findings = (stack: Stack): string[] =>
  new AwsSolutionsChecks(undefined, { verbose: true })
    .validateScope(stack)
    .violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}: ${v.description}`);

describe('cdk-nag AwsSolutions', () => {
  it.each(Object.keys(CONTEXTS))('%s: no unacknowledged error or warning', (name) => {
    const { stack } = createApp({ ...NO_BUNDLING, ...CONTEXTS[name] });
    expect(findings(stack)).toEqual([]);
  });

  it('runs as the app plugin at synth, and its report is empty', () => {
    const { app } = createApp({ ...NO_BUNDLING, ...CONTEXTS.default });
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
    expect(report.pluginReports).toEqual([]);
  }, 120000);

  it('no CDK error or warning annotations either', () => {
    const { stack } = createApp({ ...NO_BUNDLING, ...CONTEXTS.default });
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('is live: the app fails synth on an unacknowledged error, and warnings are reported', () => {
    const { app, stack } = createApp({ ...NO_BUNDLING, ...CONTEXTS.default });
    new Table(stack, 'ProbeTable', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    new CfnRoute(stack, 'ProbeRoute', { apiId: 'x', routeKey: 'GET /open', authorizationType: 'NONE' });
    expect(findings(stack)).toEqual([
      expect.stringMatching(/^warning AwsSolutions-DDB3 at Sluice\/ProbeTable\/Resource:/),
      expect.stringMatching(/^error AwsSolutions-APIG4 at Sluice\/ProbeRoute:/),
    ]);
    expect(() => app.synth()).toThrow(/AwsSolutions-APIG4/);
  });

  it('acknowledges exactly the reviewed findings, each with a substantial reason', () => {
    const { stack } = createApp({ ...NO_BUNDLING, ...CONTEXTS.default });
    const acks: string[] = [];
    for (const c of stack.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
          expect(reason.length, `${id} at ${c.node.path}`).toBeGreaterThan(80);
          acks.push(`${c.node.path} ${id.replace(/^annotation::/i, '')}`);
        }
      }
    }
    expect(acks.sort()).toEqual([
      'Sluice/Auth/UserPool AwsSolutions-COG2',
      // Prior backup retention: connects to the targets with their ADMIN data source to drop expired backup tables.
      'Sluice/BackupCleanup/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/*]',
      // Plan checks: EXPLAIN and catalog reads on each target with its ADMIN data source.
      'Sluice/CheckBatch/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/*]',
      // The web console: the distribution's own log bucket, the OAC-only files bucket, the default certificate, no geo/WAF.
      'Sluice/Console/AccessLogs AwsSolutions-S1',
      'Sluice/Console/Cdn AwsSolutions-CFR1',
      'Sluice/Console/Cdn AwsSolutions-CFR2',
      'Sluice/Console/Cdn AwsSolutions-CFR4',
      'Sluice/Console/Files AwsSolutions-S1',
      // CDK's own BucketDeployment function, which copies the built console at deploy time.
      ...[
        'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((a) => `IAM5[Action::${a}]`),
        'IAM5[Resource::*]',
        'IAM5[Resource::<ConsoleFiles2D43986C.Arn>/*]',
        'IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
        'L1',
      ].map((rule) => `Sluice/Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C512MiB AwsSolutions-${rule}`),
      // GitOps connector secrets: written by the connector API, one kind read by each of webhook and worker.
      'Sluice/Hooks/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/vcs/*/webhookSecret-??????]',
      'Sluice/Http/Api/DefaultRoute AwsSolutions-APIG4',
      'Sluice/Http/Api/GET--healthz AwsSolutions-APIG4',
      'Sluice/Http/Api/GET--v1--openapi.json AwsSolutions-APIG4',
      'Sluice/Http/Api/POST--v1--hooks--vcs--{project} AwsSolutions-APIG4',
      'Sluice/Instances/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/*]',
      // SendTaskSuccess/SendTaskFailure take no resource; Stop/DescribeExecution on this machine's executions.
      'Sluice/Issues/Role AwsSolutions-IAM5[Resource::*]',
      expect.stringMatching(
        /^Sluice\/Issues\/Role AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:\{"Fn::Select":\[6,\{"Fn::Split":\[":",\{"Ref":"PipelineStateMachine[0-9A-F]+"\}\]\}\]\}:\*\]$/,
      ),
      // Webhook URLs and secrets: one secret per webhook under Sluice/webhooks/, read by delivery, written by the API.
      'Sluice/Notify/Delivery/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/webhooks/*]',
      'Sluice/Pipeline/StateMachine AwsSolutions-SF1',
      // The Distributed Map's children: executions of this machine only, named by Step Functions.
      ...['/CheckTargets:', '/RunStage:', ':'].map((suffix) =>
        expect.stringMatching(
          new RegExp(
            `^Sluice/Pipeline/StateMachine/DistributedMapPolicy AwsSolutions-IAM5\\[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:\\{"Fn::Select":\\[6,\\{"Fn::Split":\\[":",\\{"Ref":"PipelineStateMachine[0-9A-F]+"\\}\\]\\}\\]\\}${suffix}\\*\\]$`,
          ),
        ),
      ),
      'Sluice/Pipeline/StateMachine/Role AwsSolutions-IAM5[Resource::*]',
      ...['Advance', 'ApprovalGate', 'CheckBatch', 'ChecksGate', 'ChecksResult', 'FailureGate', 'PlanCheck', 'RunTask', 'StageResult'].map((fn) =>
        expect.stringMatching(new RegExp(`^Sluice/Pipeline/StateMachine/Role AwsSolutions-IAM5\\[Resource::<${fn}Function[0-9A-F]+\\.Arn>:\\*\\]$`)),
      ),
      'Sluice/PipelineAlarms AwsSolutions-SNS2',
      'Sluice/RunTask/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/*]',
      expect.stringMatching(/^Sluice\/Seed\/ProviderRole AwsSolutions-IAM5\[Resource::<SeedHandlerFunction[0-9A-F]+\.Arn>:\*\]$/),
      'Sluice/Sql/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/*]',
      'Sluice/Sync/StateMachine AwsSolutions-SF1',
      'Sluice/Sync/StateMachine/Role AwsSolutions-IAM5[Resource::*]',
      expect.stringMatching(/^Sluice\/Sync\/StateMachine\/Role AwsSolutions-IAM5\[Resource::<SyncInstanceFunction[0-9A-F]+\.Arn>:\*\]$/),
      'Sluice/SyncInstance/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/*]',
      // The scheduled sync lists each instance's databases with its ADMIN data source, as :sync does.
      'Sluice/SyncSchedule/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/*]',
      'Sluice/Vcs/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/vcs/*]',
      'Sluice/VcsWorker/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/vcs/*/accessToken-??????]',
      'Sluice/Webhooks/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:Sluice/webhooks/*]',
    ]);
  });
});
