// The whole deployment: table, one function per handler family, HTTP API with JWT auth, and
// the deploy-time seed. Everything a construct needs comes in through readonly props.
import { Annotations, CfnOutput, Duration, Stack, Validations, type CfnElement, type StackProps } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { BUNDLED_FILES, HANDLER_ENTRIES, WORKFLOW_FUNCTIONS, type WorkflowFunction } from '../bundling.js';
import { FAMILIES, type Family } from '../../domain/api/routes.js';
import { CLEANUP_INTERVAL_MINUTES } from '../../domain/backup/cleanup.js';
import { SluiceApi } from './api.js';
import { SluiceAuth, type ExternalJwt } from './auth.js';
import { SluiceConsole } from './console.js';
import { DEFAULTS } from './defaults.js';
import { SluiceFunction } from './function.js';
import { Seed } from './seed.js';
import { PipelineStateMachine } from './pipeline.js';
import { SyncStateMachine } from './sync.js';
import { grantDataSourceSecretRead, grantDataSourceSecrets, grantVcsSecrets } from './secrets.js';
import { SluiceTable } from './table.js';
import { Notify, grantPutEvents, grantWebhookSecrets } from './notify.js';

export interface SluiceStackProps extends StackProps {
  /** The first workspaceAdmin: seeded in the table and, with Cognito, created in the user pool. */
  readonly adminEmail?: string;
  /** An external OIDC issuer and audience instead of the stack's Cognito user pool. */
  readonly externalJwt?: ExternalJwt;
  readonly requireMfa?: boolean;
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention?: RetentionDays;
  /** Places the task runner in these private subnets, so it reaches databases that are not public. */
  readonly runnerVpc?: RunnerVpc;
  /** The console's hosted sign-in domain prefix (default `sluice-<account id>`). */
  readonly signInDomainPrefix?: string;
}

/** The task runner's network placement (CDK context `vpcId`, `subnetIds`, `securityGroupIds`). */
export interface RunnerVpc {
  readonly vpcId: string;
  /** Private subnets with a route to the databases, and to DynamoDB and Secrets Manager (NAT or endpoints). */
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

/** Lambda's own ENI management in a VPC (what AWSLambdaVPCAccessExecutionRole holds, minus logs). */
export const VPC_ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

/** What the issues API does to executions, besides starting them (functions/adapters/sfn/orchestrator.ts). */
export const EXECUTION_ACTIONS = ['states:StopExecution', 'states:DescribeExecution'] as const;
/** Resuming or failing a gate: these actions take no resource (a token is not an ARN). */
export const TASK_TOKEN_ACTIONS = ['states:SendTaskSuccess', 'states:SendTaskFailure'] as const;

const WORKFLOW_DESCRIPTIONS: Record<WorkflowFunction, string> = {
  advance: 'Sluice pipeline: plan the next stage',
  approvalGate: 'Sluice pipeline: store the approval token',
  runTask: 'Sluice pipeline: run one task on its database',
  stageResult: 'Sluice pipeline: decide whether a stage is done',
  failureGate: 'Sluice pipeline: store the failure token',
  planCheck: 'Sluice pipeline: statement checks, per engine and environment',
  checkBatch: 'Sluice pipeline: plan checks of a batch of targets',
  checksResult: 'Sluice pipeline: sum up the plan checks',
  checksGate: 'Sluice pipeline: store the checks token',
};

export class SluiceStack extends Stack {
  readonly table: SluiceTable;
  readonly functions: Readonly<Record<Family, SluiceFunction>>;
  readonly notFound: SluiceFunction;
  readonly api: SluiceApi;
  readonly auth: SluiceAuth;
  /** The web console (CloudFront + S3, Cognito hosted sign-in); only with the stack's own user pool. */
  readonly console?: SluiceConsole;
  readonly seed: Seed;
  /** The pipeline state machine's Lambdas. */
  readonly workflow: Readonly<Record<WorkflowFunction, SluiceFunction>>;
  readonly pipeline: PipelineStateMachine;
  /** GitOps: turns a recorded push into issues; the webhook (functions.hooks) invokes it asynchronously. */
  readonly vcsWorker: SluiceFunction;
  /** Where the ExecutionsFailed alarm goes (an email subscription for adminEmail, when given). */
  readonly alarmTopic: Topic;
  /** Prior backup retention: drops backup tables past their project's priorBackupRetention, on a schedule. */
  readonly backupCleanup: SluiceFunction;
  readonly backupCleanupSchedule: Rule;
  /** Instance sync: the step Lambda and the state machine that loops it until the operation is done. */
  readonly syncStep: SluiceFunction;
  readonly sync: SyncStateMachine;
  /** The scheduled sync: a tick every minute starts every instance's sync when the workspace's syncInterval has passed. */
  readonly syncSchedule: SluiceFunction;
  readonly syncScheduleRule: Rule;
  /** Events on EventBridge and webhook delivery (rule → queue → delivery function, with a DLQ). */
  readonly notify: Notify;

