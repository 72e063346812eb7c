// The deployed pipeline on the local Step Functions, with the real workflow handlers except the
// task runner, which a test builds itself (taskRunner with crash hooks, an executor with hooks),
// installed as the API's orchestrator. Nothing in the code under test is edited.
import type { RunTaskInput, RunTaskOutput } from '../../../domain/pipeline/orchestrator.js';
import { DynamoTaskRunStore } from '../../../functions/adapters/dynamo/task-runs.js';
import type { SqlChangeExecutor } from '../../../functions/adapters/sql/execute.js';
import { setOrchestrator } from '../../../functions/shared/orchestrator.js';
import { taskRunner, type RunTaskHooks } from '../../../functions/workflow/run-task.js';
import { synthesizePipeline, workflowHandlers } from '../../../infra/local/pipeline.js';
import { LocalStepFunctions } from '../../../infra/local/stepfunctions.js';

export interface RunnerOptions {
  executor: SqlChangeExecutor;
  statementTimeoutMs: number;
  hooks?: RunTaskHooks;
}

/** The task runner as the Lambda wires it, with the test's executor and hooks (a test may deliver to it directly, as a duplicate delivery would). */
export async function runnerWith(o: RunnerOptions): Promise<(input: RunTaskInput) => Promise<RunTaskOutput>> {
  const [{ store, deps }, { secrets }] = await Promise.all([import('../../../functions/shared/wiring.js'), import('../../../functions/shared/wiring-sql.js')]);
  return taskRunner({
    store: new DynamoTaskRunStore(store), instances: deps.instances, databases: deps.databases, secrets,
    executor: o.executor, now: () => new Date(), statementTimeoutMs: o.statementTimeoutMs, ...(o.hooks ? { hooks: o.hooks } : {}),
  });
}

export async function pipelineWithRunner(o: RunnerOptions, runner?: (input: RunTaskInput) => Promise<RunTaskOutput>): Promise<LocalStepFunctions> {
  const synthesized = synthesizePipeline();
  const run = runner ?? (await runnerWith(o));
  const runTaskId = Object.entries(synthesized.functions).find(([, name]) => name === 'runTask')![0];
  const pipeline = new LocalStepFunctions({
    definition: synthesized.definition,
    handlers: { ...workflowHandlers(synthesized.functions), [runTaskId]: (event) => run(event as unknown as RunTaskInput) as never },
    stateMachineName: 'SluicePipeline',
    retryIntervals: { Advance: 0, RunTask: [0], RunTaskAlone: [0], StageResult: 0, ApprovalGate: 0, FailureGate: 0 },
  });
  setOrchestrator(pipeline);
  return pipeline;
}
