import { z } from 'zod';

/**
 * What the anomaly sidecar (and the log-scorer Lambda) produce, and what the backend's anomaly port
 * reads: one home for the record and series shapes, so producer and consumer cannot drift.
 */

/** One anomalous log line, as written to the anomaly log group and served by the sidecar. */
export const AnomalyRecordSchema = z.object({
  /**
   * Unique among the records of its service and task, so two identical lines logged in the same
   * millisecond stay two records: the sidecar's run id and sequence number, the source log event's id
   * (log-scorer), or the CloudWatch event id of the record (read back by the console's adapter).
   */
  id: z.string().min(1).max(128),
  /** The declared service the line came from. */
  service: z.string(),
  /** The ECS task ARN (or, locally, the process id of the service instance). */
  task: z.string(),
  /** The container that wrote the line. */
  container: z.string().optional(),
  /** When the line was written, ISO-8601. */
  timestamp: z.string(),
  /** Calibrated anomaly score in 0..1. */
  score: z.number().min(0).max(1),
  /** The mined template of the line. */
  template: z.string().optional(),
  /** Why it scored as anomalous. */
  reasons: z.array(z.string()).optional(),
  /** The task-definition revision (ECS) or local revision label of the task that wrote the line. */
  revision: z.string().optional(),
  /** The line itself, truncated to {@link MAX_RECORDED_LINE_CHARS}. */
  line: z.string(),
});
export type AnomalyRecord = z.infer<typeof AnomalyRecordSchema>;

/** Lines longer than this are truncated in anomaly records (CloudWatch events allow 256 KiB). */
export const MAX_RECORDED_LINE_CHARS = 8192;

/** One bucket of a service's anomaly time series. */
export const SeriesPointSchema = z.object({
  /** Bucket start, epoch milliseconds. */
  t: z.number(),
  /** Lines scored in the bucket. */
  scored: z.number().int().nonnegative(),
  /** Lines at or above the threshold. */
  anomalous: z.number().int().nonnegative(),
  /** Highest score in the bucket (0 when nothing was scored). */
  maxScore: z.number().min(0).max(1),
  /** Mean score in the bucket (0 when nothing was scored). */
  meanScore: z.number().min(0).max(1),
});
export type SeriesPoint = z.infer<typeof SeriesPointSchema>;

/** `GET /anomalies?limit=N` on a sidecar: newest first. */
export const AnomaliesResponseSchema = z.object({
  service: z.string(),
  records: z.array(AnomalyRecordSchema),
});
export type AnomaliesResponse = z.infer<typeof AnomaliesResponseSchema>;

/**
 * `GET /series?bucketSeconds=S&buckets=N` on a sidecar: oldest first, at most N points ending with the
 * current bucket; buckets from before the sidecar started are left out (the chart starts there).
 */
export const SeriesResponseSchema = z.object({
  service: z.string(),
  bucketSeconds: z.number().int().positive(),
  /**
   * When the source's data begins (epoch ms): a sidecar's start, or the earliest start an aggregate
   * kept. Absent where the source cannot tell (CloudWatch metrics).
   */
  since: z.number().optional(),
  points: z.array(SeriesPointSchema),
});
export type SeriesResponse = z.infer<typeof SeriesResponseSchema>;

/** The CloudWatch metric namespace the sidecar and log-scorer publish EMF into. */
export const ANOMALY_METRIC_NAMESPACE = 'Platform/LogAnomaly';

/**
 * Metric names in {@link ANOMALY_METRIC_NAMESPACE}, written as EMF by the sidecar and the log-scorer and
 * read by the backend's CloudWatch adapter, the dashboard and the alarms. Scores are published per
 * interval as their maximum and mean.
 */
export const ANOMALY_METRICS = {
  linesScored: 'LinesScored',
  anomalousLines: 'AnomalousLines',
  maxScore: 'MaxScore',
  meanScore: 'MeanScore',
  recordsDropped: 'RecordsDropped',
} as const;

/** Dimension names: `Service` alone (what dashboards and alarms query) and `Service` × `Cluster`. */
export const ANOMALY_DIMENSIONS = { service: 'Service', cluster: 'Cluster' } as const;

/**
 * The dimension that tells a deployment's new revision from the old one: published alongside `Service`
 * (the dimension set `Service` × `Revision`), its value the task-definition revision number as ECS's task
 * metadata endpoint gives it (`"4"` for `acme-backend:4`); locally the local revision id. The
 * deployment gate (functions/deployment-gate) reads each revision's lines through it.
 */
export const REVISION_DIMENSION = 'Revision';

/**
 * The {@link REVISION_DIMENSION} value of a task definition: its revision number (`…/acme-backend:4` → `"4"`).
 *
 * @example
 * revisionDimensionValue('arn:aws:ecs:eu-west-1:123456789012:task-definition/acme-backend:4'); // '4'
 */
export function revisionDimensionValue(taskDefinitionArn: string): string {
  const match = /:(\d+)$/.exec(taskDefinitionArn);
  if (!match?.[1])
    throw new Error(`'${taskDefinitionArn}' is not a task definition ARN ending in :<revision>`);
  return match[1];
}

const wholeNumber = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);

/**
 * `?bucketSeconds=S&buckets=N` of a series query, on the sidecar and the backend alike. CloudWatch
 * periods are 10, 30 or a multiple of 60 seconds, so one rule holds for both anomaly sources.
 */
export const SeriesQuerySchema = z.object({
  bucketSeconds: wholeNumber(10, 3600, 60).refine(
    (s) => s === 10 || s === 30 || s % 60 === 0,
    'must be 10, 30 or a multiple of 60',
  ),
  buckets: wholeNumber(1, 1440, 60),
});
export type SeriesQuery = z.infer<typeof SeriesQuerySchema>;

/** `?limit=N` of an anomalies query (newest first), on the sidecar and the backend alike. */
export const AnomaliesQuerySchema = z.object({ limit: wholeNumber(1, 500, 50) });
