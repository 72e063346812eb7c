// The AWS side of events and webhooks, with aws-sdk-client-mock: PutEvents entries on the bus,
// delayed SQS messages for retries, and the delivery Lambda's partial batch failures.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgeSink, SqsDeliveryQueue } from '../../functions/adapters/notify/aws.js';
import { emitEvents, type SluiceEvent } from '../../domain/notify/events.js';

const eb = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
afterEach(() => {
  eb.reset();
  sqs.reset();
});

const event = (i: number): SluiceEvent => ({ id: `e${i}`, type: 'ISSUE_DONE', project: 'shop', issue: `projects/shop/issues/${i}`, actor: 'users/1', time: '2026-12-06T08:00:00.000Z' });

describe('EventBridge', () => {
  it('each event is an entry on the bus: source sluice, detail-type its type, detail the event; 10 per call', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await new EventBridgeSink(new EventBridgeClient({}), 'default').emit(Array.from({ length: 12 }, (_, i) => event(i)));
    const calls = eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(calls.map((c) => c.length)).toEqual([10, 2]);
    expect(calls[0]![0]).toEqual({ Source: 'sluice', DetailType: 'ISSUE_DONE', Detail: JSON.stringify(event(0)), EventBusName: 'default', Time: new Date(event(0).time) });
  });

  it('a failing or slow bus never fails nor holds up the caller (emitEvents)', async () => {
    eb.on(PutEventsCommand).rejects(new Error('throttled'));
    const warned: string[] = [];
    await expect(emitEvents(new EventBridgeSink(new EventBridgeClient({})), [event(1)], { warn: (m) => warned.push(m) })).resolves.toBeUndefined();
    expect(warned).toEqual(['event not emitted']);
    const start = Date.now();
    await emitEvents({ emit: () => new Promise(() => undefined) }, [event(2)]);
    expect(Date.now() - start).toBeLessThan(3000);
  });

  it('a refused entry is an error (logged by emitEvents, not lost silently)', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    await expect(new EventBridgeSink(new EventBridgeClient({})).emit([event(1)])).rejects.toThrow('InternalFailure');
  });
});

describe('SQS', () => {
  it('a retry is a delayed message; a wait longer than 15 minutes takes several hops', async () => {
    sqs.on(SendMessageCommand).resolves({});
    const q = new SqsDeliveryQueue(new SQSClient({}), 'https://sqs.local/q');
    await q.send({ kind: 'attempt', project: 'shop', webhook: 'w', delivery: 'd', notBefore: 't' }, 5_000);
    await q.send({ kind: 'attempt', project: 'shop', webhook: 'w', delivery: 'd', notBefore: 't' }, 8 * 3600_000);
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input.DelaySeconds)).toEqual([5, 900]);
    expect(JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!)).toMatchObject({ kind: 'attempt', delivery: 'd' });
  });
});

describe('the delivery Lambda', () => {
  it('takes EventBridge envelopes and its own messages; reports only the records it failed on', async () => {
    const { toDeliveryMessage } = await import('../../functions/workflow/webhook-delivery.js');
    expect(toDeliveryMessage(JSON.stringify({ source: 'sluice', 'detail-type': 'ISSUE_DONE', detail: event(1) }))).toEqual({ kind: 'event', event: event(1) });
    expect(toDeliveryMessage(JSON.stringify({ kind: 'test', project: 'p', webhook: 'w', delivery: 'd' }))).toMatchObject({ kind: 'test' });
    expect(() => toDeliveryMessage('{"source":"aws.s3"}')).toThrow();
  });

  it('a record whose store read fails is reported for redelivery; an undeliverable one is dropped', async () => {
    process.env.TABLE_NAME = 'no-such-table';
    process.env.DYNAMODB_ENDPOINT = 'http://127.0.0.1:1';
    const { handler } = await import('../../functions/workflow/webhook-delivery.js');
    const records = [
      { messageId: 'm1', body: JSON.stringify({ source: 'sluice', 'detail-type': 'ISSUE_DONE', detail: event(1) }) },
      { messageId: 'm2', body: 'not json' },
    ];
    const out = await handler({ Records: records } as unknown as SQSEvent);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  }, 30_000);
});
