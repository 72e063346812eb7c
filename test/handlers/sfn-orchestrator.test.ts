// The Step Functions adapter of the Orchestrator port, with the SDK mocked: one execution per
// issue however often it is started, idempotent stops, and a stale token as a 409, not a 500.
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { PIPELINE_ERRORS, pipelineExecutionName, TaskTokenGoneError } from '../../domain/pipeline/orchestrator.js';
import { createOrchestrator, SfnOrchestrator } from '../../functions/adapters/sfn/orchestrator.js';

const sfn = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:SluicePipeline';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:SluicePipeline:hr-12';
const meta = { $metadata: {} };
let orchestrator: SfnOrchestrator;

beforeEach(() => {
  sfn.reset();
  orchestrator = new SfnOrchestrator(new SFNClient({ region: 'eu-west-1' }), MACHINE);
});

describe('startExecution', () => {
  it('starts the issue pipeline under its name with the ids-only input', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });

    // Act
    const started = await orchestrator.startExecution(pipelineExecutionName('projects/hr/issues/12'), { issue: 'projects/hr/issues/12' });

    // Assess
    expect(started).toEqual({ executionId: EXECUTION, alreadyStarted: false });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: MACHINE,
      name: 'hr-12',
      input: '{"issue":"projects/hr/issues/12"}',
    });
  });

  it('treats ExecutionAlreadyExists as already started: a retried create does not fail or run twice', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', ...meta }));

    // Act
    const started = await orchestrator.startExecution('hr-12', { issue: 'projects/hr/issues/12' });

    // Assess
    expect(started).toEqual({ executionId: EXECUTION, alreadyStarted: true });
  });

  it('lets any other failure through, so the create that called it can undo its writes', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('throttled'));

    await expect(orchestrator.startExecution('hr-12', { issue: 'projects/hr/issues/12' })).rejects.toThrow('throttled');
  });
});

describe('stopExecution', () => {
  it('stops the execution of that name with a Sluice.Canceled error and the cause', async () => {
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });

    await orchestrator.stopExecution('hr-12', 'canceled by alice@example.com');

    expect(sfn.commandCalls(StopExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: EXECUTION, error: 'Sluice.Canceled', cause: 'canceled by alice@example.com' });
  });

  it('is a no-op for an execution that does not exist', async () => {
    sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', ...meta }));

    await expect(orchestrator.stopExecution('hr-12')).resolves.toBeUndefined();
  });
});

describe('describeExecution', () => {
  it('parses input and output, and maps PENDING_REDRIVE to RUNNING', async () => {
    // Prepare
    const startDate = new Date('2026-11-25T10:00:00Z');
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ executionArn: EXECUTION, stateMachineArn: MACHINE, name: 'hr-12', status: 'SUCCEEDED', startDate, stopDate: startDate, input: '{"issue":"projects/hr/issues/12"}', output: '{"plan":{"done":true}}' })
      .resolvesOnce({ executionArn: EXECUTION, stateMachineArn: MACHINE, name: 'hr-12', status: 'PENDING_REDRIVE', startDate, input: '{}' });

    // Act
    const done = await orchestrator.describeExecution('hr-12');
    const redriving = await orchestrator.describeExecution('hr-12');

    // Assess
    expect(done).toEqual({ name: 'hr-12', status: 'SUCCEEDED', input: { issue: 'projects/hr/issues/12' }, output: { plan: { done: true } }, startDate, stopDate: startDate });
    expect(redriving?.status).toBe('RUNNING');
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: EXECUTION });
  });

  it('answers undefined for an unknown execution', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'nope', ...meta }));

    expect(await orchestrator.describeExecution('hr-99')).toBeUndefined();
  });
});

describe('task tokens', () => {
  it('sends the gate output as JSON', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});

    await orchestrator.sendTaskSuccess('tok-1', { taskIds: ['3'] });

    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({ taskToken: 'tok-1', output: '{"taskIds":["3"]}' });
  });

  it('fails a gate with the error name its Catch matches, error and cause cut to the service limits', async () => {
    sfn.on(SendTaskFailureCommand).resolves({});

    await orchestrator.sendTaskFailure('tok-1', PIPELINE_ERRORS.rejected, 'x'.repeat(40_000));

    const input = sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input;
    expect(input.error).toBe('Sluice.Rejected');
    expect(input.cause).toHaveLength(32_768);
  });

  it.each([
    ['TaskDoesNotExist', new TaskDoesNotExist({ message: 'Task Does Not Exist', ...meta })],
    ['TaskTimedOut', new TaskTimedOut({ message: 'Task Timed Out', ...meta })],
    ['InvalidToken', new InvalidToken({ message: 'Invalid Token', ...meta })],
  ])('turns %s into TaskTokenGoneError (409 ABORTED): the gate was resolved elsewhere', async (_name, error) => {
    sfn.on(SendTaskSuccessCommand).rejects(error);
    sfn.on(SendTaskFailureCommand).rejects(error);

    const success = orchestrator.sendTaskSuccess('tok-1', {});
    const failure = orchestrator.sendTaskFailure('tok-1', PIPELINE_ERRORS.rejected);

    await expect(success).rejects.toBeInstanceOf(TaskTokenGoneError);
    await expect(failure).rejects.toMatchObject({ httpStatus: 409, status: 'ABORTED' });
  });

  it('lets other SDK errors through as they are', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new Error('socket hang up'));

    await expect(orchestrator.sendTaskSuccess('tok-1', {})).rejects.toThrow('socket hang up');
  });
});

describe('wiring', () => {
  it('needs STATE_MACHINE_ARN, and a state machine ARN in it', () => {
    expect(() => createOrchestrator({})).toThrow('STATE_MACHINE_ARN is not set');
    expect(() => createOrchestrator({ STATE_MACHINE_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:x' })).toThrow(/not a state machine ARN/);
    expect(createOrchestrator({ STATE_MACHINE_ARN: MACHINE }).executionArn('hr-12')).toBe(EXECUTION);
  });
});

describe('pipelineExecutionName', () => {
  it('is one valid execution name per issue', () => {
    expect(pipelineExecutionName('projects/hr/issues/12')).toBe('hr-12');
    // Project ids may hold dashes and digits; the number after the last dash keeps names distinct.
    const tricky = ['projects/ab-1/issues/2', 'projects/ab/issues/12', 'projects/ab-12/issues/1', 'projects/ab-1-2/issues/1', 'projects/ab1/issues/2'];
    expect(new Set(tricky.map(pipelineExecutionName)).size).toBe(tricky.length);
    const longest = pipelineExecutionName(`projects/${'p'.repeat(63)}/issues/9999999999`);
    expect(longest).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('refuses anything that is not an issue name', () => {
    expect(() => pipelineExecutionName('projects/hr/issues/0')).toThrow(/must be an issue name/);
    expect(() => pipelineExecutionName('projects/HR/issues/1')).toThrow(/must be an issue name/);
    expect(() => pipelineExecutionName('instances/x')).toThrow(/must be an issue name/);
  });
});
