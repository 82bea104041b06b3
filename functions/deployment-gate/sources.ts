import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { DescribeServiceRevisionsCommand, type ECSClient } from '@aws-sdk/client-ecs';
import {
  ANOMALY_DIMENSIONS,
  ANOMALY_METRIC_NAMESPACE,
  ANOMALY_METRICS,
  REVISION_DIMENSION,
  revisionDimensionValue,
} from '../../contracts/anomaly.ts';
import type { RevisionSample } from './decision.ts';

/** A service revision as the gate needs it: its task-definition revision and its target group. */
export interface RevisionInfo {
  readonly serviceRevisionArn: string;
  /** The `Revision` dimension value of its task definition. */
  readonly revision: string;
  /** `targetgroup/<name>/<id>`, the ALB metric dimension; null without a load balancer. */
  readonly targetGroup: string | null;
}

/** Where the gate reads from; the handler passes the AWS implementation, tests a fake or a mocked client. */
export interface GateSources {
  describeRevisions(arns: readonly string[]): Promise<RevisionInfo[]>;
  sample(input: SampleRequest): Promise<RevisionSample>;
}

export interface SampleRequest {
  readonly service: string;
  readonly revision: RevisionInfo;
  readonly startMs: number;
  readonly endMs: number;
}

/** The ALB's namespace and the two metrics the error signal divides. */
const ALB = {
  namespace: 'AWS/ApplicationELB',
  requests: 'RequestCount',
  errors: 'HTTPCode_Target_5XX_Count',
} as const;

/**
 * ECS `DescribeServiceRevisions` (the task definition and the resolved target group of each revision) and
 * CloudWatch `GetMetricData` (the sidecar's `Service` × `Revision` sums and the ALB's per-target-group sums).
 */
export class AwsGateSources implements GateSources {
  constructor(
    private readonly clients: {
      readonly ecs: Pick<ECSClient, 'send'>;
      readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
      /** `app/<name>/<id>`: the ALB dimension of target-group metrics; null when the platform has none. */
      readonly loadBalancerFullName: string | null;
    },
  ) {}

  async describeRevisions(arns: readonly string[]): Promise<RevisionInfo[]> {
    const response = await this.clients.ecs.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: [...arns] }),
    );
    return (response.serviceRevisions ?? []).map((r) => {
      if (!r.serviceRevisionArn || !r.taskDefinition) {
        throw new Error(`service revision ${r.serviceRevisionArn ?? '?'} has no task definition`);
      }
      // resolvedConfiguration names the target group this revision actually serves from (blue/green
      // alternates between the two); loadBalancers is what the service was configured with.
      const targetGroupArn =
        r.resolvedConfiguration?.loadBalancers?.[0]?.targetGroupArn ?? r.loadBalancers?.[0]?.targetGroupArn;
      return {
        serviceRevisionArn: r.serviceRevisionArn,
        revision: revisionDimensionValue(r.taskDefinition),
        targetGroup: targetGroupArn ? targetGroupDimension(targetGroupArn) : null,
      };
    });
  }

  async sample(input: SampleRequest): Promise<RevisionSample> {
    const periodSeconds = Math.max(60, Math.ceil((input.endMs - input.startMs) / 60_000) * 60);
    const anomaly = (id: string, metricName: string): MetricDataQuery => ({
      Id: id,
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: ANOMALY_METRIC_NAMESPACE,
          MetricName: metricName,
          Dimensions: [
            { Name: ANOMALY_DIMENSIONS.service, Value: input.service },
            { Name: REVISION_DIMENSION, Value: input.revision.revision },
          ],
        },
        Period: periodSeconds,
        Stat: 'Sum',
      },
    });
    const queries = [
      anomaly('scored', ANOMALY_METRICS.linesScored),
      anomaly('anomalous', ANOMALY_METRICS.anomalousLines),
    ];
    const { targetGroup } = input.revision;
    const { loadBalancerFullName } = this.clients;
    const withAlb = targetGroup !== null && loadBalancerFullName !== null;
    if (withAlb) {
      for (const [id, metricName] of [
        ['requests', ALB.requests],
        ['errors', ALB.errors],
      ] as const) {
        queries.push({
          Id: id,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: ALB.namespace,
              MetricName: metricName,
              Dimensions: [
                { Name: 'TargetGroup', Value: targetGroup },
                { Name: 'LoadBalancer', Value: loadBalancerFullName },
              ],
            },
            Period: periodSeconds,
            Stat: 'Sum',
          },
        });
      }
    }
    const sums = new Map<string, number>();
    let nextToken: string | undefined;
    do {
      const page = await this.clients.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: new Date(input.startMs),
          EndTime: new Date(input.endMs),
          NextToken: nextToken,
        }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const total = (result.Values ?? []).reduce((a, b) => a + b, 0);
        sums.set(result.Id ?? '', (sums.get(result.Id ?? '') ?? 0) + total);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    // Absent datapoints are zeros: EMF and the ALB publish nothing for an interval without events.
    const sum = (id: string) => sums.get(id) ?? 0;
    return {
      scoredLines: sum('scored'),
      anomalousLines: sum('anomalous'),
      requests: withAlb ? sum('requests') : null,
      errors5xx: withAlb ? sum('errors') : null,
    };
  }
}

/** `arn:aws:elasticloadbalancing:…:targetgroup/acme-frontend/0123` → `targetgroup/acme-frontend/0123`. */
export function targetGroupDimension(targetGroupArn: string): string {
  const index = targetGroupArn.indexOf(':targetgroup/');
  if (index < 0) throw new Error(`'${targetGroupArn}' is not a target group ARN`);
  return targetGroupArn.slice(index + 1);
}
