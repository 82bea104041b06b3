/**
 * The anomaly sidecar's container contract, as plain constants the CDK renderer (platform/aws) and the
 * local runtime import instead of repeating literals. No runtime dependencies on purpose: importing
 * this file must not pull the sidecar's server, the AWS SDK or zod into a CDK app.
 *
 * @example
 * import { SIDECAR_CONTAINER } from '../../services/anomaly-sidecar/contract.ts';
 * task.addContainer('anomaly-sidecar', {
 *   user: SIDECAR_CONTAINER.user,
 *   essential: SIDECAR_CONTAINER.essential,
 *   stopTimeout: Duration.seconds(SIDECAR_CONTAINER.stopTimeoutSeconds),
 * });
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

/** Environment variables the sidecar reads (validated at start-up; a bad value stops the process). */
export const SIDECAR_ENV = {
  /** Listen port. @default 9880 */
  port: 'PORT',
  /** Listen address. @default 127.0.0.1 (awsvpc tasks share localhost, so nothing else needs it) */
  host: 'HOST',
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

/**
 * V8 flags the image runs the sidecar with (Dockerfile.sidecar CMD). A 2 MiB young generation trades a
 * little GC time for about 30 MiB less RSS at 50k lines/s; the old-space cap makes a leak fail fast in the
 * sidecar instead of growing toward the task's memory (benchmark: README).
 */
export const SIDECAR_NODE_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=64'] as const;

/** What the CDK renderer puts in every application task for the sidecar container. */
export const SIDECAR_CONTAINER = {
  /** Container name in the task definition. */
  name: 'anomaly-sidecar',
  /** Root Dockerfile of the image. */
  dockerfile: 'Dockerfile.sidecar',
  port: SIDECAR_PORT,
  /**
   * Never essential: a crashed or killed sidecar must not stop the application task (DESIGN.md flow 2:
   * scoring never sits on the path that delivers logs).
   */
  essential: false,
  /**
   * Floor of the hard memory limit: the kernel kills the sidecar, never the app, if a bug defeats its
   * bounds. CPU and the memory reservation are the service's declaration (`anomaly.sidecarCpuUnits`,
   * `anomaly.sidecarMemoryMiB`); the renderer sets the limit to twice the reservation, at least this.
   */
  memoryLimitFloorMiB: 192,
  /** Seconds ECS waits after SIGTERM; SHUTDOWN_GRACE_MS must stay below it. */
  stopTimeoutSeconds: 10,
  readonlyRootFilesystem: true,
  /** Numeric uid:gid of the `node` user of the base image; ECS needs no name lookup. */
  user: '1000:1000',
  /**
   * Container health check (ECS `CMD` form). Node is in the image; no curl/wget needed. Exits 0 only on
   * an HTTP 200 within 2 s.
   */
  healthCheckCommand: [
    'CMD',
    'node',
    '-e',
    `fetch('http://127.0.0.1:${SIDECAR_PORT}/health',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
  ],
  healthCheck: { intervalSeconds: 15, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 10 },
  /** IAM action the task role needs, on the scoring endpoint's ARN only. */
  iamActions: ['sagemaker:InvokeEndpoint'],
} as const;

/** The FireLens log router of every application task: our image, with its configuration baked in. */
export const LOG_ROUTER = {
  /** Container name in the task definition (FireLens `log_router` convention). */
  name: 'log_router',
  /** Dockerfile building the router image (aws-for-fluent-bit plus the configs below). */
  dockerfile: 'services/anomaly-sidecar/fluent-bit/Dockerfile',
  /**
   * The base image, pinned by version and digest (also the Dockerfile's default build argument, pinned
   * by a test). aws-for-fluent-bit 2.34 runs Fluent Bit 1.9.10, the version the test suite starts.
   */
  baseImage:
    'public.ecr.aws/aws-observability/aws-for-fluent-bit:2.34.3.20260901@sha256:e6b6b5c03c7912d10757e721641046db83c80ac05796dfbdb2c16cabf7b9a331',
  /**
   * Where the configs sit inside the router image: FireLens `config-file-type=file`,
   * `config-file-value`. `scored`: app records to CloudWatch Logs and the sidecar, the sidecar's own
   * output (EMF, anomaly records) to the anomaly log group; `plain`: app records to CloudWatch Logs.
   */
  configFiles: {
    scored: '/fluent-bit/etc/anomaly-sidecar.conf',
    plain: '/fluent-bit/etc/cloudwatch-only.conf',
  },
  /** The same files in this repository. */
  configSources: {
    scored: 'services/anomaly-sidecar/fluent-bit/extra.conf',
    plain: 'services/anomaly-sidecar/fluent-bit/cloudwatch-only.conf',
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
  },
  /**
   * Memory bound of each FireLens-generated forward input (`Mem_Buf_Limit`, added by
   * `fluent-bit/bound-inputs.sh` at start, since FireLens generates those inputs without one). Two
   * inputs × 16 MiB, twice over for chunks in flight, stays within the router's memory.
   */
  inputMemBufLimit: '16M',
  essential: true,
  cpuUnits: 64,
  memoryReservationMiB: 64,
  memoryLimitMiB: 128,
  /** Seconds to flush buffered chunks after SIGTERM (Fluent Bit's grace is 5 s by default). */
  stopTimeoutSeconds: 10,
  /**
   * The uptime check aws-for-fluent-bit documents for FireLens: the TCP input (port 8877) that the
   * generated FireLens config adds takes one record, so the router's event loop is serving.
   */
  healthCheckCommand: ['CMD-SHELL', `echo '{"health": "check"}' | nc 127.0.0.1 8877 || exit 1`],
  healthCheck: { intervalSeconds: 10, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 10 },
} as const;
