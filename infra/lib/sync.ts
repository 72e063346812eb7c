// The instance sync state machine: one Standard execution per :sync operation, named after it.
// Each SyncStep invocation reads schemas until its time budget is spent and says whether the
// operation is done; the loop goes on until it is. No Lambda races its deadline however many
// databases the server has, and the progress lives in the operation item (domain/schema/sync.ts).
//
//   SyncStep ─▶ SyncDone? ─yes─▶ Synced (Succeed)
//     ▲  │ error     │no
//     │  ▼           │
//     │ SyncFailed ─▶ SyncAborted (Fail)
//     └──────────────┘
import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Choice, Condition, DefinitionBody, Fail, JitterType, JsonPath, LogLevel, StateMachine, StateMachineType, Succeed, TaskInput, Timeout } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { LAMBDA_SERVICE_ERRORS } from './pipeline.js';

export const SYNC_STATES = { step: 'SyncStep', isDone: 'SyncDone?', done: 'Synced', failed: 'SyncFailed', aborted: 'SyncAborted' } as const;

export interface SyncStateMachineProps {
  /** functions/workflow/sync-instance.ts: `{operation}` → `{operation, done}`; `{operation, error}` marks it failed. */
  readonly syncStep: IFunction;
  readonly logRetention: RetentionDays;
}

export class SyncStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly failedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: SyncStateMachineProps) {
    super(scope, id);
    const invoke = (name: string, payload: Record<string, unknown>) =>
      LambdaInvoke.jsonPath(this, name, {
        stateName: name,
        lambdaFunction: props.syncStep,
        payload: TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        taskTimeout: Timeout.duration(Duration.minutes(15)),
        retryOnServiceExceptions: false,
      }).addRetry({ errors: LAMBDA_SERVICE_ERRORS, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 6, maxDelay: Duration.seconds(30), jitterStrategy: JitterType.FULL });
    const step = invoke(SYNC_STATES.step, { operation: JsonPath.stringAt('$.operation') });
    // A crash the step cannot recover from (a store error, the server gone) ends the operation with the error.
    const failed = invoke(SYNC_STATES.failed, { operation: JsonPath.stringAt('$.operation'), error: JsonPath.objectAt('$.error') });
    step.addCatch(failed.next(new Fail(this, SYNC_STATES.aborted, { stateName: SYNC_STATES.aborted, error: 'Sluice.SyncFailed' })), { errors: ['States.ALL'], resultPath: '$.error' });
    const definition = step.next(
      Choice.jsonPath(this, SYNC_STATES.isDone, { stateName: SYNC_STATES.isDone })
        .when(Condition.booleanEquals('$.done', true), new Succeed(this, SYNC_STATES.done, { stateName: SYNC_STATES.done }))
        .otherwise(step),
    );
    const logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'Sluice instance sync: read every database schema, a time-boxed step at a time',
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      logs: { destination: logGroup, level: LogLevel.ERROR, includeExecutionData: false },
      tracingEnabled: true,
    });
    this.failedAlarm = new Alarm(this, 'ExecutionsFailed', {
      alarmDescription: 'A Sluice instance sync failed: its operation carries the error',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const role = this.stateMachine.role;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by CDK for execution logging and X-Ray: the log delivery and X-Ray actions support no resource-level permissions, so * is the only possible resource.',
    });
    const cfn = props.syncStep.node.defaultChild;
    if (cfn) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(cfn as CfnElement)}.Arn>:*]`,
        reason: "Added by CDK's LambdaInvoke task: lambda:InvokeFunction on the one sync function and its versions/aliases (<arn>:*).",
      });
    }
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason: 'Logging level ERROR, not ALL: the execution history holds every step; failures are logged with their cause and the ExecutionsFailed alarm watches them.',
    });
  }
}
