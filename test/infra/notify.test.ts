// Events and webhook delivery in the template: the rule on the default bus takes only Sluice's
// webhook events to the delivery queue; the queue has a dead-letter queue; the delivery function
// reports partial batch failures (one failing message is retried, not the whole batch).
import { describe, expect, it } from 'vitest';
import { WEBHOOK_EVENTS } from '../../domain/notify/events.js';
import { ofType, synth } from './synth.js';

const s = synth();

describe('notify', () => {
  it('a rule on the default bus sends source sluice, webhook event types only, to the delivery queue', () => {
    const rules = ofType(s, 'AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern);
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.EventBusName).toBeUndefined();
    expect(rule.Properties.EventPattern).toEqual({ source: ['sluice'], 'detail-type': [...WEBHOOK_EVENTS] });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [s.id(s.stack.notify.queue), 'Arn'] } })]);
  });

  it('the delivery queue sends a message the function keeps failing on to its DLQ after 5 receives; both queues are encrypted and TLS-only', () => {
    const queue = s.resources[s.id(s.stack.notify.queue)]!;
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [s.id(s.stack.notify.deadLetterQueue), 'Arn'] }, maxReceiveCount: 5 });
    expect(queue.Properties.VisibilityTimeout).toBe(1800);
    for (const q of [s.stack.notify.queue, s.stack.notify.deadLetterQueue]) expect(s.resources[s.id(q)]!.Properties.SqsManagedSseEnabled).toBe(true);
    const policies = ofType(s, 'AWS::SQS::QueuePolicy').map(([, p]) => JSON.stringify(p.Properties.PolicyDocument));
    expect(policies.filter((p) => p.includes('"aws:SecureTransport":"false"'))).toHaveLength(2);
    // Only EventBridge, and only this rule, may send to the queue (besides the functions' own grants).
    expect(policies.some((p) => p.includes('events.amazonaws.com') && p.includes(s.id(s.stack.notify.rule)))).toBe(true);
  });

  it('the delivery function reads the queue with partial batch failures; the emitting functions name the default bus', () => {
    const [, mapping] = ofType(s, 'AWS::Lambda::EventSourceMapping')[0]!;
    expect(mapping.Properties).toMatchObject({ FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 5, EventSourceArn: { 'Fn::GetAtt': [s.id(s.stack.notify.queue), 'Arn'] } });
    const withBus = ofType(s, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Environment?.Variables?.SLUICE_EVENT_BUS === 'default').map(([id]) => id).sort();
    expect(withBus).toEqual([s.stack.functions.issues, s.stack.workflow.advance, s.stack.workflow.approvalGate, s.stack.workflow.runTask, s.stack.workflow.checksResult, s.stack.vcsWorker, s.stack.syncStep].map((f) => s.id(f.fn)).sort());
  });
});
