import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerProcess } from './container-runners.ts';
import { probeCommand, probeHealth } from './health.ts';
import { type HealthPlan, PROCESS_UP_MS } from './health-plan.ts';
import {
  type LinePrinter,
  type LogRoute,
  type PrefixPrinter,
  routeLine,
  routeProcessOutput,
  type SidecarForwarder,
} from './log-router.ts';
import { baseEnvironment } from './plan.ts';
import type { ProcessPlan } from './process-plan.ts';
import type { ProcessRun } from './runners.ts';
import { type RestartPolicy, SupervisedProcess } from './supervisor.ts';

const WATCHDOG = fileURLToPath(new URL('./parent-watchdog.ts', import.meta.url));

/**
 * tsx as this package resolves it: a child runs in the team's repository, where `--import tsx` would
 * look for the team's own copy (or none).
 */
const TSX = import.meta.resolve('tsx');

const RECENT_LINES = 15;

/**
 * How a process run starts: a node entry with this package's tsx (and the parent watchdog), a program in
 * its folder, or an image through its launcher, for the process's label and variables (a revision's, a
 * job run's are its own). Services' units and scheduled jobs' runs start alike.
 */
export function spawnOf(
  run: ProcessRun,
  label: string,
  variables: readonly string[],
  root: string,
): { command: string; args: string[]; cwd: string } {
  if (run.kind === 'image') {
    const { program, args } = containerProcess(run.image, label, variables);
    return { command: program, args: [...args], cwd: root };
  }
  if (run.kind === 'command') return { command: run.program, args: [...run.args], cwd: run.cwd };
  return {
    command: process.execPath,
    args: ['--import', TSX, '--import', WATCHDOG, resolve(root, run.entry)],
    cwd: root,
  };
}

/** A planned process's run. */
function runOf(plan: ProcessPlan): ProcessRun {
  if (plan.image) return { kind: 'image', image: plan.image };
  if (plan.command) return { kind: 'command', ...plan.command };
  return { kind: 'node', entry: plan.entry ?? '' };
}

/** A supervised process with its health state, log route and recent output. */
export class Unit {
  readonly proc: SupervisedProcess;
  healthy = false;
  private everHealthy = false;
  private readonly recent: string[] = [];
  private monitor: NodeJS.Timeout | undefined;
  private failures = 0;
  private spawnedAt = 0;
  private closed = false;
  private healthyWaiters: Array<() => void> = [];
  /** Where its current run's output goes (set at each spawn). */
  private route: LogRoute | undefined;

  constructor(
    readonly plan: ProcessPlan,
    private readonly root: string,
    supervisorPid: number,
    policy: RestartPolicy,
    private readonly printer: PrefixPrinter,
    private readonly cluster: string,
    readonly forwarder: SidecarForwarder | undefined,
  ) {
    this.proc = new SupervisedProcess(
      {
        name: plan.label,
        ...spawnOf(runOf(plan), plan.label, Object.keys(plan.env), root),
        env: { ...baseEnvironment(process.env), ...plan.env, LOCAL_SUPERVISOR_PID: String(supervisorPid) },
        stopTimeoutMs: plan.stopTimeoutMs,
      },
      policy,
    );
    printer.register(plan.label);
    if (plan.runner) this.event(`runner: ${plan.runner}`);
    this.proc.on('spawn', ({ pid, stdout, stderr, restarts }) => {
      this.healthy = false;
      this.failures = 0;
      this.spawnedAt = Date.now();
      if (restarts > 0) this.event(`restarted (pid ${pid}, restart #${restarts})`);
      const recentPrinter: LinePrinter = {
        print: (label, line, stream) => {
          this.recent.push(line);
          if (this.recent.length > RECENT_LINES) this.recent.shift();
          this.printer.print(label, line, stream);
        },
      };
      this.route = {
        label: plan.label,
        printer: recentPrinter,
        ...(forwarder ? { forwarder } : {}),
        containerName: plan.service ?? plan.label,
        taskArn: `arn:aws:ecs:local:000000000000:task/${this.cluster}/${pid}`,
        cluster: this.cluster,
      };
      void routeProcessOutput(stdout, stderr, this.route);
      this.scheduleProbe(100);
    });
    this.proc.on('crash', ({ pid, code, signal, delayMs }) => {
      this.healthy = false;
      this.event(
        `exited unexpectedly (pid ${pid}, ${signal ? `signal ${signal}` : `code ${code}`}); restarting in ${delayMs} ms`,
      );
    });
    this.proc.on('error', (error) => this.event(`could not start: ${error.message}`));
  }

