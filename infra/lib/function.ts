// One Lambda function, secure by default: its own role (no AWS managed policy), its own log
// group with retention, bundled locally by esbuild with the options the benchmark measures
// (infra/bundling.ts: split at dynamic imports, so the asset is a folder of chunks, which
// NodejsFunction cannot produce).
import { AssetHashType, DockerImage, type Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Code, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundleFunction } from '../bundling.js';
import { DEFAULTS, PROJECT_ROOT } from './defaults.js';

export interface SluiceFunctionProps {
  /** Handler module, relative to the repository root (see HANDLER_ENTRIES). */
  readonly entry: string;
  /** Exported name of the handler in that module. */
  readonly handler?: string;
  readonly description: string;
  readonly environment?: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  readonly timeout?: Duration;
  /** Module paths under node_modules copied beside the bundle's index.mjs (BUNDLED_FILES). */
  readonly files?: readonly string[];
}

export class SluiceFunction extends Construct {
  readonly fn: LambdaFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: SluiceFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention });
    // Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): write to this group only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    const code = Code.fromAsset(PROJECT_ROOT, {
      // The hash of the bundle, not of the repository (which holds node_modules).
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // What is bundled, in the options CDK keys its staged-asset cache by (source path and
        // bundling options, JSON: tryBundle, a function, is not in it). Without it every function
        // of an app deployed the first function's bundle (test/infra/bundles.test.ts).
        environment: { SLUICE_ENTRY: props.entry, SLUICE_FILES: (props.files ?? []).join(',') },
        // Never used: local bundling always succeeds or throws, so synth works offline without Docker.
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'),
        local: {
          tryBundle: (outputDir: string) => {
            bundleFunction(PROJECT_ROOT, props.entry, outputDir, props.files);
            return true;
          },
        },
      },
    });

    this.fn = new LambdaFunction(this, 'Function', {
      code,
      handler: `index.${props.handler ?? 'handler'}`,
      description: props.description,
      runtime: DEFAULTS.runtime,
      architecture: DEFAULTS.architecture,
      memorySize: DEFAULTS.memorySize,
      timeout: props.timeout ?? DEFAULTS.httpTimeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: { LOG_LEVEL: DEFAULTS.logLevel, ...props.environment },
    });
  }
}
