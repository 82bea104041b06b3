/**
 * One log record as Fluent Bit's `http` output posts it to the anomaly sidecar (`format json`: an array
 * of these; `format json_lines`: one per line), with the fields ECS FireLens adds. The local runtime's
 * router (platform/local/log-router.ts) produces exactly this shape; the sidecar's intake
 * (services/anomaly-sidecar/src/intake.ts) reads it, treating every field as untrusted.
 *
 * @example
 * {"date":1718000000.123,"log":"GET /healthz 200","container_name":"app","source":"stdout",
 *  "ecs_task_arn":"arn:aws:ecs:eu-west-1:123456789012:task/acme/0f1e…","ecs_cluster":"acme"}
 */
export interface FireLensRecord {
  /** Epoch seconds with a fraction (`json_date_format double`, Fluent Bit's default), or ISO-8601. */
  readonly date: number;
  /** The line as the container wrote it (`message` when a parser filter renamed it). */
  readonly log: string;
  readonly container_name: string;
  readonly source: 'stdout' | 'stderr';
  readonly ecs_task_arn: string;
  readonly ecs_cluster: string;
}

/** The record's field names, as the intake reads them. */
export const FIRELENS_FIELDS = {
  date: 'date',
  log: 'log',
  message: 'message',
  container: 'container_name',
  source: 'source',
  task: 'ecs_task_arn',
  cluster: 'ecs_cluster',
} as const satisfies Record<string, keyof FireLensRecord | 'message'>;
