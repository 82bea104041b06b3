import { type Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { type Grant, WiringInvariantError } from '../../wiring/index.ts';
import { type AwsSources, logGroupOf } from './value-sources.ts';

/** What one grant of the wiring becomes on a task role. */
export interface GrantRendering {
  /** Statements added to the task role's policy, in this order. */
  readonly statements: readonly iam.PolicyStatementProps[];
  /** A log group the role writes to, through CDK's own grant (the actions CloudWatch Logs needs). */
  readonly writes?: logs.ILogGroup;
  /** cdk-nag findings acknowledged on the task role, each with its reason. */
  readonly acknowledgements: readonly { readonly id: string; readonly reason: string }[];
  /**
   * The grant calls a service reached through a gateway endpoint (S3, DynamoDB), so the task's
   * group needs HTTPS routed to it (Network.allowGatewayAccessFrom).
   */
  readonly gatewayEgress?: boolean;
}

/** What the table needs to name a grant's resources. */
export interface GrantContext {
  readonly stack: Stack;
  readonly sources: AwsSources;
  /** ARN of the model endpoint; required by `invoke-model`. */
  readonly endpointArn: string | undefined;
  /** The service the task belongs to (named in acknowledgements). */
  readonly service: string;
  /** The cluster's logical id (cdk-nag names cluster-scoped wildcards by it). */
  readonly clusterLogicalId: string;
  /** Construct path of the task, for the error of a missing endpoint. */
  readonly path: string;
}

/**
 * The table from a wiring grant to its IAM statements: each grant on exactly its own resources.
 * Pure: it builds statement descriptions, the task definition adds them to its role.
 */
const GRANT_TABLE: {
  readonly [K in Grant['kind']]: (
    grant: Extract<Grant, { kind: K }>,
    context: GrantContext,
  ) => GrantRendering;
} = {
  'invoke-model': (_grant, { endpointArn, path }) => {
    if (!endpointArn) throw new WiringInvariantError(path, 'invoke-model needs the model endpoint');
    return {
      statements: [{ actions: ['sagemaker:InvokeEndpoint'], resources: [endpointArn] }],
      acknowledgements: [],
    };
  },
  'write-log-group': (grant, { sources }) => ({
    statements: [],
    writes: grant.group === 'app' ? sources.appLogGroup : sources.anomalyLogGroup,
    acknowledgements: [],
  }),
  'read-gate-decisions': (_grant, { sources, path }) => ({
    statements: [
      {
        actions: ['logs:FilterLogEvents'],
        resources: [logGroupOf('deployment-gate', sources, path).logGroupArn],
      },
    ],
    acknowledgements: [],
  }),
  'read-anomalies': (_grant, { sources, service }) => ({
    statements: [
      { actions: ['logs:FilterLogEvents'], resources: [sources.anomalyLogGroup.logGroupArn] },
      { actions: ['cloudwatch:GetMetricData'], resources: ['*'] },
    ],
    acknowledgements: [
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: `cloudwatch:GetMetricData and cloudwatch:DescribeAlarms have no resource-level permissions; granted only to ${service} because it declares platformAccess.readAnomalies (the console: read-only metrics and alarm states).`,
      },
    ],
  }),
  'read-service-state': (_grant, { stack, sources, clusterLogicalId }) => {
    const cluster = sources.clusterName;
    const arn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'ecs', resource, resourceName });
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    return {
      statements: [
        {
          actions: ['ecs:DescribeServices'],
          resources: sources.serviceNames.map((name) => arn('service', `${cluster}/${name}`)),
        },
        { actions: ['ecs:ListTasks', 'ecs:ListContainerInstances'], resources: [arn('cluster', cluster)] },
        {
          actions: ['ecs:DescribeTasks', 'ecs:DescribeContainerInstances'],
          resources: [arn('task', `${cluster}/*`), arn('container-instance', `${cluster}/*`)],
          conditions: { ArnEquals: { 'ecs:cluster': arn('cluster', cluster) } },
        },
        // DescribeAlarms has no resource-level permissions.
        { actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] },
        { actions: ['dynamodb:Scan'], resources: [sources.remediationLedger.tableArn] },
      ],
      // The ledger is read through the DynamoDB gateway endpoint, which security groups reach by route.
      gatewayEgress: true,
      // Tasks and container instances of this cluster only (their ARNs are not known in advance).
      acknowledgements: ['task', 'container-instance'].map((kind) => ({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${region}:<AWS::AccountId>:${kind}/<${clusterLogicalId}>/*]`,
        reason: `The console lists the ${kind}s of its own cluster (ids unknown until they run): ${kind}/<cluster>/*, with an ecs:cluster condition.`,
      })),
    };
  },
};

/** Each distinct grant's rendering, in the order the wiring lists them. */
export function renderGrants(grants: readonly Grant[], context: GrantContext): GrantRendering[] {
  const seen = new Set<string>();
  const rendered: GrantRendering[] = [];
  for (const grant of grants) {
    const key = JSON.stringify(grant);
    if (seen.has(key)) continue;
    seen.add(key);
    const render = GRANT_TABLE[grant.kind] as (grant: Grant, context: GrantContext) => GrantRendering;
    rendered.push(render(grant, context));
  }
  return rendered;
}
