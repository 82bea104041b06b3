import { ANOMALY_DIMENSIONS, ANOMALY_METRIC_NAMESPACE, ANOMALY_METRICS } from '../../../contracts/anomaly.ts';

/**
 * CloudWatch Embedded Metric Format (EMF) lines for the per-service scoring metrics. The sidecar's stdout
 * goes to CloudWatch Logs through the awslogs driver, where EMF is extracted without any agent.
 * Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

/** Metric and dimension names come from the contract the backend, dashboard and alarms also read. */
export const EMF_METRICS = {
  scored: ANOMALY_METRICS.linesScored,
  anomalous: ANOMALY_METRICS.anomalousLines,
  maxScore: ANOMALY_METRICS.maxScore,
  meanScore: ANOMALY_METRICS.meanScore,
  dropped: ANOMALY_METRICS.recordsDropped,
} as const;

export const EMF_DIMENSIONS = ANOMALY_DIMENSIONS;

/** What happened in one interval. */
export interface IntervalStats {
  readonly scored: number;
  readonly anomalous: number;
  /** Highest score (ignored when nothing was scored). */
  readonly maxScore: number;
  /** Sum of scores, for the mean. */
  readonly scoreSum: number;
  /** Records dropped for any reason. */
  readonly dropped: number;
}

/**
 * One EMF document. Score metrics are left out of an interval that scored nothing: a 0 would read as
 * "everything normal" on a dashboard, while no data reads correctly as "no lines".
 *
 * @example
 * JSON.stringify(emfDocument({ service: 'backend', cluster: 'acme', timestamp: Date.now(),
 *   stats: { scored: 10, anomalous: 1, maxScore: 0.97, scoreSum: 2.5, dropped: 0 } }));
 */
export function emfDocument(input: {
  readonly service: string;
  readonly cluster: string;
  readonly timestamp: number;
  readonly stats: IntervalStats;
}): Record<string, unknown> {
  const { stats } = input;
  const metrics: { Name: string; Unit: string }[] = [
    { Name: EMF_METRICS.scored, Unit: 'Count' },
    { Name: EMF_METRICS.anomalous, Unit: 'Count' },
    { Name: EMF_METRICS.dropped, Unit: 'Count' },
  ];
  const values: Record<string, number> = {
    [EMF_METRICS.scored]: stats.scored,
    [EMF_METRICS.anomalous]: stats.anomalous,
    [EMF_METRICS.dropped]: stats.dropped,
  };
  if (stats.scored > 0) {
    metrics.push({ Name: EMF_METRICS.maxScore, Unit: 'None' }, { Name: EMF_METRICS.meanScore, Unit: 'None' });
    values[EMF_METRICS.maxScore] = stats.maxScore;
    values[EMF_METRICS.meanScore] = stats.scoreSum / stats.scored;
  }
  return {
    _aws: {
      Timestamp: input.timestamp,
      CloudWatchMetrics: [
        {
          Namespace: ANOMALY_METRIC_NAMESPACE,
          Dimensions: [[EMF_DIMENSIONS.service], [EMF_DIMENSIONS.service, EMF_DIMENSIONS.cluster]],
          Metrics: metrics,
        },
      ],
    },
    [EMF_DIMENSIONS.service]: input.service,
    [EMF_DIMENSIONS.cluster]: input.cluster,
    ...values,
  };
}

/** Accumulates {@link IntervalStats} between EMF lines. */
export class IntervalAccumulator {
  private scored = 0;
  private anomalous = 0;
  private maxScore = 0;
  private scoreSum = 0;
  private dropped = 0;

  addScore(score: number, anomalous: boolean): void {
    this.scored += 1;
    if (anomalous) this.anomalous += 1;
    if (score > this.maxScore) this.maxScore = score;
    this.scoreSum += score;
  }

  addDropped(count: number): void {
    this.dropped += count;
  }

  /** Whether anything happened since the last {@link drain}. */
  get isEmpty(): boolean {
    return this.scored === 0 && this.dropped === 0;
  }

  /** The interval's stats; resets the accumulator. */
  drain(): IntervalStats {
    const stats = {
      scored: this.scored,
      anomalous: this.anomalous,
      maxScore: this.maxScore,
      scoreSum: this.scoreSum,
      dropped: this.dropped,
    };
    this.scored = 0;
    this.anomalous = 0;
    this.maxScore = 0;
    this.scoreSum = 0;
    this.dropped = 0;
    return stats;
  }
}
