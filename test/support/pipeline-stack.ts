// The pipeline state machine in a throwaway stack, bundling skipped (as in test/infra/synth.ts):
// its nine functions are SluiceFunctions on an existing entry, since only their ARNs matter here.
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { SluiceFunction } from '../../infra/lib/function.js';
import { PipelineStateMachine, type PipelineStateMachineProps } from '../../infra/lib/pipeline.js';

export const PIPELINE_FUNCTIONS = ['advance', 'approvalGate', 'runTask', 'stageResult', 'failureGate', 'planCheck', 'checkBatch', 'checksResult', 'checksGate'] as const;
export type PipelineFunction = (typeof PIPELINE_FUNCTIONS)[number];

export interface PipelineStack {
  app: App;
  stack: Stack;
  pipeline: PipelineStateMachine;
  template: Template;
  /** The logical id of each pipeline function. */
  fnIds: Record<PipelineFunction, string>;
  /** The state machine's logical id. */
  stateMachineId: string;
  id: (construct: { node: { defaultChild?: unknown } }) => string;
}

export function pipelineStack(props: Partial<Omit<PipelineStateMachineProps, PipelineFunction>> = {}): PipelineStack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'PipelineTest');
  const fns = {} as Record<PipelineFunction, IFunction>;
  for (const name of PIPELINE_FUNCTIONS) {
    fns[name] = new SluiceFunction(stack, `${name[0]!.toUpperCase()}${name.slice(1)}`, {
      entry: 'functions/http/meta.ts',
      description: `pipeline ${name} (test stand-in)`,
      logRetention: RetentionDays.ONE_MONTH,
    }).fn;
  }
  const pipeline = new PipelineStateMachine(stack, 'Pipeline', { ...fns, logRetention: RetentionDays.THREE_MONTHS, ...props });
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  return {
    app,
    stack,
    pipeline,
    template: Template.fromStack(stack),
    fnIds: Object.fromEntries(PIPELINE_FUNCTIONS.map((n) => [n, id(fns[n])])) as Record<PipelineFunction, string>,
    stateMachineId: id(pipeline.stateMachine),
    id,
  };
}
