// Seeds the table at deploy time (users/1, the default project, environments test and prod, and
// the first admin), so a fresh deployment is usable. Re-runs when adminEmail or the seed code changes.
import { CustomResource, Stack, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { HANDLER_ENTRIES } from '../bundling.js';
import { DEFAULTS } from './defaults.js';
import { SluiceFunction } from './function.js';
import type { SluiceTable } from './table.js';

export interface SeedProps {
  readonly table: SluiceTable;
  readonly adminEmail?: string;
  readonly logRetention: RetentionDays;
}

export class Seed extends Construct {
  readonly handler: SluiceFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: SeedProps) {
    super(scope, id);
    this.handler = new SluiceFunction(this, 'Handler', {
      entry: HANDLER_ENTRIES.seed,
      description: 'Sluice deploy-time seed',
      environment: { TABLE_NAME: props.table.table.tableName },
      logRetention: props.logRetention,
      timeout: DEFAULTS.seedTimeout,
    });
    props.table.grantData(this.handler.fn);

    // The provider framework's own function, with the same explicit role and log group.
    const frameworkLogs = new LogGroup(this, 'ProviderLogs', { retention: props.logRetention });
    const frameworkRole = new Role(this, 'ProviderRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs the CloudFormation custom resource provider for the Sluice seed',
    });
    frameworkLogs.grantWrite(frameworkRole);
    const provider = new Provider(this, 'Provider', {
      onEventHandler: this.handler.fn,
      frameworkOnEventRole: frameworkRole,
      logGroup: frameworkLogs,
    });

    const cfnSeedFn = this.handler.fn.node.defaultChild as CfnFunction;
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SluiceSeed',
      // A property change is an Update, which seeds again (every write is create-if-absent):
      // a new adminEmail, or a new release whose seed adds records (the bundle's asset key).
      properties: { adminEmail: props.adminEmail ?? '', seedCode: (cfnSeedFn.code as CfnFunction.CodeProperty).s3Key },
    });

    // cdk-nag names the resource by the seed function's logical id; acknowledge exactly that.
    const seedFnId = Stack.of(this).getLogicalId(cfnSeedFn);
    Validations.of(frameworkRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${seedFnId}.Arn>:*]`,
      reason:
        "Added by the CDK Provider framework (Function.grantInvoke): lambda:InvokeFunction on the seed function's own versions and aliases (<arn>:*). It names exactly one function; nothing else is invocable.",
    });
  }
}
