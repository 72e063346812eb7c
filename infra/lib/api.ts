// The HTTP API: one route per entry of the route table, each to its family's function.
import { Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, PayloadFormatVersion } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { gatewayRoutes, type Family } from '../../domain/api/routes.js';

export interface SluiceApiProps {
  /** The function of each handler family. */
  readonly functions: Readonly<Record<Family, IFunction>>;
  /** Answers every request no route matches (a 404 in the API's error shape). */
  readonly notFound: IFunction;
  readonly jwtIssuer: string;
  readonly jwtAudience: readonly string[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
}

/** One line of JSON per request; requestId matches the handlers' log lines and response header. */
const ACCESS_LOG = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    time: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    method: '$context.httpMethod',
    path: '$context.path',
    routeKey: '$context.routeKey',
    status: '$context.status',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationLatencyMs: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
    sub: '$context.authorizer.claims.sub',
  }),
);

export class SluiceApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: SluiceApiProps) {
    super(scope, id);
    const integrate = (name: string, fn: IFunction) =>
      new HttpLambdaIntegration(name, fn, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
    const notFound = integrate('NotFound', props.notFound);
    this.api = new HttpApi(this, 'Api', {
      description: 'Sluice database change management API',
      // Our stage below carries access logs and throttling; the implicit one would not.
      createDefaultStage: false,
      // `$default`: unknown paths and methods get the API's 404 body, not API Gateway's.
      defaultIntegration: notFound,
    });

    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: { destination: new LogGroupLogDestination(this.accessLogs), format: ACCESS_LOG },
    });

    const authorizer = new HttpJwtAuthorizer('Jwt', props.jwtIssuer, { jwtAudience: [...props.jwtAudience] });
    // One integration per family, shared by its routes.
    const integrations = new Map<Family, HttpLambdaIntegration>();
    const publicRoutes: Construct[] = [this.api.node.findChild('DefaultRoute')];
    for (const r of gatewayRoutes()) {
      if (!integrations.has(r.family)) integrations.set(r.family, integrate(r.family, props.functions[r.family]));
      const [route] = this.api.addRoutes({
        path: r.path,
        methods: [HttpMethod[r.method]],
        integration: integrations.get(r.family)!,
        ...(r.public ? {} : { authorizer }),
      });
      if (r.public) publicRoutes.push(route!);
    }

    for (const route of publicRoutes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Public by the API contract (API.md, Authentication): GET /healthz, GET /v1/openapi.json, the $default catch-all that only answers 404, and the VCS webhook, which the provider cannot send a JWT to and which checks its HMAC or token signature in constant time before reading or writing anything (throttled with the stage). Every other route requires a JWT.',
      });
    }
  }

  /** Base URL without a trailing slash (the stage is `$default`), so `$URL/v1/...` just works. */
  get url(): string {
    return this.api.apiEndpoint;
  }
}
