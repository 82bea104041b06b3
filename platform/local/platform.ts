import type { JobRun } from '../../contracts/job-runs.ts';
import type { PlatformWiring } from '../wiring/index.ts';
import { type LocalAlb, listenerRules, startLocalAlb } from './alb.ts';
import { invokeOverHttp, type LocalApiGateway, startLocalApiGateway } from './api-gateway.ts';
import { type ControlServer, startControlServer } from './control.ts';
import { DeploymentController } from './deployment-controller.ts';
import type { LocalDeploymentOutcome } from './deployments.ts';
import { LocalJobs } from './jobs.ts';
import { type ForwarderStats, PrefixPrinter } from './log-router.ts';
import { apiRoutes, type LocalParts, type LocalPlan } from './plan.ts';
import { PortInUseError, probePort } from './ports.ts';
import { StartError, waitUntilReady } from './readiness.ts';
import { ServiceRevisions } from './revisions.ts';
import { RuntimeFaults } from './runtime-faults.ts';
import { planRuntime } from './runtime-plan.ts';
import { type RuntimeState, StateWriter } from './runtime-state.ts';
import { type Closable, startServiceAddresses } from './service-addresses.ts';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from './supervisor.ts';
import { UnitSet } from './units.ts';

export { StartError } from './readiness.ts';
export { type ProcessState, type RuntimeState, writeState } from './runtime-state.ts';

/** Options of {@link startPlatform}. */
export interface StartPlatformOptions {
  /** The platform's wiring, derived once by the CLI. */
  readonly wiring: PlatformWiring;
  /** The team's repository: its services' entries are relative to it. */
  readonly root: string;
  /** The package's folder (its sidecar, Lambda host, model). @default - root */
  readonly packageRoot?: string;
  /** Local ALB port (0 picks a free one). */
  readonly webPort: number;
  /** Local API Gateway port (0 picks a free one). */
  readonly apiPort: number;
  /** Model endpoint port (0 picks a free one). */
  readonly modelPort: number;
  /**
   * Require this `x-api-key` on the API (on AWS a client's key is always required; locally it is
   * optional, the declared difference `local-api-key-optional`). @default - none required
   */
  readonly apiKey?: string;
  /** Every health check must pass within this time. @default 60000 */
  readonly readyTimeoutMs?: number;
  /** Where prefixed logs and events are printed. @default process.stdout */
  readonly out?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly parts?: LocalParts;
  /** Where the run's pids, groups and URLs are written (read by the fault CLI and tests). */
  readonly stateFile?: string;
  readonly restartPolicy?: RestartPolicy;
  readonly secretValues?: Readonly<Record<string, string>>;
  /** Runs before any process starts (e.g. builds the console's assets). */
  readonly prepare?: (print: (line: string) => void) => Promise<void>;
  /** Aborts start-up (Ctrl-C while waiting for health checks): everything started is stopped. */
  readonly signal?: AbortSignal;
  /**
   * Scheduled jobs' time runs this many times faster (`rate(5 minutes)` at 60 fires every 5 s), for
   * rehearsals and tests. @default 1
   */
  readonly jobTimeScale?: number;
}

/** A running local platform. */
export interface RunningPlatform {
  readonly urls: RuntimeState['urls'];
  /** Milliseconds from the call to every health check passing. */
  readonly readyAfterMs: number;
  state(): RuntimeState;
  forwarderStats(): Record<string, ForwarderStats>;
  /**
   * Rehearses a deployment of `service` with `env` on its app (see deployments.ts); one at a time per
   * service. Progress lines go to `onProgress` as they happen.
   */
  deploy(
    service: string,
    env: Readonly<Record<string, string>>,
    onProgress: (line: string) => void,
  ): Promise<LocalDeploymentOutcome>;
  /** Runs a scheduled job once now (`start --now JOB`); resolves with the finished run. */
  runJob(job: string): Promise<JobRun>;
  /** Every scheduled run so far, oldest first. */
  jobRuns(): JobRun[];
  /** Stops everything; resolves when no child process is left. */
  stop(): Promise<void>;
}

/** How often the runtime state file is rewritten (restarts change pids in between too). */
const STATE_INTERVAL_MS = 2000;

/** The parts a started runtime is composed of. */
interface RuntimeParts {
  readonly options: StartPlatformOptions;
  readonly startedAt: number;
  readonly readyAfterMs: number;
  readonly urls: RuntimeState['urls'];
  readonly units: UnitSet;
  /** Servers closed before the units on stop: the ALB, the API Gateway, the service addresses. */
  readonly servers: readonly Closable[];
  readonly state: StateWriter;
  readonly deployments: DeploymentController;
  readonly control: ControlServer;
  /** Faults rehearsed by the runtime for services without a fault switch (`fault`). */
  readonly faults: RuntimeFaults;
  readonly jobs: LocalJobs;
}

