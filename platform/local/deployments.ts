import type { Judgement } from '../../contracts/judgement.ts';
import { type RevisionCounts, subtractCounts } from '../../contracts/revision-counts.ts';
import { sampleOf, type Tally } from '../../functions/deployment-gate/comparison.ts';
import { decideGate, type GateVerdict } from '../../functions/deployment-gate/decision.ts';
import { judgementOf } from '../../functions/deployment-gate/judgement.ts';
import type { ProbeResult } from '../../functions/deployment-gate/probes.ts';
import type { DeploymentWiring, RollbackPolicyWiring } from '../wiring/index.ts';
import { breachedAlarm, localDeadlineMs, rehearsalStages } from './rehearsal-stages.ts';
import type { EnvironmentDiff } from './revisions.ts';

/**
 * A local deployment: the service's declared strategy rehearsed on one machine. The new revision's
 * processes start beside the old ones, traffic shifts at the service's local address (and the local
 * ALB for web services) as the strategy says, and at every stage that gives the new revision traffic the
 * deployment gate's own decision (functions/deployment-gate/decision.ts) compares it with the old one,
 * probing it through its test route (its own port) while it has too little traffic to judge. The
 * declared rollback alarms watch it too. It completes (old revision stopped) or rolls back (new revision
 * stopped, all traffic on the old). Minutes are counted as seconds (the declared difference
 * `rehearsal-time-scale`, rehearsal-stages.ts).
 */

/** How often the revisions are read and judged. */
export const SAMPLE_INTERVAL_MS = 500;
/** A revision must become healthy within this long. */
export const START_TIMEOUT_MS = 60_000;
/** Old revisions keep answering in-flight requests this long after their weight drops to 0. */
export const DRAIN_MS = 1000;
/**
 * How long a line takes to reach a sidecar's counts locally: the log router forwards within a second and
 * the sidecar scores a batch within one; five seconds leave a loaded machine room.
 */
export const LOCAL_DELIVERY_SECONDS = 5;
/** Probes per stage at most, in minimum volumes of requests (as the AWS gate). */
const PROBE_BUDGET_VOLUMES = 5;

/** What a revision did since it started: its sidecar's counts and its load balancer's. */
export interface RevisionReading {
  readonly counts: RevisionCounts;
  /** Requests it answered and its 5xx (a client that hung up is neither a 5xx nor the revision's). */
  readonly loadBalancer: Tally;
  readonly healthy: boolean;
  /** When its earliest anomalous line was written (epoch ms), if it wrote one. */
  readonly firstAnomalousAt?: number;
  /** When it first answered a 5xx (a line the model scores anomalous), if it did. */
  readonly firstErrorAt?: number;
}

/** What a deployment needs of the running platform. */
export interface DeploymentDriver {
  /** Starts the new revision's processes (app and sidecar, `env` changes on the app); resolves once healthy. */
  startRevision(
    env: Readonly<Record<string, string>>,
  ): Promise<{ id: number; label: string; environment: EnvironmentDiff }>;
  /** Traffic shares by revision id (the rest get none). */
  shift(weights: ReadonlyMap<number, number>): void;
  read(id: number): Promise<RevisionReading>;
  /** Sends `count` probes over `paths` (from `offset`) to a revision through its test route. */
  probe(id: number, paths: readonly string[], count: number, offset: number): Promise<ProbeResult>;
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
      /** When the gate or an alarm decided, and when all traffic was on the old revision again (epoch ms). */
      readonly decidedAt: number;
      /** The new revision's first bad line: its earliest anomalous line or 5xx answer, if any (epoch ms). */
      readonly firstBadAt?: number;
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
  /** The new revision's environment against the declared one. */
  readonly environment?: EnvironmentDiff;
  /** The gate's latest judgement at each stage so far. */
  readonly judgements: readonly Judgement[];
}

