import type { DeploymentWiring, GateStage, RollbackPolicyWiring } from '../wiring/index.ts';

/**
 * A local deployment: the service's declared strategy rehearsed on one machine. The new revision's
 * processes start beside the old ones, traffic shifts at the service's local address (and the local
 * ALB for web services) as the strategy says, the declared rollback alarms are evaluated on the new
 * revision alone under the wiring's rollback policy (its minimum volume and evaluation periods, the
 * same the AWS deployment alarms and the gate read), judged again at the wired gate stages, and the
 * deployment completes (old revision stopped) or rolls back (new revision stopped, all traffic on the
 * old). Minutes are counted as seconds (the declared difference `rehearsal-time-scale`); every traffic
 * phase is watched at least {@link MIN_PHASE_MS}.
 */

/** A traffic phase is watched this long at least, so the alarms have data to decide on. */
export const MIN_PHASE_MS = 8000;
/** How often the new revision's metrics are read. */
export const SAMPLE_INTERVAL_MS = 500;
/** A revision must become healthy within this long. */
export const START_TIMEOUT_MS = 60_000;
/** Old revisions keep answering in-flight requests this long after their weight drops to 0. */
export const DRAIN_MS = 1000;
/** A rehearsal counts minutes as seconds: one declared minute lasts this long. */
export const REHEARSAL_MS_PER_MINUTE = 1000;

/** What the new revision showed since it started. */
export interface RevisionSample {
  readonly scored: number;
  readonly anomalous: number;
  readonly requests: number;
  readonly errors: number;
  readonly healthy: boolean;
  /** When the new revision's earliest anomalous line was written (epoch ms), if it wrote one. */
  readonly firstAnomalousAt?: number;
}

/** What a deployment needs of the running platform. */
export interface DeploymentDriver {
  /** Starts the new revision's processes (app and sidecar, `env` on the app); resolves once healthy. */
  startRevision(env: Readonly<Record<string, string>>): Promise<{ id: number; label: string }>;
  /** Traffic shares by revision id (the rest get none). */
  shift(weights: ReadonlyMap<number, number>): void;
  sample(id: number): Promise<RevisionSample>;
  /** Requests the load balancer sent to a revision so far. */
  requests(id: number): number;
  stopRevision(id: number): Promise<void>;
  readonly currentRevision: { readonly id: number; readonly label: string };
  sleep(ms: number): Promise<void>;
  now(): number;
  progress(line: string): void;
  /** Called on every change, for the console's deployments view. */
  report(state: LocalDeploymentState): void;
}

export type LocalDeploymentOutcome =
  | { readonly status: 'completed'; readonly revision: string }
  | {
      readonly status: 'rolled-back';
      readonly revision: string;
      readonly reason: string;
      /** When an alarm breached, and when all traffic was on the old revision again (epoch ms). */
      readonly decidedAt: number;
      readonly trafficBackAt: number;
    }
  | { readonly status: 'failed'; readonly reason: string };

/** Where a local deployment is, for the console and the deploy command. */
export interface LocalDeploymentState {
  readonly service: string;
  readonly strategy: DeploymentWiring['strategy']['strategy'];
  readonly from: string;
  readonly to: string | null;
  readonly trafficPercent: number;
  readonly phase: 'starting' | 'shifting' | 'baking' | 'completed' | 'rolled-back' | 'failed';
  readonly reason?: string;
  readonly startedAt: number;
  readonly updatedAt: number;
}

/** The traffic phases of a strategy: the new revision's share and how long it is watched there. */
export function trafficPhases(deployment: DeploymentWiring): { percent: number; watchMs: number }[] {
  const seconds = (minutes: number) => Math.max(MIN_PHASE_MS, minutes * 1000);
  const strategy = deployment.strategy;
  switch (strategy.strategy) {
    case 'rolling':
      // Tasks are replaced one by one: both revisions serve while the new one is watched.
      return [
        { percent: 50, watchMs: MIN_PHASE_MS },
        { percent: 100, watchMs: MIN_PHASE_MS / 2 },
      ];
    case 'canary':
      return [
        { percent: strategy.percent, watchMs: seconds(strategy.bakeMinutes) },
        { percent: 100, watchMs: MIN_PHASE_MS / 2 },
      ];
    case 'linear': {
      const phases: { percent: number; watchMs: number }[] = [];
      for (let p = strategy.stepPercent; p < 100; p += strategy.stepPercent) {
        phases.push({ percent: Math.round(p * 10) / 10, watchMs: seconds(strategy.stepMinutes) });
      }
      phases.push({ percent: 100, watchMs: MIN_PHASE_MS / 2 });
      return phases;
    }
    case 'blue-green':
      return [{ percent: 100, watchMs: seconds(strategy.bakeMinutes) }];
  }
}