/**
 * The local runtime: the wired platform on loopback, composed of its ports, its
 * plan, its supervised units, the services' addresses, readiness, a state writer and a deployment
 * controller. {@link LocalRuntime.start} resolves once every health check passes; ports are checked
 * before anything starts, and on any failure everything started so far is stopped and a
 * {@link StartError} explains what to do.
 *
 * @example
 * const platform = await LocalRuntime.start({ wiring, root, webPort: 8080, apiPort: 8081, modelPort: 8082 });
 * console.log(platform.urls.web);
 * await platform.stop();
 */
export class LocalRuntime implements RunningPlatform {
  private stopping: Promise<void> | undefined;
  private readonly stateTimer: NodeJS.Timeout | undefined;

  static async start(options: StartPlatformOptions): Promise<LocalRuntime> {
    const startedAt = Date.now();
    const { wiring, root } = options;
    const printer = new PrefixPrinter(options.out ?? process.stdout);
    const units = new UnitSet(
      root,
      options.restartPolicy ?? DEFAULT_RESTART_POLICY,
      printer,
      wiring.platform,
    );
    const revisions = new Map<string, ServiceRevisions>(
      wiring.tasks.map((t) => [t.service, new ServiceRevisions(t.service)]),
    );
    const servers: Closable[] = [];
    const stopAll = async () => {
      await Promise.all(servers.map((s) => s.close()));
      await units.stopAll();
    };
    try {
      // Ports first, before anything starts: the ALB and API Gateway hold theirs from here on.
      const modelPort = wiring.model ? await probePort(options.modelPort, 'MODEL_PORT') : 0;
      const alb = await startAlb(options, revisions);
      servers.push(alb);
      const api = await startApi(options, units, printer);
      servers.push(api);
      // Then the plan and its files, still before anything runs.
      const plan = await planRuntime(wiring, {
        root,
        ...(options.packageRoot ? { packageRoot: options.packageRoot } : {}),
        modelPort,
        ...(options.parts ? { parts: options.parts } : {}),
        ...(options.secretValues ? { secretValues: options.secretValues } : {}),
        ...(options.stateFile ? { stateFile: options.stateFile } : {}),
      });
      if (options.prepare) {
        await options
          .prepare((line) => printer.print('local', line))
          .catch((error: unknown) => {
            throw new StartError((error as Error).message);
          });
      }
      for (const p of plan.processes) units.create(p);
      // Revision 1 of every service: its app and sidecar, with all the traffic.
      for (const [service, list] of revisions) {
        const app = units.find('service', service)!;
        list.add({ id: 1, app, sidecar: units.find('sidecar', service), weight: 100, startedAt: Date.now() });
      }
      await startServiceAddresses(plan.addresses, revisions, servers);
      for (const unit of units.all) unit.start();
      await waitUntilReady(units.all, options.readyTimeoutMs ?? 60_000, options.signal);
      return await LocalRuntime.serve(options, {
        startedAt,
        alb,
        api,
        plan,
        units,
        servers,
        revisions,
        printer,
      });
    } catch (error) {
      await stopAll();
      throw error;
    }
  }

  /** The ready platform: its state files, deployment controller and control endpoint. */
  private static async serve(
    options: StartPlatformOptions,
    started: {
      startedAt: number;
      alb: LocalAlb;
      api: LocalApiGateway;
      plan: LocalPlan;
      units: UnitSet;
      servers: readonly Closable[];
      revisions: ReadonlyMap<string, ServiceRevisions>;
      printer: PrefixPrinter;
    },
  ): Promise<LocalRuntime> {
    const state = new StateWriter(options.stateFile);
    const deployments = new DeploymentController({
      wiring: started.plan.wiring,
      revisions: started.revisions,
      createUnit: (plan) => started.units.create(plan),
      state,
      say: (line) => started.printer.print('local', line),
    });
    deployments.writeState();
    const faults = new RuntimeFaults(started.revisions);
    const control = await startControlServer({ deploy: deployments.deploy, faults });
    const jobs = new LocalJobs({
      plans: started.plan.jobs,
      root: options.root,
      printer: started.printer,
      cluster: options.wiring.platform,
      ...(options.jobTimeScale ? { timeScale: options.jobTimeScale } : {}),
      onChange: (runs) => state.jobs({ updatedAt: new Date().toISOString(), runs: [...runs] }),
    });
    state.jobs({ updatedAt: new Date().toISOString(), runs: [] });
    jobs.start();
    return new LocalRuntime({
      options,
      startedAt: started.startedAt,
      readyAfterMs: Date.now() - started.startedAt,
      urls: { web: started.alb.url, api: started.api.url, model: started.plan.model?.url ?? null },
      units: started.units,
      servers: started.servers,
      state,
      deployments,
      control,
      faults,
      jobs,
    });
  }

