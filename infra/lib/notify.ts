// Events and webhook delivery, deployed (docs/events.md): the pipeline's functions put each
// transition on the default EventBridge bus (source `sluice`); a rule sends the webhook events to
// an SQS queue; the delivery function takes them from it, sends each to the project's webhooks and
// queues a failed attempt's retry on the same queue with a delay (exponential backoff for more
// than 24 hours). A message the function itself keeps failing on (the table or Secrets Manager
// failing, never a receiver) goes to the dead-letter queue after five receives.
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE, WEBHOOK_EVENTS } from '../../domain/notify/events.js';
import { HANDLER_ENTRIES } from '../bundling.js';
import { SluiceFunction } from './function.js';
import type { SluiceTable } from './table.js';

export interface NotifyProps {
  readonly table: SluiceTable;
  /** TABLE_NAME for the delivery function. */
  readonly tableEnv: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** Where Secrets Manager secrets live (`{prefix}/webhooks/{project}/{id}`). */
  readonly secretsPrefix: string;
}

/** The delivery function's time per batch: up to 20 webhooks of a project, 10 s per attempt. */
const DELIVERY_TIMEOUT = Duration.minutes(5);

export class Notify extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly rule: Rule;
  readonly delivery: SluiceFunction;

  constructor(scope: Construct, id: string, props: NotifyProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    this.queue = new Queue(this, 'Deliveries', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the function's timeout, as Lambda advises for an SQS event source.
      visibilityTimeout: Duration.minutes(30),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
    this.rule = new Rule(this, 'WebhookEvents', {
      description: 'Sluice: webhook events to the delivery queue',
      eventPattern: { source: [EVENT_SOURCE], detailType: [...WEBHOOK_EVENTS] },
      targets: [new SqsQueue(this.queue)],
    });
    this.delivery = new SluiceFunction(this, 'Delivery', {
      entry: HANDLER_ENTRIES.webhookDelivery,
      description: 'Sluice webhooks: deliver events to project webhooks, with retries',
      environment: { ...props.tableEnv, WEBHOOK_QUEUE_URL: this.queue.queueUrl },
      logRetention: props.logRetention,
      timeout: DELIVERY_TIMEOUT,
    });
    this.delivery.fn.addEventSource(new SqsEventSource(this.queue, { batchSize: 5, reportBatchItemFailures: true }));
    props.table.grantReadPut(this.delivery.fn);
    this.grantRetry(this.delivery);
    grantWebhookSecrets(this.delivery, props.secretsPrefix, ['secretsmanager:GetSecretValue'], 'The delivery function reads the URL and signing secret of the webhook it sends to');
  }

  /** A failed attempt's next try (and `:test`) is a message on the delivery queue: SendMessage only. */
  grantRetry(fn: SluiceFunction): void {
    fn.fn.addEnvironment('WEBHOOK_QUEUE_URL', this.queue.queueUrl);
    fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
  }
}

/** PutEvents on the account's default bus, and SLUICE_EVENT_BUS to use it. */
export function grantPutEvents(fn: SluiceFunction): void {
  const bus = Stack.of(fn).formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' });
  fn.fn.addEnvironment('SLUICE_EVENT_BUS', 'default');
  fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['events:PutEvents'], resources: [bus] }));
}

/** Webhook secrets: `{prefix}/webhooks/{project}/{id}`, apart from data source passwords and connector secrets. */
export function grantWebhookSecrets(fn: SluiceFunction, prefix: string, actions: readonly string[], who: string): void {
  const stack = Stack.of(fn);
  fn.fn.addEnvironment('SECRETS_PREFIX', prefix);
  const resourceName = `${prefix}/webhooks/*`;
  const arn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...actions], resources: [arn] }));
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${resourceName}]`,
    reason: `${who}; one secret per webhook, created at run time with a random ARN suffix, so the ARNs cannot be listed in advance. The wildcard is confined to this stack's webhooks/ prefix: no data source password or connector secret is reachable.`,
  });
}
