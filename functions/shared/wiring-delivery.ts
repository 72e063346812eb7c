// Module-scope wiring for webhook deliveries (the delivery function, `:test`, the local queue),
// apart from wiring-notify.ts so that the webhooks API loads the sender, the message renderer and
// the issue reader only when it sends a test (BENCHMARKS.md "Cold start").
import type { DeliveryDeps } from '../../domain/notify/delivery.js';
import { DynamoIssueRepo } from '../adapters/dynamo/issues.js';
import { HttpWebhookSender } from '../adapters/notify/http-sender.js';
import { logger } from './logger.js';
import { deliveryQueue } from './wiring-events.js';
import { outboundPolicy, webhookRepo } from './wiring-notify.js';
import { deps, store } from './wiring.js';
import { secretStoreFrom } from './wiring-secrets.js';

const issueReader = /* @__PURE__ */ new DynamoIssueRepo(store);
/** The console or API base URL links point at. */
const linkBase = (): string => process.env.SLUICE_CONSOLE_URL || process.env.SLUICE_API_URL || 'http://localhost:8080';

export const deliveryDeps = (overrides: Partial<DeliveryDeps> = {}): DeliveryDeps => ({
  webhooks: webhookRepo,
  secrets: secretStoreFrom(process.env),
  sender: new HttpWebhookSender(outboundPolicy),
  queue: deliveryQueue(),
  users: deps.users,
  issues: issueReader,
  now: () => new Date(),
  linkBase: linkBase(),
  log: { info: (m, f) => logger.info(m, f), warn: (m, f) => logger.warn(m, f) },
  ...overrides,
});
