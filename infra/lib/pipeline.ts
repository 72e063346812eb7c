// The pipeline state machine: one Standard execution per issue, stage by stage, defined once here
// and run as synthesized both on AWS and locally (infra/local/stepfunctions.ts). JSONPath only (the
// local runner ignores JSONata and Assign). Payloads carry ids only; the Lambdas' contract is in
// domain/pipeline/orchestrator.ts.
//
//   PlanCheck ─▶ CheckTargets: Distributed Map over batches of task ids (CheckBatch: EXPLAIN and
//     ▲            the target's rules per task) ─▶ ChecksResult ─▶ ChecksBlocked? ─yes─▶ ChecksGate
//     │                                                  │no          (.waitForTaskToken; resumed
//     └── Sluice.Recheck (an edited statement) ──────────┼──────────── by :overrideChecks)
//                                                        ▼                 │
//   Advance ◀────────────────────────────────────────────┴─────────────────┘
//   Advance ─▶ Done? ─yes─▶ Done (Succeed)
//     ▲          │no
//     │          ▼
//     │   NeedsApproval? ─yes─▶ ApprovalGate (.waitForTaskToken) ──Sluice.Rejected──▶ Canceled (Succeed)
//     │          │no                  │
//     │          ▼                    ▼
//     │      Scheduled? ◀─────────────┘
//     │       │yes   │no
//     │       ▼      │
//     │  WaitForRunTime
//     │       │      │
//     │       ▼      ▼
//     │      RunStage: Distributed Map over batches of task ids, maxParallelTasks at a time;
//     │          │      each batch a child execution:
//     │          │        RunTask ({issue, taskIds}: the runner claims, runs and records the batch's
//     │          │          │      tasks together, one after another; answers {rest}, usually [])
//     │          │          ├─ crash (States.ALL) ─▶ BatchErrored (rest = every task id) ─┐
//     │          │          ▼                                                            │
//     │          │        RunBatch (inline Map over rest, one task at a time) ◀──────────┘
//     │          │          └─ RunTaskAlone ({issue, task}, retried with backoff while it waits
//     │          │             for a lower version of its database; a crash is caught as
//     │          │             TaskErrored), then BatchDone
//     │          ▼
//     │     StageResult ─▶ StageFailed? ─yes─▶ FailureGate (.waitForTaskToken) ─▶ back to Advance
//     └────────────────────────│no
//
// Scale: the execution's own history grows by a constant per stage, whatever the task count: the
// tasks' events are in the child executions (≤ 25 tasks each: 18 events for a batch run by RunTask,
// ~200 when every task goes the per-task way). The state holds the
// stage's task ids once (10,000 ids ≈ 80 KB, within the 256 KiB payload limit), never statements.
// Locally the Distributed Map runs as an inline Map with the same concurrency
// (infra/local/stepfunctions.ts), and its history is modelled on AWS's rules.
import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  IntegrationPattern,
  JitterType,
  JsonPath,
  LogLevel,
  Map as MapState,
  Pass,
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
  type RetryProps,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { PIPELINE_ERRORS } from '../../domain/pipeline/orchestrator.js';
import { VERSION_WAIT } from '../../domain/pipeline/versions.js';

/** State names: tests, the local runner's event log and the docs refer to them. */
export const PIPELINE_STATES = {
  advance: 'Advance',
  done: 'Done',
  isDone: 'Done?',
  needsApproval: 'NeedsApproval?',
  approvalGate: 'ApprovalGate',
  canceled: 'Canceled',
  scheduled: 'Scheduled?',
  waitForRunTime: 'WaitForRunTime',
  runStage: 'RunStage',
  runBatch: 'RunBatch',
  /** The batch's invoke of the runner (`{issue, taskIds}` → `{rest}`). */
  runTask: 'RunTask',
  /** A crash of that invoke: every task of the batch goes the per-task way. */
  batchErrored: 'BatchErrored',
  /** One task's invoke (`{issue, task}`), for the tasks the batch left in `rest`. */
  runTaskAlone: 'RunTaskAlone',
  taskErrored: 'TaskErrored',
  batchDone: 'BatchDone',
  stageResult: 'StageResult',
  stageFailed: 'StageFailed?',
  failureGate: 'FailureGate',
  planCheck: 'PlanCheck',
  checkTargets: 'CheckTargets',
  checkBatch: 'CheckBatch',
  checkBatchDone: 'CheckBatchDone',
  checkErrored: 'CheckErrored',
  checksResult: 'ChecksResult',
  checksBlocked: 'ChecksBlocked?',
  checksGate: 'ChecksGate',
} as const;

