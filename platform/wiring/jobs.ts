import {
  type JobManifest,
  LATE_START_SECONDS,
  type Manifest,
  nextFireAfter,
  shortestCronIntervalMinutes,
} from '../../config/index.ts';
import {
  CONTAINER_NAMES,
  declaredEnvironment,
  declaredRun,
  jobFamily,
  logRouterContainer,
  PLATFORM_IMAGES,
  sidecarContainer,
  TIMEOUT_EXIT_CODE,
} from './containers.ts';
import { SIDECAR_CONTAINER } from './platform-containers.ts';
import type { ContainerWiring, JobWiring, ScheduleWiring } from './types.ts';

/**
 * Scheduled jobs as the wiring decides them: each run is one task of the job's family — the FireLens
 * router, the job's app, its sidecar when scored, and a deadline container that ends the run at its
 * timeout (ECS has no task timeout; an essential container that exits stops the task).
 */

export { TIMEOUT_EXIT_CODE };

/** Seconds a job's app has after SIGTERM (the timeout, or the task stopping) before SIGKILL. */
const JOB_STOP_TIMEOUT_SECONDS = 30;

/** Scheduler's bounds of a retried start's age (MaximumEventAgeInSeconds). */
const EVENT_AGE_BOUNDS = { min: LATE_START_SECONDS, max: 86_400 } as const;

export function wireJobs(manifest: Manifest): JobWiring[] {
  return manifest.jobs.map((job) => wireJob(manifest, job, job.anomaly.enabled && manifest.model !== null));
}

function wireJob(manifest: Manifest, job: JobManifest, scored: boolean): JobWiring {
  const containers: ContainerWiring[] = [logRouterContainer(scored), jobAppContainer(job)];
  if (scored) containers.push(sidecarContainer(job));
  containers.push(deadlineContainer(job.timeoutSeconds));
  return {
    job: job.name,
    path: job.path,
    image: { ...job.image },
    family: jobFamily(manifest, job.name),
    containers,
    schedule: {
      expression: job.schedule.expression,
      timeZone: job.timeZone,
      cron: job.schedule.cron ? structuredClone(job.schedule.cron) : null,
      everyMinutes: job.schedule.everyMinutes,
    },
    timeoutSeconds: job.timeoutSeconds,
    talksTo: [...job.talksTo],
    retry: { attempts: job.retries, maxEventAgeSeconds: maxEventAge(job) },
    allowOverlap: job.allowOverlap,
    failedRun: { appContainer: CONTAINER_NAMES.app, timeoutExitCode: TIMEOUT_EXIT_CODE },
    scored,
  };
}

/**
 * How late a retried start may still run: without overlap, only as late as still ends the run before
 * the next one (the declaration made room for at least Scheduler's minimum); with overlap, one period.
 */
function maxEventAge(job: JobManifest): number {
  const interval =
    job.schedule.everyMinutes ??
    (job.schedule.cron ? shortestCronIntervalMinutes(job.schedule.cron, job.timeZone) : null);
  if (interval === null) return EVENT_AGE_BOUNDS.max;
  const age = job.allowOverlap ? interval * 60 : interval * 60 - job.timeoutSeconds;
  return Math.min(EVENT_AGE_BOUNDS.max, Math.max(EVENT_AGE_BOUNDS.min, age));
}

/** A job's app: no port, no health check (it runs to completion), its exit code the run's outcome. */
function jobAppContainer(job: JobManifest): ContainerWiring {
  return {
    name: CONTAINER_NAMES.app,
    role: 'app',
    image: job.name,
    essential: true,
    port: null,
    environment: { ...declaredEnvironment(job), AWS_REGION: { kind: 'region' } },
    health: null,
    stopTimeoutSeconds: JOB_STOP_TIMEOUT_SECONDS,
    startAfter: [CONTAINER_NAMES.logRouter],
    grants: [],
    logging: 'firelens',
    cpuUnits: job.cpuUnits,
    memoryReservationMiB: null,
    memoryLimitMiB: job.memoryMiB,
    restart: null,
    readonlyRootFilesystem: true,
    ...declaredRun(job.image),
  };
}

/**
 * The run's deadline: a timer in the sidecar's image (node is there) that exits 124 after the timeout,
 * and 0 when the task stops first (SIGTERM after the app exited), so only a timeout reads as a failure.
 */
function deadlineContainer(timeoutSeconds: number): ContainerWiring {
  return {
    name: 'deadline',
    role: 'deadline',
    image: PLATFORM_IMAGES.sidecar,
    essential: true,
    port: null,
    environment: {},
    health: null,
    stopTimeoutSeconds: 2,
    startAfter: [],
    grants: [],
    logging: 'firelens',
    cpuUnits: 16,
    memoryReservationMiB: 32,
    memoryLimitMiB: 64,
    restart: null,
    user: SIDECAR_CONTAINER.user,
    readonlyRootFilesystem: true,
    command: [
      'node',
      '-e',
      `process.on('SIGTERM',()=>process.exit(0));setTimeout(()=>{console.error('run timed out after ${timeoutSeconds} s');process.exit(${TIMEOUT_EXIT_CODE})},${timeoutSeconds * 1000})`,
    ],
  };
}

/**
 * When a schedule fires next, strictly after `after` (epoch ms): a cron at its next matching minute in its
 * zone, a rate every period from `createdAt` (Scheduler counts a rate from the schedule's creation).
 * What EventBridge Scheduler decides on AWS, for the local runtime to fire on the same times.
 */
export function nextJobFire(schedule: ScheduleWiring, after: number, createdAt: number): number | null {
  if (schedule.cron) return nextFireAfter(schedule.cron, schedule.timeZone, after);
  const period = (schedule.everyMinutes ?? 0) * 60_000;
  if (period <= 0) return null;
  return createdAt + (Math.floor((after - createdAt) / period) + 1) * period;
}
