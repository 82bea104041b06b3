import { type ChildProcess, spawn } from 'node:child_process';
import type { JobRun } from '../../contracts/job-runs.ts';
import { SIDECAR_ENV, SIDECAR_PATHS } from '../../contracts/sidecar.ts';
import { nextJobFire, revisionLabel } from '../wiring/index.ts';
import { waitUntilHealthy } from './health.ts';
import type { JobPlan } from './job-plan.ts';
import { type PrefixPrinter, routeProcessOutput, SidecarForwarder } from './log-router.ts';
import { forgetGroup, reapOnExit } from './orphan-reaper.ts';
import { baseEnvironment } from './plan.ts';
import { pickFreePorts } from './ports.ts';
import { settledRunLines } from './run-scoring.ts';
import { DEFAULT_RESTART_POLICY, killGroup, SupervisedProcess, waitForGroupExit } from './supervisor.ts';
import { spawnOf } from './unit.ts';

/** Runs kept per job in memory and in `jobs.json`. */
const KEPT_RUNS = 50;
/** A run's anomalous lines kept with it. */
const KEPT_ANOMALIES = 20;
/** How long a run's sidecar may take to come up, and to finish scoring the run's last lines. */
const SIDECAR_DEADLINE_MS = 30_000;

/** Options of {@link LocalJobs}. */
export interface LocalJobsOptions {
  readonly plans: readonly JobPlan[];
  readonly root: string;
  readonly printer: PrefixPrinter;
  readonly cluster: string;
  /**
   * Schedule time passes this many times faster than the clock (timeouts too): `rate(5 minutes)` at 60
   * fires every 5 s. For rehearsals and tests. @default 1
   */
  readonly timeScale?: number;
  /** Called with every run's latest record (the state writer). */
  readonly onChange: (runs: readonly JobRun[]) => void;
}

/**
 * The scheduled jobs under `start`: each fires on the times its schedule gives (the wiring's
 * {@link nextJobFire}, as EventBridge Scheduler fires on AWS), and each run is one task — its app
 * process run to completion, its output routed to a sidecar started for the run — stopped at its
 * timeout. A run's exit code, duration and scored and anomalous lines are listed.
 */
