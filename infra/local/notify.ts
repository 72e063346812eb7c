// Events and webhook delivery on one machine: what EventBridge, the SQS queue and the delivery
// Lambda do in the cloud, in this process. Emitting only queues (the pipeline never waits for a
// receiver); the same delivery code runs on the next turn of the event loop, and a delayed
// retry is a timer that does not keep the process alive.
import { handleDeliveryMessage, type DeliveryDeps, type DeliveryMessage, type DeliveryQueue } from '../../domain/notify/delivery.js';
import type { EventSink } from '../../domain/notify/events.js';
import { logger } from '../../functions/shared/logger.js';

export interface LocalNotify {
  sink: EventSink;
  queue: DeliveryQueue;
  /** Resolves when nothing is being delivered right now (delayed retries not counted). */
  idle(): Promise<void>;
  /** Drops pending retries (shutdown). */
  close(): void;
}

/** `deps` is asked for on each message, so it sees the queue this returns. */
export function localNotify(deps: (queue: DeliveryQueue) => DeliveryDeps, options: { redeliveryDelayMs?: number } = {}): LocalNotify {
  const running = new Set<Promise<void>>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let closed = false;
  const run = (m: DeliveryMessage, receive = 1): void => {
    const p = (async () => {
      await new Promise((r) => setImmediate(r));
      try {
        await handleDeliveryMessage(deps(queue), m);
      } catch (e) {
        // As SQS: the message comes back later; after 5 receives it is given up (the DLQ).
        logger.error('local webhook delivery failed', { kind: m.kind, receive, error: (e as Error).name, message: (e as Error).message });
        if (receive < 5) later(m, options.redeliveryDelayMs ?? 5000, receive + 1);
      }
    })().finally(() => running.delete(p));
    running.add(p);
  };
  const later = (m: DeliveryMessage, delayMs: number, receive = 1): void => {
    if (closed) return;
    if (delayMs <= 0) return run(m, receive);
    const t = setTimeout(() => {
      timers.delete(t);
      run(m, receive);
    }, delayMs);
    t.unref();
    timers.add(t);
  };
  const queue: DeliveryQueue = { send: async (m, delayMs) => later(m, delayMs) };
  return {
    sink: { emit: async (events) => events.forEach((event) => later({ kind: 'event', event }, 0)) },
    queue,
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