export const PIPELINE_DEFAULTS = {
  /** How long a stage waits for an approver before the execution fails (States.Timeout). */
  approvalTimeout: Duration.days(7),
  /** How long a failed stage waits for `:run` or `:skip`. */
  failureTimeout: Duration.days(7),
  /** TimeoutSeconds of the plain invokes (advance, runTask, stageResult). */
  invokeTimeout: Duration.minutes(15),
} as const;

/**
 * Errors of the Lambda service itself (throttling, a transient service fault), not of our code:
 * retried with exponential backoff and full jitter. Our handlers' own errors are not retried here.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];
const SERVICE_RETRY: RetryProps = {
  errors: LAMBDA_SERVICE_ERRORS,
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 6,
  maxDelay: Duration.seconds(30),
  jitterStrategy: JitterType.FULL,
};

export interface PipelineStateMachineProps {
  /** Plans the next stage: `{issue}` → AdvanceOutput. */
  readonly advance: IFunction;
  /** Stores the approval token on the stage (GateInput); resumed by `:approve`, failed by `:reject`. */
  readonly approvalGate: IFunction;
  /** Runs a batch (`{issue, taskIds}` → RunBatchOutput) or one task (RunTaskInput → RunTaskOutput); idempotent, delivered at least once. */
  readonly runTask: IFunction;
  /** Whether the stage's tasks all ended DONE/SKIPPED (StageResultInput → StageResultOutput). */
  readonly stageResult: IFunction;
  /** Stores the failure token on the stage (GateInput); resumed by `:run`/`:skip` with FailureGateOutput. */
  readonly failureGate: IFunction;
  /** Statement-only checks per engine and environment, then the batches of task ids (`{issue}` → PlanCheckOutput). */
  readonly planCheck: IFunction;
  /** The target checks of one batch of tasks (CheckBatchInput). */
  readonly checkBatch: IFunction;
  /** The issue's plan-check summary; blocks the stages on an ERROR (`{issue}` → ChecksResultOutput). */
  readonly checksResult: IFunction;
  /** Stores the checks gate's token on the issue (`{issue, token}`); resumed by `:overrideChecks`, failed with Sluice.Recheck by an edited statement. */
  readonly checksGate: IFunction;
  readonly logRetention: RetentionDays;
  /** Default PIPELINE_DEFAULTS.approvalTimeout. At most 24 days if it must also run locally. */
  readonly approvalTimeout?: Duration;
  /** Default PIPELINE_DEFAULTS.failureTimeout. */
  readonly failureTimeout?: Duration;
  /** X-Ray tracing of executions; default true. */
  readonly tracing?: boolean;
}