  constructor(scope: Construct, id: string, props: SluiceStackProps = {}) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? DEFAULTS.logRetention;

    this.table = new SluiceTable(this, 'Data');
    const tableEnv = { TABLE_NAME: this.table.table.tableName };
    const functions = {} as Record<Family, SluiceFunction>;
    const handlers = {} as Record<Family, IFunction>;
    for (const family of FAMILIES) {
      // meta serves health and the OpenAPI document: no table, so no table access at all.
      const usesTable = family !== 'meta';
      functions[family] = new SluiceFunction(this, `${family[0]!.toUpperCase()}${family.slice(1)}`, {
        entry: HANDLER_ENTRIES[family],
        description: `Sluice ${family} API`,
        environment: usesTable ? tableEnv : {},
        logRetention,
        // Up to API Gateway's 30 s integration limit: the SQL editor waits on a query, an issue
        // over a group of 10,000 databases writes 10,000 tasks in its create request, and a sync
        // lists the tables of every database on the server (one connection each).
        ...(family === 'sql' || family === 'issues' || family === 'instances' ? { timeout: Duration.seconds(29) } : {}),
        // The functions that parse SQL carry the parser's WebAssembly beside their bundle.
        ...(BUNDLED_FILES[family] ? { files: BUNDLED_FILES[family] } : {}),
      });
      // The audit log's reader only reads; every other family writes (its own audit entries included).
      if (family === 'audit') this.table.grantRead(functions[family].fn);
      else if (usesTable) this.table.grantData(functions[family].fn);
      handlers[family] = functions[family].fn;
    }
    // Only the function that connects to database servers holds their passwords (sync's tables and schemas are batched by the sync function).
    grantDataSourceSecrets(functions.instances, this.stackName);
    // Creating an issue writes its stages and tasks with BatchWriteItem when they pass one transaction (100 items).
    this.table.grantBatchWrite(functions.issues.fn);
    // The SQL editor connects with the READ_ONLY (or ADMIN) data source: it reads passwords, never writes them.
    grantDataSourceSecretRead(functions.sql, this.stackName);
    // Its statement timeout, within the function's 29 s (connecting takes at most 5 s of it).
    functions.sql.fn.addEnvironment('SLUICE_QUERY_TIMEOUT_MS', '23000');
    this.functions = functions;

