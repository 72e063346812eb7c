// The scheduled sync as deployed: one function, invoked every minute by an EventBridge rule (and
// by nothing else), that knows the sync state machine it starts; in the databases' subnets when
// the runner is. What it may do is pinned in iam.test.ts.
import { describe, expect, it } from 'vitest';
import { HANDLER_ENTRIES } from '../../infra/bundling.js';
import { ADMIN, ofType, synth } from './synth.js';

const s = synth();
const fnId = s.id(s.stack.syncSchedule.fn);
const fn = s.resources[fnId]!;

describe('scheduled sync', () => {
  it('runs the tick handler with the table and the sync state machine it starts', () => {
    expect(HANDLER_ENTRIES.syncSchedule).toBe('functions/workflow/sync-schedule.ts');
    expect(fn.Properties).toMatchObject({ Handler: 'index.handler', Timeout: 300 });
    expect(fn.Properties.Environment.Variables).toMatchObject({
      TABLE_NAME: { Ref: s.id(s.stack.table.table) }, SYNC_STATE_MACHINE_ARN: { Ref: s.id(s.stack.sync.stateMachine) }, SECRETS_PREFIX: s.stack.stackName,
    });
    expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: s.id(s.stack.syncSchedule.logGroup) });
  });

  it('is invoked by one enabled rule, every minute, not retried (the next tick is a minute away)', () => {
    const rules = ofType(s, 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets ?? []).includes(fnId));
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0]!;
    expect(ruleId).toBe(s.id(s.stack.syncScheduleRule));
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })]);
  });

  it('goes into the runner\'s subnets: it lists each instance\'s databases', () => {
    const v = synth({ adminEmail: ADMIN, vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-0123456789abcdef0', securityGroupIds: 'sg-0123456789abcdef0' });
    expect(v.resources[v.id(v.stack.syncSchedule.fn)]!.Properties.VpcConfig).toEqual({ SubnetIds: ['subnet-0123456789abcdef0'], SecurityGroupIds: ['sg-0123456789abcdef0'] });
  });
});