  private constructor(private readonly parts: RuntimeParts) {
    if (parts.options.stateFile) {
      const write = () => {
        parts.state.runtime(this.state());
        // The console's processes view (pushed on its live stream) follows restarts and exits too.
        parts.deployments.writeProcesses();
      };
      write();
      // Restarts change pids; keep the file current for the fault CLI and the tests.
      for (const u of parts.units.all) u.proc.on('spawn', () => setImmediate(write));
      this.stateTimer = setInterval(write, STATE_INTERVAL_MS);
      this.stateTimer.unref();
    }
  }

  get urls(): RuntimeState['urls'] {
    return this.parts.urls;
  }

  get readyAfterMs(): number {
    return this.parts.readyAfterMs;
  }

  state(): RuntimeState {
    return {
      supervisorPid: process.pid,
      startedAt: new Date(this.parts.startedAt).toISOString(),
      urls: this.parts.urls,
      control: { url: this.parts.control.url, token: this.parts.control.token },
      processes: this.parts.units.all.map((u) => ({
        label: u.plan.label,
        role: u.plan.role,
        ...(u.plan.service ? { service: u.plan.service } : {}),
        port: u.plan.port,
        pid: u.proc.pid ?? null,
        processGroups: u.proc.processGroups,
        restarts: u.proc.restarts,
        healthy: u.healthy,
      })),
    };
  }

  forwarderStats(): Record<string, ForwarderStats> {
    return this.parts.units.forwarderStats();
  }

  deploy(
    service: string,
    env: Readonly<Record<string, string>>,
    onProgress: (line: string) => void,
  ): Promise<LocalDeploymentOutcome> {
    return this.parts.deployments.deploy(service, env, onProgress);
  }

  runJob(job: string): Promise<JobRun> {
    return this.parts.jobs.runNow(job);
  }

  jobRuns(): JobRun[] {
    return this.parts.jobs.list();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.stateTimer) clearInterval(this.stateTimer);
      await this.parts.control.close();
      this.parts.faults.close();
      await this.parts.jobs.stop();
      await Promise.all(this.parts.servers.map((s) => s.close()));
      await this.parts.units.stopAll();
      this.parts.state.runtime(this.state());
    })();
    return this.stopping;
  }
}

/**
 * Starts the wired platform on loopback and resolves once every health check passes
 * (see {@link LocalRuntime}).
 */
export function startPlatform(options: StartPlatformOptions): Promise<RunningPlatform> {
  return LocalRuntime.start(options);
}

/** The local ALB on the web port, a target per request drawn by the revisions' traffic weights. */
function startAlb(
  options: StartPlatformOptions,
  revisions: ReadonlyMap<string, ServiceRevisions>,
): Promise<LocalAlb> {
  return startLocalAlb({
    rules: listenerRules(options.wiring),
    port: options.webPort,
    idleTimeoutMs: options.wiring.edge.idleTimeoutSeconds * 1000,
    targetOf: (service) => revisions.get(service)?.pick(),
  }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? new PortInUseError(options.webPort, 'WEB_PORT') : error;
  });
}

/** The local API Gateway on the API port: the wiring's prediction route to the function's host. */
function startApi(
  options: StartPlatformOptions,
  units: UnitSet,
  printer: PrefixPrinter,
): Promise<LocalApiGateway> {
  return startLocalApiGateway({
    port: options.apiPort,
    // The function's host, wherever it listens now.
    routes: apiRoutes(options.wiring).map((route) => ({
      ...route,
      invoke: invokeOverHttp(() => functionUrl(units)),
    })),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    onError: (message) => printer.print('api', message, 'stderr'),
  }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? new PortInUseError(options.apiPort, 'API_PORT') : error;
  });
}

/** Where the prediction function's host listens now. */
function functionUrl(units: UnitSet): string {
  const host = units.find('function');
  if (!host) throw new Error('the prediction function is not running');
  return `http://127.0.0.1:${host.plan.port}`;
}
