// The local API Gateway: turns HTTP requests into HTTP API v2 events, checks bearer tokens like
// the JWT authorizer, and calls the very handlers the cloud runs, routed by the same route table.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Family } from '../../domain/api/routes.js';
import { buildEvent } from './events.js';
import type { LocalKeys } from './jwt.js';
import { serveConsole, type ConsoleOptions } from './console.js';

type Handler = (event: APIGatewayProxyEventV2WithJWTAuthorizer, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Handler modules load lazily, after the environment (table, endpoint) is set. */
const FAMILY_MODULES: Record<Family, () => Promise<{ handler: unknown }>> = {
  meta: () => import('../../functions/http/meta.js'),
  workspace: () => import('../../functions/http/workspace.js'),
  users: () => import('../../functions/http/users.js'),
  environments: () => import('../../functions/http/environments.js'),
  instances: () => import('../../functions/http/instances.js'),
  databases: () => import('../../functions/http/databases.js'),
  projects: () => import('../../functions/http/projects.js'),
  issues: () => import('../../functions/http/issues.js'),
  sheets: () => import('../../functions/http/sheets.js'),
  sql: () => import('../../functions/http/sql.js'),
  groups: () => import('../../functions/http/groups.js'),
  vcs: () => import('../../functions/http/vcs.js'),
  hooks: () => import('../../functions/http/hooks.js'),
  audit: () => import('../../functions/http/audit.js'),
  webhooks: () => import('../../functions/http/webhooks.js'),
  review: () => import('../../functions/http/review.js'),
};

/** API Gateway's own payload limit; the handlers enforce the API's 1 MiB. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function lambdaContext(name: string): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `sluice-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:sluice-${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/sluice-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function sendError(res: ServerResponse, code: number, status: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json', 'x-request-id': randomUUID() });
  res.end(JSON.stringify({ error: { code, status, message, details: [] } }));
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startServer(options: { port: number; host?: string; keys: LocalKeys; console?: ConsoleOptions }): Promise<LocalServer> {
  const handlers = new Map<string, Promise<Handler>>();
  const load = (family: Family, exportName: 'handler' | 'notFound' = 'handler'): Promise<Handler> => {
    const key = `${family}.${exportName}`;
    if (!handlers.has(key)) handlers.set(key, FAMILY_MODULES[family]().then((m) => (m as unknown as Record<string, Handler>)[exportName]!));
    return handlers.get(key)!;
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      if (body === 'too-large') return sendError(res, 413, 'INVALID_ARGUMENT', `request body is larger than ${GATEWAY_MAX_BYTES} bytes`);
      // The web console (`/`, `/assets/…`, its dev sign-in); deployed, CloudFront serves it instead.
      if (options.console && (await serveConsole(req, res, body, { ...options.console, keys: options.keys, port: req.socket.localPort ?? options.port }))) return;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
      const routed = buildEvent({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body, sourceIp: req.socket.remoteAddress ?? '127.0.0.1' });
      const { family, event, isPublic } = routed;
      let handler: Handler;
      if (family === '$default') {
        handler = await load('meta', 'notFound');
      } else {
        if (!isPublic) {
          const m = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
          if (!m) return sendError(res, 401, 'UNAUTHENTICATED', 'a bearer token is required (Authorization: Bearer <JWT>)');
          try {
            const claims = await options.keys.verify(m[1]!);
            event.requestContext.authorizer.jwt.claims = Object.fromEntries(
              Object.entries(claims).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean)]),
            );
          } catch (e) {
            return sendError(res, 401, 'UNAUTHENTICATED', `invalid token: ${(e as Error).message}`);
          }
        }
        handler = await load(family);
      }
      const result = await handler(event, lambdaContext(family));
      const out = result.body === undefined ? undefined : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      res.end(out);
    } catch {
      // Like a Lambda crash behind the gateway: no internals leak.
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'internal error');
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
