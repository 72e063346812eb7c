// Module-scope wiring for putting events on their way, apart from webhook delivery (wiring-notify.ts):
// the functions that emit (issues, the pipeline's Lambdas, the GitOps worker) load only this.
// Deployed: EventBridge (SLUICE_EVENT_BUS) and the SQS delivery queue (WEBHOOK_QUEUE_URL); on one
// machine the local runtime (and tests) install an in-process sink and queue with setNotifyTransport
// before the first request; without either, events go nowhere.
import type { EmitLog, EventSink } from '../../domain/notify/events.js';
import type { DeliveryQueue } from '../../domain/notify/delivery.js';
import { logger } from './logger.js';

let local: { sink: EventSink; queue: DeliveryQueue } | undefined;
let aws: { sink?: EventSink; queue?: DeliveryQueue } | undefined;

export const setNotifyTransport = (next: { sink: EventSink; queue: DeliveryQueue } | undefined): void => {
  local = next;
};
// The EventBridge and SQS clients load on first use: a cold start of a handler that may emit
// (issues, the GitOps worker) does not pay for them (test/infra/bundles.test.ts).
const awsModule = () => import('../adapters/notify/aws.js');
let awsSink: EventSink | undefined;
let awsQueue: DeliveryQueue | undefined;
const awsTransport = () =>
  (aws ??= {
    sink: process.env.SLUICE_EVENT_BUS ? { emit: async (events) => (awsSink ??= (await awsModule()).eventBridgeSinkFrom(process.env)!).emit(events) } : undefined,
    queue: process.env.WEBHOOK_QUEUE_URL ? { send: async (message, delayMs) => (awsQueue ??= (await awsModule()).sqsQueueFrom(process.env)!).send(message, delayMs) } : undefined,
  });

/** Where events go (resolved per call: the local runtime installs its own first). */
export const eventSink = (): EventSink | undefined => local?.sink ?? awsTransport().sink;
/** A sink that looks the transport up at emit time, for stores built at module scope. */
export const lateSink: EventSink = {
  emit: async (events) => {
    const sink = eventSink();
    if (sink) await sink.emit(events);
  },
};
export const emitLog: EmitLog = { warn: (msg, f) => logger.warn(msg, f) };

const noQueue: DeliveryQueue = {
  send: async () => {
    throw new Error('no delivery queue: set WEBHOOK_QUEUE_URL (AWS) or install the local one');
  },
};
export const deliveryQueue = (): DeliveryQueue => local?.queue ?? awsTransport().queue ?? noQueue;
