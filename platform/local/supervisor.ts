import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { forgetGroup, reapOnExit } from './orphan-reaper.ts';
import { descendantsOf, isSameProcessAlive, type ProcessIdentity } from './process-tree.ts';

/** What to run for one supervised process (a service instance, a sidecar, the model server…). */
export interface ProcessSpec {
  /** Label used in printed events and log prefixes, e.g. `backend` or `backend/sidecar`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The complete environment of the child; nothing is inherited implicitly. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Time the process group has to exit after SIGTERM before SIGKILL (the task's `stopTimeout`). */
  readonly stopTimeoutMs: number;
}

/**
 * Exponential restart backoff, as ECS throttles a task that keeps failing: the delay grows with the
 * crashes within a window, so a process that crashes every 10.5 s backs off just like one that crashes at
 * once (a reset after any 10 s run restarted such a loop at the minimum forever).
 */
export interface RestartPolicy {
  /** Delay before the first restart. @default 200 */
  readonly initialDelayMs: number;
  /** Cap of the delay. @default 8000 */
  readonly maxDelayMs: number;
  /** @default 2 */
  readonly factor: number;
  /** Crashes this recent count toward the delay; one crash-free window starts again at the initial delay. @default 600000 */
  readonly crashWindowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 200,
  maxDelayMs: 8000,
  factor: 2,
  crashWindowMs: 10 * 60_000,
};

/**
 * The delay before the restart that follows the latest of `crashTimes` (epoch ms, the latest last):
 * `initial × factor^(crashes within the window − 1)`, capped.
 *
 * @example
 * restartDelayAfter([0, 10_500, 21_000], 21_000, DEFAULT_RESTART_POLICY) // 800
 */
export function restartDelayAfter(crashTimes: readonly number[], now: number, policy: RestartPolicy): number {
  const recent = crashTimes.filter((t) => now - t < policy.crashWindowMs).length;
  return restartDelayMs(Math.max(0, recent - 1), policy);
}

/**
 * The delay before restart number `attempt` (0-based): `initial × factor^attempt`, capped.
 *
 * @example
 * restartDelayMs(3, DEFAULT_RESTART_POLICY) // 1600
 */
export function restartDelayMs(attempt: number, policy: RestartPolicy): number {
  return Math.min(policy.maxDelayMs, Math.round(policy.initialDelayMs * policy.factor ** attempt));
}

/** Events of a {@link SupervisedProcess}. */
export interface SupervisedProcessEvents {
  /** A new instance started; `stdout`/`stderr` are its pipes (read them, or the child blocks). */
  spawn: [info: { pid: number; stdout: Readable; stderr: Readable; restarts: number }];
  /** The instance exited while it was meant to run; a restart is scheduled after `delayMs`. */
  crash: [info: { pid: number; code: number | null; signal: NodeJS.Signals | null; delayMs: number }];
  /** The process could not be spawned at all (missing binary…); treated as a crash. */
  error: [error: Error];
  /** The instance exited after {@link SupervisedProcess.stop}. */
  stopped: [info: { pid: number; code: number | null; signal: NodeJS.Signals | null; killed: boolean }];
}

/**
 * One long-running process, restarted with capped exponential backoff when it exits, like an ECS
 * service replacing a stopped task. The child runs in its own process group (`detached`), so stopping
 * it signals everything it started too, and a Ctrl-C in the terminal reaches only the supervisor, which
 * then stops children in order. Descendants that left the group (setsid, a daemonising server) are
 * tracked through /proc while the child runs and signalled one by one.
 *
 * @example
 * const proc = new SupervisedProcess({ name: 'web', command: process.execPath, args: ['server.js'],
 *   env: { PORT: '3000' }, cwd: process.cwd(), stopTimeoutMs: 5000 });
 * proc.on('spawn', ({ stdout }) => stdout.pipe(process.stdout));
 * proc.start();
 * await proc.stop();
 */
export class SupervisedProcess extends EventEmitter<SupervisedProcessEvents> {
  readonly spec: ProcessSpec;
  private readonly policy: RestartPolicy;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private wanted = false;
  private crashTimes: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private restartCount = 0;
  /** Descendants seen while the instance runs: those that left its group are found by this. */
  private descendants = new Map<number, ProcessIdentity>();
  private sampler: NodeJS.Timeout | undefined;
  /** Every process group this process ever led, so a test or shutdown can prove none survived. */
  private readonly groups: number[] = [];
  /** The pid being stopped on purpose, so its exit is not mistaken for a crash. */
  private stoppingPid: number | undefined;

  constructor(spec: ProcessSpec, policy: RestartPolicy = DEFAULT_RESTART_POLICY) {
    super();
    this.spec = spec;
    this.policy = policy;
  }

  /** The pid (and process-group id) of the running instance. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How many times the process has been restarted after a crash or {@link restart}. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Process-group ids of every instance started so far (a copy). */
  get processGroups(): number[] {
    return [...this.groups];
  }

