import {
  ANOMALY_DIMENSIONS,
  ANOMALY_METRIC_NAMESPACE,
  ANOMALY_METRICS,
  type AnomalyRecord,
  MAX_RECORDED_LINE_CHARS,
  REVISION_DIMENSION,
} from '../../contracts/anomaly.ts';
import type { Prediction } from '../../contracts/prediction.ts';
import { parseLogLine } from '../features/parse.ts';

/**
 * The one home of what a scorer makes of the endpoint's predictions: which lines are anomalous, the
 * anomaly record of each, the per-batch summary and the EMF document of the scoring metrics. The
 * anomaly sidecar and the `log-scorer` function both build their output here, so a record or a metric
 * means the same whichever of them wrote it. Parsing the line's timestamp uses the model's pure parser
 * (`model/features/parse.ts`, no dependencies), the same code that featurised the line.
 */

/**
 * Whether a prediction counts as an anomaly: at or above the caller's threshold when one is configured
 * (a service's `anomaly.threshold`), else the model's own decision.
 */
export function isAnomalous(prediction: Pick<Prediction, 'score' | 'anomaly'>, threshold?: number): boolean {
  return threshold === undefined ? prediction.anomaly : prediction.score >= threshold;
}

/** Timestamps beyond this (epoch ms) are not dates `new Date()` can represent. */
const MAX_DATE_MS = 8.64e15;

/** What a scorer knows about one anomalous line. */
export interface AnomalousLine {
  /** Unique among the records of this service and task (see {@link AnomalyRecord}'s `id`). */
  readonly id: string;
  readonly service: string;
  /** The ECS task ARN, the log stream, or locally the process's task id. */
  readonly task: string;
  readonly container?: string;
  readonly line: string;
  /** When the transport says the line was written (Fluent Bit's `date`, CloudWatch's event time), ms. */
  readonly eventTime: number;
  readonly prediction: Pick<Prediction, 'score' | 'template' | 'reasons'>;
  /** The task-definition revision (or local revision label) of the task that wrote it. */
  readonly revision?: string;
  /** Names the line when the model returned no template (the sidecar mines one locally). */
  readonly templateOf?: (message: string) => string;
}

/**
 * The {@link AnomalyRecord} of a line. The line's own timestamp wins over the transport's time (a
 * batch read late, a delivery retried; a syslog header takes the transport's year), and the line is
 * truncated to {@link MAX_RECORDED_LINE_CHARS}.
 *
 * @example
 * anomalyRecord({ id: 'a1b2c3-1f', service: 'backend', task: 'arn:…', line, eventTime: Date.now(), prediction });
 */
export function anomalyRecord(input: AnomalousLine): AnomalyRecord {
  // A syslog header has no year: the transport's year is the best guess, not the current one.
  const year = Number.isFinite(input.eventTime) ? new Date(input.eventTime).getUTCFullYear() : undefined;
  const parsed = parseLogLine(input.line, Number.isNaN(year) || year === undefined ? {} : { year });
  const own = parsed.timestamp;
  const at = own !== undefined && Math.abs(own) <= MAX_DATE_MS ? own : input.eventTime;
  const template = input.prediction.template ?? input.templateOf?.(parsed.message);
  const record: AnomalyRecord = {
    id: input.id,
    service: input.service,
    task: input.task,
    timestamp: new Date(Number.isFinite(at) && Math.abs(at) <= MAX_DATE_MS ? at : 0).toISOString(),
    score: input.prediction.score,
    line:
      input.line.length > MAX_RECORDED_LINE_CHARS ? input.line.slice(0, MAX_RECORDED_LINE_CHARS) : input.line,
  };
  if (input.container !== undefined) record.container = input.container;
  if (template !== undefined) record.template = template;
  if (input.prediction.reasons !== undefined) record.reasons = input.prediction.reasons;
  if (input.revision !== undefined) record.revision = input.revision;
  return record;
}

/** What one scored batch amounts to. */
export interface BatchSummary {
  readonly scored: number;
  readonly anomalous: number;
  /** Highest score (0 when nothing was scored). */
  readonly maxScore: number;
  /** Sum of the scores, so summaries add up and the mean stays exact. */
  readonly scoreSum: number;
  /** Per prediction, whether it counts as an anomaly ({@link isAnomalous}). */
  readonly flags: readonly boolean[];
}

