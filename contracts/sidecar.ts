/**
 * The task's log path at its process boundaries, as names both sides import: the anomaly sidecar's
 * port, paths and environment (read by the sidecar, set by the wiring), and what the log router image
 * reads (its environment and FireLens configuration files). The images' Dockerfiles are named here too,
 * so the wiring lists the images to build without importing a service.
 */

/** Port the sidecar listens on; the Fluent Bit `http` output in `fluent-bit/extra.conf` targets it. */
export const SIDECAR_PORT = 9880;

/** Paths served by the sidecar. */
export const SIDECAR_PATHS = {
  /** Fluent Bit `http` output target (`format json` or `json_lines`, gzip accepted). */
  intake: '/logs',
  /** 200 `{"status":"ok",…}` while the process serves; used by the container health check. */
  health: '/health',
  /** Prometheus text exposition. */
  metrics: '/metrics',
  /** `GET /anomalies?limit=N` (contracts/anomaly.ts AnomaliesResponse). */
  anomalies: '/anomalies',
  /** `GET /series?bucketSeconds=S&buckets=N` (contracts/anomaly.ts SeriesResponse). */
  series: '/series',
  /** `GET /counts`: lines and requests per request class since start (contracts/revision-counts.ts). */
  counts: '/counts',
} as const;

/**
 * The header the log router sends with every intake body, carrying the task's intake token: the
 * sidecar refuses a body without it (401). Containers of an awsvpc task share localhost, so the app
 * container can reach the intake port; only the token, which the app container is never given, keeps it
 * from writing its own scores.
 */
export const SIDECAR_INTAKE_TOKEN_HEADER = 'x-intake-token';

/** Environment variables the sidecar reads (validated at start-up; a bad value stops the process). */
export const SIDECAR_ENV = {
  /** Listen port. @default 9880 */
  port: 'PORT',
  /** Listen address. @default 127.0.0.1 (awsvpc tasks share localhost, so nothing else needs it) */
  host: 'HOST',
  /**
   * The token the log router sends in {@link SIDECAR_INTAKE_TOKEN_HEADER}; the same value is given to the
   * router and to nothing else in the task. Required, at least 32 characters.
   */
  intakeToken: 'INTAKE_TOKEN',
  /** Declared service name; the `Service` metric dimension and the `service` of every anomaly record. Required. */
  serviceName: 'SERVICE_NAME',
  /** ECS cluster name; the `Cluster` metric dimension. @default 'local' */
  clusterName: 'CLUSTER_NAME',
  /** SageMaker endpoint name. Required (the local runtime's `MODEL_ENDPOINT_NAME` is accepted as an alias). */
  endpointName: 'ENDPOINT_NAME',
  /** SageMaker-runtime-compatible URL, local runs only (alias `MODEL_ENDPOINT_URL`). @default the regional AWS endpoint */
  endpointUrl: 'ENDPOINT_URL',
  /**
   * The task-definition revision the sidecar's records and metrics carry. Locally the runtime sets it
   * (`backend:2`); on AWS it is read from the ECS task metadata endpoint. @default none
   */
  revision: 'TASK_REVISION',
  /** Score at or above which a line is anomalous. @default the model's own `anomaly` flag */
  anomalyThreshold: 'ANOMALY_THRESHOLD',
  /** Log group name sent with each line (the model's seed feature). @default none */
  logGroupName: 'LOG_GROUP_NAME',
  /** Records per endpoint call. @default 500 */
  batchMaxRecords: 'BATCH_MAX_RECORDS',
  /** Characters per endpoint call (bounded below SageMaker's 6 MB payload limit). @default 1048576 */
  batchMaxBytes: 'BATCH_MAX_BYTES',
  /** Longest a record waits for companions before a partial batch is sent. @default 1000 */
  batchMaxAgeMs: 'BATCH_MAX_AGE_MS',
  /** Queue bound in records; past it the oldest are dropped and counted. @default 20000 */
  queueMaxRecords: 'QUEUE_MAX_RECORDS',
  /** Queue bound in characters of log lines. @default 16777216 */
  queueMaxBytes: 'QUEUE_MAX_BYTES',
  /** Largest accepted `POST /logs` body, compressed or not. @default 8388608 */
  maxBodyBytes: 'MAX_BODY_BYTES',
  /**
   * Bytes all bodies being read at once may hold (raw and gunzipped); past it a body is refused with 503
   * and Fluent Bit retries it. Connections × body size need not fit in memory, only this. @default 16777216
   */
  intakeMaxBufferedBytes: 'INTAKE_MAX_BUFFERED_BYTES',
  /** Longest accepted line; longer records are counted as `oversized` and skipped. @default 65536 */
  maxLineChars: 'MAX_LINE_CHARS',
  /** Deadline of one endpoint call. @default 2000 */
  endpointTimeoutMs: 'ENDPOINT_TIMEOUT_MS',
  /** Endpoint calls in flight at once. @default 2 */
  scoringConcurrency: 'SCORING_CONCURRENCY',
  /** Attempts per batch (first call included) before it is requeued once, then dropped. @default 3 */
  retryMaxAttempts: 'RETRY_MAX_ATTEMPTS',
  /** First backoff; doubles per attempt, full jitter. @default 100 */
  retryBaseMs: 'RETRY_BASE_MS',
  /** Backoff cap. @default 2000 */
  retryMaxMs: 'RETRY_MAX_MS',
  /** Consecutive failed calls that open the circuit breaker. @default 5 */
  breakerFailureThreshold: 'BREAKER_FAILURE_THRESHOLD',
  /** How long the breaker stays open before one probe call. @default 2000 */
  breakerOpenMs: 'BREAKER_OPEN_MS',
  /** Interval of the EMF metric line. @default 60 */
  emfIntervalSeconds: 'EMF_INTERVAL_SECONDS',
  /** Anomaly records written to stdout per second at most; the rest are counted as suppressed. @default 200 */
  anomalyRecordsPerSecond: 'ANOMALY_RECORDS_PER_SECOND',
  /** Anomaly records kept for `GET /anomalies`. @default 500 */
  anomalyHistory: 'ANOMALY_HISTORY',
  /** Time to flush the queue on SIGTERM; keep it below the container's stopTimeout. @default 3000 */
  shutdownGraceMs: 'SHUTDOWN_GRACE_MS',
} as const;

