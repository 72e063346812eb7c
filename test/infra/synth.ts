// Builds the CDK app in-process with esbuild bundling skipped (≈70 ms instead of seconds).
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../infra/lib/app.js';
import type { SluiceStack } from '../../infra/lib/sluice-stack.js';

export const ADMIN = 'admin@example.com';

export interface Synth {
  stack: SluiceStack;
  template: Template;
  resources: Record<string, CfnResource>;
  /** The logical id of a construct's CloudFormation resource. */
  id: (construct: { node: { defaultChild?: unknown } }) => string;
}

export interface CfnResource {
  Type: string;
  Properties: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- raw template JSON
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export function synth(context: Record<string, unknown> = { adminEmail: ADMIN }): Synth {
  const { stack } = createApp({ 'aws:cdk:bundling-stacks': [], ...context });
  const template = Template.fromStack(stack);
  return {
    stack,
    template,
    resources: template.toJSON().Resources as Record<string, CfnResource>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- defaultChild is a CfnElement here
    id: (construct) => stack.getLogicalId(construct.node.defaultChild as any),
  };
}

export const ofType = (s: Synth, type: string): [string, CfnResource][] =>
  Object.entries(s.resources).filter(([, r]) => r.Type === type);