/** The summary of a batch's predictions under the caller's threshold (or the model's decision). */
export function summarizeBatch(
  predictions: readonly Pick<Prediction, 'score' | 'anomaly'>[],
  threshold?: number,
): BatchSummary {
  let anomalous = 0;
  let maxScore = 0;
  let scoreSum = 0;
  const flags = predictions.map((p) => {
    if (p.score > maxScore) maxScore = p.score;
    scoreSum += p.score;
    const flag = isAnomalous(p, threshold);
    if (flag) anomalous++;
    return flag;
  });
  return { scored: predictions.length, anomalous, maxScore, scoreSum, flags };
}

/** What an EMF document reports: one interval (sidecar) or one delivery (log-scorer). */
export interface ScoringStats {
  readonly scored: number;
  readonly anomalous: number;
  /** Highest score (ignored when nothing was scored). */
  readonly maxScore: number;
  /** Sum of scores, for the mean. */
  readonly scoreSum: number;
  /** Records dropped or rejected for any reason. */
  readonly dropped: number;
}

/**
 * The one dimension set of the scoring metrics: `Service`, what the backend's CloudWatch adapter, the
 * dashboard and the alarms query. A second set (Service × Cluster) would be a second, unqueried metric
 * per service, billed and drifting; the cluster is carried as a plain property instead.
 */
export const ANOMALY_EMF_DIMENSIONS: readonly (readonly string[])[] = [[ANOMALY_DIMENSIONS.service]];

/**
 * One CloudWatch Embedded Metric Format document (written as one stdout line, extracted by CloudWatch
 * Logs without an agent). Score metrics are left out when nothing was scored: a 0 would read as
 * "everything normal", no data reads correctly as "no lines".
 * Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 *
 * @example
 * JSON.stringify(anomalyEmfDocument({ service: 'backend', timestamp: Date.now(),
 *   stats: { scored: 10, anomalous: 1, maxScore: 0.97, scoreSum: 2.5, dropped: 0 } }));
 */
export function anomalyEmfDocument(input: {
  readonly service: string;
  readonly cluster?: string;
  /**
   * The writer's task-definition revision: adds the `[Service, Revision]` set, so a deployment's new
   * revision is measured apart from the old one (the deployment gate reads it).
   */
  readonly revision?: string;
  readonly timestamp: number;
  readonly stats: ScoringStats;
}): Record<string, unknown> {
  const { stats } = input;
  const metrics: { Name: string; Unit: string }[] = [
    { Name: ANOMALY_METRICS.linesScored, Unit: 'Count' },
    { Name: ANOMALY_METRICS.anomalousLines, Unit: 'Count' },
    { Name: ANOMALY_METRICS.recordsDropped, Unit: 'Count' },
  ];
  const values: Record<string, number> = {
    [ANOMALY_METRICS.linesScored]: stats.scored,
    [ANOMALY_METRICS.anomalousLines]: stats.anomalous,
    [ANOMALY_METRICS.recordsDropped]: stats.dropped,
  };
  if (stats.scored > 0) {
    metrics.push(
      { Name: ANOMALY_METRICS.maxScore, Unit: 'None' },
      { Name: ANOMALY_METRICS.meanScore, Unit: 'None' },
    );
    values[ANOMALY_METRICS.maxScore] = stats.maxScore;
    values[ANOMALY_METRICS.meanScore] = stats.scoreSum / stats.scored;
  }
  return {
    _aws: {
      Timestamp: input.timestamp,
      CloudWatchMetrics: [
        {
          Namespace: ANOMALY_METRIC_NAMESPACE,
          Dimensions: [
            ...ANOMALY_EMF_DIMENSIONS.map((set) => [...set]),
            ...(input.revision !== undefined ? [[ANOMALY_DIMENSIONS.service, REVISION_DIMENSION]] : []),
          ],
          Metrics: metrics,
        },
      ],
    },
    [ANOMALY_DIMENSIONS.service]: input.service,
    ...(input.cluster !== undefined ? { [ANOMALY_DIMENSIONS.cluster]: input.cluster } : {}),
    ...(input.revision !== undefined ? { [REVISION_DIMENSION]: input.revision } : {}),
    ...values,
  };
}
