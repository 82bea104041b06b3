/** Container health check, also used for the ALB target group of web services. */
export interface HealthCheckProps {
  /** HTTP path that answers 200 when the service is ready. @default '/healthz' */
  readonly path?: string;
  /** @default 10 */
  readonly intervalSeconds?: number;
  /** @default 5 */
  readonly timeoutSeconds?: number;
  /** Consecutive successes before a task takes traffic. @default 2 (fast start) */
  readonly healthyThreshold?: number;
  /** Consecutive failures before a task is replaced. @default 3 */
  readonly unhealthyThreshold?: number;
  /** Grace period after start during which failures do not count. @default 15 */
  readonly startPeriodSeconds?: number;
}

/** Task-count autoscaling on CPU. */
export interface ScalingProps {
  /** Fewest tasks; two spread over AZs keep the service up when an AZ fails. @default 2 */
  readonly min?: number;
  /** Most tasks. @default - the larger of 6 and `min` */
  readonly max?: number;
  /** Average service CPU the scaling policy tracks. @default 60 */
  readonly targetCpuPercent?: number;
  /** @default 120 */
  readonly scaleInCooldownSeconds?: number;
  /** @default 60 */
  readonly scaleOutCooldownSeconds?: number;
}

/** Log anomaly scoring of the service's tasks. */
export interface AnomalyProps {
  /** Run the anomaly sidecar and route logs to it. @default true */
  readonly enabled?: boolean;
  /** Score at or above which a line counts as anomalous. @default - the model's calibrated threshold */
  readonly threshold?: number;
  /** CPU units reserved for the sidecar (1024 = one vCPU). @default 64 */
  readonly sidecarCpuUnits?: number;
  /**
   * Memory reservation (soft) of the sidecar; its hard limit is twice this, at least 192 MiB. The
   * sidecar stays under 96 MiB at 50k lines/s (services/anomaly-sidecar/README.md). @default 128
   */
  readonly sidecarMemoryMiB?: number;
}

/** What a service may read of the platform itself, beyond its own task. Least privilege: nothing by default. */
export interface PlatformAccessProps {
  /**
   * Read the anomaly metrics and the anomaly log group (for an operations console). The service gets
   * the names it needs in its environment (`ANOMALY_SOURCE`, `ANOMALY_LOG_GROUP`, `SERVICES`) and the
   * read permissions on exactly those resources.
   * @default false
   */
  readonly readAnomalies?: boolean;
  /**
   * Invoke the platform's model endpoint (for example a prediction playground). The service gets
   * `MODEL_ENDPOINT_NAME` and `sagemaker:InvokeEndpoint` on exactly that endpoint.
   * @default false
   */
  readonly invokeModel?: boolean;
}