/** What {@link runLocalDeployment} rehearses. */
export interface LocalDeploymentPlan {
  readonly service: string;
  /** Web services are judged on their load balancer's requests too; internal ones on their request lines. */
  readonly kind: 'web' | 'internal';
  readonly deployment: DeploymentWiring;
  readonly policy: RollbackPolicyWiring;
  /** `--env`: `KEY=VALUE` sets, `KEY=` unsets, on the new revision only. */
  readonly env: Readonly<Record<string, string>>;
}

/** Runs one local deployment to its end. */
export async function runLocalDeployment(
  plan: LocalDeploymentPlan,
  driver: DeploymentDriver,
): Promise<LocalDeploymentOutcome> {
  const { service, deployment, policy } = plan;
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
    judgements: [],
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
  // Both revisions are measured over the same window, from here: whatever hits both (an outsider's
  // bad requests, a flood) weighs on both alike.
  const oldAtStart = await driver.read(from.id);

  let next: { id: number; label: string; environment: EnvironmentDiff };
  try {
    next = await driver.startRevision(plan.env);
  } catch (error) {
    const reason = `${(error as Error).message}`;
    driver.progress(`${service}: FAILED ${reason}`);
    update({ phase: 'failed', reason });
    return { status: 'failed', reason };
  }
  const changed = [
    ...Object.entries(next.environment.set).map(([k, v]) => `${k}=${v}`),
    ...next.environment.unset.map((k) => `${k} unset`),
  ];
  driver.progress(
    `${service}: ${next.label} started and healthy (${elapsed()})${changed.length > 0 ? `; environment: ${changed.join(', ')}` : ''}`,
  );
  update({ to: next.label, environment: next.environment });

  let firstReported = false;
  let firstBadAt: number | undefined;
  for (const stage of rehearsalStages(deployment)) {
    driver.shift(
      new Map([
        [from.id, 100 - stage.percent],
        [next.id, stage.percent],
      ]),
    );
    update({
      trafficPercent: stage.percent,
      phase: stage.percent === 100 ? 'baking' : 'shifting',
    });
    driver.progress(
      `${service}: IN_PROGRESS ${stage.stage} production traffic ${stage.percent}% new${stage.watchMs > 0 ? `, watching ${stage.watchMs / 1000}s` : ', judged on its probes'}`,
    );
    const counted = { from: driver.requests(from.id), next: driver.requests(next.id) };
    const observed = () => {
      const old = driver.requests(from.id) - counted.from;
      const fresh = driver.requests(next.id) - counted.next;
      const share = old + fresh === 0 ? 0 : (100 * fresh) / (old + fresh);
      return `observed at the load balancer: ${old + fresh} requests, ${fresh} (${share.toFixed(1)}%) to ${next.label}`;
    };
    const stageStartedAt = driver.now();
    const probes = { paths: deployment.probes, sent: 0, answered: 0 };
    const probeBudget = PROBE_BUDGET_VOLUMES * policy.minimumVolume.requests;
    const bakedAt = stageStartedAt + stage.watchMs;
    let lastOutcome = '';
    for (;;) {
      await driver.sleep(SAMPLE_INTERVAL_MS);
      const [fresh, old] = await Promise.all([driver.read(next.id), driver.read(from.id)]);
      // The first bad line: an anomalous line, or a 5xx answer (whose lines are scored a moment later).
      const firstBad = [fresh.firstAnomalousAt, fresh.firstErrorAt].filter((t) => t !== undefined);
      if (firstBad.length > 0) firstBadAt = Math.min(...firstBad, firstBadAt ?? Number.POSITIVE_INFINITY);
      if (firstBadAt !== undefined && !firstReported) {
        firstReported = true;
        driver.progress(
          `${service}: first bad line of ${next.label} at ${firstBadAt} (${new Date(firstBadAt).toISOString()})`,
        );
      }
      // The declared alarms watch the new revision too, as ECS watches them all along.
      const alarm = breachedAlarm(
        deployment.rollbackOn,
        {
          scored: fresh.counts.scored,
          anomalous: fresh.counts.anomalous,
          requests: fresh.loadBalancer.total,
          errors: fresh.loadBalancer.bad,
          healthy: fresh.healthy,
        },
        policy.minimumVolume,
      );
      // Since the deployment started: the new revision's evidence accumulates from stage to stage.
      const lb = (reading: RevisionReading, base?: RevisionReading) =>
        plan.kind === 'web'
          ? {
              bad: reading.loadBalancer.bad - (base?.loadBalancer.bad ?? 0),
              total: reading.loadBalancer.total - (base?.loadBalancer.total ?? 0),
            }
          : null;
      const input = {
        current: sampleOf(next.label, fresh.counts, lb(fresh)),
        baseline: sampleOf(from.label, subtractCounts(old.counts, oldAtStart.counts), lb(old, oldAtStart)),
        elapsedSeconds: (driver.now() - stageStartedAt) / 1000,
        policy: {
          minimumVolume: policy.minimumVolume,
          deadlineSeconds: localDeadlineMs(policy) / 1000,
          deliverySeconds: LOCAL_DELIVERY_SECONDS,
          onScorerOutage: deployment.onScorerOutage,
        },
        probes: { ...probes },
      };
      const verdict = decideGate(input);
      const judged = judgementOf(input, verdict, {
        stage: stage.stage,
        trafficPercent: stage.percent,
        at: driver.now(),
      });
      // A declared alarm rolls back on its own (as ECS does with the deployment alarms): the console's
      // judgement of this stage then names that alarm as the rule, with the same two revisions beside it.
      const judgement =
        alarm && verdict.hookStatus !== 'FAILED'
          ? {
              ...judged,
              verdict: 'FAILED' as const,
              outcome: 'alarm',
              rule: 'declared rollback alarm',
              reason: alarm,
            }
          : judged;
      update({
        judgements: [
          judgement,
          ...state.judgements.filter((j) => j.stage !== stage.stage || j.trafficPercent !== stage.percent),
        ],
      });
      if (verdict.outcome !== lastOutcome) {
        lastOutcome = verdict.outcome;
        driver.progress(`${service}: gate ${verdict.hookStatus} ${verdict.outcome}: ${verdict.reason}`);
      }
      // The gate's reason first: it names the request class and both revisions' rates.
      const reason = verdict.hookStatus === 'FAILED' ? gateReason(verdict) : alarm;
      if (reason) {
        const decidedAt = driver.now();
        driver.progress(`${service}: ROLLING BACK ${next.label}: ${reason} (${elapsed()})`);
        driver.shift(new Map([[from.id, 100]]));
        const trafficBackAt = driver.now();
        driver.progress(`${service}: ${observed()}`);
        update({ trafficPercent: 0, phase: 'rolled-back', reason });
        await driver.sleep(DRAIN_MS);
        await driver.stopRevision(next.id);
        driver.progress(`${service}: rolled back; ${from.label} serves all traffic (${elapsed()})`);
        return {
          status: 'rolled-back',
          revision: next.label,
          reason,
          decidedAt,
          trafficBackAt,
          ...(firstBadAt !== undefined ? { firstBadAt } : {}),
        };
      }
      if (verdict.hookStatus === 'SUCCEEDED' && driver.now() >= bakedAt) break;
      if (verdict.needsProbes && probes.sent < probeBudget && probes.paths.length > 0) {
        const batch = Math.min(policy.minimumVolume.requests, probeBudget - probes.sent);
        const result = await driver.probe(next.id, probes.paths, batch, probes.sent);
        probes.sent += result.sent;
        probes.answered += result.answered;
      }
    }
    driver.progress(`${service}: ${observed()}`);
  }
  await driver.sleep(DRAIN_MS);
  await driver.stopRevision(from.id);
  update({ trafficPercent: 100, phase: 'completed' });
  driver.progress(
    `${service}: rollout COMPLETED in ${elapsed()}; ${next.label} serves all traffic, ${from.label} stopped`,
  );
  return { status: 'completed', revision: next.label };
}

/** A gate verdict as a rollback reason: the outcome (which names the rule) and what made it apply. */
function gateReason(verdict: GateVerdict): string {
  return `gate ${verdict.outcome}: ${verdict.reason}`;
}
