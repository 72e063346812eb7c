// The local pipeline: the state machine SluiceStack deploys, synthesized in-process (bundling
// skipped), its ASL taken with aslFromTemplate and run by LocalStepFunctions, each workflow
// function's logical id mapped to its handler module under functions/workflow/. `npm start` and
// the end-to-end tests install it as the orchestrator, so both run the deployed definition.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, type CfnElement } from 'aws-cdk-lib';
import { pipelineExecutionName, type Orchestrator } from '../../domain/pipeline/orchestrator.js';
import { DynamoIssueRepo } from '../../functions/adapters/dynamo/issues.js';
import { DynamoProjectRepo } from '../../functions/adapters/dynamo/projects.js';
import type { DynamoStore } from '../../functions/adapters/dynamo/store.js';
import { HANDLER_ENTRIES, WORKFLOW_FUNCTIONS, type WorkflowFunction } from '../bundling.js';
import { stackPropsFromContext } from '../lib/app.js';
import { PROJECT_ROOT } from '../lib/defaults.js';
import { SluiceStack } from '../lib/sluice-stack.js';
import { aslFromTemplate, LocalStepFunctions, type Asl, type LocalHandler } from './stepfunctions.js';

export interface SynthesizedPipeline {
  /** The synthesized template (CloudFormation JSON), as `cdk synth` writes it. */
  template: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
  /** The state machine's logical id in it. */
  stateMachineId: string;
  /** Its ASL with function ARNs resolved (aslFromTemplate). */
  definition: Asl;
  /** Which workflow function each Lambda logical id is. */
  functions: Readonly<Record<string, WorkflowFunction>>;
  /** The instance sync state machine (infra/lib/sync.ts) and its one function, by logical id. */
  sync: { stateMachineId: string; functionId: string };
}

/** Synthesizes SluiceStack as `cdk synth` does (without bundling) and takes out the pipeline. */
export function synthesizePipeline(context: Record<string, unknown> = {}): SynthesizedPipeline {
  const outdir = mkdtempSync(join(tmpdir(), 'sluice-synth-'));
  try {
    const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const stack = new SluiceStack(app, 'Sluice', stackPropsFromContext(app.node));
    const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
    const template = app.synth().getStackArtifact(stack.artifactId).template as SynthesizedPipeline['template'];
    const stateMachineId = id(stack.pipeline.stateMachine);
    const functions = Object.fromEntries(WORKFLOW_FUNCTIONS.map((name) => [id(stack.workflow[name].fn), name]));
    const sync = { stateMachineId: id(stack.sync.stateMachine), functionId: id(stack.syncStep.fn) };
    return { template, stateMachineId, definition: aslFromTemplate(template, stateMachineId), functions, sync };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

type WorkflowModule = { handler: (input: never) => unknown };

/** Each workflow function's handler, loaded on first use (after the environment is set). */
export function workflowHandlers(functions: Readonly<Record<string, WorkflowFunction>>): Record<string, LocalHandler> {
  const modules = new Map<WorkflowFunction, Promise<WorkflowModule>>();
  const load = (name: WorkflowFunction): Promise<WorkflowModule> => {
    if (!modules.has(name)) modules.set(name, import(pathToFileURL(join(PROJECT_ROOT, HANDLER_ENTRIES[name])).href) as Promise<WorkflowModule>);
    return modules.get(name)!;
  };
  return Object.fromEntries(
    Object.entries(functions).map(([logicalId, name]) => [logicalId, async (event: unknown) => (await load(name)).handler(event as never)] as const),
  );
}

export interface LocalPipelineOptions {
  /** A synthesis to reuse (tests synthesize once per file). */
  synthesized?: SynthesizedPipeline;
  /** Retry waits by state name, e.g. `{ RunTask: 0 }` in tests. */
  retryIntervals?: Readonly<Record<string, number | number[]>>;
}

/** The local orchestrator: the deployed definition, run in this process. */
export function localPipeline(options: LocalPipelineOptions = {}): LocalStepFunctions {
  const synthesized = options.synthesized ?? synthesizePipeline();
  return new LocalStepFunctions({
    definition: synthesized.definition,
    handlers: workflowHandlers(synthesized.functions),
    stateMachineName: 'SluicePipeline',
    ...(options.retryIntervals ? { retryIntervals: options.retryIntervals } : {}),
  });
}

/**
 * After a restart of the local runtime: executions lived in memory, so every OPEN issue's
 * pipeline starts again. `advance` re-plans from DynamoDB (finished tasks stay finished, and the
 * runner's exactly-once marker protects committed statements); the tokens stored on stages (and an issue's checks token) died
 * with the old process, so they are cleared first and the gates store fresh ones.
 */
export async function resumeOpenIssues(store: DynamoStore, orchestrator: Orchestrator): Promise<string[]> {
  const issues = new DynamoIssueRepo(store);
  const resumed: string[] = [];
  for (const project of await new DynamoProjectRepo(store).listAll()) {
    let cursor: unknown;
    do {
      const page = await issues.list(project.id, { limit: 100, cursor, showDeleted: false }, 'OPEN');
      for (const issue of page.items) {
        const agg = await issues.get(issue.project, issue.number);
        if (!agg) continue;
        if (agg.issue.checksToken !== undefined) await issues.updateIssue(issue.project, issue.number, { checksToken: undefined }, agg.issue.version);
        for (const stage of agg.stages) {
          if (stage.approvalToken === undefined && stage.failureToken === undefined) continue;
          await issues.updateStage(stage, { status: stage.status }, ['approvalToken', 'failureToken'], {});
        }
        const name = `projects/${issue.project}/issues/${issue.number}`;
        const started = await orchestrator.startExecution(pipelineExecutionName(name), { issue: name });
        if (!started.alreadyStarted) resumed.push(name);
      }
      cursor = page.next;
    } while (cursor !== undefined);
  }
  return resumed;
}