/**
 * The first declared alarm the sample breaches, as the reason to roll back; undefined when none. A rate
 * counts only at or above the policy's minimum volume of the new revision's lines or requests.
 */
export function breachedAlarm(
  alarms: DeploymentWiring['rollbackOn'],
  sample: RevisionSample,
  minimumVolume: RollbackPolicyWiring['minimumVolume'],
): string | undefined {
  for (const alarm of alarms) {
    if (alarm.kind === 'anomaly-rate' && sample.scored >= minimumVolume.lines) {
      const rate = (100 * sample.anomalous) / sample.scored;
      if (rate >= alarm.percent) {
        return `anomaly rate ${rate.toFixed(1)} % of ${sample.scored} lines ≥ ${alarm.percent} % (rollbackOn anomaly-rate)`;
      }
    }
    if (alarm.kind === 'error-rate' && sample.requests >= minimumVolume.requests) {
      const rate = (100 * sample.errors) / sample.requests;
      if (rate >= alarm.percent) {
        return `5xx rate ${rate.toFixed(1)} % of ${sample.requests} requests ≥ ${alarm.percent} % (rollbackOn error-rate)`;
      }
    }
    if (alarm.kind === 'unhealthy-targets' && !sample.healthy) {
      return 'the new revision failed its health check (rollbackOn unhealthy-targets)';
    }
  }
  return undefined;
}

/**
 * The rollback policy on the rehearsal's clock, as CloudWatch evaluates an alarm: a breach counts once
 * per evaluation period, and the alarm fires when `evaluationPeriods` consecutive periods breached (one
 * period without a breach starts the count again).
 */
export class RollbackJudge {
  private readonly periodMs: number;
  private breachedPeriods = 0;
  private lastBreachedPeriod = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly alarms: DeploymentWiring['rollbackOn'],
    private readonly policy: RollbackPolicyWiring,
    private readonly startedAt: number,
  ) {
    this.periodMs = (policy.periodSeconds / 60) * REHEARSAL_MS_PER_MINUTE;
  }

  /** The reason to roll back once the policy says so; undefined until then. */
  observe(sample: RevisionSample, now: number): string | undefined {
    const reason = breachedAlarm(this.alarms, sample, this.policy.minimumVolume);
    const period = Math.floor((now - this.startedAt) / this.periodMs);
    if (!reason) {
      this.breachedPeriods = 0;
      this.lastBreachedPeriod = Number.NEGATIVE_INFINITY;
      return undefined;
    }
    if (period !== this.lastBreachedPeriod) {
      this.breachedPeriods = period === this.lastBreachedPeriod + 1 ? this.breachedPeriods + 1 : 1;
      this.lastBreachedPeriod = period;
    }
    return this.breachedPeriods >= this.policy.evaluationPeriods ? reason : undefined;
  }
}

