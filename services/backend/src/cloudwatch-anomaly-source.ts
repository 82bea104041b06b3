import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  type CloudWatchLogsClient,
  FilterLogEventsCommand,
  type FilterLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  ANOMALY_DIMENSIONS,
  ANOMALY_METRIC_NAMESPACE,
  ANOMALY_METRICS,
  type AnomalyRecord,
  AnomalyRecordSchema,
  type SeriesPoint,
  type SeriesResponse,
} from '../../../contracts/anomaly.ts';
import { ApiError } from '../../../contracts/errors.ts';
import type { AnomalySource, RecentAnomalies, SeriesQuery } from './anomaly-source.ts';
import { newestFirst } from './anomaly-source.ts';

/** Options for {@link CloudWatchAnomalySource}. */
export interface CloudWatchAnomalySourceOptions {
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  readonly logs: Pick<CloudWatchLogsClient, 'send'>;
  /** The anomaly log group the sidecars and the log-scorer write records to. */
  readonly logGroupName: string;
  /** How far back `recentAnomalies` looks. @default 60 */
  readonly lookbackMinutes?: number;
  /** Pages of FilterLogEvents read per call, bounding cost and latency. @default 5 */
  readonly maxPages?: number;
  /** Records that do not match the contract are counted and reported here, never dropped silently. */
  readonly onInvalidRecords?: (count: number, example: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * The AWS adapter of the anomaly port: the series comes from the per-service metrics
 * (`GetMetricData`, one query per statistic), the anomalous lines from the anomaly log group
 * (`FilterLogEvents` with a JSON filter on `$.service`).
 *
 * @example
 * const source = new CloudWatchAnomalySource({ cloudwatch: new CloudWatchClient({}), logs: new CloudWatchLogsClient({}), logGroupName: '/platform/anomalies' });
 */
export class CloudWatchAnomalySource implements AnomalySource {
  readonly kind = 'cloudwatch' as const;
  private readonly options: CloudWatchAnomalySourceOptions;
  private readonly now: () => number;

  constructor(options: CloudWatchAnomalySourceOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async series(service: string, query: SeriesQuery, signal?: AbortSignal): Promise<SeriesResponse> {
    const bucketMs = query.bucketSeconds * 1000;
    // Buckets end at the current (partial) bucket, as the sidecar's own /series does.
    const firstBucket = Math.floor(this.now() / bucketMs) * bucketMs - (query.buckets - 1) * bucketMs;
    const end = firstBucket + query.buckets * bucketMs;
    const metric = (name: string) => ({
      Namespace: ANOMALY_METRIC_NAMESPACE,
      MetricName: name,
      Dimensions: [{ Name: ANOMALY_DIMENSIONS.service, Value: service }],
    });
    const queries: MetricDataQuery[] = [
      {
        Id: 'scored',
        MetricStat: { Metric: metric(ANOMALY_METRICS.linesScored), Period: query.bucketSeconds, Stat: 'Sum' },
      },
      {
        Id: 'anomalous',
        MetricStat: {
          Metric: metric(ANOMALY_METRICS.anomalousLines),
          Period: query.bucketSeconds,
          Stat: 'Sum',
        },
      },
      {
        Id: 'maxScore',
        MetricStat: {
          Metric: metric(ANOMALY_METRICS.maxScore),
          Period: query.bucketSeconds,
          Stat: 'Maximum',
        },
      },
      {
        Id: 'meanScore',
        MetricStat: {
          Metric: metric(ANOMALY_METRICS.meanScore),
          Period: query.bucketSeconds,
          Stat: 'Average',
        },
      },
    ];
    const values = new Map<string, Map<number, number>>();
    let nextToken: string | undefined;
    do {
      const output: GetMetricDataCommandOutput = await this.call(
        () =>
          this.options.cloudwatch.send(
            new GetMetricDataCommand({
              MetricDataQueries: queries,
              StartTime: new Date(firstBucket),
              EndTime: new Date(end),
              ScanBy: 'TimestampAscending',
              NextToken: nextToken,
            }),
            { abortSignal: signal },
          ),
        'CloudWatch metrics',
      );
      for (const result of output.MetricDataResults ?? []) {
        const byTime = values.get(result.Id ?? '') ?? new Map<number, number>();
        (result.Timestamps ?? []).forEach((timestamp, i) => {
          const value = result.Values?.[i];
          if (value !== undefined) byTime.set(timestamp.getTime(), value);
        });
        values.set(result.Id ?? '', byTime);
      }
      nextToken = output.NextToken;
    } while (nextToken);

    const at = (id: string, t: number) => values.get(id)?.get(t) ?? 0;
    const points: SeriesPoint[] = Array.from({ length: query.buckets }, (_, i) => {
      const t = firstBucket + i * bucketMs;
      return {
        t,
        scored: Math.round(at('scored', t)),
        anomalous: Math.round(at('anomalous', t)),
        maxScore: clampScore(at('maxScore', t)),
        meanScore: clampScore(at('meanScore', t)),
      };
    });
    return { service, bucketSeconds: query.bucketSeconds, points };
  }

  async recentAnomalies(
    services: readonly string[],
    limit: number,
    signal?: AbortSignal,
  ): Promise<RecentAnomalies> {
    if (services.length === 0) return { records: [], unavailable: [] };
    const wanted = new Set(services);
    const startTime = this.now() - (this.options.lookbackMinutes ?? 60) * 60_000;
    const records: AnomalyRecord[] = [];
    let invalid = 0;
    let example = '';
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const output: FilterLogEventsCommandOutput = await this.call(
        () =>
          this.options.logs.send(
            new FilterLogEventsCommand({
              logGroupName: this.options.logGroupName,
              startTime,
              filterPattern: filterPatternFor(services),
              nextToken,
            }),
            { abortSignal: signal },
          ),
        'CloudWatch Logs',
      );
      for (const event of output.events ?? []) {
        const record = parseRecord(event.message ?? '', event.eventId);
        if (!record) {
          invalid += 1;
          example ||= (event.message ?? '').slice(0, 200);
        } else if (wanted.has(record.service)) {
          records.push(record);
        }
      }
      nextToken = output.nextToken;
      pages += 1;
    } while (nextToken && pages < (this.options.maxPages ?? 5));
    if (invalid > 0) this.options.onInvalidRecords?.(invalid, example);
    return { records: newestFirst(records, limit), unavailable: [] };
  }

  /** SDK failures become 504 (timeout) or 502 with a safe message; the original goes to the log upstream. */
  private async call<T>(send: () => Promise<T>, what: string): Promise<T> {
    try {
      return await send();
    } catch (error) {
      const name = (error as { name?: string } | null)?.name ?? '';
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new ApiError('gateway_timeout', `${what} did not answer in time`);
      }
      throw new ApiError('bad_gateway', `${what} call failed (${name || 'network error'})`);
    }
  }
}

/**
 * A CloudWatch Logs JSON filter matching records of the given services. Names are DNS labels
 * (validated at start-up), so they need no escaping inside the quoted value.
 */
export function filterPatternFor(services: readonly string[]): string {
  return `{ ${services.map((s) => `$.service = "${s}"`).join(' || ')} }`;
}

/**
 * A record read back from the log group. One written before records carried an id takes the log
 * event's id, which CloudWatch keeps unique and stable across reads.
 */
function parseRecord(message: string, eventId: string | undefined): AnomalyRecord | undefined {
  try {
    const value = JSON.parse(message) as unknown;
    const withId =
      value && typeof value === 'object' && !('id' in value) && eventId ? { ...value, id: eventId } : value;
    const parsed = AnomalyRecordSchema.safeParse(withId);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function clampScore(value: number): number {
  return Math.min(1, Math.max(0, value));
}