  /** Whether an instance is running now. */
  get running(): boolean {
    return this.child !== undefined;
  }

  start(): void {
    this.wanted = true;
    if (!this.child && !this.restartTimer) this.spawnChild();
  }

  /**
   * Replaces the running instance (e.g. after failed health checks): stops its group and starts a new
   * one without backoff, as ECS replaces an unhealthy task.
   */
  async restart(): Promise<void> {
    await this.stopChild();
    if (!this.wanted) return;
    this.restartCount += 1;
    this.spawnChild();
  }

  /** Stops the process group: SIGTERM, then SIGKILL after `stopTimeoutMs`. Resolves once it is gone. */
  async stop(): Promise<void> {
    this.wanted = false;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    await this.stopChild();
  }

  private spawnChild(): void {
    this.restartTimer = undefined;
    const child = spawn(this.spec.command, [...this.spec.args], {
      cwd: this.spec.cwd,
      env: { ...this.spec.env },
      // Its own process group: the supervisor signals the whole group, so grandchildren die too.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    if (pid === undefined) {
      // spawn failed synchronously-ish (ENOENT…); 'error' follows on the child.
      child.once('error', (error) => {
        this.emit('error', error);
        this.scheduleRestart(null, null, -1);
      });
      return;
    }
    this.child = child;
    this.groups.push(pid);
    reapOnExit(pid);
    this.descendants = new Map();
    // A descendant that escapes the group is only findable while its parent chain leads here.
    this.sampler = setInterval(() => this.sampleDescendants(pid), DESCENDANT_SAMPLE_MS);
    this.sampler.unref();
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.child = undefined;
        clearInterval(this.sampler);
        // A crashed leader can leave its group behind (workers, shells): clear it before a restart
        // re-binds the same port.
        killGroup(pid, 'SIGKILL');
        forgetGroup(pid);
        this.signalDescendants('SIGKILL');
        if (this.stoppingPid === pid || !this.wanted) {
          this.emit('stopped', { pid, code, signal, killed: signal === 'SIGKILL' });
        } else {
          this.scheduleRestart(code, signal, pid);
        }
        resolve();
      });
    });
    child.on('error', (error) => this.emit('error', error));
    this.emit('spawn', { pid, stdout: child.stdout!, stderr: child.stderr!, restarts: this.restartCount });
  }

  private sampleDescendants(pid: number): void {
    for (const d of descendantsOf(pid)) this.descendants.set(d.pid, d);
  }

  /** Signals every tracked descendant still alive (a reused pid is left alone); 0 only counts them. */
  private signalDescendants(signal: NodeJS.Signals | 0): number {
    let alive = 0;
    for (const d of this.descendants.values()) {
      if (!isSameProcessAlive(d)) continue;
      alive += 1;
      try {
        process.kill(d.pid, signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    return alive;
  }

  private scheduleRestart(code: number | null, signal: NodeJS.Signals | null, pid: number): void {
    if (!this.wanted) return;
    const now = Date.now();
    this.crashTimes = [...this.crashTimes.filter((t) => now - t < this.policy.crashWindowMs), now];
    const delayMs = restartDelayAfter(this.crashTimes, now, this.policy);
    this.emit('crash', { pid, code, signal, delayMs });
    this.restartTimer = setTimeout(() => {
      this.restartCount += 1;
      this.spawnChild();
    }, delayMs);
  }

  private async stopChild(): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    if (!child || child.pid === undefined || !exited) return;
    const pid = child.pid;
    this.stoppingPid = pid;
    this.sampleDescendants(pid);
    killGroup(pid, 'SIGTERM');
    this.signalDescendants('SIGTERM');
    const deadline = Date.now() + this.spec.stopTimeoutMs;
    const timer = setTimeout(() => {
      killGroup(pid, 'SIGKILL');
      this.signalDescendants('SIGKILL');
    }, this.spec.stopTimeoutMs);
    try {
      await exited;
      // The leader is gone; give the rest of its group the remaining time, then kill it.
      await waitForGroupExit(pid, this.spec.stopTimeoutMs);
      while (this.signalDescendants(Date.now() >= deadline ? 'SIGKILL' : 0) > 0) {
        if (Date.now() > deadline + 2000) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** How often the descendants of a running child are sampled from /proc. */
const DESCENDANT_SAMPLE_MS = 1000;

/** Sends `signal` to process group `pgid`; a group that is already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Whether any process of group `pgid` still exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits until group `pgid` is empty, sending SIGKILL once `timeoutMs` has passed. */
export async function waitForGroupExit(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let killed = false;
  while (groupAlive(pgid)) {
    if (!killed && Date.now() >= deadline) {
      killGroup(pgid, 'SIGKILL');
      killed = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
    // SIGKILL cannot be ignored; a group that outlives it by seconds is a zombie the init reaps.
    if (killed && Date.now() > deadline + 2000) return;
  }
}