/** Runs one local deployment to its end, judged by the wiring's rollback policy. */
export async function runLocalDeployment(
  service: string,
  deployment: DeploymentWiring,
  policy: RollbackPolicyWiring,
  env: Readonly<Record<string, string>>,
  driver: DeploymentDriver,
): Promise<LocalDeploymentOutcome> {
  const startedAt = driver.now();
  const from = driver.currentRevision;
  const strategy = deployment.strategy.strategy;
  let state: LocalDeploymentState = {
    service,
    strategy,
    from: from.label,
    to: null,
    trafficPercent: 0,
    phase: 'starting',
    startedAt,
    updatedAt: startedAt,
  };
  const update = (change: Partial<LocalDeploymentState>) => {
    state = { ...state, ...change, updatedAt: driver.now() };
    driver.report(state);
  };
  const elapsed = () => `${((driver.now() - startedAt) / 1000).toFixed(1)}s`;
  driver.progress(
    `${service}: deployment started (${strategy.toUpperCase()}); ${from.label} serves all traffic`,
  );
  update({});

  let next: { id: number; label: string };
  try {
    next = await driver.startRevision(env);
  } catch (error) {
    const reason = `${(error as Error).message}`;
    driver.progress(`${service}: FAILED ${reason}`);
    update({ phase: 'failed', reason });
    return { status: 'failed', reason };
  }
  driver.progress(`${service}: ${next.label} started and healthy (${elapsed()})`);
  update({ to: next.label });

  let firstReported = false;
  const judge = new RollbackJudge(deployment.rollbackOn, policy, driver.now());
  const rollBack = async (reason: string) => {
    const decidedAt = driver.now();
    driver.progress(`${service}: ROLLING BACK ${next.label}: ${reason} (${elapsed()})`);
    driver.shift(new Map([[from.id, 100]]));
    const trafficBackAt = driver.now();
    update({ trafficPercent: 0, phase: 'rolled-back', reason });
    await driver.sleep(DRAIN_MS);
    await driver.stopRevision(next.id);
    driver.progress(`${service}: rolled back; ${from.label} serves all traffic (${elapsed()})`);
    return { status: 'rolled-back', revision: next.label, reason, decidedAt, trafficBackAt } as const;
  };
  // The gate's stages, judged where ECS would call it: before production traffic, and after all of it.
  const gate = async (stage: GateStage): Promise<string | undefined> => {
    if (!deployment.gateStages.includes(stage)) return undefined;
    const sample = await driver.sample(next.id);
    const reason = breachedAlarm(deployment.rollbackOn, sample, policy.minimumVolume);
    const { lines, requests } = policy.minimumVolume;
    driver.progress(
      `${service}: gate ${stage}: ${sample.scored} lines, ${sample.requests} requests of ${next.label} (judged from ${lines} lines / ${requests} requests): ${reason ?? 'passed'}`,
    );
    return reason;
  };
  const beforeProduction = await gate('POST_TEST_TRAFFIC_SHIFT');
  if (beforeProduction) return rollBack(`${beforeProduction} at POST_TEST_TRAFFIC_SHIFT`);
  for (const phase of trafficPhases(deployment)) {
    driver.shift(
      new Map([
        [from.id, 100 - phase.percent],
        [next.id, phase.percent],
      ]),
    );
    update({ trafficPercent: phase.percent, phase: phase.percent === 100 ? 'baking' : 'shifting' });
    driver.progress(
      `${service}: IN_PROGRESS ${phase.percent === 100 ? 'PRODUCTION_TRAFFIC_SHIFT' : 'TRAFFIC_SHIFT'} production traffic ${phase.percent}% new, watching ${phase.watchMs / 1000}s`,
    );
    const counted = { from: driver.requests(from.id), next: driver.requests(next.id) };
    const observed = () => {
      const old = driver.requests(from.id) - counted.from;
      const fresh = driver.requests(next.id) - counted.next;
      const share = old + fresh === 0 ? 0 : (100 * fresh) / (old + fresh);
      return `observed at the load balancer: ${old + fresh} requests, ${fresh} (${share.toFixed(1)}%) to ${next.label}`;
    };
    const until = driver.now() + phase.watchMs;
    while (driver.now() < until) {
      await driver.sleep(SAMPLE_INTERVAL_MS);
      const sample = await driver.sample(next.id);
      if (sample.firstAnomalousAt !== undefined && !firstReported) {
        firstReported = true;
        driver.progress(
          `${service}: first anomalous line of ${next.label} at ${sample.firstAnomalousAt} (${new Date(sample.firstAnomalousAt).toISOString()})`,
        );
      }
      const reason = judge.observe(sample, driver.now());
      if (reason) {
        driver.progress(`${service}: ${observed()}`);
        return rollBack(reason);
      }
    }
    driver.progress(`${service}: ${observed()}`);
  }
  const afterProduction = await gate('POST_PRODUCTION_TRAFFIC_SHIFT');
  if (afterProduction) return rollBack(`${afterProduction} at POST_PRODUCTION_TRAFFIC_SHIFT`);
  await driver.sleep(DRAIN_MS);
  await driver.stopRevision(from.id);
  update({ trafficPercent: 100, phase: 'completed' });
  driver.progress(
    `${service}: rollout COMPLETED in ${elapsed()}; ${next.label} serves all traffic, ${from.label} stopped`,
  );
  return { status: 'completed', revision: next.label };
}
