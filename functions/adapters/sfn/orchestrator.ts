// The Orchestrator port on AWS Step Functions: one execution per issue, named after it, so a
// repeated start (a retried create, a redelivered event) never runs a second pipeline.
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
import { TaskTokenGoneError, type ExecutionDescription, type ExecutionStatus, type Json, type Orchestrator, type PipelineInput, type StartedExecution } from '../../../domain/pipeline/orchestrator.js';

/** Step Functions' limits on SendTaskFailure and StopExecution fields. */
const MAX_ERROR = 256;
const MAX_CAUSE = 32_768;

const parse = (s: string | undefined): Json | undefined => (s === undefined ? undefined : (JSON.parse(s) as Json));

export class SfnOrchestrator implements Orchestrator {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {
    if (!/^arn:[^:]+:states:[^:]+:\d{12}:stateMachine:[^:]+$/.test(stateMachineArn)) {
      throw new Error(`not a state machine ARN: ${stateMachineArn}`);
    }
  }

  /** An execution's ARN follows from its state machine's and its name: no lookup needed. */
  executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async startExecution(name: string, input: PipelineInput): Promise<StartedExecution> {
    try {
      const out = await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
      return { executionId: out.executionArn ?? this.executionArn(name), alreadyStarted: false };
    } catch (err) {
      // Same name, another input, or a closed execution (names stay taken for 90 days): this
      // issue's pipeline exists already, which is what the caller wanted.
      if (err instanceof ExecutionAlreadyExists) return { executionId: this.executionArn(name), alreadyStarted: true };
      throw err;
    }
  }

  async stopExecution(name: string, cause?: string): Promise<void> {
    try {
      await this.client.send(
        new StopExecutionCommand({ executionArn: this.executionArn(name), error: 'Sluice.Canceled', ...(cause !== undefined ? { cause: cause.slice(0, MAX_CAUSE) } : {}) }),
      );
    } catch (err) {
      if (err instanceof ExecutionDoesNotExist) return;
      throw err;
    }
  }

  async describeExecution(name: string): Promise<ExecutionDescription | undefined> {
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn: this.executionArn(name) }));
      const output = parse(out.output);
      return {
        name: out.name ?? name,
        // PENDING_REDRIVE: a failed execution someone is redriving; still not finished.
        status: (out.status === 'PENDING_REDRIVE' ? 'RUNNING' : out.status) as ExecutionStatus,
        input: parse(out.input) ?? null,
        ...(output !== undefined ? { output } : {}),
        ...(out.error !== undefined ? { error: out.error } : {}),
        ...(out.cause !== undefined ? { cause: out.cause } : {}),
        startDate: out.startDate!,
        ...(out.stopDate ? { stopDate: out.stopDate } : {}),
      };
    } catch (err) {
      if (err instanceof ExecutionDoesNotExist) return undefined;
      throw err;
    }
  }

  async sendTaskSuccess(token: string, output: Json): Promise<void> {
    await tokenCall(this.client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) })));
  }

  async sendTaskFailure(token: string, error: string, cause?: string): Promise<void> {
    await tokenCall(
      this.client.send(
        new SendTaskFailureCommand({ taskToken: token, error: error.slice(0, MAX_ERROR), ...(cause !== undefined ? { cause: cause.slice(0, MAX_CAUSE) } : {}) }),
      ),
    );
  }
}

/** A token that is used, expired, or of an ended execution: the gate was resolved elsewhere. */
async function tokenCall(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (err instanceof TaskDoesNotExist || err instanceof TaskTimedOut || err instanceof InvalidToken) throw new TaskTokenGoneError();
    throw err;
  }
}

/** Module-scope wiring for a Lambda: STATE_MACHINE_ARN names the pipeline state machine. */
export function createOrchestrator(env: NodeJS.ProcessEnv = process.env): SfnOrchestrator {
  const arn = env.STATE_MACHINE_ARN;
  if (!arn) throw new Error('STATE_MACHINE_ARN is not set');
  return new SfnOrchestrator(new SFNClient({}), arn);
}
