import type { RollbackAlarmManifest } from '../../config/index.ts';
import type { DeploymentWiring, RollbackPolicyWiring } from '../wiring/index.ts';

/**
 * The stages a local deployment rehearses (deployments.ts): the declared strategy's traffic phases,
 * minutes counted as seconds (the declared difference `rehearsal-time-scale`), the lifecycle stage each
 * stands for, the deadline of one stage, and the declared rollback alarms.
 */

/** A traffic phase is watched this long at least, so the gate has data to decide on. */
export const MIN_PHASE_MS = 8000;
/**
 * A stage's deadline locally: the wiring's (600 s) with minutes as seconds (10 s), but never under 30 s,
 * so probes and the scorer have time on a loaded machine before an unjudged release fails.
 */
export const MIN_LOCAL_DEADLINE_MS = 30_000;
/** One stage of a rehearsal: the lifecycle stage it stands for, the traffic it gives, how long it bakes. */
export interface RehearsalStage {
  readonly stage: 'POST_TEST_TRAFFIC_SHIFT' | 'POST_PRODUCTION_TRAFFIC_SHIFT' | 'ROLLING_UPDATE';
  readonly percent: number;
  readonly watchMs: number;
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
 * The stages the gate judges: for a traffic-shifting strategy first the test route alone (ECS's
 * POST_TEST_TRAFFIC_SHIFT: no production traffic, the probes), then each production phase; a rolling
 * update, which has no lifecycle stages on ECS, is judged at each of its phases as its alarms would be.
 */
export function rehearsalStages(deployment: DeploymentWiring): RehearsalStage[] {
  const production = trafficPhases(deployment).map((phase) => ({
    stage: deployment.shiftsTraffic
      ? ('POST_PRODUCTION_TRAFFIC_SHIFT' as const)
      : ('ROLLING_UPDATE' as const),
    ...phase,
  }));
  return deployment.shiftsTraffic
    ? [{ stage: 'POST_TEST_TRAFFIC_SHIFT', percent: 0, watchMs: 0 }, ...production]
    : production;
}

/** The rehearsal's deadline for one stage (see {@link MIN_LOCAL_DEADLINE_MS}). */
export function localDeadlineMs(policy: RollbackPolicyWiring): number {
  return Math.max(MIN_LOCAL_DEADLINE_MS, (policy.gateDeadlineSeconds / 60) * 1000);
}

/** The first declared alarm the new revision breaches, as the reason to roll back; undefined when none. */
export function breachedAlarm(
  alarms: readonly RollbackAlarmManifest[],
  sample: {
    readonly scored: number;
    readonly anomalous: number;
    readonly requests: number;
    readonly errors: number;
    readonly healthy: boolean;
  },
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