export class LocalJobs {
  private readonly runs: JobRun[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Set<Promise<JobRun>>>();
  private readonly children = new Set<ChildProcess>();
  private readonly sidecars = new Set<SupervisedProcess>();
  private readonly counters = new Map<string, number>();
  private readonly createdAt = Date.now();
  private stopped = false;

  constructor(private readonly options: LocalJobsOptions) {}

  /** Arms every job's schedule, saying what each run will start. */
  start(): void {
    for (const plan of this.options.plans) {
      this.say(plan.job, `runner: ${plan.runner}`);
      this.arm(plan);
    }
  }

  /** Runs `job` once now (`start --now JOB`), whatever its schedule; resolves with the finished run. */
  runNow(job: string): Promise<JobRun> {
    const plan = this.options.plans.find((p) => p.job === job);
    if (!plan) {
      const declared = this.options.plans.map((p) => p.job).join(', ') || 'none';
      return Promise.reject(new Error(`no scheduled job '${job}' (declared: ${declared})`));
    }
    return this.launch(plan, 'now');
  }

  /** Every run so far, oldest first (copies). */
  list(): JobRun[] {
    return this.runs.map((r) => ({ ...r }));
  }

  /** Disarms the schedules and stops every run in progress (their process groups). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const child of this.children) if (child.pid) killGroup(child.pid, 'SIGTERM');
    await Promise.allSettled([...this.running.values()].flatMap((set) => [...set]));
    await Promise.all([...this.sidecars].map((s) => s.stop()));
  }

  private get scale(): number {
    return this.options.timeScale ?? 1;
  }

  /** The schedule's clock: real time since start, sped up by the time scale. */
  private scheduleNow(): number {
    return this.createdAt + (Date.now() - this.createdAt) * this.scale;
  }

  private arm(plan: JobPlan): void {
    if (this.stopped) return;
    const now = this.scheduleNow();
    const next = nextJobFire(plan.schedule, now, this.createdAt);
    if (next === null) return;
    // setTimeout's 32-bit limit: re-arm in steps for far-away fires.
    const delay = Math.min((next - now) / this.scale, 2 ** 31 - 1);
    this.timers.set(
      plan.job,
      setTimeout(
        () => {
          if (this.scheduleNow() >= next - 1) void this.fire(plan);
          this.arm(plan);
        },
        Math.max(0, delay),
      ),
    );
  }

  /** A scheduled fire: skipped (and said) while a run goes on and the job does not allow overlap. */
  private async fire(plan: JobPlan): Promise<void> {
    if (!plan.allowOverlap && (this.running.get(plan.job)?.size ?? 0) > 0) {
      this.say(
        plan.job,
        'schedule fired while the previous run still runs; not started (allowOverlap is false)',
      );
      return;
    }
    await this.launch(plan, 'schedule').catch(() => {});
  }

  private launch(plan: JobPlan, trigger: JobRun['trigger']): Promise<JobRun> {
    const set = this.running.get(plan.job) ?? new Set();
    this.running.set(plan.job, set);
    const run = this.execute(plan, trigger).finally(() => set.delete(run));
    set.add(run);
    return run;
  }

  private async execute(plan: JobPlan, trigger: JobRun['trigger']): Promise<JobRun> {
    // Numbered from this start, as AWS cannot number them: the declared difference 'job-run-numbering'.
    const number = (this.counters.get(plan.job) ?? 0) + 1;
    this.counters.set(plan.job, number);
    const started = Date.now();
    const record: JobRun = {
      job: plan.job,
      run: number,
      trigger,
      status: 'running',
      startedAt: new Date(started).toISOString(),
      exitCode: null,
      lines: plan.sidecar ? { received: 0, scored: 0, anomalous: 0 } : null,
      anomalies: [],
    };
    this.record(record);
    const label = `${plan.job}#${number}`;
    this.options.printer.register(label);
    let sidecar: { process: SupervisedProcess; url: string } | undefined;
    try {
      if (plan.sidecar) sidecar = await this.startSidecar(plan, number);
      const outcome = await this.runApp(plan, label, sidecar?.url);
      Object.assign(record, outcome, {
        endedAt: new Date().toISOString(),
        durationMs: Date.now() - started,
      });
      if (sidecar)
        Object.assign(
          record,
          await settledRunLines(sidecar.url, outcome.forwarded, SIDECAR_DEADLINE_MS, KEPT_ANOMALIES),
        );
    } catch (error) {
      Object.assign(record, {
        status: 'failed',
        reason: `could not start: ${(error as Error).message}`,
        endedAt: new Date().toISOString(),
        durationMs: Date.now() - started,
      });
    } finally {
      if (sidecar) {
        await sidecar.process.stop();
        this.sidecars.delete(sidecar.process);
      }
    }
    this.say(
      label,
      `run ${record.status} (exit ${record.exitCode ?? 'none'}, ${record.durationMs} ms${
        record.lines ? `, ${record.lines.scored} lines scored, ${record.lines.anomalous} anomalous` : ''
      })`,
    );
    this.record(record);
    return { ...record };
  }

  private async startSidecar(
    plan: JobPlan,
    run: number,
  ): Promise<{ process: SupervisedProcess; url: string }> {
    const sidecar = plan.sidecar!;
    const [port] = await pickFreePorts(1);
    const url = `http://127.0.0.1:${port}`;
    const label = `${plan.job}#${run}/sidecar`;
    const process_ = new SupervisedProcess(
      {
        name: label,
        ...spawnOf({ kind: 'node', entry: sidecar.entry }, label, [], this.options.root),
        env: {
          ...baseEnvironment(process.env),
          ...sidecar.env,
          [SIDECAR_ENV.port]: String(port),
          TASK_REVISION: revisionLabel(plan.job, run),
          LOCAL_SUPERVISOR_PID: String(process.pid),
        },
        stopTimeoutMs: sidecar.stopTimeoutMs,
      },
      DEFAULT_RESTART_POLICY,
    );
    // Its own output (its warnings: the endpoint unreachable, a refused intake) is printed, never
    // routed, as a service's sidecar's.
    process_.on('spawn', ({ pid, stdout, stderr }) => {
      void routeProcessOutput(stdout, stderr, {
        label,
        printer: this.options.printer,
        containerName: 'sidecar',
        taskArn: this.taskArn(pid),
        cluster: this.options.cluster,
      });
    });
    this.sidecars.add(process_);
    process_.start();
    const healthy = await waitUntilHealthy(`${url}${SIDECAR_PATHS.health}`, {
      timeoutMs: SIDECAR_DEADLINE_MS,
    });
    if (!healthy) throw new Error(`its sidecar was not healthy within ${SIDECAR_DEADLINE_MS / 1000} s`);
    return { process: process_, url };
  }

  /** The app to completion, or to its timeout; its output to the run's sidecar (and printed). */
  private runApp(
    plan: JobPlan,
    label: string,
    sidecarUrl: string | undefined,
  ): Promise<Pick<JobRun, 'status' | 'exitCode' | 'reason'> & { forwarded: number }> {
    const forwarder =
      sidecarUrl && plan.sidecar
        ? new SidecarForwarder({
            url: `${sidecarUrl}${SIDECAR_PATHS.intake}`,
            token: plan.sidecar.intakeToken,
            onTrouble: (message) => this.say(label, `log router: ${message}`),
          })
        : undefined;
    const { command, args, cwd } = spawnOf(plan.run, label, Object.keys(plan.env), this.options.root);
    const child = spawn(command, args, {
      cwd,
      env: { ...baseEnvironment(process.env), ...plan.env, LOCAL_SUPERVISOR_PID: String(process.pid) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    if (child.pid) reapOnExit(child.pid);
    const output = routeProcessOutput(child.stdout!, child.stderr!, {
      label,
      printer: this.options.printer,
      ...(forwarder ? { forwarder } : {}),
      containerName: plan.job,
      taskArn: this.taskArn(child.pid),
      cluster: this.options.cluster,
    });
    let timedOut = false;
    const timeoutMs = plan.timeoutMs / this.scale;
    const deadline = setTimeout(() => {
      timedOut = true;
      if (child.pid) {
        killGroup(child.pid, 'SIGTERM');
        void waitForGroupExit(child.pid, plan.stopTimeoutMs);
      }
    }, timeoutMs);
    return new Promise((resolveRun) => {
      child.once('error', (error) => {
        clearTimeout(deadline);
        this.children.delete(child);
        resolveRun({
          status: 'failed',
          exitCode: null,
          reason: `could not start: ${error.message}`,
          forwarded: 0,
        });
      });
      child.once('exit', (code) => {
        clearTimeout(deadline);
        this.children.delete(child);
        if (child.pid) {
          killGroup(child.pid, 'SIGKILL');
          forgetGroup(child.pid);
        }
        void (async () => {
          await output;
          await forwarder?.close();
          const forwarded = forwarder?.stats.forwarded ?? 0;
          if (timedOut) {
            resolveRun({
              status: 'timed-out',
              exitCode: code,
              reason: `stopped at its timeout (${plan.timeoutMs / 1000} s)`,
              forwarded,
            });
          } else {
            resolveRun({ status: code === 0 ? 'succeeded' : 'failed', exitCode: code, forwarded });
          }
        })();
      });
    });
  }

  private record(run: JobRun): void {
    const index = this.runs.findIndex((r) => r.job === run.job && r.run === run.run);
    if (index >= 0) this.runs[index] = { ...run };
    else this.runs.push({ ...run });
    const ofJob = this.runs.filter((r) => r.job === run.job);
    if (ofJob.length > KEPT_RUNS) this.runs.splice(this.runs.indexOf(ofJob[0]!), 1);
    this.options.onChange(this.list());
  }

  /** A run's stand-in task ARN in its FireLens records: its process id in the local cluster. */
  private taskArn(pid: number | undefined): string {
    return `arn:aws:ecs:local:000000000000:task/${this.options.cluster}/${pid}`;
  }

  private say(label: string, message: string): void {
    this.options.printer.print(label, `[local] ${message}`, 'stderr');
  }
}
