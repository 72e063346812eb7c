// The orchestration port: how the domain starts, stops and resumes an issue's pipeline
// execution. Step Functions implements it in the cloud (functions/adapters/sfn/orchestrator.ts),
// aws-local-stepfunctions on one machine (infra/local/stepfunctions.ts). Also the contract of the
// pipeline state machine (infra/lib/pipeline.ts): what each Lambda it invokes receives and returns.
// Every payload carries ids only, never statements or anything that grows with the target count.
import { AbortedError, fieldError } from '../common/errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Execution input: the issue, by name (`projects/{p}/issues/{n}`). */
export type PipelineInput = { issue: string };

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionDescription {
  name: string;
  status: ExecutionStatus;
  input: Json;
  /** The final output, once SUCCEEDED. */
  output?: Json;
  /** Error name and cause, once FAILED (or TIMED_OUT). */
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
}

export interface StartedExecution {
  /** The execution's id (an ARN in the cloud). */
  executionId: string;
  /** True when an execution of that name existed already: starting twice is not an error. */
  alreadyStarted: boolean;
}

export interface Orchestrator {
  /** Starts the pipeline; idempotent by name (see `pipelineExecutionName`). */
  startExecution(name: string, input: PipelineInput): Promise<StartedExecution>;
  /** Ends the execution at once (cancel). Stopping a finished or unknown execution is a no-op. */
  stopExecution(name: string, cause?: string): Promise<void>;
  describeExecution(name: string): Promise<ExecutionDescription | undefined>;
  /** Resumes a `.waitForTaskToken` gate; TaskTokenGoneError when the token is no longer waited on. */
  sendTaskSuccess(token: string, output: Json): Promise<void>;
  /** Fails a gate with an error name its Catch matches (e.g. PIPELINE_ERRORS.rejected). */
  sendTaskFailure(token: string, error: string, cause?: string): Promise<void>;
}

/** The token was used already, timed out, or its execution ended: someone else resolved the gate. */
export class TaskTokenGoneError extends AbortedError {
  override readonly name: string = 'TaskTokenGoneError';
  constructor() {
    super('the pipeline is no longer waiting on this gate; read the issue again');
  }
}

/** Error names the state machine's Catch clauses match. */
export const PIPELINE_ERRORS = {
  /**
   * sendTaskFailure on the approval gate's token ends the pipeline Canceled. Nothing sends it since
   * multi-step approval: `:reject` leaves the execution parked at the gate (domain/pipeline/approvals.ts).
   */
  rejected: 'Sluice.Rejected',
  /**
   * Thrown by runTask for a versioned change whose database has a lower version still to apply
   * (versions.ts): nothing was claimed, and RunTask's retrier for it asks again with backoff.
   */
  versionWaiting: 'Sluice.VersionWaiting',
  /** sendTaskFailure on the checks or approval gate's token after the statement was edited: the plan checks run again. */
  recheck: 'Sluice.Recheck',
} as const;

/** The error runTask throws to be asked again later (PIPELINE_ERRORS.versionWaiting); its message says what it waits for. */
export class VersionWaitingError extends Error {
  override readonly name: string = PIPELINE_ERRORS.versionWaiting;
}

const ISSUE_NAME = /^projects\/([a-z][a-z0-9-]{1,62})\/issues\/([1-9][0-9]{0,9})$/;

/**
 * The execution name of an issue's pipeline: `{project}-{number}` (at most 74 characters of
 * [a-z0-9-], within Step Functions' 80). One name per issue, so a repeated start cannot run a
 * second pipeline. The number has no `-`, so the mapping is one-to-one.
 */
export function pipelineExecutionName(issue: string): string {
  const m = ISSUE_NAME.exec(issue);
  if (!m) throw fieldError('issue', 'must be an issue name like projects/hr/issues/12');
  return `${m[1]}-${m[2]}`;
}

// The contract of the pipeline state machine's Lambdas (infra/lib/pipeline.ts). Ids only.

/** One stage as `advance` plans it. */
export type StagePlan = {
  /** The stage id within the issue (e.g. its environment id). */
  id: string;
  requireApproval: boolean;
  /** RFC 3339 (e.g. `2026-12-01T02:00:00Z`); omitted, never null, when the stage runs at once. */
  runTime?: string;
  /**
   * Batches that run at once: the project's maxParallelTasks. Each batch runs its tasks one after
   * another, so this is also the number of tasks of the issue running at once.
   */
  maxConcurrency: number;
};

/** At most this many tasks per batch: one child execution's history stays ~200 events. */
export const MAX_BATCH_SIZE = 25;

/**
 * Splits a stage's task ids into batches for `parallel` batches at a time: as many batches as
 * `parallel` allows while there are fewer tasks than that, else batches of
 * floor(tasks / parallel), at most MAX_BATCH_SIZE, so every slot has work and no child execution
 * grows large. Order is kept.
 */
export function batchTaskIds(taskIds: readonly string[], parallel: number): string[][] {
  const size = Math.min(MAX_BATCH_SIZE, Math.max(1, Math.floor(taskIds.length / Math.max(1, parallel))));
  const out: string[][] = [];
  for (let i = 0; i < taskIds.length; i += size) out.push(taskIds.slice(i, i + size));
  return out;
}

/** `advance` input: `{issue}`. Output: the next stage that still has work, or done. */
export type AdvanceOutput =
  | { done: true }
  | {
      done: false;
      stage: StagePlan;
      /** The stage's unfinished task ids (short ids, unique within the issue), in batches (batchTaskIds). */
      batches: string[][];
    };

/** One item of the stage's Distributed Map: a batch of task ids, run one after another. */
export type BatchInput = { issue: string; taskIds: string[] };

/** Input of the approval and failure gates: they store `token` on the stage and return. */
export type GateInput = { issue: string; stage: string; token: string };

/** `runTask` input: one task, by id. */
export type RunTaskInput = { issue: string; task: string };

/** `runTask` output: kept tiny, since the Map gathers one per task. RUNNING: another copy holds the task. */
export type RunTaskOutput = { status: 'DONE' | 'FAILED' | 'SKIPPED' | 'CANCELED' | 'RUNNING' };

/**
 * `runTask` given a whole batch (the RunStage child's first state): it claims, runs and records the
 * batch's tasks together. `rest`: the tasks it left to the per-task path (RunBatch's inline Map of
 * RunTaskAlone): a versioned issue's tasks (they may wait for a lower version, with the retrier),
 * tasks it did not find, and those its time budget did not reach. Usually empty.
 */
export type RunBatchOutput = { rest: string[] };

/** `stageResult` input: `{issue, stage}`. */
export type StageResultInput = { issue: string; stage: string };

/**
 * DONE when every task of the stage is DONE or SKIPPED; FAILED otherwise (a task still RUNNING or
 * NOT_STARTED after the Map, e.g. after a runner crash, counts as FAILED so the pipeline waits).
 */
export type StageResultOutput = { status: 'DONE' | 'FAILED' };

/**
 * What `:run` / `:skip` send to the failure gate's token: the task run again (none for a skip).
 * The machine goes back to Advance, which reads what is left to run from the table.
 */
export type FailureGateOutput = { taskIds: string[] };
