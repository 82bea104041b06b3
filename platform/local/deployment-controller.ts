import type { PlatformWiring } from '../wiring/index.ts';
import { deploymentsFile, processesFile } from './deployment-state.ts';
import {
  type LocalDeploymentOutcome,
  type LocalDeploymentState,
  runLocalDeployment,
  START_TIMEOUT_MS,
} from './deployments.ts';
import type { ProcessPlan } from './process-plan.ts';
import { revisionDriver } from './revision-driver.ts';
import type { ServiceRevisions } from './revisions.ts';
import type { StateWriter } from './runtime-state.ts';
import type { Unit } from './unit.ts';

/** A rollback as the console's deployments view lists it. */
interface RollbackRecord {
  readonly fromRevision: string;
  readonly toRevision: string;
  readonly reason: string;
  readonly at: string;
}

/** What the controller needs of the running platform. */
export interface DeploymentControllerOptions {
  readonly wiring: PlatformWiring;
  readonly revisions: ReadonlyMap<string, ServiceRevisions>;
  /** Makes (and registers for stop-all) a supervised unit for a new revision's plan. */
  readonly createUnit: (plan: ProcessPlan) => Unit;
  readonly state: StateWriter;
  /** Where the runtime prints progress (prefixed `local`). */
  readonly say: (line: string) => void;
}

/**
 * The local runtime's deployments: one at a time per service, each rehearsing the service's wired
 * strategy (deployments.ts) on new revisions of its processes, and every change written to the
 * deployments and processes state files the console reads.
 */
export class DeploymentController {
  private readonly states = new Map<string, LocalDeploymentState>();
  private readonly rollbacks = new Map<string, RollbackRecord[]>();
  private readonly running = new Set<string>();

  constructor(private readonly options: DeploymentControllerOptions) {}

  /** Writes the processes state file as it is now (processes exit and restart between deployments). */
  writeProcesses(): void {
    this.options.state.processes(processesFile(this.options.revisions));
  }

  /** Writes both state files as they are now. */
  writeState(): void {
    this.options.state.deployments(deploymentsFile(this.states, this.rollbacks, this.options.wiring));
    this.options.state.processes(processesFile(this.options.revisions));
  }

  /**
   * Rehearses a deployment of `service`, `env` changing its app's declared environment (`KEY=` unsets);
   * progress lines go to `onProgress`.
   */
  readonly deploy = async (
    service: string,
    env: Readonly<Record<string, string>>,
    onProgress: (line: string) => void,
  ): Promise<LocalDeploymentOutcome> => {
    const list = this.options.revisions.get(service);
    if (!list) {
      return {
        status: 'failed',
        reason: `no service '${service}' (declared: ${[...this.options.revisions.keys()].join(', ')})`,
      };
    }
    const kind = this.options.wiring.tasks.find((t) => t.service === service)?.kind;
    if (kind === 'worker') {
      return {
        status: 'failed',
        reason: `${service} is a worker: the local rehearsal judges a revision on the requests it answers, and a worker answers none (on AWS its rolling deployment is rolled back by its anomaly-rate alarm)`,
      };
    }
    if (this.running.has(service)) {
      return { status: 'failed', reason: `a deployment of ${service} is already running` };
    }
    this.running.add(service);
    try {
      const task = this.options.wiring.tasks.find((t) => t.service === service)!;
      const outcome = await runLocalDeployment(
        {
          service,
          kind: task.kind === 'worker' ? 'internal' : task.kind,
          deployment: task.deployment,
          policy: this.options.wiring.rollbackPolicy,
          env,
        },
        revisionDriver({
          revisions: list,
          createUnit: this.options.createUnit,
          progress: (line) => {
            this.options.say(line);
            onProgress(line);
          },
          report: (state) => this.report(service, state),
          startTimeoutMs: START_TIMEOUT_MS,
        }),
      );
      this.options.state.processes(processesFile(this.options.revisions));
      return outcome;
    } finally {
      this.running.delete(service);
    }
  };

  private report(service: string, state: LocalDeploymentState): void {
    this.states.set(service, state);
    if (state.phase === 'rolled-back' && state.to) {
      const history = this.rollbacks.get(service) ?? [];
      history.unshift({
        fromRevision: state.to,
        toRevision: state.from,
        reason: state.reason ?? '',
        at: new Date(state.updatedAt).toISOString(),
      });
      this.rollbacks.set(service, history);
    }
    this.writeState();
  }
}
