// One Lambda function, secure by default: its own role (no AWS managed policy), its own log
// group with retention, bundled locally by esbuild with the options the benchmark measures.
import type { Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { BUNDLING } from '../bundling.js';
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
  /** Files (relative to the repository root) copied beside the bundle's index.mjs. */
  readonly files?: readonly string[];
}

export class SluiceFunction extends Construct {
  readonly fn: NodejsFunction;
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

    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      description: props.description,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: DEFAULTS.runtime,
      architecture: DEFAULTS.architecture,
      memorySize: DEFAULTS.memorySize,
      timeout: props.timeout ?? DEFAULTS.httpTimeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: { LOG_LEVEL: DEFAULTS.logLevel, ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLING.target,
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourcemap,
        mainFields: [...BUNDLING.mainFields],
        banner: BUNDLING.banner,
        externalModules: [...BUNDLING.external],
        esbuildArgs: { '--legal-comments': BUNDLING.legalComments },
        // The npm esbuild on this machine, never a Docker image: synth works offline.
        forceDockerBundling: false,
        ...(props.files && props.files.length > 0
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) => props.files!.map((f) => `cp "${path.join(inputDir, f)}" "${outputDir}/"`),
              },
            }
          : {}),
      },
    });
  }
}
