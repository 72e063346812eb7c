// Least privilege, read from the template: no AWS managed policies, no `*` resource a narrower
// ARN could replace, and each function holds exactly the actions its code needs.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ofType, synth } from './synth.js';

const s = synth();
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
/** What the single-table store issues (TransactWriteItems is authorized per item action). */
const TABLE_ITEMS = ['dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
/** What the Secrets Manager store issues, on the stack's own secrets only. */
const SECRETS = ['secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'];
/** Actions that have no resource-level permissions, so `*` is the only possible resource. */
const STAR_ONLY = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'cloudwatch:PutMetricData',
  // The state machine's log delivery (CloudWatch Logs vended logs).
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  // A task token, not an ARN, names the gate.
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
]);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/** Statements of every policy attached to a role, by role logical id. */
const byRole = new Map<string, Statement[]>();
for (const [, p] of ofType(s, 'AWS::IAM::Policy')) {
  for (const role of p.Properties.Roles as { Ref: string }[]) {
    byRole.set(role.Ref, [...(byRole.get(role.Ref) ?? []), ...(p.Properties.PolicyDocument.Statement as Statement[])]);
  }
}
const statementsOf = (fnId: string): Statement[] => byRole.get(s.resources[fnId]!.Properties.Role['Fn::GetAtt'][0]) ?? [];
const actionsOf = (fnId: string): string[] => [...new Set(statementsOf(fnId).flatMap((st) => list(st.Action)))].sort();

const table = { 'Fn::GetAtt': [s.id(s.stack.table.table), 'Arn'] };
const tableResources = [table, { 'Fn::Join': ['', [table, '/index/gsi1']] }];
const ownSecrets = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:secret:${s.stack.stackName}/*`]],
};
/** GitOps connector secrets: `prefix/vcs/*` for the connector API, one kind of secret for each reader. */
const vcsSecrets = (resourceName: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:secret:${s.stack.stackName}/vcs/${resourceName}`]],
});
const stateMachine = { Ref: s.id(s.stack.pipeline.stateMachine) };
const syncMachine = { Ref: s.id(s.stack.sync.stateMachine) };
const executions = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':execution:', { 'Fn::Select': [6, { 'Fn::Split': [':', stateMachine] }] }, ':*']],
};
/** What the issues API does to the pipeline: start, cancel, describe, resume or fail a gate. */
/** Events: PutEvents on the account's default bus (SLUICE_EVENT_BUS). */
const EVENTS = ['events:PutEvents'];
const defaultBus = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']] };
const webhookSecrets = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:secret:${s.stack.stackName}/webhooks/*`]],
};
const deliveryQueue = { 'Fn::GetAtt': [s.id(s.stack.notify.queue), 'Arn'] };
/** What Lambda's SQS event source needs of the delivery function's role (CDK grants exactly these). */
const CONSUME = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];
const PIPELINE = ['states:DescribeExecution', 'states:SendTaskFailure', 'states:SendTaskSuccess', 'states:StartExecution', 'states:StopExecution'];
const provider = ofType(s, 'AWS::Lambda::Function').find(([, f]) => f.Properties.Handler === 'framework.onEvent')![0];

