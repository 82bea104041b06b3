import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';

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

/** Exponential restart backoff, as ECS throttles a task that keeps failing. */
export interface RestartPolicy {
  /** Delay before the first restart. @default 200 */
  readonly initialDelayMs: number;
  /** Cap of the delay. @default 8000 */
  readonly maxDelayMs: number;
  /** @default 2 */
  readonly factor: number;
  /** A run that lasted this long counts as healthy and resets the backoff. @default 10000 */
  readonly resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 200,
  maxDelayMs: 8000,
  factor: 2,
  resetAfterMs: 10_000,
};

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
 * then stops children in order.
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
  private attempt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private restartCount = 0;
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
    this.startedAt = Date.now();
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
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.child = undefined;
        // A crashed leader can leave its group behind (workers, shells): clear it before a restart
        // re-binds the same port.
        killGroup(pid, 'SIGKILL');
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

  private scheduleRestart(code: number | null, signal: NodeJS.Signals | null, pid: number): void {
    if (!this.wanted) return;
    if (Date.now() - this.startedAt >= this.policy.resetAfterMs) this.attempt = 0;
    const delayMs = restartDelayMs(this.attempt, this.policy);
    this.attempt += 1;
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
    killGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), this.spec.stopTimeoutMs);
    try {
      await exited;
      // The leader is gone; give the rest of its group the remaining time, then kill it.
      await waitForGroupExit(pid, this.spec.stopTimeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }
}

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
