import type { JobWiring, PlatformWiring } from '../wiring/index.ts';
import type { ExitCode, WaitTarget } from './args.ts';
import type { DeployDeps } from './context.ts';
import { runResume, runRollback, runWait } from './control.ts';
import { runDeploy } from './deploy.ts';
import { runDiff, runStatus } from './inspect.ts';
import type { DeployOptions, JobTarget, ServiceTarget } from './targets.ts';

/** How long and how often a command follows what it started. */
export interface Following {
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

/** rollback / continue / abort: whether to follow, and whether the services were named (see control.ts). */
export interface Control extends Following {
  readonly wait: boolean;
  readonly explicit?: boolean;
}

/**
 * Where `npm run deploy` deploys to. The CLI parses the command line, resolves services, containers
 * and images from the wiring model (callees first), and calls exactly one method; the method prints its
 * progress on `out`, its failures on `err` (prefixed `deploy: `) and returns the exit code: 0 done,
 * 1 rolled back or failed, 124 timed out (2 is the CLI's own, for usage errors).
 *
 * {@link AwsDeploymentBackend} talks to ECS. The local backend (`--local`, against `npm start`,
 * platform/local) implements the same methods against the local runtime and prints the same progress
 * lines: `stageLine` (service-deployment.ts) formats a deployment's status, stage, tasks and traffic.
 * Services are declared names; every method receives them already validated against the wiring.
 */
export interface DeploymentBackend {
  /** Register and roll out each target's images, following every lifecycle stage. */
  deploy(
    targets: readonly ServiceTarget[],
    options: Following & {
      readonly dryRun: boolean;
      readonly release?: DeployOptions['release'];
      /** Scheduled jobs to give a new revision once every service rolled out. */
      readonly jobs?: readonly JobTarget[];
    },
  ): Promise<ExitCode>;
  /** Running definition vs the one `deploy` would start, and drift from the declaration. Read-only. */
  diff(targets: readonly ServiceTarget[], jobs?: readonly JobTarget[]): Promise<ExitCode>;
  /** Running/desired/pending and the current deployment with its stage, per service. Read-only. */
  status(services: readonly string[], jobs?: readonly JobWiring[]): Promise<ExitCode>;
  /** Roll back the deployment in progress. */
  rollback(services: readonly string[], options: Control): Promise<ExitCode>;
  /** Wait until stable, deployed, or a lifecycle stage is reached. */
  wait(services: readonly string[], until: WaitTarget, options: Following): Promise<ExitCode>;
  /** Answer a paused deployment: CONTINUE (`continue`) or ROLLBACK (`abort`). */
  resume(services: readonly string[], action: 'CONTINUE' | 'ROLLBACK', options: Control): Promise<ExitCode>;
}

/** ECS: the cluster is the platform's name (the wiring's `platform`), services are named as declared. */
export class AwsDeploymentBackend implements DeploymentBackend {
  private readonly cluster: string;

  constructor(
    private readonly wiring: PlatformWiring,
    private readonly deps: DeployDeps,
  ) {
    this.cluster = wiring.platform;
  }

  deploy(targets: readonly ServiceTarget[], options: Parameters<DeploymentBackend['deploy']>[1]) {
    return runDeploy({ cluster: this.cluster, services: targets, ...options }, this.deps);
  }

  diff(targets: readonly ServiceTarget[], jobs: readonly JobTarget[] = []) {
    return runDiff(this.cluster, targets, this.wiring, this.deps, jobs);
  }

  status(services: readonly string[], jobs: readonly JobWiring[] = []) {
    return runStatus(this.cluster, services, this.deps, jobs);
  }

  rollback(services: readonly string[], options: Control) {
    return runRollback(this.cluster, services, options, this.deps);
  }

  wait(services: readonly string[], until: WaitTarget, options: Following) {
    return runWait(this.cluster, services, until, options, this.deps);
  }

  resume(services: readonly string[], action: 'CONTINUE' | 'ROLLBACK', options: Control) {
    return runResume(this.cluster, services, action, options, this.deps);
  }
}