    // The pipeline: five Lambdas and the state machine that invokes them (infra/lib/pipeline.ts).
    const workflow = {} as Record<WorkflowFunction, SluiceFunction>;
    for (const name of WORKFLOW_FUNCTIONS) {
      workflow[name] = new SluiceFunction(this, `${name[0]!.toUpperCase()}${name.slice(1)}`, {
        entry: HANDLER_ENTRIES[name],
        description: WORKFLOW_DESCRIPTIONS[name],
        environment: tableEnv,
        logRetention,
        // A statement may run long (ALTER TABLE on a big table): Lambda's maximum, as the state machine's TimeoutSeconds.
        // Deciding a stage's approval may parse its statement for the rules (seconds for a large MySQL script).
        // A batch of plan checks reads up to 25 targets, each within 20 s.
        timeout: name === 'runTask' || name === 'checkBatch' ? Duration.minutes(15) : BUNDLED_FILES[name] ? Duration.minutes(2) : Duration.seconds(30),
        ...(BUNDLED_FILES[name] ? { files: BUNDLED_FILES[name] } : {}),
      });
      this.table.grantData(workflow[name].fn);
    }
    // The runner connects to the targets with their ADMIN data source: it reads passwords, never writes them.
    grantDataSourceSecretRead(workflow.runTask, this.stackName);
    // Plan checks run EXPLAIN and catalog reads on each target with its ADMIN data source.
    grantDataSourceSecretRead(workflow.checkBatch, this.stackName);
    // Prior backup retention: the cleanup connects to targets to drop expired backup tables.
    this.backupCleanup = new SluiceFunction(this, 'BackupCleanup', {
      entry: HANDLER_ENTRIES.backupCleanup,
      description: 'Sluice prior backup: drop backup tables past their retention',
      environment: tableEnv,
      logRetention,
      timeout: Duration.minutes(15),
    });
    // The runner's store sends BatchGetItem (functions/adapters/dynamo/task-runs.ts, versions.ts).
    this.table.grantBatchGet(workflow.runTask.fn);
    this.table.grantData(this.backupCleanup.fn);
    grantDataSourceSecretRead(this.backupCleanup, this.stackName);
    this.backupCleanupSchedule = new Rule(this, 'BackupCleanupSchedule', {
      description: 'Sluice: drop prior backups past their retention, every hour',
      schedule: Schedule.rate(Duration.minutes(CLEANUP_INTERVAL_MINUTES)),
      targets: [new LambdaFunction(this.backupCleanup.fn, { retryAttempts: 2 })],
    });
    // Instance sync: :sync (the instances function) lists the databases and starts an execution;
    // the execution's steps read every database's schema, each within the Lambda's 15 minutes.
    this.syncStep = new SluiceFunction(this, 'SyncInstance', {
      entry: HANDLER_ENTRIES.syncInstance,
      description: 'Sluice sync: read the schemas of an instance\'s databases, a time-boxed step at a time',
      environment: tableEnv,
      logRetention,
      timeout: Duration.minutes(15),
    });
    this.table.grantData(this.syncStep.fn);
    this.table.grantBatchWrite(this.syncStep.fn);
    grantDataSourceSecretRead(this.syncStep, this.stackName);
    this.sync = new SyncStateMachine(this, 'Sync', { syncStep: this.syncStep.fn, logRetention });
    functions.instances.fn.addEnvironment('SYNC_STATE_MACHINE_ARN', this.sync.stateMachine.stateMachineArn);
    this.sync.stateMachine.grantStartExecution(functions.instances.role);
    // The scheduled sync lists each instance's databases (as :sync does) and starts its execution.
    this.syncSchedule = new SluiceFunction(this, 'SyncSchedule', {
      entry: HANDLER_ENTRIES.syncSchedule,
      description: 'Sluice scheduled sync: start every instance\'s sync when the workspace\'s syncInterval has passed',
      environment: { ...tableEnv, SYNC_STATE_MACHINE_ARN: this.sync.stateMachine.stateMachineArn },
      logRetention,
      timeout: Duration.minutes(5),
    });
    this.table.grantData(this.syncSchedule.fn);
    grantDataSourceSecretRead(this.syncSchedule, this.stackName);
    this.sync.stateMachine.grantStartExecution(this.syncSchedule.role);
    this.syncScheduleRule = new Rule(this, 'SyncScheduleTick', {
      description: 'Sluice: sync every instance when the workspace\'s syncInterval has passed (checked every minute)',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.syncSchedule.fn, { retryAttempts: 0 })],
    });
    // Everything that opens a connection to a target database goes where the databases are.
    if (props.runnerVpc) for (const fn of [functions.instances, functions.sql, workflow.runTask, workflow.checkBatch, this.backupCleanup, this.syncStep, this.syncSchedule]) placeInVpc(fn, props.runnerVpc);
    this.workflow = workflow;
    this.pipeline = new PipelineStateMachine(this, 'Pipeline', {
      advance: workflow.advance.fn,
      approvalGate: workflow.approvalGate.fn,
      runTask: workflow.runTask.fn,
      stageResult: workflow.stageResult.fn,
      failureGate: workflow.failureGate.fn,
      planCheck: workflow.planCheck.fn,
      checkBatch: workflow.checkBatch.fn,
      checksResult: workflow.checksResult.fn,
      checksGate: workflow.checksGate.fn,
      logRetention,
    });
    this.alarmTopic = new Topic(this, 'PipelineAlarms', { displayName: 'Sluice pipeline alarms', enforceSSL: true });
    Validations.of(this.alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'The topic carries CloudWatch alarm state changes only (alarm name, state, metric), never issue, statement or database data. CloudWatch alarms cannot publish to a topic encrypted with the AWS managed aws/sns key, and a customer managed key would cost more than the topic it protects; publishing requires TLS (enforceSSL).',
    });
    if (props.adminEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.adminEmail));
    this.pipeline.failedAlarm.addAlarmAction(new SnsAction(this.alarmTopic));
    this.sync.failedAlarm.addAlarmAction(new SnsAction(this.alarmTopic));

    // The issues API starts, stops and describes executions and resumes the gates.
    const issues = functions.issues;
    const stateMachine = this.pipeline.stateMachine;
    issues.fn.addEnvironment('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(issues.role);
    stateMachine.grantExecution(issues.role, ...EXECUTION_ACTIONS);
    issues.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...TASK_TOKEN_ACTIONS], resources: ['*'] }));
    Validations.of(issues.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'states:SendTaskSuccess and states:SendTaskFailure support no resource-level permissions (the task token, not an ARN, names the gate), so * is the only possible resource; only these two actions are granted on it. Execution actions are confined to this state machine.',
    });
    Validations.of(issues.role).acknowledge({
      // The state machine's name, as CDK derives it from its ARN (Ref) in the execution ARN.
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${JSON.stringify({ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: this.getLogicalId(stateMachine.node.defaultChild as CfnElement) }] }] })}:*]`,
      reason:
        "StopExecution (cancel) and DescribeExecution act on an issue's execution, named after the issue at run time; the wildcard covers the executions of this one state machine only.",
    });
    this.vcsWorker = this.gitOps(functions, tableEnv, logRetention);
    this.notFound = new SluiceFunction(this, 'NotFound', {
      entry: HANDLER_ENTRIES.meta,
      handler: 'notFound',
      description: 'Sluice 404 for unrouted requests',
      logRetention,
    });

    this.auth = new SluiceAuth(this, 'Auth', {
      external: props.externalJwt,
      adminEmail: props.adminEmail,
      requireMfa: props.requireMfa,
    });
    this.api = new SluiceApi(this, 'Http', {
      functions: handlers,
      notFound: this.notFound.fn,
      jwtIssuer: this.auth.issuer,
      jwtAudience: this.auth.audience,
      throttle: props.throttle ?? DEFAULTS.throttle,
      logRetention,
    });
    if (this.auth.userPool) {
      this.console = new SluiceConsole(this, 'Console', { api: this.api.api, userPool: this.auth.userPool, domainPrefix: props.signInDomainPrefix });
      this.auth.addAudience(this.console.client);
    }
    this.seed = new Seed(this, 'Seed', { table: this.table, adminEmail: props.adminEmail, logRetention });

    if (!props.adminEmail) {
      Annotations.of(this).addWarningV2(
        'sluice:no-admin-email',
        'No adminEmail in context: no first admin is seeded, so nobody can manage users. Deploy with -c adminEmail=you@example.com.',
      );
    }

    // The connector's webhookUrl points at this API (the Lambda cannot see its own gateway URL otherwise).
    functions.vcs.fn.addEnvironment('SLUICE_API_URL', this.api.url);

    // Events: what writes pipeline transitions puts them on the default bus; webhooks deliver them.
    this.notify = new Notify(this, 'Notify', { table: this.table, tableEnv, logRetention, secretsPrefix: this.stackName });
    for (const fn of [functions.issues, workflow.advance, workflow.approvalGate, workflow.runTask, workflow.checksResult, this.vcsWorker, this.syncStep]) grantPutEvents(fn);
    // The webhooks API stores and replaces a webhook's URL and secret (a PATCH of one keeps the other), and queues :test.
    grantWebhookSecrets(functions.webhooks, this.stackName, ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret'], 'The webhooks API stores, replaces and deletes the URL and secret of any project\'s webhook');
    this.notify.grantRetry(functions.webhooks);
    // Links in messages point at this API.
    this.notify.delivery.fn.addEnvironment('SLUICE_API_URL', this.api.url);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the Sluice API' });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.pipeline.stateMachine.stateMachineArn, description: 'The issue pipeline (one execution per issue)' });
    if (this.auth.userPool && this.auth.client) {
      new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.auth.client.userPoolClientId });
    }
    if (this.console) new CfnOutput(this, 'ConsoleUrl', { value: this.console.url, description: 'The web console (sign in with the user pool)' });
  }

  /**
   * GitOps: the connector function writes (never reads) the connector secrets; the webhook reads
   * webhook secrets only and queues the worker; the worker reads access tokens only, makes issues
   * and starts their executions. The worker reaches the provider's API over the internet.
   */
  private gitOps(functions: Record<Family, SluiceFunction>, tableEnv: Record<string, string>, logRetention: RetentionDays): SluiceFunction {
    const worker = new SluiceFunction(this, 'VcsWorker', {
      entry: HANDLER_ENTRIES.vcsWorker,
      description: 'Sluice GitOps: turn a pushed delivery into issues',
      environment: tableEnv,
      logRetention,
      // Up to 200 files per push, each read from the provider within 10 s.
      timeout: Duration.minutes(5),
    });
    this.table.grantData(worker.fn);
    // GitOps creates issues, which for a database group can hold thousands of tasks (see the issues function).
    this.table.grantBatchWrite(worker.fn);
    const stateMachine = this.pipeline.stateMachine;
    worker.fn.addEnvironment('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(worker.role);
    grantVcsSecrets(worker, this.stackName, ['secretsmanager:GetSecretValue'], 'accessToken', VCS_SECRET_REASON('The worker reads the access token of the project whose push it processes'));
    grantVcsSecrets(functions.vcs, this.stackName, ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'], 'all',
      VCS_SECRET_REASON('The connector API stores and deletes (never reads) the webhook secret and access token of any project'));
    const hooks = functions.hooks;
    grantVcsSecrets(hooks, this.stackName, ['secretsmanager:GetSecretValue'], 'webhookSecret', VCS_SECRET_REASON('The webhook reads the webhook secret of the project a delivery names, to check its signature'));
    // Only the function itself, no `:*` qualifiers: the webhook invokes its latest version.
    hooks.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [worker.fn.functionArn] }));
    hooks.fn.addEnvironment('VCS_WORKER_FUNCTION', worker.fn.functionName);
    return worker;
  }
}

const VCS_SECRET_REASON = (who: string): string =>
  `${who}; the secrets are created at run time, one pair per project, and Secrets Manager appends a random suffix to each ARN, so they cannot be listed in advance. The wildcard is confined to this stack's vcs/ prefix (and, for readers, to one kind of secret): no data source password is reachable.`;

/**
 * Puts a function in existing private subnets. Set on the CloudFormation resource rather than with
 * the `vpc` prop, which would attach the AWS managed AWSLambdaVPCAccessExecutionRole (logs on every
 * group) to the role: here the role gets only the ENI actions Lambda needs.
 */
function placeInVpc(fn: SluiceFunction, vpc: RunnerVpc): void {
  const cfn = fn.fn.node.defaultChild as CfnFunction;
  cfn.vpcConfig = { subnetIds: [...vpc.subnetIds], securityGroupIds: [...vpc.securityGroupIds] };
  fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...VPC_ENI_ACTIONS], resources: ['*'] }));
  Validations.of(fn.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      "Lambda creates, describes and deletes the function's network interfaces in the runner's subnets (vpcId context); the EC2 describe actions support no resource-level permissions, and the ENI ids are not known before Lambda creates them, as in AWSLambdaVPCAccessExecutionRole.",
  });
}
