import { LOG_ROUTER_IMAGE, SIDECAR_IMAGE, SIDECAR_PORT } from '../../contracts/sidecar.ts';

/**
 * The platform's own containers in every application task, as the wiring decides them: the anomaly
 * sidecar and the FireLens log router. Their images' boundaries (port, paths, environment names,
 * configuration files) are contracts/sidecar.ts.
 */

/** The anomaly sidecar container. */
export const SIDECAR_CONTAINER = {
  /** Container name in the task definition. */
  name: 'anomaly-sidecar',
  dockerfile: SIDECAR_IMAGE.dockerfile,
  port: SIDECAR_PORT,
  /**
   * Never essential: a crashed or killed sidecar must not stop the application task (DESIGN.md flow 2:
   * scoring never sits on the path that delivers logs).
   */
  essential: false,
  /**
   * Floor of the hard memory limit: the kernel kills the sidecar, never the app, if a bug defeats its
   * bounds. CPU and the memory reservation are the service's declaration (`anomaly.sidecarCpuUnits`,
   * `anomaly.sidecarMemoryMiB`); the limit is twice the reservation, at least this.
   */
  memoryLimitFloorMiB: 192,
  /** Seconds ECS waits after SIGTERM; SHUTDOWN_GRACE_MS must stay below it. */
  stopTimeoutSeconds: 10,
  readonlyRootFilesystem: true,
  /** Numeric uid:gid of the `node` user of the base image; ECS needs no name lookup. */
  user: '1000:1000',
  /** Its HTTP health check's timing (the probe is `GET /health` on its port). */
  healthCheck: { intervalSeconds: 15, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 10 },
} as const;

/** The FireLens log router of every application task: our image, with its configuration baked in. */
export const LOG_ROUTER_CONTAINER = {
  /** Container name in the task definition (FireLens `log_router` convention). */
  name: 'log_router',
  dockerfile: LOG_ROUTER_IMAGE.dockerfile,
  essential: true,
  cpuUnits: 64,
  memoryReservationMiB: 64,
  memoryLimitMiB: 128,
  /** Seconds to flush buffered chunks after SIGTERM (Fluent Bit's grace is 5 s by default). */
  stopTimeoutSeconds: 10,
  /**
   * The uptime check aws-for-fluent-bit documents for FireLens: the TCP input that the generated
   * FireLens config adds takes one record, so the router's event loop is serving.
   */
  healthCheckCommand: [
    'CMD-SHELL',
    `echo '{"health": "check"}' | nc 127.0.0.1 ${LOG_ROUTER_IMAGE.healthPort} || exit 1`,
  ],
  healthCheck: { intervalSeconds: 10, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 10 },
} as const;
