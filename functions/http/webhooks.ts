// Project webhooks: GET|POST /v1/projects/{p}/webhooks, GET|PATCH|DELETE …/{id}, POST …/{id}:test,
// GET …/{id}/deliveries. The URL and secret are write-only (domain/notify/webhooks.ts).
import type { Access } from '../../domain/access/access.js';
import { UnauthenticatedError } from '../../domain/common/errors.js';
import { parseUserChosenId } from '../../domain/common/names.js';
import { parsePageSize } from '../../domain/common/values.js';
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, toDeliveryResource, toWebhookResource, updateWebhook, webhookToTest } from '../../domain/notify/webhooks.js';
import { httpHandler, type Request } from '../shared/http.js';
import { deps, idempotency, audit } from '../shared/wiring.js';
import { webhookDeps } from '../shared/wiring-notify.js';

// A test delivery (the sender, the message renderer, the issue reader for its links) loads on the
// first `:test`: the other routes never send.
const delivery = () => Promise.all([import('../../domain/notify/delivery.js'), import('../shared/wiring-delivery.js')]);

const caller = (req: Request): Access => {
  if (!req.access) throw new UnauthenticatedError();
  return req.access;
};
const project = (req: Request): string => parseUserChosenId(req.params.project!, 'project');
const webhook = (req: Request): string => parseUserChosenId(req.params.webhook!, 'webhook');

export const handler = httpHandler('webhooks', { deps, idempotency, audit }, {
  listWebhooks: async (req) => ({ body: { webhooks: (await listWebhooks(webhookDeps(), caller(req), project(req))).map(toWebhookResource) } }),
  createWebhook: async (req) => ({ body: toWebhookResource(await createWebhook(webhookDeps(), caller(req), project(req), req.body)) }),
  getWebhook: async (req) => ({ body: toWebhookResource(await getWebhook(webhookDeps(), caller(req), project(req), webhook(req))) }),
  updateWebhook: async (req) => ({
    body: toWebhookResource(await updateWebhook(webhookDeps(), caller(req), project(req), webhook(req), req.body, req.query.updateMask, req.headers['if-match'])),
  }),
  deleteWebhook: async (req) => {
    await deleteWebhook(webhookDeps(), caller(req), project(req), webhook(req), req.headers['if-match']);
    return { body: {} };
  },
  testWebhook: async (req) => {
    const access = caller(req);
    const w = await webhookToTest(webhookDeps(), access, project(req), webhook(req));
    const [{ testWebhook }, { deliveryDeps }] = await delivery();
    return { status: 202, body: toDeliveryResource(await testWebhook(deliveryDeps(), w, `users/${access.user.id}`)) };
  },
  listWebhookDeliveries: async (req) => {
    const limit = parsePageSize(req.query.pageSize);
    return { body: { deliveries: (await listDeliveries(webhookDeps(), caller(req), project(req), webhook(req), limit)).map(toDeliveryResource) } };
  },
});
