// Secure, sensible defaults in one place: every construct in infra/lib reads them from here.
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** The repository root, from this file's location: never an absolute path of one machine. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const DEFAULTS = {
  // The newest Node.js runtime CDK knows (cdk-nag AwsSolutions-L1); bundles target node22, which it runs.
  runtime: Runtime.NODEJS_24_X,
  // Graviton: cheaper per ms, and nothing in the bundles is native code.
  architecture: Architecture.ARM_64,
  memorySize: 512,
  // HTTP API waits at most 30 s for an integration; a request that takes 10 s is already broken.
  httpTimeout: Duration.seconds(10),
  seedTimeout: Duration.minutes(1),
  logLevel: 'info',
  // Long enough for an incident review or an audit question a quarter later.
  logRetention: RetentionDays.THREE_MONTHS,
  throttle: { rateLimit: 100, burstLimit: 200 },
  tokenValidity: { id: Duration.hours(1), access: Duration.hours(1), refresh: Duration.days(30) },
  passwordMinLength: 14,
  /** How long the console's CloudFront and bucket access logs are kept. */
  consoleLogDays: 90,
} as const;
