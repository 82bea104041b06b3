import { randomBytes } from 'node:crypto';
import {
  type ContainerWiring,
  type JobWiring,
  type LocalOnlyContext,
  localOnlyEnvironment,
  type ScheduleWiring,
} from '../wiring/index.ts';
import { type LocalSources, renderLocalEnvironment } from './local-sources.ts';
import { chooseRunner, type ProcessRun, type RunnerContext } from './runners.ts';

/** A scheduled job's runs: its app and, when scored, a sidecar started per run (as each ECS run is a task). */
export interface JobPlan {
  readonly job: string;
  /** What each run starts: chosen as a service's app is (runners.ts), from the team's repository. */
  readonly run: ProcessRun;
  /** The runner, as printed at start. */
  readonly runner: string;
  /** The app's environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly stopTimeoutMs: number;
  readonly timeoutMs: number;
  readonly schedule: ScheduleWiring;
  readonly allowOverlap: boolean;
  /** The per-run sidecar; its port (`PORT`) and revision label are chosen per run. */
  readonly sidecar: {
    readonly entry: string;
    readonly env: Readonly<Record<string, string>>;
    readonly stopTimeoutMs: number;
    /** What the run's log router presents to its sidecar (the wiring's `intake-token`). */
    readonly intakeToken: string;
  } | null;
}

/** What every job's plan shares with the rest of the run. */
export interface JobPlanContext {
  /** The run's value sources; a job's own service name, port and intake token are added here. */
  readonly sources: Omit<LocalSources, 'port' | 'service' | 'intakeToken'>;
  readonly differences: LocalOnlyContext;
  /** The anomaly sidecar's entry point, absolute. */
  readonly sidecarEntry: string;
  /** Where and on what machine a run's runner is chosen (the team's repository: a job is its own). */
  readonly runners: RunnerContext;
}

/**
 * A scheduled job's runs, planned once: what a run starts, chosen as a service's app is (runners.ts: its
 * entry, else its image or its Dockerfile's own command, so a job in any language runs), and the app's
 * and the sidecar's environment, rendered from the wiring as the run's tasks get them (a run's sidecar
 * gets its port per run).
 */
export function planJob(job: JobWiring, context: JobPlanContext): JobPlan {
  const intakeToken = randomBytes(24).toString('hex');
  // A run's sidecar gets its port per run (its PORT is set then).
  const sources: LocalSources = { ...context.sources, intakeToken, port: 0, service: job.job };
  const envOf = (container: ContainerWiring) => ({
    ...renderLocalEnvironment(container.environment, sources),
    ...localOnlyEnvironment(container, context.differences),
  });
  const app = job.containers.find((c) => c.role === 'app')!;
  const sidecar = job.containers.find((c) => c.role === 'sidecar');
  const runner = chooseRunner(
    { path: job.path, service: job.job, image: job.image, containers: job.containers },
    context.runners,
  );
  return {
    job: job.job,
    run: runner.run,
    runner: runner.description,
    // The image's own ENV first: the wiring's variables win.
    env: { ...runner.imageEnv, ...envOf(app) },
    stopTimeoutMs: app.stopTimeoutSeconds * 1000,
    timeoutMs: job.timeoutSeconds * 1000,
    schedule: job.schedule,
    allowOverlap: job.allowOverlap,
    sidecar: sidecar
      ? {
          entry: context.sidecarEntry,
          env: envOf(sidecar),
          stopTimeoutMs: sidecar.stopTimeoutSeconds * 1000,
          intakeToken,
        }
      : null,
  };
}
