// The pipeline state machine as CDK synthesizes it: a Standard workflow in JSONPath, gates that
// wait on task tokens with a bounded timeout, ids-only payloads, logs, an alarm, and a role that
// can invoke exactly its nine functions. cdk-nag AwsSolutions clean.
import { Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { PIPELINE_ERRORS } from '../../domain/pipeline/orchestrator.js';
import { LAMBDA_SERVICE_ERRORS, PIPELINE_STATES as S } from '../../infra/lib/pipeline.js';
import { aslFromTemplate, localFunctionArn } from '../../infra/local/stepfunctions.js';
import { PIPELINE_FUNCTIONS, pipelineStack } from '../support/pipeline-stack.js';

type State = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- raw ASL JSON
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/** Every state, nested Map processors included, by name. */
function allStates(def: { States: Record<string, State> }): Record<string, State> {
  const out: Record<string, State> = {};
  for (const [name, st] of Object.entries(def.States)) {
    out[name] = st;
    if (st.Type === 'Map') Object.assign(out, allStates(st.ItemProcessor));
  }
  return out;
}

const p = pipelineStack();
const asl = aslFromTemplate(p.template.toJSON() as never, p.stateMachineId);
const states = allStates(asl as never);
const TOKEN_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const gates = Object.entries(states).filter(([, st]) => st.Resource === TOKEN_RESOURCE);
const tasks = Object.entries(states).filter(([, st]) => st.Type === 'Task');

const findings = (stack: typeof p.stack): string[] =>
  new AwsSolutionsChecks(undefined, { verbose: true })
    .validateScope(stack)
    .violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

describe('pipeline state machine definition', () => {
  it('is a Standard workflow (task tokens and long waits need it)', () => {
    p.template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD' });
  });

  it('has exactly three gates, checks, approval and failure, each waiting on a token it passes to its function, with a timeout', () => {
    expect(gates.map(([name]) => name).sort()).toEqual([S.approvalGate, S.failureGate, S.checksGate].sort());
    for (const [name, st] of gates) {
      expect(st.TimeoutSeconds, name).toBe(Duration.days(7).toSeconds());
      const stage = name === S.checksGate ? {} : { 'stage.$': '$.plan.stage.id' };
      expect(st.Parameters.Payload, name).toEqual({ 'issue.$': '$.issue', ...stage, 'token.$': '$$.Task.Token' });
    }
    expect(states[S.checksGate]!.Parameters.FunctionName).toBe(localFunctionArn(p.fnIds.checksGate));
    expect(states[S.approvalGate]!.Parameters.FunctionName).toBe(localFunctionArn(p.fnIds.approvalGate));
    expect(states[S.failureGate]!.Parameters.FunctionName).toBe(localFunctionArn(p.fnIds.failureGate));
  });

  it('takes the gate timeouts from props', () => {
    // Act
    const custom = pipelineStack({ approvalTimeout: Duration.days(3), failureTimeout: Duration.hours(12) });

    // Assess
    const st = allStates(aslFromTemplate(custom.template.toJSON() as never, custom.stateMachineId) as never);
    expect(st[S.approvalGate]!.TimeoutSeconds).toBe(3 * 86_400);
    expect(st[S.failureGate]!.TimeoutSeconds).toBe(12 * 3_600);
  });

  it('every other Task invokes its function ARN directly (payloadResponseOnly), with a timeout', () => {
    const direct = tasks.filter(([, st]) => st.Resource !== TOKEN_RESOURCE);
    expect(Object.fromEntries(direct.map(([name, st]) => [name, st.Resource]))).toEqual({
      [S.advance]: localFunctionArn(p.fnIds.advance),
      [S.runTask]: localFunctionArn(p.fnIds.runTask),
      [S.runTaskAlone]: localFunctionArn(p.fnIds.runTask),
      [S.stageResult]: localFunctionArn(p.fnIds.stageResult),
      [S.planCheck]: localFunctionArn(p.fnIds.planCheck),
      [S.checkBatch]: localFunctionArn(p.fnIds.checkBatch),
      [S.checksResult]: localFunctionArn(p.fnIds.checksResult),
    });
    for (const [name, st] of tasks) expect(st.TimeoutSeconds, name).toBeGreaterThan(0);
  });

  it('is JSONPath only: no JSONata, no Assign, no variables', () => {
    const text = JSON.stringify(asl);
    expect(text).not.toMatch(/JSONata|"Assign"|"Arguments"|"Output"|\{%/);
    for (const [name, st] of Object.entries(states)) expect(st.QueryLanguage, name).toBeUndefined();
  });

  it('passes ids only: every path any state reads is an id, a flag or the token', () => {
    const paths = new Set<string>();
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k.endsWith('.$') || k.endsWith('Path') || k === 'Variable') {
            if (x !== null) paths.add(String(x)); // ResultPath null: the result is dropped
          } else collect(x);
        }
      }
    };
    collect(asl);
    expect([...paths].sort()).toEqual(
      [
        '$.checks', '$.checks.batches', '$.checks.maxConcurrency', '$.checkResult', '$.checkResult.blocked',
        '$$.Map.Item.Value', '$$.Task.Token', '$.issue', '$.plan', '$.plan.batches', '$.plan.done', '$.plan.stage.id', '$.plan.stage.maxConcurrency',
        '$.plan.stage.requireApproval', '$.plan.stage.runTime', '$.rejection', '$.result', '$.result.status', '$.task', '$.taskIds', '$', '$.batch', '$.batch.rest',
      ].sort(),
    );
  });

  it('retries every invoke on Lambda service errors with exponential backoff, and no other error', () => {
    for (const [name, st] of tasks) {
      // RunTaskAlone adds a retrier for PIPELINE_ERRORS.versionWaiting after this one (next test).
      expect(st.Retry?.slice(0, name === S.runTaskAlone ? 1 : undefined), name).toEqual([expect.objectContaining({ ErrorEquals: LAMBDA_SERVICE_ERRORS, BackoffRate: 2, MaxAttempts: 6, JitterStrategy: 'FULL' })]);
    }
    expect(LAMBDA_SERVICE_ERRORS).toContain('Lambda.TooManyRequestsException');
  });

  it('runs a stage as a Distributed Map over batches of task ids, maxParallelTasks at a time; each batch by one invoke of the runner, what it leaves one by one', () => {
    const map = states[S.runStage]!;
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.batches',
      MaxConcurrencyPath: '$.plan.stage.maxConcurrency',
      ItemSelector: { 'issue.$': '$.issue', 'taskIds.$': '$$.Map.Item.Value' },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: S.runTask },
      ToleratedFailurePercentage: 100,
      ResultPath: null,
    });
    // No ItemReader or ResultWriter: nothing in S3; the batches come from Advance's output.
    expect(map.ItemReader).toBeUndefined();
    expect(map.ResultWriter).toBeUndefined();
    // The batch: one invoke with its task ids; the tasks it leaves (`rest`, usually none) go one by one.
    expect(states[S.runTask]).toMatchObject({ Parameters: { 'issue.$': '$.issue', 'taskIds.$': '$.taskIds' }, ResultPath: '$.batch', Next: S.runBatch });
    expect(states[S.runTask]!.Retry).toEqual([expect.objectContaining({ ErrorEquals: LAMBDA_SERVICE_ERRORS })]);
    // A crashed batch invoke: every task of the batch goes the per-task way.
    expect(states[S.runTask]!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: S.batchErrored }]);
    expect(states[S.batchErrored]).toMatchObject({ Type: 'Pass', Parameters: { 'rest.$': '$.taskIds' }, ResultPath: '$.batch', Next: S.runBatch });
    expect(states[S.runBatch]).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.batch.rest',
      MaxConcurrency: 1,
      ItemSelector: { 'issue.$': '$.issue', 'task.$': '$$.Map.Item.Value' },
      ItemProcessor: { StartAt: S.runTaskAlone },
      ResultPath: null,
      Next: S.batchDone,
    });
    // The child's output, gathered by the Map Run, is empty.
    expect(states[S.batchDone]).toMatchObject({ Type: 'Pass', Result: {}, End: true });
    expect(states[S.runTaskAlone]!.Parameters).toEqual({ 'issue.$': '$.issue', 'task.$': '$.task' });
    // A crashed runner ends its iteration only: the stage's other tasks keep running.
    expect(states[S.runTaskAlone]!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: S.taskErrored }]);
  });

  it('asks a task that waits for a lower version of its database again, with bounded backoff and no jitter, after the Lambda service retrier', () => {
    expect(states[S.runTaskAlone]!.ResultPath).toBe('$');
    expect(states[S.runTaskAlone]!.Retry).toEqual([
      expect.objectContaining({ ErrorEquals: LAMBDA_SERVICE_ERRORS }),
      { ErrorEquals: [PIPELINE_ERRORS.versionWaiting], IntervalSeconds: 2, BackoffRate: 1.5, MaxDelaySeconds: 1200, MaxAttempts: 100, JitterStrategy: 'NONE' },
    ]);
  });

  it('checks every issue before its first stage: statement checks, a Distributed Map of target checks in batches, the summary, and a gate when blocked', () => {
    expect(asl.StartAt).toBe(S.planCheck);
    expect(states[S.planCheck]).toMatchObject({ Parameters: { 'issue.$': '$.issue' }, ResultPath: '$.checks', Next: S.checkTargets });
    expect(states[S.checkTargets]).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.checks.batches',
      MaxConcurrencyPath: '$.checks.maxConcurrency',
      ItemSelector: { 'issue.$': '$.issue', 'taskIds.$': '$$.Map.Item.Value' },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: S.checkBatch },
      ResultPath: null,
      Next: S.checksResult,
    });
    expect(states[S.checkBatch]).toMatchObject({ Parameters: { 'issue.$': '$.issue', 'taskIds.$': '$.taskIds' }, ResultPath: null, Next: S.checkBatchDone });
    // A crashed batch ends alone; ChecksResult counts its tasks as unchecked (an ERROR).
    expect(states[S.checkBatch]!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: S.checkErrored }]);
    expect(states[S.checksResult]).toMatchObject({ ResultPath: '$.checkResult', Next: S.checksBlocked });
    expect(states[S.checksBlocked]).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.checkResult.blocked', BooleanEquals: true, Next: S.checksGate }], Default: S.advance });
    // :overrideChecks resumes the gate (on to Advance); an edited statement fails it with Sluice.Recheck: checked again.
    expect(states[S.checksGate]).toMatchObject({ ResultPath: null, Next: S.advance });
    expect(states[S.checksGate]!.Catch).toEqual([{ ErrorEquals: [PIPELINE_ERRORS.recheck], ResultPath: null, Next: S.planCheck }]);
  });

  it('goes back to Advance after the failure gate: Advance reads from the table what :run or :skip left to run', () => {
    expect(states[S.failureGate]).toMatchObject({ ResultPath: null, Next: S.advance });
  });

  it('ends Canceled on a rejection and Done when no stage is left; nothing else ends it', () => {
    expect(states[S.approvalGate]!.Catch).toEqual([
      { ErrorEquals: [PIPELINE_ERRORS.rejected], ResultPath: '$.rejection', Next: S.canceled },
      // An edited statement while a stage waits for approval: the checks run again, approvals start over.
      { ErrorEquals: [PIPELINE_ERRORS.recheck], ResultPath: null, Next: S.planCheck },
    ]);
    const ends = Object.entries(asl.States).filter(([, st]) => st.Type === 'Succeed' || st.Type === 'Fail' || (st as State).End);
    expect(ends.map(([name, st]) => `${name}:${st.Type}`).sort()).toEqual([`${S.canceled}:Succeed`, `${S.done}:Succeed`]);
  });
});

