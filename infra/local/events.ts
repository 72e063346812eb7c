// Builds API Gateway v2 (HTTP API, payload 2.0) events the way the gateway does, JWT claims included.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { gatewayPath, matchGatewayRoute, type Family } from '../../domain/api/routes.js';

export interface EventInput {
  method: string;
  /** Path with an optional query string. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  claims?: Record<string, string | number | boolean | string[]>;
  sourceIp?: string;
}

export interface RoutedEvent {
  family: Family | '$default';
  /** The route takes no bearer token (health, OpenAPI). */
  isPublic: boolean;
  event: APIGatewayProxyEventV2WithJWTAuthorizer;
}

export function buildEvent(input: EventInput): RoutedEvent {
  const url = new URL(input.path, 'http://localhost');
  const method = input.method.toUpperCase();
  const match = matchGatewayRoute(method, url.pathname);
  const headers = Object.fromEntries(Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const query: Record<string, string> = {};
  // The gateway joins repeated query parameters with commas.
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const body = input.body === undefined ? undefined : Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body);
  const isText = /json|text|xml|urlencoded/.test(headers['content-type'] ?? '');
  const now = new Date();
  const event: APIGatewayProxyEventV2WithJWTAuthorizer = {
    version: '2.0',
    routeKey: match ? `${method} ${gatewayPath(match.route.path)}` : '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(match && Object.keys(match.params).length ? { pathParameters: match.params } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: input.claims ?? {}, scopes: [] } },
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: input.sourceIp ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: match ? `${method} ${gatewayPath(match.route.path)}` : '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body && body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: Boolean(body && body.length && !isText),
  };
  return { family: match?.route.family ?? '$default', isPublic: match?.route.public ?? true, event };
}
