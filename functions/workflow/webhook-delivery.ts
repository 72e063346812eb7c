// Webhook delivery on Lambda: the SQS queue the EventBridge rule feeds (and the delayed retries
// this function queues itself). Each record is an EventBridge envelope (`detail` is the event)
// or a DeliveryMessage; a record whose handling throws (the table or queue failed, never the
// receiver) is reported back, so SQS redelivers only it and, after maxReceiveCount, moves it to
// the dead-letter queue.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handleDeliveryMessage, type DeliveryMessage } from '../../domain/notify/delivery.js';
import type { SluiceEvent } from '../../domain/notify/events.js';
import { logger } from '../shared/logger.js';
import { deliveryDeps } from '../shared/wiring-delivery.js';

/** The queue message as the delivery code takes it. */
export function toDeliveryMessage(body: string): DeliveryMessage {
  const parsed = JSON.parse(body) as { kind?: string; source?: string; detail?: SluiceEvent };
  if (parsed.kind) return parsed as DeliveryMessage;
  if (parsed.source === 'sluice' && parsed.detail) return { kind: 'event', event: parsed.detail };
  throw new Error('not a Sluice delivery message');
}

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const deps = deliveryDeps();
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    let message: DeliveryMessage;
    try {
      message = toDeliveryMessage(record.body);
    } catch (e) {
      // Never deliverable: dropped with a log line rather than retried into the DLQ.
      logger.warn('webhook queue: message dropped', { messageId: record.messageId, message: (e as Error).message });
      continue;
    }
    try {
      await handleDeliveryMessage(deps, message);
    } catch (e) {
      logger.error('webhook delivery failed; SQS will redeliver', { messageId: record.messageId, kind: message.kind, error: (e as Error).name, message: (e as Error).message });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
};
