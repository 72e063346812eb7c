// Deployed: events go on the default EventBridge bus (source `sluice`, detail-type the event type,
// detail the event: docs/events.md); the webhook rule routes them to the delivery queue, and a
// delivery's next attempt is a delayed message on that same queue.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { EVENT_SOURCE, type EventSink, type SluiceEvent } from '../../../domain/notify/events.js';
import { MAX_HOP_MS, type DeliveryMessage, type DeliveryQueue } from '../../../domain/notify/delivery.js';

/** PutEvents takes at most 10 entries per call. */
const BATCH = 10;

export class EventBridgeSink implements EventSink {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName = 'default',
  ) {}

  async emit(events: SluiceEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += BATCH) {
      const slice = events.slice(i, i + BATCH);
      const out = await this.client.send(
        new PutEventsCommand({ Entries: slice.map((e) => ({ Source: EVENT_SOURCE, DetailType: e.type, Detail: JSON.stringify(e), EventBusName: this.busName, Time: new Date(e.time) })) }),
      );
      if (out.FailedEntryCount) throw new Error(`EventBridge refused ${out.FailedEntryCount} event(s): ${out.Entries?.find((x) => x.ErrorCode)?.ErrorCode ?? 'unknown'}`);
    }
  }
}

export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: DeliveryMessage, delayMs: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: Math.max(0, Math.min(Math.ceil(Math.min(delayMs, MAX_HOP_MS) / 1000), 900)) }),
    );
  }
}

export const eventBridgeSinkFrom = (env: NodeJS.ProcessEnv): EventSink | undefined => (env.SLUICE_EVENT_BUS ? new EventBridgeSink(new EventBridgeClient({}), env.SLUICE_EVENT_BUS) : undefined);
export const sqsQueueFrom = (env: NodeJS.ProcessEnv): DeliveryQueue | undefined => (env.WEBHOOK_QUEUE_URL ? new SqsDeliveryQueue(new SQSClient({}), env.WEBHOOK_QUEUE_URL) : undefined);
