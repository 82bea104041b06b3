import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeServiceRevisionsCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import {
  ANOMALY_DIMENSIONS,
  ANOMALY_METRICS,
  REVISION_DIMENSION,
  revisionDimensionValue,
} from '../../contracts/anomaly.ts';
import {
  addCounts,
  ClassCountsSchema,
  COUNTS_EMF_PROPERTIES,
  EMPTY_COUNTS,
  type RevisionCounts,
} from '../../contracts/revision-counts.ts';
import { type RevisionSample, sampleOf, type Tally } from './comparison.ts';

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

/** Pages of sidecar EMF lines read per sample: a ten-minute window of 50 tasks is one or two. */
const MAX_LOG_PAGES = 20;

/**
 * The sidecar's EMF line as the gate reads it (contracts/scoring-output.ts writes it). Lines from a
 * sidecar older than the request classes carry no `LinesReceived`: what was scored had arrived.
 */
const EmfCountsSchema = z
  .object({
    [ANOMALY_METRICS.linesScored]: z.number().nonnegative(),
    [ANOMALY_METRICS.anomalousLines]: z.number().nonnegative(),
    [COUNTS_EMF_PROPERTIES.received]: z.number().nonnegative().optional(),
    [COUNTS_EMF_PROPERTIES.scorerFailures]: z.number().nonnegative().optional(),
    [COUNTS_EMF_PROPERTIES.classes]: z.record(z.string(), ClassCountsSchema).optional(),
  })
  .transform(
    (line): RevisionCounts => ({
      received: line[COUNTS_EMF_PROPERTIES.received] ?? line[ANOMALY_METRICS.linesScored],
      scored: line[ANOMALY_METRICS.linesScored],
      anomalous: line[ANOMALY_METRICS.anomalousLines],
      scorerFailures: line[COUNTS_EMF_PROPERTIES.scorerFailures] ?? 0,
      classes: line[COUNTS_EMF_PROPERTIES.classes] ?? {},
    }),
  );

/**
 * ECS `DescribeServiceRevisions` (the task definition and the resolved target group of each revision),
 * CloudWatch Logs `FilterLogEvents` on the anomaly log group (the sidecars' EMF lines of one `Service` and
 * `Revision`: the same lines the anomaly metrics are extracted from, with their per-request-class counts)
 * and CloudWatch `GetMetricData` (the ALB's per-target-group requests and target 5xx).
 */
export class AwsGateSources implements GateSources {
  constructor(
    private readonly clients: {
      readonly ecs: Pick<ECSClient, 'send'>;
      readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
      readonly logs: Pick<CloudWatchLogsClient, 'send'>;
      /** The platform's anomaly log group, where the sidecars write their EMF lines. */
      readonly anomalyLogGroup: string;
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
    const [counts, loadBalancer] = await Promise.all([this.counts(input), this.loadBalancer(input)]);
    return sampleOf(`${input.service}:${input.revision.revision}`, counts, loadBalancer);
  }

  private async counts(input: SampleRequest): Promise<RevisionCounts> {
    let total = EMPTY_COUNTS;
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_LOG_PAGES; page++) {
      const response = await this.clients.logs.send(
        new FilterLogEventsCommand({
          logGroupName: this.clients.anomalyLogGroup,
          startTime: input.startMs,
          endTime: input.endMs,
          // Only EMF lines carry the capitalised dimensions; anomaly records use `service`/`revision`.
          filterPattern: `{ ($.${ANOMALY_DIMENSIONS.service} = "${input.service}") && ($.${REVISION_DIMENSION} = "${input.revision.revision}") }`,
          nextToken,
        }),
      );
      for (const event of response.events ?? []) {
        const parsed = EmfCountsSchema.safeParse(parseJson(event.message));
        if (parsed.success) total = addCounts(total, parsed.data);
      }
      nextToken = response.nextToken;
      if (!nextToken) break;
    }
    return total;
  }

  private async loadBalancer(input: SampleRequest): Promise<Tally | null> {
    const { targetGroup } = input.revision;
    const { loadBalancerFullName } = this.clients;
    if (targetGroup === null || loadBalancerFullName === null) return null;
    const periodSeconds = Math.max(60, Math.ceil((input.endMs - input.startMs) / 60_000) * 60);
    const queries: MetricDataQuery[] = (
      [
        ['requests', ALB.requests],
        ['errors', ALB.errors],
      ] as const
    ).map(([id, metricName]) => ({
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
    }));
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
    // Absent datapoints are zeros: the ALB publishes nothing for an interval without requests.
    return { bad: sums.get('errors') ?? 0, total: sums.get('requests') ?? 0 };
  }
}

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

/** `arn:aws:elasticloadbalancing:…:targetgroup/acme-frontend/0123` → `targetgroup/acme-frontend/0123`. */
export function targetGroupDimension(targetGroupArn: string): string {
  const index = targetGroupArn.indexOf(':targetgroup/');
  if (index < 0) throw new Error(`'${targetGroupArn}' is not a target group ARN`);
  return targetGroupArn.slice(index + 1);
}