describe('pipeline state machine resources', () => {
  it('logs errors to its own log group with retention, and traces', () => {
    const sm = p.template.findResources('AWS::StepFunctions::StateMachine')[p.stateMachineId]!.Properties;
    expect(sm.LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    const group = sm.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(group).toBe(p.id(p.pipeline.logGroup));
    p.template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Retain' });
    expect(p.template.toJSON().Resources[group].Properties.RetentionInDays).toBe(90);
    expect(sm.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('alarms on any failed execution of this state machine', () => {
    p.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: p.stateMachineId } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('its role is for Step Functions only and can invoke exactly the nine pipeline functions', () => {
    const roleId = p.id(p.pipeline.stateMachine.role as never);
    const role = p.template.toJSON().Resources[roleId];
    // Only this account's state machines may assume it (confused-deputy conditions).
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'states.amazonaws.com' },
        Condition: { ArnLike: { 'aws:SourceArn': expect.anything() }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = Object.values(p.template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } })).flatMap(
      (pol) => pol.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Effect: string }[],
    );
    const invoked = statements.filter((st) => list(st.Action).includes('lambda:InvokeFunction'));
    for (const st of invoked) expect(list(st.Action)).toEqual(['lambda:InvokeFunction']);
    // The Distributed Map starts, describes, stops and redrives this machine's own executions only (iam.test.ts checks the ARNs).
    const own = statements.filter((st) => list(st.Action).every((a) => a.startsWith('states:')));
    expect(own.flatMap((st) => list(st.Action)).sort()).toEqual(['states:DescribeExecution', 'states:RedriveExecution', 'states:StartExecution', 'states:StopExecution']);
    const arns = invoked.flatMap((st) => list(st.Resource)).map((r) => JSON.stringify(r));
    const expected = PIPELINE_FUNCTIONS.flatMap((f) => {
      const arn = { 'Fn::GetAtt': [p.fnIds[f], 'Arn'] };
      return [JSON.stringify(arn), JSON.stringify({ 'Fn::Join': ['', [arn, ':*']] })];
    });
    expect(arns.sort()).toEqual(expected.sort());
    // Everything else: log delivery and X-Ray, whose actions take no resource ARN.
    for (const st of statements.filter((s) => !invoked.includes(s) && !own.includes(s))) {
      expect(st.Effect).toBe('Allow');
      expect(st.Resource).toBe('*');
      for (const a of list(st.Action)) expect(a).toMatch(/^(logs:(Create|Get|Update|Delete|List)LogDeliver(y|ies)|logs:(PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)|xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets))$/);
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports nothing unacknowledged for the construct (and its test stand-in functions)', () => {
    expect(findings(p.stack)).toEqual([]);
  });

  it('still reports nothing with tracing turned off, which is acknowledged instead', () => {
    // Act
    const untraced = pipelineStack({ tracing: false });

    // Assess
    expect(findings(untraced.stack)).toEqual([]);
    untraced.template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: false } });
  });

  it('acknowledges exactly the reviewed findings, each with a substantial reason', () => {
    const acks: string[] = [];
    for (const c of p.pipeline.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
          expect(reason.length, id).toBeGreaterThan(80);
          acks.push(`${c.node.path} ${id.replace(/^annotation::/i, '')}`);
        }
      }
    }
    expect(acks.sort()).toEqual(
      [
        'PipelineTest/Pipeline/StateMachine AwsSolutions-SF1',
        'PipelineTest/Pipeline/StateMachine/Role AwsSolutions-IAM5[Resource::*]',
        ...PIPELINE_FUNCTIONS.map((f) => `PipelineTest/Pipeline/StateMachine/Role AwsSolutions-IAM5[Resource::<${p.fnIds[f]}.Arn>:*]`),
        ...[':*', '/RunStage:*', '/CheckTargets:*'].map(
          (suffix) =>
            `PipelineTest/Pipeline/StateMachine/DistributedMapPolicy AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${p.stateMachineId}"}]}]}${suffix}]`,
        ),
      ].sort(),
    );
  });
});
