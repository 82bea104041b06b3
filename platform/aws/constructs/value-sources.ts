import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { type DirectoryEntryWiring, type ValueSource, WiringInvariantError } from '../../wiring/index.ts';

/** What the AWS renderer turns the wiring's value sources into: tokens of this stack. */
export interface AwsSources {
  readonly region: string;
  readonly clusterName: string;
  readonly appLogGroup: logs.ILogGroup;
  readonly appLogStreamPrefix: string;
  readonly anomalyLogGroup: logs.ILogGroup;
  /** The deployment gate's log group; present when a deployment shifts traffic (the gate exists). */
  readonly gateLogGroup?: logs.ILogGroup;
  /** `http://<name>.<namespace>:<port>` of a discoverable callee. */
  readonly calleeUrl: (service: string) => string;
  /** The SageMaker endpoint's name; undefined without a declared model. */
  readonly modelEndpointName?: string;
  /** The service directory's JSON (contracts/service-directory.ts), tokens inside. */
  readonly serviceDirectory: string;
  /** Every service of the platform (the directory's ECS services). */
  readonly serviceNames: readonly string[];
  /** The remediation ledger (lazy tokens: the table is made after the services). */
  readonly remediationLedger: { readonly tableName: string; readonly tableArn: string };
  /** The task's intake token (made on first use, one per task definition). */
  readonly intakeToken?: () => secretsmanager.ISecret;
}

/**
 * The plain part of a container's environment; secrets are rendered by {@link renderSecrets}.
 * Throws for a source the stack cannot supply (a model endpoint name without a model).
 */
export function renderEnvironment(
  environment: Readonly<Record<string, ValueSource>>,
  sources: AwsSources,
  port: number | undefined,
): Record<string, string> {
  const rendered: Record<string, string> = {};
  for (const [name, source] of Object.entries(environment)) {
    const value = renderValue(source, sources, port, name);
    if (value !== undefined) rendered[name] = value;
  }
  return rendered;
}

function renderValue(
  source: ValueSource,
  sources: AwsSources,
  port: number | undefined,
  name: string,
): string | undefined {
  switch (source.kind) {
    case 'literal':
      return source.value;
    case 'secret':
    case 'intake-token':
      return undefined;
    case 'listen-port':
      if (port === undefined)
        throw new WiringInvariantError(name, 'listen-port on a container without a port');
      return String(port);
    case 'listen-host':
      // awsvpc: containers of one task share localhost; `network` must accept the ALB and callers.
      return source.scope === 'task' ? '127.0.0.1' : '0.0.0.0';
    case 'callee-url':
      return sources.calleeUrl(source.service);
    case 'model-endpoint-name':
      if (!sources.modelEndpointName)
        throw new WiringInvariantError(name, 'model-endpoint-name without a model endpoint');
      return sources.modelEndpointName;
    case 'log-group':
      return logGroupOf(source.group, sources, name).logGroupName;
    case 'log-stream-prefix':
      return sources.appLogStreamPrefix;
    case 'region':
      return sources.region;
    case 'cluster-name':
      return sources.clusterName;
    case 'service-directory':
      return sources.serviceDirectory;
    case 'anomaly-source':
      return 'cloudwatch';
    case 'operations-source':
      return 'aws';
    case 'remediation-ledger':
      return sources.remediationLedger.tableName;
  }
}

/**
 * The secrets of a container's environment (declared ones and the task's intake token), as ECS
 * `secrets` references (never values): the execution role reads them when the task starts.
 */
export function renderSecrets(
  scope: Construct,
  environment: Readonly<Record<string, ValueSource>>,
  sources: Pick<AwsSources, 'intakeToken'>,
): Record<string, ecs.Secret> {
  const rendered: Record<string, ecs.Secret> = {};
  for (const [variable, source] of Object.entries(environment)) {
    if (source.kind === 'intake-token') {
      if (!sources.intakeToken) throw new Error(`${variable}: an intake token outside a task definition`);
      rendered[variable] = ecs.Secret.fromSecretsManager(sources.intakeToken());
      continue;
    }
    if (source.kind !== 'secret') continue;
    const secret = source.secret;
    if (secret.source === 'secretsmanager') {
      const ref = secretsmanager.Secret.fromSecretNameV2(scope, `Secret${variable}`, secret.secretName);
      rendered[variable] = ecs.Secret.fromSecretsManager(ref, secret.field);
    } else {
      const ref = ssm.StringParameter.fromSecureStringParameterAttributes(scope, `Parameter${variable}`, {
        parameterName: secret.parameterName,
      });
      rendered[variable] = ecs.Secret.fromSsmParameter(ref);
    }
  }
  return rendered;
}

/**
 * The wiring's service directory on AWS (contracts/service-directory.ts): each service's health is its
 * ECS service's counts, read by name in the platform's cluster; anomalies come from CloudWatch (the
 * anomaly source), so no entry names a sidecar.
 */
export function renderServiceDirectory(
  entries: readonly DirectoryEntryWiring[],
  clusterName: string,
): string {
  return JSON.stringify(
    entries.map((entry) => ({
      name: entry.name,
      kind: entry.kind,
      ecs: { cluster: clusterName, service: entry.health.service },
    })),
  );
}

/** A platform log group by the wiring's name for it. */
export function logGroupOf(
  group: 'app' | 'anomaly' | 'deployment-gate',
  sources: AwsSources,
  name: string,
): logs.ILogGroup {
  if (group === 'app') return sources.appLogGroup;
  if (group === 'anomaly') return sources.anomalyLogGroup;
  // The wiring names the gate's group only where a deployment shifts traffic, which renders the gate.
  if (!sources.gateLogGroup)
    throw new WiringInvariantError(name, "the deployment gate's log group was not rendered");
  return sources.gateLogGroup;
}