  /**
   * Writes lines into the process's log stream as if it had printed them (`fault SERVICE burst` for a
   * service without a fault switch): printed and forwarded to its sidecar like its own output.
   * False when it has not started yet.
   */
  writeLog(lines: readonly string[], source: 'stdout' | 'stderr' = 'stderr'): boolean {
    const route = this.route;
    if (!route) return false;
    for (const line of lines) routeLine(route, line, source);
    return true;
  }

  /** The last lines the process printed, for a failed-start message. */
  get lastLines(): string[] {
    return [...this.recent];
  }

  start(): void {
    this.proc.start();
  }

  /** Resolves true once healthy, false when `timeoutMs` passes first. */
  waitHealthy(timeoutMs: number): Promise<boolean> {
    if (this.healthy) return Promise.resolve(true);
    return new Promise((resolveWait) => {
      const timer = setTimeout(() => {
        this.healthyWaiters = this.healthyWaiters.filter((w) => w !== done);
        resolveWait(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolveWait(true);
      };
      this.healthyWaiters.push(done);
    });
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.monitor) clearTimeout(this.monitor);
    await this.proc.stop();
  }

  private event(message: string): void {
    this.printer.print(this.plan.label, `[local] ${message}`, 'stderr');
  }

  /**
   * Probes quickly until the first pass after a (re)start, then at the declared interval; after
   * `unhealthyThreshold` failures past the start period the process is replaced, as ECS replaces a
   * task whose container health check fails.
   */
  private scheduleProbe(delayMs: number): void {
    if (this.monitor) clearTimeout(this.monitor);
    if (this.closed) return;
    this.monitor = setTimeout(() => void this.probe(), delayMs);
  }

  /** One run of the plan's health check. */
  private check(h: HealthPlan): Promise<boolean> {
    switch (h.kind) {
      case 'http':
        return probeHealth(h.url, Math.min(h.timeoutMs, 2000));
      case 'command':
        return probeCommand(h, {
          env: this.proc.spec.env,
          cwd: this.root,
          timeoutMs: h.timeoutMs,
        });
      case 'process':
        return Promise.resolve(this.proc.running && Date.now() - this.spawnedAt >= PROCESS_UP_MS);
    }
  }

  private async probe(): Promise<void> {
    if (this.closed || !this.proc.running) return;
    const h = this.plan.health;
    const ok = await this.check(h);
    if (this.closed || !this.proc.running) return;
    if (ok) {
      this.failures = 0;
      if (!this.healthy) {
        this.healthy = true;
        if (this.everHealthy) this.event(`healthy again (${describeHealth(h)})`);
        this.everHealthy = true;
        for (const waiter of this.healthyWaiters.splice(0)) waiter();
      }
      return this.scheduleProbe(h.intervalMs);
    }
    if (!this.healthy) {
      // Still starting: keep probing quickly; the readiness deadline bounds the wait.
      return this.scheduleProbe(100);
    }
    this.failures += 1;
    if (this.failures >= h.unhealthyThreshold && Date.now() - this.spawnedAt > h.startPeriodMs) {
      this.healthy = false;
      this.event(`health check failed ${this.failures} times (${describeHealth(h)}); replacing the process`);
      await this.proc.restart();
      return;
    }
    this.scheduleProbe(Math.min(h.intervalMs, 1000));
  }
}

/** A health check as printed in events and start-up failures. */
export function describeHealth(h: HealthPlan): string {
  switch (h.kind) {
    case 'http':
      return h.url;
    case 'command':
      return [h.file, ...h.args].join(' ');
    case 'process':
      return `the process staying up ${PROCESS_UP_MS / 1000} s`;
  }
}
