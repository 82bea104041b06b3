import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Manifest } from '../../config/index.ts';
import { wirePlatform } from '../wiring/index.ts';
import { type LocalAlb, listenerRules, startLocalAlb } from './alb.ts';
import { invokeOverHttp, type LocalApiGateway, startLocalApiGateway } from './api-gateway.ts';
import { startControlServer } from './control.ts';
import { deploymentsFile, processesFile } from './deployment-state.ts';
import {
  type LocalDeploymentOutcome,
  type LocalDeploymentState,
  runLocalDeployment,
  START_TIMEOUT_MS,
} from './deployments.ts';
import { type ForwarderStats, PrefixPrinter, SidecarForwarder } from './log-router.ts';
import { type LocalParts, type ProcessPlan, planLocalRun, portsNeeded } from './plan.ts';
import { PortInUseError, pickFreePorts, probePort } from './ports.ts';
import { revisionDriver } from './revision-driver.ts';
import { ServiceRevisions } from './revisions.ts';
import { startSidecarAggregate } from './sidecar-aggregate.ts';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from './supervisor.ts';
import { Unit } from './unit.ts';

/** Options of {@link startPlatform}. */
export interface StartPlatformOptions {
  readonly manifest: Manifest;
  /** Repository root. */
  readonly root: string;
  /** Local ALB port (0 picks a free one). */
  readonly webPort: number;
  /** Local API Gateway port (0 picks a free one). */
  readonly apiPort: number;
  /** Model endpoint port (0 picks a free one). */
  readonly modelPort: number;
  /** Require this `x-api-key` on the API. @default - none required */
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
}

/** One process in the state file. */
export interface ProcessState {
  readonly label: string;
  readonly role: ProcessPlan['role'];
  readonly service?: string;
  readonly port: number;
  readonly pid: number | null;
  /** Every process group this process has led (restarts add one). */
  readonly processGroups: readonly number[];
  readonly restarts: number;
  readonly healthy: boolean;
}

/** What `.local/runtime.json` holds. */
export interface RuntimeState {
  readonly supervisorPid: number;
  readonly startedAt: string;
  readonly urls: { readonly web: string; readonly api: string; readonly model: string | null };
  /** The runtime's control endpoint (`npm run deploy -- --local`), with the bearer token it requires. */
  readonly control?: { readonly url: string; readonly token: string } | null;
  readonly processes: readonly ProcessState[];
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
  /** Stops everything; resolves when no child process is left. */
  stop(): Promise<void>;
}

/** A failure to start, with what the user should do. */
export class StartError extends Error {
  override readonly name = 'StartError';
}

/**
 * Starts the platform described by `manifest` on loopback and resolves once every health check passes.
 * Ports are checked before anything starts; on any failure everything started so far is stopped and a
 * {@link StartError} explains what to do.
 *
 * @example
 * const platform = await startPlatform({ manifest, root, webPort: 8080, apiPort: 8081, modelPort: 8082 });
 * console.log(platform.urls.web);
 * await platform.stop();
 */
