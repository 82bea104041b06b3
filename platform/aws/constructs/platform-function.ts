import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import type { FunctionName } from '../../../contracts/functions.ts';

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
  /** The VPC the function's ENIs live in (egress to AWS APIs through NAT or VPC endpoints). */
  readonly vpc: ec2.IVpc;
  /** Private subnets with egress. */
  readonly subnets: ec2.SubnetSelection;
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
 * A platform Lambda function: arm64, Node.js 24, bundled locally by `functions/build.ts` (the same
 * bundler `npm run bench:functions` measures, so the deployed artifact is the measured one; it uses
 * esbuild plugins, which NodejsFunction's CLI-driven bundling cannot pass), X-Ray tracing, JSON logs
 * into the given log group, in the VPC's private subnets behind an egress-only security group, with
 * its own role (no AWS-managed policies): log writes to its log group, X-Ray, and the ENI actions a
 * VPC function needs; callers grant the rest.
 *
 * @example
 * new PlatformFunction(this, 'Predict', { functionName: 'predict', description: 'POST /predict', logGroup, environment: {}, timeout: Duration.seconds(10) });
 */
export class PlatformFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.functionName} function (HTTPS to AWS endpoints only; no ingress)`,
      // The network adds HTTPS to the VPC endpoints (Network.allowEndpointAccessFrom); nothing else.
      allowAllOutbound: false,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName} function`,
    });
    const basics = new iam.Policy(this, 'BasicPolicy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [props.logGroup.logGroupArn],
        }),
        new iam.PolicyStatement({
          actions: [
            'xray:PutTraceSegments',
            'xray:PutTelemetryRecords',
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      ],
    });
    this.role.attachInlinePolicy(basics);
    // On the whole unit: CDK adds X-Ray and VPC statements of its own to the role's default policy too.
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray trace upload and the ENI actions Lambda performs for a VPC function support no resource-level permissions.',
    });
    this.function = new lambda.Function(this, 'Function', {
      role: this.role,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
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

/**
 * How cdk-nag prints a resource in an IAM5 finding id (`arn:<AWS::Partition>:…:<LogicalId.Attr>`), so
 * an acknowledgement can name the exact finding instead of silencing the rule on the whole policy.
 */
export function nagResource(scope: IConstruct, value: string): string {
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const ref = (part as { Ref?: string }).Ref;
    if (ref) return `<${ref}>`;
    const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
    const sub = (part as { 'Fn::Sub'?: string })['Fn::Sub'];
    if (typeof sub === 'string') return sub.replace(/\$\{([^}]+)\}/g, '<$1>');
    const join = (part as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join) return join[1].map(render).join(join[0]);
    return JSON.stringify(part);
  };
  return render(Stack.of(scope).resolve(value));
}

/**
 * One esbuild run per function and process: later cloud assemblies (tests synthesise several apps)
 * copy the first bundle. A `lambda.Code` binds to one stack, so each function gets its own Code.
 */
const bundles = new Map<FunctionName, string>();
process.once('exit', () => {
  for (const dir of bundles.values()) rmSync(dir, { recursive: true, force: true });
});

function bundle(name: FunctionName, outputDir: string): void {
  const cached = bundles.get(name);
  if (cached) {
    cpSync(cached, outputDir, { recursive: true });
    return;
  }
  const result = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), join(repositoryRoot, 'functions', 'build.ts'), name, outputDir],
    { cwd: repositoryRoot, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(`bundling functions/${name} failed: ${result.stderr || result.error?.message}`);
  }
  const copy = mkdtempSync(join(tmpdir(), `platform-function-${name}-`));
  cpSync(outputDir, copy, { recursive: true });
  bundles.set(name, copy);
}

function bundledCode(name: FunctionName): lambda.Code {
  return lambda.Code.fromAsset(join(repositoryRoot, 'functions'), {
    // The bundle's content is the version: unrelated edits under functions/ do not redeploy a function.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only used if local bundling were unavailable; it never is (tryBundle returns true or throws).
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-bookworm-slim'),
      // Names the function in CDK's asset-staging cache key, which serialises these options to JSON and
      // so drops tryBundle: without it every function of an app is staged with the first one's bundle.
      environment: { PLATFORM_FUNCTION: name },
      local: {
        tryBundle(outputDir: string): boolean {
          bundle(name, outputDir);
          return true;
        },
      },
    },
  });
}
