// The pipeline as SluiceStack deploys it: the five workflow functions from HANDLER_ENTRIES, the
// state machine invoking exactly them, the issues API holding its ARN, the failed-executions
// alarm publishing to a topic, and the task runner optionally in private subnets.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_FILES, HANDLER_ENTRIES, WORKFLOW_FUNCTIONS } from '../../infra/bundling.js';
import { PROJECT_ROOT } from '../../infra/lib/defaults.js';
import { PIPELINE_STATES as S } from '../../infra/lib/pipeline.js';
import { aslFromTemplate, localFunctionArn } from '../../infra/local/stepfunctions.js';
import { ADMIN, ofType, synth } from './synth.js';

const s = synth();
const fnId = (name: (typeof WORKFLOW_FUNCTIONS)[number]) => s.id(s.stack.workflow[name].fn);
const machineId = s.id(s.stack.pipeline.stateMachine);

type State = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- raw ASL JSON
function allStates(def: { States: Record<string, State> }): Record<string, State> {
  const out: Record<string, State> = {};
  for (const [name, st] of Object.entries(def.States)) {
    out[name] = st;
    if (st.Type === 'Map') Object.assign(out, allStates(st.ItemProcessor));
  }
  return out;
}

describe('pipeline wiring in SluiceStack', () => {
  it('has two state machines, the pipeline and the instance sync, both Standard; the pipeline invokes each workflow function from its state', () => {
    expect(ofType(s, 'AWS::StepFunctions::StateMachine').map(([id]) => id).sort()).toEqual([machineId, s.id(s.stack.sync.stateMachine)].sort());
    expect(s.resources[s.id(s.stack.sync.stateMachine)]!.Properties.StateMachineType).toBe('STANDARD');
    expect(s.resources[machineId]!.Properties.StateMachineType).toBe('STANDARD');
    const states = allStates(aslFromTemplate(s.template.toJSON() as never, machineId) as never);
    const fnOf = (state: string) => states[state]!.Resource.startsWith('arn:aws:states:::') ? states[state]!.Parameters.FunctionName : states[state]!.Resource;
    expect(fnOf(S.advance)).toBe(localFunctionArn(fnId('advance')));
    expect(fnOf(S.approvalGate)).toBe(localFunctionArn(fnId('approvalGate')));
    expect(fnOf(S.runTask)).toBe(localFunctionArn(fnId('runTask')));
    expect(fnOf(S.stageResult)).toBe(localFunctionArn(fnId('stageResult')));
    expect(fnOf(S.failureGate)).toBe(localFunctionArn(fnId('failureGate')));
    expect(fnOf(S.planCheck)).toBe(localFunctionArn(fnId('planCheck')));
    expect(fnOf(S.checkBatch)).toBe(localFunctionArn(fnId('checkBatch')));
    expect(fnOf(S.checksResult)).toBe(localFunctionArn(fnId('checksResult')));
    expect(fnOf(S.checksGate)).toBe(localFunctionArn(fnId('checksGate')));
  });

  it('bundles each workflow function from its functions/workflow module, with the table and a timeout fit for its job', () => {
    // The PostgreSQL parser's WebAssembly beside the bundles that may read statement types.
    const wasm = ['libpg-query/wasm/libpg-query.wasm'];
    expect(BUNDLED_FILES).toEqual({ advance: wasm, approvalGate: wasm, runTask: wasm, review: wasm, planCheck: wasm, checkBatch: wasm });
    for (const name of WORKFLOW_FUNCTIONS) {
      expect(HANDLER_ENTRIES[name]).toMatch(/^functions\/workflow\/[a-z-]+\.ts$/);
      const fn = s.resources[fnId(name)]!;
      // advance and approvalGate may parse a statement for the approval rules.
      // planCheck parses the statement; checkBatch reads up to 25 targets (EXPLAIN, catalog) one after another.
      const timeout = { runTask: 900, advance: 120, approvalGate: 120, stageResult: 30, failureGate: 30, planCheck: 120, checkBatch: 900, checksResult: 30, checksGate: 30 }[name];
      expect(fn.Properties).toMatchObject({ Handler: 'index.handler', MemorySize: 512, Timeout: timeout });
      expect(fn.Properties.Environment.Variables.TABLE_NAME).toEqual({ Ref: s.id(s.stack.table.table) });
      expect(fn.Properties.Environment.Variables.STATE_MACHINE_ARN).toBeUndefined();
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
  });

  it('each workflow entry module exists and exports handler', async () => {
    for (const name of WORKFLOW_FUNCTIONS) {
      const mod = (await import(path.join(PROJECT_ROOT, HANDLER_ENTRIES[name]))) as Record<string, unknown>;
      expect(typeof mod.handler, `${HANDLER_ENTRIES[name]} exports handler`).toBe('function');
    }
  });

  it('gives the issues API and the GitOps worker (which makes issues), and only them, the state machine ARN', () => {
    const withArn = ofType(s, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Environment?.Variables?.STATE_MACHINE_ARN !== undefined);
    expect(withArn.map(([id]) => id).sort()).toEqual([s.id(s.stack.functions.issues.fn), s.id(s.stack.vcsWorker.fn)].sort());
    for (const [, f] of withArn) expect(f.Properties.Environment.Variables.STATE_MACHINE_ARN).toEqual({ Ref: machineId });
  });

  it('sends the ExecutionsFailed alarm to a TLS-only topic the admin is subscribed to', () => {
    const alarmId = s.id(s.stack.pipeline.failedAlarm);
    const topicId = s.id(s.stack.alarmTopic);
    expect(s.resources[alarmId]!.Properties).toMatchObject({ MetricName: 'ExecutionsFailed', Namespace: 'AWS/States', AlarmActions: [{ Ref: topicId }] });
    s.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: ADMIN, TopicArn: { Ref: topicId } });
    expect(ofType(s, 'AWS::SNS::TopicPolicy')).toHaveLength(1);
    const topicPolicy = ofType(s, 'AWS::SNS::TopicPolicy')[0]![1];
    expect(topicPolicy.Properties.Topics).toEqual([{ Ref: topicId }]);
    expect(topicPolicy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
    // Without an admin email there is nobody to subscribe; the alarm still goes to the topic.
    expect(ofType(synth({}), 'AWS::SNS::Subscription')).toEqual([]);
  });

  it('outputs the state machine ARN', () => {
    expect(s.template.toJSON().Outputs.StateMachineArn.Value).toEqual({ Ref: machineId });
  });

  it('places the functions that connect to databases, and only them, in the given subnets, with the ENI actions Lambda needs', () => {
    const v = synth({ adminEmail: ADMIN, vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-0123456789abcdef0, subnet-0123456789abcdef1', securityGroupIds: 'sg-0123456789abcdef0' });
    const placed = ofType(v, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.VpcConfig !== undefined);
    expect(placed.map(([id]) => id).sort()).toEqual(
      [v.stack.functions.instances.fn, v.stack.functions.sql.fn, v.stack.workflow.runTask.fn, v.stack.workflow.checkBatch.fn, v.stack.backupCleanup.fn, v.stack.syncStep.fn, v.stack.syncSchedule.fn].map((fn) => v.id(fn)).sort(),
    );
    expect(placed[0]![1].Properties.VpcConfig).toEqual({ SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], SecurityGroupIds: ['sg-0123456789abcdef0'] });
    const role = v.resources[placed[0]![0]]!.Properties.Role['Fn::GetAtt'][0] as string;
    const policy = ofType(v, 'AWS::IAM::Policy').find(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))!;
    expect(policy[1].Properties.PolicyDocument.Statement).toContainEqual({
      Action: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Effect: 'Allow',
      Resource: '*',
    });
    // Lambda checks the ENI permissions when it creates the function: the policy comes first.
    expect((v.resources[placed[0]![0]] as unknown as { DependsOn?: string[] }).DependsOn).toEqual(expect.arrayContaining([policy[0]]));
  });

  it('refuses half a VPC setting', () => {
    expect(() => synth({ vpcId: 'vpc-0123456789abcdef0' })).toThrow(/subnetIds and securityGroupIds/);
    expect(() => synth({ subnetIds: 'subnet-0123456789abcdef0' })).toThrow(/need vpcId/);
    expect(() => synth({ vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-x', securityGroupIds: 'sg-0123456789abcdef0' })).toThrow(/"subnet-x" is not a subnet id/);
  });
});
