import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionName } from '../../../functions/build.ts';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Props of {@link PlatformFunction}. */
export interface PlatformFunctionProps {
  /** Which handler of `functions/` to bundle. */
  readonly functionName: FunctionName;
  readonly description: string;
  /** The function's log group (encrypted, with the platform's retention). */
  readonly logGroup: logs.ILogGroup;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeout: Duration;
  /** @default 512 */
  readonly memoryMiB?: number;
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** Asynchronous invocations: retries before the on-failure destination. @default 2 (Lambda's default) */
  readonly retryAttempts?: number;
  /** Asynchronous invocations: where events go after the last failed attempt. @default - none */
  readonly onFailure?: lambda.IDestination;
}

/**
 * A platform Lambda function: arm64, Node.js 22, bundled locally by `functions/build.ts` (the same
 * bundler `npm run bench:functions` measures, so the deployed artifact is the measured one; it uses
 * esbuild plugins, which NodejsFunction's CLI-driven bundling cannot pass), X-Ray tracing, JSON logs
 * into the given log group.
 *
 * @example
 * new PlatformFunction(this, 'Predict', { functionName: 'predict', description: 'POST /predict', logGroup, environment: {}, timeout: Duration.seconds(10) });
 */
export class PlatformFunction extends Construct {
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: bundledCode(props.functionName),
      memorySize: props.memoryMiB ?? 512,
      timeout: props.timeout,
      environment: { ...props.environment },
      logGroup: props.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      ...(props.onFailure ? { onFailure: props.onFailure, maxEventAge: Duration.hours(6) } : {}),
    });
  }
}

/** One bundle per function and process: several stacks (tests) reuse it. */
const codeCache = new Map<FunctionName, lambda.Code>();

function bundledCode(name: FunctionName): lambda.Code {
  const cached = codeCache.get(name);
  if (cached) return cached;
  const code = lambda.Code.fromAsset(join(repositoryRoot, 'functions'), {
    // The bundle's content is the version: unrelated edits under functions/ do not redeploy a function.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only used if local bundling were unavailable; it never is (tryBundle returns true or throws).
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-bookworm-slim'),
      local: {
        tryBundle(outputDir: string): boolean {
          const result = spawnSync(
            process.execPath,
            ['--import', 'tsx', join(repositoryRoot, 'functions', 'build.ts'), name, outputDir],
            { cwd: repositoryRoot, encoding: 'utf8' },
          );
          if (result.status !== 0) {
            throw new Error(`bundling functions/${name} failed: ${result.stderr || result.error?.message}`);
          }
          return true;
        },
      },
    },
  });
  codeCache.set(name, code);
  return code;
}
