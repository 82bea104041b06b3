/**
 * The deployment gate's decision, pure: given what the new and the old revision did over the same window,
 * answer ECS's lifecycle hook with SUCCEEDED (continue), FAILED (roll back) or IN_PROGRESS (ask again).
 *
 * Two signals, each a rate of bad events among events:
 * - anomalies: anomalous lines / scored lines, from the sidecar's metrics per revision;
 * - errors: the ALB's target 5xx / requests, per revision's target group (web services only).
 *
 * Rules, in order:
 * 1. A signal *has data* when the new revision has at least its minimum volume (`minScoredLines`,
 *    `minRequests`): a handful of lines or requests never decides.
 * 2. A signal is *worse* when the new rate exceeds the old by more than the margin
 *    (`max(absoluteMargin, relativeMargin × old rate)`) **and** a two-proportion z-test puts the
 *    difference beyond `zCritical` standard errors, so noise at equal quality does not roll back.
 *    Without a baseline (first deployment, or the old revision below the minimum volume) the new rate is
 *    compared with the signal's ceiling instead.
 * 3. Any worse signal → FAILED, at once.
 * 4. Every signal has data and none is worse → SUCCEEDED.
 * 5. Some signal lacks data → IN_PROGRESS (asked again after `callBackDelaySeconds`) until
 *    `noDataDeadlineSeconds` after the gate's first invocation; then the signals that have data decide
 *    (SUCCEEDED, the missing ones named in the reason).
 * 6. No signal has data at the deadline → `onNoData`, by default SUCCEEDED with a warning: no scored
 *    lines means the sidecar or the endpoint is not scoring, and scoring is kept off the delivery path
 *    (DESIGN.md, flow 2), so an outage of the scorer must not block every release. Health checks, the
 *    circuit breaker and the deployment alarms still guard the rollout. Set `onNoData: 'FAILED'` for a
 *    gate that fails closed.
 */

/** What one revision did over the gate's window. */
export interface RevisionSample {
  readonly scoredLines: number;
  readonly anomalousLines: number;
  /** ALB requests to its target group; null when the service has no target group (internal services). */
  readonly requests: number | null;
  readonly errors5xx: number | null;
}

/** Thresholds of {@link decideGate}; {@link DEFAULT_GATE_POLICY} documents each. */
export interface GatePolicy {
  readonly minScoredLines: number;
  readonly minRequests: number;
  readonly absoluteMargin: number;
  readonly relativeMargin: number;
  readonly zCritical: number;
  readonly anomalyRateCeiling: number;
  readonly errorRateCeiling: number;
  readonly noDataDeadlineSeconds: number;
  readonly callBackDelaySeconds: number;
  readonly onNoData: 'SUCCEEDED' | 'FAILED';
}

export const DEFAULT_GATE_POLICY: GatePolicy = {
  /** Below 200 scored lines one anomalous burst is ±0.5 percentage points; fewer decide nothing. */
  minScoredLines: 200,
  minRequests: 100,
  /** Two percentage points: the sidecar's calibrated threshold already flags ~1% of normal lines. */
  absoluteMargin: 0.02,
  /** Or half the old rate again, whichever is larger: a noisy service is allowed its noise. */
  relativeMargin: 0.5,
  /** Three standard errors: about one false rollback in 700 equal-quality releases per signal. */
  zCritical: 3,
  /** Without a baseline: a quarter of lines anomalous, or 5% of requests failing, is a bad release. */
  anomalyRateCeiling: 0.25,
  errorRateCeiling: 0.05,
  /** Ten minutes: two sidecar EMF intervals and the ALB's one-minute metrics have long arrived by then. */
  noDataDeadlineSeconds: 600,
  /** ECS's own default between IN_PROGRESS invocations. */
  callBackDelaySeconds: 30,
  onNoData: 'SUCCEEDED',
};

export type SignalName = 'anomalies' | 'errors';

/** One signal's comparison. */
export type SignalVerdict =
  | { readonly signal: SignalName; readonly kind: 'insufficient'; readonly detail: string }
  | { readonly signal: SignalName; readonly kind: 'ok' | 'worse'; readonly detail: string };

/** The gate's outcome: what was answered and why, logged and counted by the handler. */
export type GateOutcome =
  | 'passed'
  | 'worse'
  | 'waiting'
  | 'passed-partial-data'
  | 'no-data-passed'
  | 'no-data-failed'
  | 'no-baseline-passed';

export interface GateVerdict {
  readonly hookStatus: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';
  /** Seconds until ECS asks again; only with IN_PROGRESS. */
  readonly callBackDelay?: number;
  readonly outcome: GateOutcome;
  readonly reason: string;
  readonly signals: readonly SignalVerdict[];
}

export interface GateInput {
  readonly current: RevisionSample;
  /** The revision being replaced; null on a first deployment. */
  readonly baseline: RevisionSample | null;
  /** Seconds since the gate's first invocation for this deployment stage. */
  readonly elapsedSeconds: number;
  readonly policy?: GatePolicy;
}