const EXPECTED: Record<string, { id: string; actions: string[] }> = {
  meta: { id: s.id(s.stack.functions.meta.fn), actions: LOGS },
  notFound: { id: s.id(s.stack.notFound.fn), actions: LOGS },
  workspace: { id: s.id(s.stack.functions.workspace.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  users: { id: s.id(s.stack.functions.users.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  environments: { id: s.id(s.stack.functions.environments.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  // Only this function reaches the data sources' passwords; :sync starts the sync state machine.
  instances: { id: s.id(s.stack.functions.instances.fn), actions: [...LOGS, ...TABLE_ITEMS, ...SECRETS, 'states:StartExecution'].sort() },
  databases: { id: s.id(s.stack.functions.databases.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  projects: { id: s.id(s.stack.functions.projects.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  issues: { id: s.id(s.stack.functions.issues.fn), actions: [...LOGS, ...TABLE_ITEMS, 'dynamodb:BatchWriteItem', ...PIPELINE, ...EVENTS].sort() },
  // Database and table groups: table items only (matching reads the databases sync recorded).
  groups: { id: s.id(s.stack.functions.groups.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  // Sheets: table items only (content chunks are written and deleted in transactions).
  sheets: { id: s.id(s.stack.functions.sheets.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  // The SQL editor reads (never writes) the data sources' passwords to run read-only queries.
  sql: { id: s.id(s.stack.functions.sql.fn), actions: [...LOGS, ...TABLE_ITEMS, 'secretsmanager:GetSecretValue'].sort() },
  seed: { id: s.id(s.stack.seed.handler.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  // The pipeline's Lambdas: table only; the runner also reads (never writes) the data sources' passwords.
  // Those that write transitions (ISSUE_DONE, APPROVAL_REQUESTED, TASK_FAILED…) also put them on the default bus.
  advance: { id: s.id(s.stack.workflow.advance.fn), actions: [...LOGS, ...TABLE_ITEMS, ...EVENTS].sort() },
  approvalGate: { id: s.id(s.stack.workflow.approvalGate.fn), actions: [...LOGS, ...TABLE_ITEMS, ...EVENTS].sort() },
  runTask: { id: s.id(s.stack.workflow.runTask.fn), actions: [...LOGS, ...TABLE_ITEMS, 'dynamodb:BatchGetItem', 'secretsmanager:GetSecretValue', ...EVENTS].sort() },
  stageResult: { id: s.id(s.stack.workflow.stageResult.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  failureGate: { id: s.id(s.stack.workflow.failureGate.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  // Plan checks: table only; the target checks also read (never write) the data sources' passwords for EXPLAIN.
  planCheck: { id: s.id(s.stack.workflow.planCheck.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  checkBatch: { id: s.id(s.stack.workflow.checkBatch.fn), actions: [...LOGS, ...TABLE_ITEMS, 'secretsmanager:GetSecretValue'].sort() },
  // ChecksResult writes PLAN_CHECK_ERROR, which webhooks deliver.
  checksResult: { id: s.id(s.stack.workflow.checksResult.fn), actions: [...LOGS, ...TABLE_ITEMS, ...EVENTS].sort() },
  checksGate: { id: s.id(s.stack.workflow.checksGate.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  // SQL review (catalog, configs, sql:check): table items only; it never connects to a database.
  review: { id: s.id(s.stack.functions.review.fn), actions: [...LOGS, ...TABLE_ITEMS].sort() },
  provider: { id: provider, actions: ['lambda:GetFunction', 'lambda:InvokeFunction', ...LOGS].sort() },
  // GitOps: the connector API writes (never reads) connector secrets; the webhook reads webhook
  // secrets and queues the worker; the worker reads access tokens and starts issue executions.
  vcs: { id: s.id(s.stack.functions.vcs.fn), actions: [...LOGS, ...TABLE_ITEMS, 'secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'].sort() },
  hooks: { id: s.id(s.stack.functions.hooks.fn), actions: [...LOGS, ...TABLE_ITEMS, 'secretsmanager:GetSecretValue', 'lambda:InvokeFunction'].sort() },
  vcsWorker: { id: s.id(s.stack.vcsWorker.fn), actions: [...LOGS, ...TABLE_ITEMS, 'dynamodb:BatchWriteItem', 'secretsmanager:GetSecretValue', 'states:StartExecution', ...EVENTS].sort() },
  // Webhooks: the API stores their URL and secret and queues :test; the delivery function reads
  // them, consumes the delivery queue and queues each retry on it.
  webhooks: { id: s.id(s.stack.functions.webhooks.fn), actions: [...LOGS, ...TABLE_ITEMS, ...SECRETS, 'sqs:SendMessage'].sort() },
  webhookDelivery: { id: s.id(s.stack.notify.delivery.fn), actions: [...LOGS, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'secretsmanager:GetSecretValue', 'sqs:SendMessage', ...CONSUME].sort() },
  // The audit log's reader: GET /v1/auditLogs only, so reads only (every other family writes its own entries).
  audit: { id: s.id(s.stack.functions.audit.fn), actions: [...LOGS, 'dynamodb:GetItem', 'dynamodb:Query'].sort() },
  // Prior backup retention: reads the backup index and marks task runs, reads (never writes) the data sources' passwords to drop backup tables.
  backupCleanup: { id: s.id(s.stack.backupCleanup.fn), actions: [...LOGS, ...TABLE_ITEMS, 'secretsmanager:GetSecretValue'].sort() },
  // Instance sync steps: record schemas (chunks in batches) and tables; read (never write) the data sources' passwords; SCHEMA_DRIFT.
  syncStep: { id: s.id(s.stack.syncStep.fn), actions: [...LOGS, ...TABLE_ITEMS, 'dynamodb:BatchWriteItem', 'secretsmanager:GetSecretValue', ...EVENTS].sort() },
  // The scheduled sync's tick: lists each instance's databases (the data sources' passwords, read only) and starts its sync execution.
  syncSchedule: { id: s.id(s.stack.syncSchedule.fn), actions: [...LOGS, ...TABLE_ITEMS, 'secretsmanager:GetSecretValue', 'states:StartExecution'].sort() },
};
const SECRET_RESOURCE: Record<string, unknown> = { webhooks: webhookSecrets, webhookDelivery: webhookSecrets, vcs: vcsSecrets('*'), hooks: vcsSecrets('*/webhookSecret-??????'), vcsWorker: vcsSecrets('*/accessToken-??????') };

/**
 * CDK's own BucketDeployment function copies the built web console into its bucket at deploy time.
 * aws-cdk-lib builds its role (AWSLambdaBasicExecutionRole, s3 object wildcards on the asset and
 * console buckets, CloudFront invalidation): the one exception to the rules below, pinned here.
 */
const isConsoleCopier = (id: string) => id.startsWith('CustomCDKBucketDeployment');
const COPIER_ACTIONS = ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation', 's3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:PutObject', 's3:PutObjectLegalHold', 's3:PutObjectRetention', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'];

describe('IAM', () => {
  it('covers every function in the stack', () => {
    const fns = ofType(s, 'AWS::Lambda::Function').map(([id]) => id);
    expect(fns.filter(isConsoleCopier)).toHaveLength(1);
    expect(Object.values(EXPECTED).map((e) => e.id).sort()).toEqual(fns.filter((id) => !isConsoleCopier(id)).sort());
  });

  it("the console's file copier (CDK's BucketDeployment) holds only its own actions", () => {
    const policies = ofType(s, 'AWS::IAM::Policy').filter(([id]) => isConsoleCopier(id));
    expect(policies).toHaveLength(1);
    const actions = new Set((policies[0]![1].Properties.PolicyDocument.Statement as Statement[]).flatMap((st) => list(st.Action)));
    expect([...actions].sort()).toEqual(COPIER_ACTIONS);
    const roles = ofType(s, 'AWS::IAM::Role').filter(([id]) => isConsoleCopier(id));
    expect(roles.map(([, r]) => JSON.stringify(r.Properties.ManagedPolicyArns))).toEqual([expect.stringContaining(':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}]')]);
  });

  it.each(Object.keys(EXPECTED))('%s holds exactly its expected actions', (name) => {
    expect(actionsOf(EXPECTED[name]!.id)).toEqual(EXPECTED[name]!.actions);
  });

  it('every DynamoDB request the store sends is granted to some function (a BatchGetItem once was to none)', () => {
    // TransactWriteItems is authorized as its parts (Put/Update/Delete/ConditionCheck), all in TABLE_ITEMS.
    const action: Record<string, string> = { Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', Query: 'Query', Scan: 'Scan', BatchGet: 'BatchGetItem', BatchWrite: 'BatchWriteItem' };
    const dir = new URL('../../functions/adapters/dynamo/', import.meta.url);
    const sent = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      for (const m of readFileSync(new URL(f, dir), 'utf8').matchAll(/new (\w+)Command\(/g)) if (m[1] !== 'TransactWrite') sent.add(`dynamodb:${action[m[1]!] ?? m[1]}`);
    }
    const granted = new Set(Object.values(EXPECTED).flatMap((e) => e.actions));
    expect(sent.size).toBeGreaterThan(5);
    expect([...sent].filter((a) => !granted.has(a))).toEqual([]);
  });

  it.each(Object.keys(EXPECTED))('%s: each action on its narrowest resource', (name) => {
    const fnId = EXPECTED[name]!.id;
    const ownLogs = { 'Fn::GetAtt': [s.resources[fnId]!.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] };
    const seedFn = { 'Fn::GetAtt': [s.id(s.stack.seed.handler.fn), 'Arn'] };
    for (const st of statementsOf(fnId)) {
      expect(st.Effect).toBe('Allow');
      const service = list(st.Action)[0]!.split(':')[0];
      if (service === 'logs') expect(st.Resource).toEqual(ownLogs);
      else if (list(st.Action).includes('dynamodb:BatchWriteItem') || list(st.Action).includes('dynamodb:BatchGetItem')) expect(st.Resource).toEqual(table);
      else if (service === 'dynamodb') expect(st.Resource).toEqual(tableResources);
      else if (service === 'secretsmanager') expect(st.Resource).toEqual(SECRET_RESOURCE[name] ?? ownSecrets);
      else if (list(st.Action).includes('states:StartExecution')) expect(st.Resource).toEqual(name === 'instances' || name === 'syncSchedule' ? syncMachine : stateMachine);
      else if (service === 'events') expect([st.Action, st.Resource]).toEqual(['events:PutEvents', defaultBus]);
      else if (service === 'sqs') expect(st.Resource).toEqual(deliveryQueue);
      else if (list(st.Action).includes('states:StopExecution')) expect([st.Action, st.Resource]).toEqual([['states:StopExecution', 'states:DescribeExecution'], executions]);
      else if (list(st.Action).includes('states:SendTaskSuccess')) expect([st.Action, st.Resource]).toEqual([['states:SendTaskSuccess', 'states:SendTaskFailure'], '*']);
      else if (list(st.Action).includes('lambda:InvokeFunction') && name === 'hooks') expect(st.Resource).toEqual({ 'Fn::GetAtt': [s.id(s.stack.vcsWorker.fn), 'Arn'] });
      else if (list(st.Action).includes('lambda:InvokeFunction')) expect(st.Resource).toEqual([seedFn, { 'Fn::Join': ['', [seedFn, ':*']] }]);
      else expect(st.Resource).toEqual(seedFn);
    }
  });

  it('no statement anywhere uses a * resource or a wildcard action unless the action requires it', () => {
    for (const [policyId, p] of ofType(s, 'AWS::IAM::Policy').filter(([id]) => !isConsoleCopier(id))) {
      for (const st of p.Properties.PolicyDocument.Statement as Statement[]) {
        for (const action of list(st.Action)) expect(action, policyId).not.toContain('*');
        if (list(st.Resource).includes('*')) {
          for (const action of list(st.Action)) expect(STAR_ONLY.has(action), `${policyId}: ${action} on *`).toBe(true);
        }
      }
    }
  });

  it('roles are for Lambda only (but the state machine\'s) and carry no AWS managed or inline policies', () => {
    expect(ofType(s, 'AWS::IAM::ManagedPolicy')).toEqual([]);
    const machineRole = s.id(s.stack.pipeline.stateMachine.role);
    const syncRole = s.id(s.stack.sync.stateMachine.role);
    for (const [id, role] of ofType(s, 'AWS::IAM::Role').filter(([id]) => !isConsoleCopier(id))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
      if (id === machineRole || id === syncRole) continue;
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
    }
    // Step Functions of this account only (confused-deputy conditions).
    expect(s.resources[machineRole]!.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }) }),
    ]);
  });

  it('the state machine may invoke exactly the nine pipeline functions, run its own RunStage and CheckTargets children, and deliver its logs and traces', () => {
    const statements = byRole.get(s.id(s.stack.pipeline.stateMachine.role))!;
    const invoked = statements.filter((st) => list(st.Action).includes('lambda:InvokeFunction'));
    const fnArn = (name: keyof typeof s.stack.workflow) => ({ 'Fn::GetAtt': [s.id(s.stack.workflow[name].fn), 'Arn'] });
    expect(invoked.map((st) => st.Resource)).toEqual(
      expect.arrayContaining((['advance', 'approvalGate', 'runTask', 'stageResult', 'failureGate', 'planCheck', 'checkBatch', 'checksResult', 'checksGate'] as const).map((n) => [fnArn(n), { 'Fn::Join': ['', [fnArn(n), ':*']] }])),
    );
    expect(invoked).toHaveLength(9);
    for (const st of invoked) expect(st.Action).toBe('lambda:InvokeFunction');
    // The Distributed Map: start this machine (its children), and manage executions of this machine only.
    const machine = s.id(s.stack.pipeline.stateMachine);
    const states = statements.filter((st) => list(st.Action).some((a) => a.startsWith('states:')));
    const ownExecutions = (st: { Resource: unknown }) => JSON.stringify(st.Resource).includes(`:execution:",{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machine}"}]}]}`);
    expect(states.map((st) => list(st.Action).sort())).toEqual([['states:StartExecution'], ['states:DescribeExecution', 'states:StopExecution'], ['states:RedriveExecution']]);
    expect(states[0]!.Resource).toEqual({ Ref: machine });
    expect(states.slice(1).every(ownExecutions)).toBe(true);
    for (const st of statements.filter((x) => !invoked.includes(x) && !states.includes(x))) {
      expect(st.Resource).toBe('*');
      for (const action of list(st.Action)) expect(STAR_ONLY.has(action), action).toBe(true);
    }
  });

  it('the sync state machine may invoke exactly the sync function, and deliver its logs and traces', () => {
    const statements = byRole.get(s.id(s.stack.sync.stateMachine.role))!;
    const fnArn = { 'Fn::GetAtt': [s.id(s.stack.syncStep.fn), 'Arn'] };
    const invoked = statements.filter((st) => list(st.Action).includes('lambda:InvokeFunction'));
    expect(invoked.map((st) => [st.Action, st.Resource])).toEqual([['lambda:InvokeFunction', [fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }]]]);
    for (const st of statements.filter((x) => !invoked.includes(x))) {
      expect(st.Resource).toBe('*');
      for (const action of list(st.Action)) expect(STAR_ONLY.has(action), action).toBe(true);
    }
  });

  it('only the instances function, the SQL editor, the task runner, the target checks and the GitOps functions know where secrets are: SECRETS_PREFIX, the prefix their policies name', () => {
    const prefixes = ofType(s, 'AWS::Lambda::Function').map(([id, f]) => [id, f.Properties.Environment?.Variables?.SECRETS_PREFIX]).filter(([, p]) => p !== undefined);
    expect(prefixes.sort()).toEqual(
      [
        [EXPECTED.instances!.id, s.stack.stackName],
        [EXPECTED.runTask!.id, s.stack.stackName],
        [EXPECTED.checkBatch!.id, s.stack.stackName],
        [EXPECTED.backupCleanup!.id, s.stack.stackName],
        [EXPECTED.sql!.id, s.stack.stackName],
        [EXPECTED.vcs!.id, s.stack.stackName],
        [EXPECTED.hooks!.id, s.stack.stackName],
        [EXPECTED.vcsWorker!.id, s.stack.stackName],
        [EXPECTED.syncStep!.id, s.stack.stackName],
        [EXPECTED.syncSchedule!.id, s.stack.stackName],
        [EXPECTED.webhooks!.id, s.stack.stackName],
        [EXPECTED.webhookDelivery!.id, s.stack.stackName],
      ].sort(),
    );
  });

  it('only this API may invoke the HTTP functions, only the cleanup schedule the cleanup, and only the sync tick the scheduled sync', () => {
    const api = s.id(s.stack.api.api);
    const scheduled = ofType(s, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'events.amazonaws.com').map(([, p]) => p.Properties);
    expect(scheduled.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      [
        { fn: s.stack.backupCleanup.fn, rule: s.stack.backupCleanupSchedule },
        { fn: s.stack.syncSchedule.fn, rule: s.stack.syncScheduleRule },
      ]
        .map(({ fn, rule }) => ({ Action: 'lambda:InvokeFunction', FunctionName: { 'Fn::GetAtt': [s.id(fn), 'Arn'] }, Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [s.id(rule), 'Arn'] } }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    for (const [id, perm] of ofType(s, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal !== 'events.amazonaws.com')) {
      expect(perm.Properties.Principal, id).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(perm.Properties.SourceArn), id).toContain(`{"Ref":"${api}"}`);
    }
  });
});