/** Environment variable names, as a union (`'SERVICE_NAME' | …`). */
export type SidecarEnvName = (typeof SIDECAR_ENV)[keyof typeof SIDECAR_ENV];

/** The sidecar image. */
export const SIDECAR_IMAGE = {
  /** Root Dockerfile of the image. */
  dockerfile: 'Dockerfile.sidecar',
} as const;

/** The FireLens log router image: aws-for-fluent-bit with the platform's configurations baked in. */
export const LOG_ROUTER_IMAGE = {
  /** Dockerfile building the router image (aws-for-fluent-bit plus the configs below). */
  dockerfile: 'services/anomaly-sidecar/fluent-bit/Dockerfile',
  /**
   * Where the configs sit inside the router image: FireLens `config-file-type=file`,
   * `config-file-value`. `scored`: app records to CloudWatch Logs and the sidecar, the sidecar's own
   * output (EMF, anomaly records) to the anomaly log group; `plain`: app records to CloudWatch Logs.
   */
  configFiles: {
    scored: '/fluent-bit/etc/anomaly-sidecar.conf',
    plain: '/fluent-bit/etc/cloudwatch-only.conf',
  },
  /**
   * Environment the configs read (`${…}` in Fluent Bit). `AWS_REGION` is set by ECS on EC2 only when
   * the renderer passes it; pass it explicitly.
   */
  env: {
    region: 'AWS_REGION',
    logGroupName: 'APP_LOG_GROUP_NAME',
    logStreamPrefix: 'APP_LOG_STREAM_PREFIX',
    anomalyLogGroupName: 'ANOMALY_LOG_GROUP_NAME',
    /** The sidecar's intake token, sent in {@link SIDECAR_INTAKE_TOKEN_HEADER} by the http output. */
    intakeToken: 'INTAKE_TOKEN',
  },
  /** The TCP input FireLens adds to its generated configuration: the router's uptime check writes to it. */
  healthPort: 8877,
} as const;
