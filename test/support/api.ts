// Calls the real handler families with API Gateway v2 events built exactly as the gateway
// builds them (infra/local/events.ts). Import handlers only after process.env points at the
// table (freshTable) or after the SDK is mocked.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { buildEvent } from '../../infra/local/events.js';
import { recordRequest, recordResponse } from './capture.js';
import type { Family } from '../../domain/api/routes.js';
import type { HttpEvent, HttpResult } from '../../functions/shared/http.js';
import type { DynamoStore } from '../../functions/adapters/dynamo/store.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are JSON that each test asserts on
export type Body = any;

export interface ApiResponse {
  /** The gateway's request id of the event sent. */
  requestId: string;
  status: number;
  headers: Record<string, string>;
  body: Body;
}

export interface CallOptions {
  /** An object is sent as JSON; a string is sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The token's email claim; null sends a token without one. */
  as?: string | null;
  /** More claims for the token. */
  claims?: Record<string, string | number | boolean>;
}

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;
export type Handlers = Record<Family | '$default', Handler>;

export const lambdaContext = (): Context =>
  ({
    awsRequestId: randomUUID(),
    functionName: 'sluice-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:sluice-test',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/sluice-test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

export async function importHandlers(): Promise<Handlers> {
  const [meta, workspace, users, environments] = await Promise.all([
    import('../../functions/http/meta.js'),
    import('../../functions/http/workspace.js'),
    import('../../functions/http/users.js'),
    import('../../functions/http/environments.js'),
  ]);
  return {
    meta: meta.handler,
    workspace: workspace.handler,
    users: users.handler,
    environments: environments.handler,
    $default: meta.notFound,
  } as unknown as Handlers; // middy's type wants its own context and options; Lambda passes these two.
}

/** An HTTP-like client over the handlers: routes by the gateway's route table, as API Gateway does. */
export function apiClient(handlers: Handlers, defaultEmail = 'admin@example.com') {
  return async (method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> => {
    const headers = { ...options.headers };
    let body: string | undefined;
    if (typeof options.body === 'string') body = options.body;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const email = options.as === undefined ? defaultEmail : options.as;
    const claims = { ...(email === null ? { sub: 'no-email' } : { sub: `sub-${email}`, email }), ...options.claims };
    recordRequest(options.body);
    const { family, event } = buildEvent({ method, path, headers, ...(body === undefined ? {} : { body }), claims });
    const result = await handlers[family](event, lambdaContext());
    const raw = typeof result.body === 'string' ? result.body : '';
    recordResponse(raw);
    return { requestId: event.requestContext.requestId, status: result.statusCode, headers: result.headers, body: raw ? JSON.parse(raw) : undefined };
  };
}

export type Api = ReturnType<typeof apiClient>;

/**
 * Every item in the table, in key order: compare two of these to prove nothing was written.
 * Audit entries are left out unless asked for: every request to a route that is not a GET leaves
 * one, a refused one too (functions/shared/audit.ts), so "nothing written" means nothing else.
 */
export async function scanTable(store: DynamoStore, options: { audit?: boolean } = {}): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await store.doc.send(
      new ScanCommand({
        TableName: store.tableName,
        ConsistentRead: true,
        ExclusiveStartKey: start,
        // Audit entries stay on the server unless asked for (a fuzz run leaves thousands).
        ...(options.audit ? {} : { FilterExpression: 'attribute_not_exists(#type) OR #type <> :audit', ExpressionAttributeNames: { '#type': 'type' }, ExpressionAttributeValues: { ':audit': 'AuditLog' } }),
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  const key = (i: Record<string, unknown>) => `${String(i.pk)}\u0000${String(i.sk)}`;
  return items.sort((a, b) => key(a).localeCompare(key(b)));
}
