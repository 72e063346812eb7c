// The whole deployment: table, one function per handler family, HTTP API with JWT auth, and
// the deploy-time seed. Everything a construct needs comes in through readonly props.
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { HANDLER_ENTRIES } from '../bundling.js';
import { FAMILIES, type Family } from '../../domain/routes.js';
import { SluiceApi } from './api.js';
import { SluiceAuth, type ExternalJwt } from './auth.js';
import { DEFAULTS } from './defaults.js';
import { SluiceFunction } from './function.js';
import { Seed } from './seed.js';
import { grantDataSourceSecrets } from './secrets.js';
import { SluiceTable } from './table.js';

export interface SluiceStackProps extends StackProps {
  /** The first workspaceAdmin: seeded in the table and, with Cognito, created in the user pool. */
  readonly adminEmail?: string;
  /** An external OIDC issuer and audience instead of the stack's Cognito user pool. */
  readonly externalJwt?: ExternalJwt;
  readonly requireMfa?: boolean;
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention?: RetentionDays;
}

export class SluiceStack extends Stack {
  readonly table: SluiceTable;
  readonly functions: Readonly<Record<Family, SluiceFunction>>;
  readonly notFound: SluiceFunction;
  readonly api: SluiceApi;
  readonly auth: SluiceAuth;
  readonly seed: Seed;

  constructor(scope: Construct, id: string, props: SluiceStackProps = {}) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? DEFAULTS.logRetention;

    this.table = new SluiceTable(this, 'Data');
    const tableEnv = { TABLE_NAME: this.table.table.tableName };
    const functions = {} as Record<Family, SluiceFunction>;
    const handlers = {} as Record<Family, IFunction>;
    for (const family of FAMILIES) {
      // meta serves health and the OpenAPI document: no table, so no table access at all.
      const usesTable = family !== 'meta';
      functions[family] = new SluiceFunction(this, `${family[0]!.toUpperCase()}${family.slice(1)}`, {
        entry: HANDLER_ENTRIES[family],
        description: `Sluice ${family} API`,
        environment: usesTable ? tableEnv : {},
        logRetention,
      });
      if (usesTable) this.table.grantData(functions[family].fn);
      handlers[family] = functions[family].fn;
    }
    // Only the function that connects to database servers holds their passwords; sync batches tables.
    grantDataSourceSecrets(functions.instances, this.stackName);
    this.table.grantBatchWrite(functions.instances.fn);
    this.functions = functions;
    this.notFound = new SluiceFunction(this, 'NotFound', {
      entry: HANDLER_ENTRIES.meta,
      handler: 'notFound',
      description: 'Sluice 404 for unrouted requests',
      logRetention,
    });

    this.auth = new SluiceAuth(this, 'Auth', {
      external: props.externalJwt,
      adminEmail: props.adminEmail,
      requireMfa: props.requireMfa,
    });
    this.api = new SluiceApi(this, 'Http', {
      functions: handlers,
      notFound: this.notFound.fn,
      jwtIssuer: this.auth.issuer,
      jwtAudience: this.auth.audience,
      throttle: props.throttle ?? DEFAULTS.throttle,
      logRetention,
    });
    this.seed = new Seed(this, 'Seed', { table: this.table, adminEmail: props.adminEmail, logRetention });

    if (!props.adminEmail) {
      Annotations.of(this).addWarningV2(
        'sluice:no-admin-email',
        'No adminEmail in context: no first admin is seeded, so nobody can manage users. Deploy with -c adminEmail=you@example.com.',
      );
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the Sluice API' });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    if (this.auth.userPool && this.auth.client) {
      new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.auth.client.userPoolClientId });
    }
  }
}
