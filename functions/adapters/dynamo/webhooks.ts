// Project webhooks in DynamoDB (keys.webhook*): the webhook items (never the URL or secret: those
// are in the secret store) and each webhook's delivery log, expiring by TTL.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AlreadyExistsError } from '../../../domain/common/errors.js';
import { webhookName, type Webhook, type WebhookDelivery, type WebhookRepo } from '../../../domain/notify/webhooks.js';
import { fromItem, toItem } from './item.js';
import { keys } from './keys.js';
import type { DynamoStore } from './store.js';

const ttl = (at: Date): number => Math.floor(at.getTime() / 1000);

/** `type` is the item's entity type (item.ts): the webhook's own type is stored as `webhookType`. */
type StoredWebhook = Omit<Webhook, 'type'> & { webhookType: Webhook['type'] };
const toStored = ({ type, ...rest }: Webhook): StoredWebhook => ({ ...rest, webhookType: type });
const fromStored = (s: StoredWebhook | undefined): Webhook | undefined => {
  if (!s) return undefined;
  const { webhookType, ...rest } = s;
  return { ...rest, type: webhookType };
};

export class DynamoWebhookRepo implements WebhookRepo {
  constructor(private readonly store: DynamoStore) {}

  get = async (project: string, id: string): Promise<Webhook | undefined> => fromStored(await this.store.get<StoredWebhook>(keys.webhook(project, id)));

  async list(project: string): Promise<Webhook[]> {
    return (await this.store.queryAll(keys.webhooksPartition(project), keys.webhookPrefix)).map((i) => fromStored(fromItem<StoredWebhook>(i))!);
  }

  async create(webhook: Webhook): Promise<Webhook> {
    if (!(await this.store.putIfAbsent('Webhook', keys.webhook(webhook.project, webhook.id), toStored(webhook)))) throw new AlreadyExistsError(`${webhookName(webhook.project, webhook.id)} already exists`);
    return webhook;
  }

  update = async (next: Webhook, expectedVersion: number): Promise<Webhook> =>
    fromStored(await this.store.putVersioned('Webhook', keys.webhook(next.project, next.id), toStored(next), expectedVersion, webhookName(next.project, next.id)))!;

  delete = (project: string, id: string): Promise<void> => this.store.delete(keys.webhook(project, id));

  async createDelivery(d: WebhookDelivery, expiresAt: Date): Promise<boolean> {
    try {
      await this.store.doc.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: { ...toItem('WebhookDelivery', keys.webhookDelivery(d.project, d.webhook, d.id), d), ttl: ttl(expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  getDelivery = (project: string, webhook: string, id: string): Promise<WebhookDelivery | undefined> => this.store.get<WebhookDelivery>(keys.webhookDelivery(project, webhook, id));

  async putDelivery(d: WebhookDelivery, expiresAt: Date): Promise<void> {
    await this.store.doc.send(new PutCommand({ TableName: this.store.tableName, Item: { ...toItem('WebhookDelivery', keys.webhookDelivery(d.project, d.webhook, d.id), d), ttl: ttl(expiresAt) } }));
  }

  async listDeliveries(project: string, webhook: string, limit: number): Promise<WebhookDelivery[]> {
    const out = await this.store.doc.send(
      new QueryCommand({
        TableName: this.store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.webhookDeliveriesPartition(project, webhook), ':prefix': keys.webhookDeliveryPrefix },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((i) => fromItem<WebhookDelivery>(i)!);
  }
}