/**
 * @example
 * decideGate({ current: { scoredLines: 1000, anomalousLines: 90, requests: null, errors5xx: null },
 *   baseline: { scoredLines: 1000, anomalousLines: 10, requests: null, errors5xx: null }, elapsedSeconds: 60 });
 * // → { hookStatus: 'FAILED', outcome: 'worse', reason: 'anomalies: 9.00% of 1000 lines vs 1.00% of 1000 …' }
 */
export function decideGate(input: GateInput): GateVerdict {
  const policy = input.policy ?? DEFAULT_GATE_POLICY;
  const { current, baseline } = input;
  const signals: SignalVerdict[] = [
    compareRates(
      'anomalies',
      'lines',
      current.anomalousLines,
      current.scoredLines,
      baseline && {
        bad: baseline.anomalousLines,
        total: baseline.scoredLines,
      },
      policy.minScoredLines,
      policy.anomalyRateCeiling,
      policy,
    ),
  ];
  if (current.requests !== null) {
    const old =
      baseline && baseline.requests !== null
        ? { bad: baseline.errors5xx ?? 0, total: baseline.requests }
        : null;
    signals.push(
      compareRates(
        'errors',
        'requests',
        current.errors5xx ?? 0,
        current.requests,
        old,
        policy.minRequests,
        policy.errorRateCeiling,
        policy,
      ),
    );
  }
  const describe = (kinds: readonly SignalVerdict['kind'][]) =>
    signals
      .filter((s) => kinds.includes(s.kind))
      .map((s) => `${s.signal}: ${s.detail}`)
      .join('; ');

  if (signals.some((s) => s.kind === 'worse')) {
    return { hookStatus: 'FAILED', outcome: 'worse', reason: describe(['worse']), signals };
  }
  const missing = signals.filter((s) => s.kind === 'insufficient');
  if (missing.length === 0) {
    const noBaseline = baseline === null;
    return {
      hookStatus: 'SUCCEEDED',
      outcome: noBaseline ? 'no-baseline-passed' : 'passed',
      reason: (noBaseline ? 'no old revision to compare with; under the ceilings: ' : '') + describe(['ok']),
      signals,
    };
  }
  if (input.elapsedSeconds < policy.noDataDeadlineSeconds) {
    const left = Math.ceil(policy.noDataDeadlineSeconds - input.elapsedSeconds);
    return {
      hookStatus: 'IN_PROGRESS',
      callBackDelay: policy.callBackDelaySeconds,
      outcome: 'waiting',
      reason: `waiting for data (${left}s left): ${describe(['insufficient'])}`,
      signals,
    };
  }
  if (missing.length < signals.length) {
    return {
      hookStatus: 'SUCCEEDED',
      outcome: 'passed-partial-data',
      reason: `${describe(['ok'])}; not enough data by the deadline: ${describe(['insufficient'])}`,
      signals,
    };
  }
  return {
    hookStatus: policy.onNoData,
    outcome: policy.onNoData === 'SUCCEEDED' ? 'no-data-passed' : 'no-data-failed',
    reason: `no signal reached its minimum volume within ${policy.noDataDeadlineSeconds}s (is the sidecar scoring?): ${describe(['insufficient'])}`,
    signals,
  };
}

function compareRates(
  signal: SignalName,
  unit: string,
  bad: number,
  total: number,
  old: { bad: number; total: number } | null,
  minTotal: number,
  ceiling: number,
  policy: GatePolicy,
): SignalVerdict {
  const rate = total > 0 ? bad / total : 0;
  const now = `${percent(rate)} of ${total} ${unit}`;
  if (total < minTotal) {
    return {
      signal,
      kind: 'insufficient',
      detail: `${total} ${unit} from the new revision, fewer than ${minTotal}`,
    };
  }
  if (!old || old.total < minTotal) {
    const kind = rate > ceiling ? 'worse' : 'ok';
    return { signal, kind, detail: `${now}, ceiling ${percent(ceiling)} (no baseline)` };
  }
  const oldRate = old.bad / old.total;
  const margin = Math.max(policy.absoluteMargin, policy.relativeMargin * oldRate);
  const z = twoProportionZ(bad, total, old.bad, old.total);
  const worse = rate - oldRate > margin && z > policy.zCritical;
  return {
    signal,
    kind: worse ? 'worse' : 'ok',
    detail: `${now} vs ${percent(oldRate)} of ${old.total} ${unit} on the old revision (margin ${percent(margin)}, z ${z.toFixed(1)})`,
  };
}

/** Pooled two-proportion z statistic of (a/n − b/m); 0 when both rates are 0 or 1. */
export function twoProportionZ(a: number, n: number, b: number, m: number): number {
  const pooled = (a + b) / (n + m);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m));
  return se === 0 ? 0 : (a / n - b / m) / se;
}

const percent = (rate: number) => `${(rate * 100).toFixed(2)}%`;