export class PipelineStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  /** Any execution ending FAILED: an uncaught error, a gate's States.Timeout included (never a rejection or a cancel). No action attached. */
  readonly failedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: PipelineStateMachineProps) {
    super(scope, id);
    const S = PIPELINE_STATES;

    /** A plain invoke: the function ARN as Resource, its return value as the result, here and locally. */
    const invoke = (name: string, fn: IFunction, payload: Record<string, unknown>, resultPath: string) => {
      const task = LambdaInvoke.jsonPath(this, name, {
        stateName: name,
        lambdaFunction: fn,
        payload: TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        // Lambda's own maximum: the function's timeout ends a hung run first on AWS, while locally a
        // Task without TimeoutSeconds would give up after 60 s (too soon for a long ALTER TABLE).
        taskTimeout: Timeout.duration(PIPELINE_DEFAULTS.invokeTimeout),
        retryOnServiceExceptions: false,
        resultPath,
      });
      return task.addRetry(SERVICE_RETRY);
    };
    /** A gate: the Lambda stores the token; the execution waits until someone sends it back. */
    // `perStage: false` for the checks gate, which waits before any stage is planned.
    const gate = (name: string, fn: IFunction, timeout: Duration, resultPath: string, perStage = true) =>
      LambdaInvoke.jsonPath(this, name, {
        stateName: name,
        lambdaFunction: fn,
        integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: TaskInput.fromObject({
          issue: JsonPath.stringAt('$.issue'),
          ...(perStage ? { stage: JsonPath.stringAt('$.plan.stage.id') } : {}),
          token: JsonPath.taskToken,
        }),
        // Always set: a local Task otherwise times out after 60 s, and on AWS a gate must not wait a year.
        taskTimeout: Timeout.duration(timeout),
        retryOnServiceExceptions: false,
        resultPath,
      }).addRetry(SERVICE_RETRY);

    const advance = invoke(S.advance, props.advance, { issue: JsonPath.stringAt('$.issue') }, '$.plan');
    const done = new Succeed(this, S.done, { stateName: S.done });
    const canceled = new Succeed(this, S.canceled, { stateName: S.canceled, comment: 'The stage was rejected' });

    // Plan checks, before the first stage: statement-only checks once per engine and environment
    // (PlanCheck), the target checks in batches of a Distributed Map like RunStage's, then the summary.
    const planCheck = invoke(S.planCheck, props.planCheck, { issue: JsonPath.stringAt('$.issue') }, '$.checks');
    const checkBatch = invoke(S.checkBatch, props.checkBatch, { issue: JsonPath.stringAt('$.issue'), taskIds: JsonPath.listAt('$.taskIds') }, JsonPath.DISCARD);
    // A target that cannot be read is a WARNING inside the function; a crash ends this batch only, and
    // ChecksResult counts its tasks (no result for this statement) as an ERROR: never let through unchecked.
    checkBatch.addCatch(new Pass(this, S.checkErrored, { stateName: S.checkErrored, result: Result.fromObject({}) }), { errors: ['States.ALL'], resultPath: JsonPath.DISCARD });
    const checkTargets = DistributedMap.jsonPath(this, S.checkTargets, {
      stateName: S.checkTargets,
      label: S.checkTargets,
      itemsPath: '$.checks.batches',
      maxConcurrencyPath: '$.checks.maxConcurrency',
      itemSelector: { issue: JsonPath.stringAt('$.issue'), taskIds: JsonPath.listAt('$$.Map.Item.Value') },
      mapExecutionType: StateMachineType.STANDARD,
      resultPath: JsonPath.DISCARD,
    });
    checkTargets.itemProcessor(checkBatch.next(new Pass(this, S.checkBatchDone, { stateName: S.checkBatchDone, result: Result.fromObject({}) })));
    const checksResult = invoke(S.checksResult, props.checksResult, { issue: JsonPath.stringAt('$.issue') }, '$.checkResult');
    const checksGate = gate(S.checksGate, props.checksGate, props.approvalTimeout ?? PIPELINE_DEFAULTS.approvalTimeout, JsonPath.DISCARD, false);
    // An edited statement fails the gate it waits at with Sluice.Recheck: the checks run again.
    checksGate.addCatch(planCheck, { errors: [PIPELINE_ERRORS.recheck], resultPath: JsonPath.DISCARD });

    const approvalGate = gate(S.approvalGate, props.approvalGate, props.approvalTimeout ?? PIPELINE_DEFAULTS.approvalTimeout, JsonPath.DISCARD);
    approvalGate.addCatch(canceled, { errors: [PIPELINE_ERRORS.rejected], resultPath: '$.rejection' });
    approvalGate.addCatch(planCheck, { errors: [PIPELINE_ERRORS.recheck], resultPath: JsonPath.DISCARD });

    const waitForRunTime = new Wait(this, S.waitForRunTime, { stateName: S.waitForRunTime, time: WaitTime.timestampPath('$.plan.stage.runTime') });

    // One batch: the runner claims, runs and records its tasks together (functions/workflow/run-task.ts
    // runBatch), one after another, so RunStage's concurrency is the task concurrency. It answers the
    // tasks it left to the per-task path (`rest`: a versioned issue's, which may have to wait for a
    // lower version with the retrier below; those its time budget did not reach).
    const runTasks = invoke(S.runTask, props.runTask, { issue: JsonPath.stringAt('$.issue'), taskIds: JsonPath.listAt('$.taskIds') }, '$.batch');
    // A crash of the batch invoke (after the service retries): every task goes the per-task way.
    // Settled tasks answer at once; those the dead batch holds answer RUNNING (a held task), so the
    // stage waits at its failure gate as after a single task's crash; the others run.
    const batchErrored = new Pass(this, S.batchErrored, { stateName: S.batchErrored, parameters: { rest: JsonPath.listAt('$.taskIds') }, resultPath: '$.batch' });
    runTasks.addCatch(batchErrored, { errors: ['States.ALL'], resultPath: JsonPath.DISCARD });

    const runTask = invoke(S.runTaskAlone, props.runTask, { issue: JsonPath.stringAt('$.issue'), task: JsonPath.stringAt('$.task') }, '$');
    // A versioned change whose database has a lower version still to apply (domain/pipeline/
    // versions.ts): the runner claimed nothing, marked the task PENDING and threw; ask again with
    // bounded backoff. Past its limit the runner fails the task itself, before the attempts run out.
    runTask.addRetry({
      errors: [PIPELINE_ERRORS.versionWaiting],
      interval: Duration.seconds(VERSION_WAIT.intervalSeconds),
      backoffRate: VERSION_WAIT.backoffRate,
      maxDelay: Duration.seconds(VERSION_WAIT.maxDelaySeconds),
      maxAttempts: VERSION_WAIT.maxAttempts,
      jitterStrategy: JitterType.NONE,
    });
    // A crash of the runner (after retries) must not abort the other tasks of the stage: the
    // iteration ends, the task is left unfinished, and StageResult counts it as FAILED.
    runTask.addCatch(new Pass(this, S.taskErrored, { stateName: S.taskErrored, result: Result.fromObject({ status: 'ERRORED' }) }), {
      errors: ['States.ALL'],
      resultPath: JsonPath.DISCARD,
    });
    // The tasks the batch left: one at a time, as before the batch runner.
    const runBatch = MapState.jsonPath(this, S.runBatch, {
      stateName: S.runBatch,
      itemsPath: '$.batch.rest',
      maxConcurrency: 1,
      itemSelector: { issue: JsonPath.stringAt('$.issue'), task: JsonPath.stringAt('$$.Map.Item.Value') },
      resultPath: JsonPath.DISCARD,
    });
    runBatch.itemProcessor(runTask);
    runTasks.next(runBatch);
    batchErrored.next(runBatch);
    // The child's output is gathered by the Map Run: keep it empty.
    const batchDone = new Pass(this, S.batchDone, { stateName: S.batchDone, result: Result.fromObject({}) });
    const runStage = DistributedMap.jsonPath(this, S.runStage, {
      stateName: S.runStage,
      label: S.runStage,
      itemsPath: '$.plan.batches',
      maxConcurrencyPath: '$.plan.stage.maxConcurrency',
      itemSelector: { issue: JsonPath.stringAt('$.issue'), taskIds: JsonPath.listAt('$$.Map.Item.Value') },
      // Standard children: a task may run up to 15 minutes (an Express child stops at 5).
      mapExecutionType: StateMachineType.STANDARD,
      // A failed child (it cannot fail short of a Step Functions fault: RunTask's crashes are
      // caught) must not stop the other batches; StageResult reads the outcome from the table.
      toleratedFailurePercentage: 100,
      resultPath: JsonPath.DISCARD,
    });
    runBatch.next(batchDone);
    runStage.itemProcessor(runTasks);

    const stageResult = invoke(S.stageResult, props.stageResult, { issue: JsonPath.stringAt('$.issue'), stage: JsonPath.stringAt('$.plan.stage.id') }, '$.result');
    // `:run` resets its task to NOT_STARTED, `:skip` marks it SKIPPED; Advance reads what is left.
    const failureGate = gate(S.failureGate, props.failureGate, props.failureTimeout ?? PIPELINE_DEFAULTS.failureTimeout, JsonPath.DISCARD);

    const scheduled = Choice.jsonPath(this, S.scheduled, { stateName: S.scheduled })
      .when(Condition.isPresent('$.plan.stage.runTime'), waitForRunTime.next(runStage))
      .otherwise(runStage);
    approvalGate.next(scheduled);
    const needsApproval = Choice.jsonPath(this, S.needsApproval, { stateName: S.needsApproval })
      .when(Condition.booleanEquals('$.plan.stage.requireApproval', true), approvalGate)
      .otherwise(scheduled);
    runStage.next(stageResult).next(
      Choice.jsonPath(this, S.stageFailed, { stateName: S.stageFailed })
        .when(Condition.stringEquals('$.result.status', 'FAILED'), failureGate.next(advance))
        .otherwise(advance),
    );
    advance.next(Choice.jsonPath(this, S.isDone, { stateName: S.isDone }).when(Condition.booleanEquals('$.plan.done', true), done).otherwise(needsApproval));
    checksGate.next(advance);
    const definition = planCheck.next(checkTargets).next(checksResult).next(
      Choice.jsonPath(this, S.checksBlocked, { stateName: S.checksBlocked }).when(Condition.booleanEquals('$.checkResult.blocked', true), checksGate).otherwise(advance),
    );

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention });
    const tracing = props.tracing ?? true;
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'Sluice issue pipeline: stage by stage, approval and schedule gates, a Map over the tasks',
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      // ERROR: failures reach CloudWatch with their cause; the full story is the execution history.
      logs: { destination: this.logGroup, level: LogLevel.ERROR, includeExecutionData: false },
      tracingEnabled: tracing,
    });

    this.failedAlarm = new Alarm(this, 'ExecutionsFailed', {
      alarmDescription: 'A Sluice pipeline execution failed: an uncaught error, or a gate that waited longer than its timeout',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.acknowledge(props, tracing);
  }

  /** The findings this construct accepts, each named exactly (cdk-nag 3 Validations). */
  private acknowledge(props: PipelineStateMachineProps, tracing: boolean): void {
    const role = this.stateMachine.role;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by CDK for execution logging and X-Ray: logs:CreateLogDelivery/GetLogDelivery/UpdateLogDelivery/DeleteLogDelivery/ListLogDeliveries/PutResourcePolicy/DescribeResourcePolicies/DescribeLogGroups and xray:PutTraceSegments/PutTelemetryRecords/GetSamplingRules/GetSamplingTargets support no resource-level permissions, so * is the only possible resource.',
    });
    const stack = Stack.of(this);
    const fns = [props.advance, props.approvalGate, props.runTask, props.stageResult, props.failureGate, props.planCheck, props.checkBatch, props.checksResult, props.checksGate];
    for (const fn of new Set(fns)) {
      const cfn = fn.node.defaultChild;
      if (!cfn) continue;
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(cfn as CfnElement)}.Arn>:*]`,
        reason:
          "Added by CDK's LambdaInvoke task: lambda:InvokeFunction on this one pipeline function and its versions/aliases (<arn>:*). The role can invoke exactly the nine pipeline functions, nothing else.",
      });
    }
    // The Distributed Map's policy (added by CDK): start, describe, stop and redrive this machine's
    // own child executions, whose names Step Functions generates, so only a name wildcard fits.
    const machineId = stack.getLogicalId(this.stateMachine.node.defaultChild as CfnElement);
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machineId}"}]}]}`;
    const childPolicy = this.stateMachine.node.findChild('DistributedMapPolicy');
    for (const suffix of [':*', `/${PIPELINE_STATES.runStage}:*`, `/${PIPELINE_STATES.checkTargets}:*`]) {
      Validations.of(childPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${executions}${suffix}]`,
        reason:
          "Added by CDK's DistributedMap: states:DescribeExecution/StopExecution/RedriveExecution on the executions of this one state machine (its RunStage child executions, named by Step Functions). Nothing outside this state machine's executions is reachable.",
      });
    }
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason:
        "Logging level ERROR, not ALL, on purpose: ALL would write ~7 log events per task to CloudWatch Logs, duplicating the execution history Step Functions keeps for 90 days anyway. Failures (with error and cause) are logged, and the ExecutionsFailed alarm watches them.",
    });
    if (!tracing) {
      Validations.of(this.stateMachine).acknowledge({
        id: 'AwsSolutions-SF2',
        reason:
          'X-Ray tracing was turned off by the deployer (tracing: false); execution history, ERROR logs and the ExecutionsFailed alarm still cover every execution.',
      });
    }
  }
}
