// The definition `npm start` (and the e2e tests) run is exactly the one the stack deploys: the app
// as `cdk synth` builds it (context, cdk-nag plugin and all), its state machine's resolved ASL,
// equal to what the local runner executes; and each Task state's function is mapped to the
// handler module of the same workflow function.
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { HANDLER_ENTRIES, WORKFLOW_FUNCTIONS } from '../../infra/bundling.js';
import { createApp } from '../../infra/lib/app.js';
import { PIPELINE_STATES as S } from '../../infra/lib/pipeline.js';
import { localPipeline, synthesizePipeline } from '../../infra/local/pipeline.js';
import { aslFromTemplate } from '../../infra/local/stepfunctions.js';

const { stack } = createApp({ 'aws:cdk:bundling-stacks': [], adminEmail: 'admin@example.com' });
const deployedTemplate = Template.fromStack(stack).toJSON() as Parameters<typeof aslFromTemplate>[0];
const machineId = stack.getLogicalId(stack.pipeline.stateMachine.node.defaultChild as never);
const deployed = aslFromTemplate(deployedTemplate, machineId);

describe('the local pipeline runs the deployed definition', () => {
  const local = localPipeline();

  it('resolved ASL: equal, state for state', () => {
    expect(local.definition).toEqual(deployed);
    expect(JSON.stringify(local.definition)).toBe(JSON.stringify(deployed));
  });

  it('the same state machine resource, whatever the deploy context (email, OIDC, VPC)', () => {
    const synthesized = synthesizePipeline({ jwtIssuer: 'https://login.example.com/', jwtAudience: 'x', vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-0123456789abcdef0', securityGroupIds: 'sg-0123456789abcdef0' });
    expect(synthesized.stateMachineId).toBe(machineId);
    expect(synthesized.definition).toEqual(deployed);
  });

  it('maps each Task state to the handler module of its workflow function', () => {
    const synthesized = synthesizePipeline();
    const byState = local.taskFunctions;
    const expected: Record<string, (typeof WORKFLOW_FUNCTIONS)[number]> = {
      [S.advance]: 'advance',
      [S.approvalGate]: 'approvalGate',
      [S.runTask]: 'runTask',
      [S.runTaskAlone]: 'runTask',
      [S.stageResult]: 'stageResult',
      [S.failureGate]: 'failureGate',
      [S.planCheck]: 'planCheck',
      [S.checkBatch]: 'checkBatch',
      [S.checksResult]: 'checksResult',
      [S.checksGate]: 'checksGate',
    };
    expect(Object.keys(byState).sort()).toEqual(Object.keys(expected).sort());
    for (const [state, fn] of Object.entries(expected)) {
      const logicalId = byState[state]!;
      expect(logicalId, state).toBe(stack.getLogicalId(stack.workflow[fn].fn.node.defaultChild as never));
      expect(synthesized.functions[logicalId], state).toBe(fn);
      expect(HANDLER_ENTRIES[fn]).toMatch(/^functions\/workflow\//);
    }
  });
});