export async function startPlatform(options: StartPlatformOptions): Promise<RunningPlatform> {
  const startedAt = Date.now();
  const { manifest, root } = options;
  const printer = new PrefixPrinter(options.out ?? process.stdout);
  const say = (line: string) => printer.print('local', line);
  const cluster = manifest.platform.name;

  // Ports first, before anything starts: the ALB and API Gateway hold theirs from here on.
  const modelPort = manifest.model ? await probePort(options.modelPort, 'MODEL_PORT') : 0;
  let alb: LocalAlb | undefined;
  let predictPort = 0;
  let plan: ReturnType<typeof planLocalRun> | undefined;
  let createUnit: (plan: ProcessPlan) => Unit = () => {
    throw new Error('not started');
  };
  let api: LocalApiGateway | undefined;
  const units: Unit[] = [];
  const revisions = new Map<string, ServiceRevisions>(
    manifest.services.map((s) => [s.name, new ServiceRevisions(s.name)]),
  );
  const addresses: Array<{ close(): Promise<void> }> = [];
  const stopAll = async () => {
    await Promise.all([alb?.close(), api?.close(), ...addresses.map((a) => a.close())]);
    // App containers and functions first, so their last lines still reach running sidecars (as ECS
    // stops a task's essential container before the containers it depends on).
    const first = units.filter((u) => u.plan.role === 'service' || u.plan.role === 'function');
    await Promise.all(first.map((u) => u.stop()));
    await Promise.all(units.map((u) => u.forwarder?.close()));
    await Promise.all(units.filter((u) => !first.includes(u)).map((u) => u.stop()));
  };

  try {
    alb = await startLocalAlb({
      rules: listenerRules(manifest),
      port: options.webPort,
      idleTimeoutMs: manifest.platform.edge.idleTimeoutSeconds * 1000,
      // A target per request, drawn by the revisions' traffic weights (the target groups' shares).
      targetOf: (service) => revisions.get(service)?.pick(),
    }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EADDRINUSE' ? new PortInUseError(options.webPort, 'WEB_PORT') : error;
    });
    api = await startLocalApiGateway({
      port: options.apiPort,
      routes: [
        {
          // The wiring's prediction route (the same the AWS API renders).
          method: wirePlatform(manifest).prediction?.method ?? 'POST',
          resource: wirePlatform(manifest).prediction?.path ?? '/predict',
          invoke: invokeOverHttp(() => `http://127.0.0.1:${predictPort}`),
        },
      ],
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      onError: (message) => printer.print('api', message, 'stderr'),
    }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EADDRINUSE' ? new PortInUseError(options.apiPort, 'API_PORT') : error;
    });

    // Then the plan and its files, still before anything runs.
    const internalPorts = await pickFreePorts(portsNeeded(manifest));
    try {
      plan = planLocalRun(manifest, {
        root,
        modelPort,
        internalPorts,
        ...(options.parts ? { parts: options.parts } : {}),
        ...(options.secretValues ? { secretValues: options.secretValues } : {}),
        ...(options.stateFile
          ? {
              stateFiles: {
                deployments: join(dirname(options.stateFile), 'deployments.json'),
                processes: join(dirname(options.stateFile), 'processes.json'),
              },
            }
          : {}),
      });
    } catch (error) {
      throw new StartError((error as Error).message);
    }
    for (const p of plan.processes) {
      const file = resolve(root, p.entry);
      if (!existsSync(file)) {
        throw new StartError(`${p.label}: entry point ${p.entry} does not exist (is that part built yet?)`);
      }
    }
    const handlerFile = plan.processes.find((p) => p.role === 'function')?.env.LAMBDA_HANDLER?.split('#')[0];
    if (handlerFile && !existsSync(handlerFile)) {
      throw new StartError(
        `predict: handler ${handlerFile} does not exist (is functions/predict built yet?)`,
      );
    }
    predictPort = plan.processes.find((p) => p.role === 'function')!.port;

    if (options.prepare) {
      await options.prepare(say).catch((error: unknown) => {
        throw new StartError((error as Error).message);
      });
    }

    const policy = options.restartPolicy ?? DEFAULT_RESTART_POLICY;
    createUnit = (p: ProcessPlan) => {
      const forwarder = p.logIntake
        ? new SidecarForwarder({
            url: p.logIntake,
            onTrouble: (message) => printer.print(`${p.label}`, `[local] log router: ${message}`, 'stderr'),
          })
        : undefined;
      const unit = new Unit(p, root, process.pid, policy, printer, cluster, forwarder);
      units.push(unit);
      return unit;
    };
    for (const p of plan.processes) createUnit(p);
    // Revision 1 of every service: its app and sidecar, with all the traffic.
    for (const [service, list] of revisions) {
      const app = units.find((u) => u.plan.role === 'service' && u.plan.service === service)!;
      const sidecar = units.find((u) => u.plan.role === 'sidecar' && u.plan.service === service);
      list.add({ id: 1, app, sidecar, weight: 100, startedAt: Date.now() });
    }
    // Each service's stable addresses: a proxy over its revisions, and its sidecars merged.
    for (const address of plan.addresses) {
      const list = revisions.get(address.service)!;
      addresses.push(
        await startLocalAlb({
          rules: [{ service: address.service, paths: [], priority: 0 }],
          port: address.port,
          targetOf: () => list.pick(),
        }),
      );
      if (address.sidecarPort !== undefined) {
        addresses.push(
          await startSidecarAggregate({
            service: address.service,
            port: address.sidecarPort,
            sidecars: () =>
              list.all.flatMap((r) => (r.sidecar ? [`http://127.0.0.1:${r.sidecar.plan.port}`] : [])),
          }),
        );
      }
    }
    for (const unit of [...units]) unit.start();

    const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
    const interrupted = new Promise<'interrupted'>((resolveAbort) => {
      if (options.signal?.aborted) resolveAbort('interrupted');
      options.signal?.addEventListener('abort', () => resolveAbort('interrupted'), { once: true });
    });
    const all = Promise.all(units.map(async (u) => ({ unit: u, ok: await u.waitHealthy(readyTimeoutMs) })));
    const results = await Promise.race([all, interrupted]);
    if (results === 'interrupted')
      throw new StartError('start-up interrupted; everything started was stopped');
    const failed = results.filter((r) => !r.ok).map((r) => r.unit);
    if (failed.length > 0) {
      const details = failed
        .map((u) => {
          const tail = u.lastLines.map((l) => `    ${l}`).join('\n') || '    (no output)';
          return `  ${u.plan.label}: ${u.plan.health.url} did not pass within ${readyTimeoutMs / 1000} s; last output:\n${tail}`;
        })
        .join('\n');
      throw new StartError(
        `not ready: ${failed.map((u) => u.plan.label).join(', ')} never became healthy\n${details}`,
      );
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const urls = { web: alb.url, api: api.url, model: plan.model?.url ?? null };
  let controlInfo: RuntimeState['control'] = null;
  const state = (): RuntimeState => ({
    supervisorPid: process.pid,
    startedAt: new Date(startedAt).toISOString(),
    urls,
    control: controlInfo,
    processes: units.map((u) => ({
      label: u.plan.label,
      role: u.plan.role,
      ...(u.plan.service ? { service: u.plan.service } : {}),
      port: u.plan.port,
      pid: u.proc.pid ?? null,
      processGroups: u.proc.processGroups,
      restarts: u.proc.restarts,
      healthy: u.healthy,
    })),
  });
  const deploymentStates = new Map<string, LocalDeploymentState>();
  const rollbacks = new Map<
    string,
    { fromRevision: string; toRevision: string; reason: string; at: string }[]
  >();
  const writeDeployments = () => {
    if (!options.stateFile) return;
    writeJsonAtomically(
      join(dirname(options.stateFile), 'deployments.json'),
      deploymentsFile(deploymentStates, rollbacks, wiring),
    );
  };
  const writeProcesses = () => {
    if (!options.stateFile) return;
    writeJsonAtomically(join(dirname(options.stateFile), 'processes.json'), processesFile(revisions));
  };
  const running = new Set<string>();
  const wiring = plan.wiring;
  const deploy: RunningPlatform['deploy'] = async (service, env, onProgress) => {
    const list = revisions.get(service);
    if (!list)
      return {
        status: 'failed',
        reason: `no service '${service}' (declared: ${[...revisions.keys()].join(', ')})`,
      };
    if (running.has(service))
      return { status: 'failed', reason: `a deployment of ${service} is already running` };
    running.add(service);
    try {
      const task = wiring.tasks.find((t) => t.service === service)!;
      const outcome = await runLocalDeployment(
        service,
        task.deployment,
        env,
        revisionDriver({
          revisions: list,
          createUnit,
          progress: (line) => {
            say(line);
            onProgress(line);
          },
          report: (s) => {
            deploymentStates.set(service, s);
            if (s.phase === 'rolled-back' && s.to) {
              const history = rollbacks.get(service) ?? [];
              history.unshift({
                fromRevision: s.to,
                toRevision: s.from,
                reason: s.reason ?? '',
                at: new Date(s.updatedAt).toISOString(),
              });
              rollbacks.set(service, history);
            }
            writeDeployments();
            writeProcesses();
          },
          startTimeoutMs: START_TIMEOUT_MS,
        }),
      );
      writeProcesses();
      return outcome;
    } finally {
      running.delete(service);
    }
  };
  writeDeployments();
  writeProcesses();
  const control = await startControlServer({ deploy });
  controlInfo = { url: control.url, token: control.token };
  let stateTimer: NodeJS.Timeout | undefined;
  if (options.stateFile) {
    const file = options.stateFile;
    const write = () => writeState(file, state());
    write();
    // Restarts change pids; keep the file current for the fault CLI and the tests.
    for (const u of units) u.proc.on('spawn', () => setImmediate(write));
    stateTimer = setInterval(write, 2000);
    stateTimer.unref();
  }

  let stopping: Promise<void> | undefined;
  return {
    urls,
    readyAfterMs: Date.now() - startedAt,
    deploy,
    state,
    forwarderStats: () =>
      Object.fromEntries(units.filter((u) => u.forwarder).map((u) => [u.plan.label, u.forwarder!.stats])),
    stop: () => {
      stopping ??= (async () => {
        if (stateTimer) clearInterval(stateTimer);
        await control.close();
        await stopAll();
        if (options.stateFile) writeState(options.stateFile, state());
      })();
      return stopping;
    },
  };
}

/** Writes the state file atomically (a reader never sees half a file); only the owner may read it (it holds the control token). */
export function writeState(file: string, state: RuntimeState): void {
  writeJsonAtomically(file, state);
}

function writeJsonAtomically(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
