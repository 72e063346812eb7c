// The prior-backup cleanup as deployed: one function, invoked every hour by an EventBridge rule
// (and by nothing else), with the table and the data sources' passwords it needs, in the
// databases' subnets when the runner is. What it may do is pinned in iam.test.ts.
import { describe, expect, it } from 'vitest';
import { CLEANUP_INTERVAL_MINUTES } from '../../domain/backup/cleanup.js';
import { BUNDLED_FILES, HANDLER_ENTRIES } from '../../infra/bundling.js';
import { ADMIN, ofType, synth } from './synth.js';

const s = synth();
const fnId = s.id(s.stack.backupCleanup.fn);
const fn = s.resources[fnId]!;

describe('prior backup cleanup', () => {
  it('runs the cleanup handler with the table, Lambda\'s longest timeout, and its own log group', () => {
    expect(HANDLER_ENTRIES.backupCleanup).toBe('functions/workflow/backup-cleanup.ts');
    expect(fn.Properties).toMatchObject({ Handler: 'index.handler', Timeout: 900, Runtime: 'nodejs24.x' });
    expect(fn.Properties.Environment.Variables).toMatchObject({ TABLE_NAME: { Ref: s.id(s.stack.table.table) }, SECRETS_PREFIX: s.stack.stackName });
    expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: s.id(s.stack.backupCleanup.logGroup) });
  });

  it('is invoked by one enabled schedule, every hour, with retries', () => {
    // Schedules only (the webhook rule matches events, not a clock).
    const rules = ofType(s, 'AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression && JSON.stringify(r.Properties.Targets).includes(fnId));
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0]!;
    expect(ruleId).toBe(s.id(s.stack.backupCleanupSchedule));
    expect(CLEANUP_INTERVAL_MINUTES).toBe(60);
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } })]);
  });

  it('goes into the runner\'s subnets with the other functions that connect to databases', () => {
    const v = synth({ adminEmail: ADMIN, vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-0123456789abcdef0', securityGroupIds: 'sg-0123456789abcdef0' });
    expect(v.resources[v.id(v.stack.backupCleanup.fn)]!.Properties.VpcConfig).toEqual({ SubnetIds: ['subnet-0123456789abcdef0'], SecurityGroupIds: ['sg-0123456789abcdef0'] });
  });

  it('the task runner, which parses PostgreSQL scripts to plan backups, gets the parser\'s WebAssembly beside its bundle', () => {
    expect(BUNDLED_FILES.runTask).toEqual(['libpg-query/wasm/libpg-query.wasm']);
  });
});
