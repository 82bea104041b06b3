import {
  type Comparison,
  compareRevisions,
  GATE_RULES,
  type RevisionSample,
  type SignalName,
  wholeScope,
} from './comparison.ts';

/**
 * The deployment gate's decision, pure: given what the new and the old revision did over the same window
 * of one stage, answer SUCCEEDED (continue), FAILED (roll back) or IN_PROGRESS (ask again, probing the new
 * revision meanwhile). The AWS lifecycle hook (core.ts) and the local rehearsal
 * (platform/local/deployments.ts) both call it, so a release is judged by one rule on both sides.
 *
 * Two signals, each a rate of bad events among events, per revision:
 * - anomalies: anomalous lines / scored lines (the sidecar's counts);
 * - errors: 5xx answers / requests, at the load balancer and per request class from the service's own
 *   request lines. A client that hangs up is not a 5xx (the ALB counts it as 460, the services log 499).
 *
 * Each rate is compared for the revision as a whole **and per request class** (a route: method and path
 * template, or the lines outside requests), so flooding a healthy route dilutes only that route's class
 * and cannot hide a failing one. A comparison is by **relative risk with a confidence bound on both
 * revisions**: the new revision is worse when even the lowest rate its counts allow (Wilson bound at
 * {@link GATE_RULES}' `confidenceZ`) is more than `maxRiskRatio` times the highest rate the old
 * revision's counts allow, and exceeds it by at least `minExcess`. Volume cannot push a small excess into
 * significance (the ratio must hold), nor can a handful of events (the bounds are wide). Where the old
 * revision's counts are too few to bound it tightly (or there is no old revision), the new one is also
 * worse when even its lowest rate is over the signal's ceiling and above what the old one showed. Both
 * revisions are measured over the same window, so traffic that hits both (an outsider's bad requests)
 * raises both rates alike.
 *
 * Rules, in order; each verdict names its rule ({@link RULE_TEXT}) and the comparisons behind it:
 * 1. `worse` → FAILED: a comparison shows the new revision worse, on the whole or on one class.
 * 2. `logging-broken` → FAILED: the new revision answered at least the minimum requests, yet its sidecar
 *    received no line from it for longer than lines take to arrive (`deliverySeconds`). Nothing can be
 *    judged on a service that writes no logs.
 * 3. `scorer-outage`: lines arrived but the model endpoint failed, so anomalies cannot be judged; the
 *    service's declared policy decides: `roll-back` → FAILED, `judge-on-errors` → the error signals alone
 *    (SUCCEEDED once they have their volume; they still fail by rule 1).
 * 4. `judged` → SUCCEEDED: every signal the revision has reached the minimum volume and none is worse.
 * 5. `waiting` → IN_PROGRESS: too little traffic yet; the caller sends the declared probes meanwhile.
 * 6. `too-little-traffic` → FAILED at the deadline: a release that could not be judged is never passed.
 */

/** The probe traffic the caller sent to the new revision during this stage. */
export interface ProbeReport {
  /** The declared probe paths (GET). */
  readonly paths: readonly string[];
  readonly sent: number;
  /** Probes that got an HTTP answer, whatever its status. */
  readonly answered: number;
}

/** What the service declared for a scorer outage (`deployment.onScorerOutage` in config/). */
export type ScorerOutagePolicy = 'roll-back' | 'judge-on-errors';

/** The rollback policy of the wiring (platform/wiring): one value each, shared by alarms, gate and rehearsal. */
export interface GatePolicy {
  /** Below these volumes (new revision, over the stage's window) a rate decides nothing. */
  readonly minimumVolume: { readonly lines: number; readonly requests: number };
  /** From the first evaluation of a stage until it fails for too little traffic. */
  readonly deadlineSeconds: number;
  /**
   * How long a line takes to reach the counts (the log router, the sidecar's batch, on AWS its EMF
   * interval and CloudWatch Logs): before that, a revision with answers and no line yet is not silent.
   */
  readonly deliverySeconds: number;
  readonly onScorerOutage: ScorerOutagePolicy;
}

/** The gate's outcome: which rule answered. */
export type GateOutcome =
  | 'worse'
  | 'logging-broken'
  | 'scorer-outage-failed'
  | 'scorer-outage-judged-on-errors'
  | 'passed'
  | 'no-baseline-passed'
  | 'waiting'
  | 'too-little-traffic';

/** Each outcome's rule, as the console and the logs show it beside the reason. */
export const RULE_TEXT: Readonly<Record<GateOutcome, string>> = {
  worse: `worse: at ${GATE_RULES.confidenceZ}-sigma bounds on both revisions, at least ${GATE_RULES.maxRiskRatio}× the old revision's rate, or over the ceiling where the old revision was not, on the whole or on one request class`,
  'logging-broken':
    'logging broken: the new revision answered requests but its sidecar received no line from it',
  'scorer-outage-failed': 'scorer outage, policy roll-back: anomalies cannot be judged, so the release fails',
  'scorer-outage-judged-on-errors':
    'scorer outage, policy judge-on-errors: anomalies cannot be judged; the error rates alone passed',
  passed: 'judged: every signal reached the minimum volume and none is worse than the old revision',
  'no-baseline-passed':
    'judged without a baseline: every signal reached the minimum volume and stayed under its ceiling',
  waiting: 'waiting: below the minimum volume; probes are sent to the new revision',
  'too-little-traffic':
    'too little traffic: the minimum volume was not reached by the deadline, and an unjudged release is not passed',
};

export interface GateVerdict {
  readonly hookStatus: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';
  /** Seconds until ECS asks again; only with IN_PROGRESS. */
  readonly callBackDelay?: number;
  readonly outcome: GateOutcome;
  /** {@link RULE_TEXT} of the outcome. */
  readonly rule: string;
  /** The comparisons (or counts) that made the rule apply. */
  readonly reason: string;
  /** Every comparison, worst first. */
  readonly comparisons: readonly Comparison[];
  /** The new revision lacks volume: send it the declared probes. */
  readonly needsProbes: boolean;
}

export interface GateInput {
  readonly current: RevisionSample;
  /** The revision being replaced; null on a first deployment. */
  readonly baseline: RevisionSample | null;
  /** Seconds since the stage's first evaluation. */
  readonly elapsedSeconds: number;
  readonly policy: GatePolicy;
  readonly probes?: ProbeReport;
}

/**
 * @example
 * decideGate({ current, baseline, elapsedSeconds: 60, policy: { minimumVolume: { lines: 100, requests: 50 },
 *   deadlineSeconds: 600, deliverySeconds: 120, onScorerOutage: 'judge-on-errors' } });
 * // → { hookStatus: 'FAILED', outcome: 'worse', reason: 'errors on GET /api/services: 30.0 % (≥ 15.6 %) …' }
 */
export function decideGate(input: GateInput): GateVerdict {
  const { current, baseline, policy } = input;
  const comparisons = compareRevisions(current, baseline, policy.minimumVolume);
  const verdict = (
    hookStatus: GateVerdict['hookStatus'],
    outcome: GateOutcome,
    reason: string,
  ): GateVerdict => ({
    hookStatus,
    ...(hookStatus === 'IN_PROGRESS' ? { callBackDelay: GATE_RULES.callBackDelaySeconds } : {}),
    outcome,
    rule: RULE_TEXT[outcome],
    reason: withProbes(reason, input.probes),
    comparisons,
    needsProbes: hookStatus === 'IN_PROGRESS',
  });
  const details = (kinds: readonly Comparison['kind'][], signal?: SignalName) =>
    comparisons
      .filter((c) => kinds.includes(c.kind) && (signal === undefined || c.signal === signal))
      .map((c) => c.detail)
      .join('; ');
  const whole = (signal: SignalName) =>
    comparisons.find((c) => c.signal === signal && c.scope === wholeScope(signal));

  // 1. Worse on the whole or on one class: at once, whatever else lacks data.
  if (comparisons.some((c) => c.kind === 'worse')) return verdict('FAILED', 'worse', details(['worse']));

  // 2. Answers without a single log line, for longer than lines take to arrive: its logging is broken.
  const answered = Math.max(current.loadBalancer?.total ?? 0, input.probes?.answered ?? 0);
  const silent = current.lines.received === 0 && input.elapsedSeconds >= policy.deliverySeconds;
  if (silent && answered >= policy.minimumVolume.requests) {
    return verdict(
      'FAILED',
      'logging-broken',
      `${current.revision} answered ${answered} requests but its sidecar received no line from it`,
    );
  }

  // 3. Lines arrived, the scorer failed: the declared policy.
  const anomalies = whole('anomalies');
  const errors = whole('errors');
  const outage =
    anomalies?.kind === 'insufficient' && current.scorerFailures > 0 && current.lines.received > 0;
  if (outage) {
    const what = `the model endpoint failed ${current.scorerFailures} calls; ${current.lines.scored} of ${current.lines.received} lines of ${current.revision} scored`;
    if (policy.onScorerOutage === 'roll-back') return verdict('FAILED', 'scorer-outage-failed', what);
    if (errors && errors.kind === 'ok') {
      return verdict('SUCCEEDED', 'scorer-outage-judged-on-errors', `${what}; ${errors.detail}`);
    }
  }

  // 4. Enough of every signal, none worse.
  const measured = [anomalies, errors].filter((c): c is Comparison => c !== undefined);
  if (!outage && measured.every((c) => c.kind !== 'insufficient')) {
    const noBaseline = measured.every((c) => c.baseline === null);
    return verdict(
      'SUCCEEDED',
      noBaseline ? 'no-baseline-passed' : 'passed',
      measured.map((c) => c.detail).join('; '),
    );
  }

  // 5./6. Too little traffic: wait and probe, until the deadline.
  const lacking = outage
    ? `${details(['insufficient'], 'errors') || 'no request to judge the errors on'}; ${current.lines.scored} of ${current.lines.received} lines scored (scorer outage)`
    : details(['insufficient']);
  if (input.elapsedSeconds < policy.deadlineSeconds) {
    const left = Math.ceil(policy.deadlineSeconds - input.elapsedSeconds);
    return verdict('IN_PROGRESS', 'waiting', `${lacking} (${left}s left)`);
  }
  return verdict('FAILED', 'too-little-traffic', `${lacking} after ${Math.round(input.elapsedSeconds)}s`);
}

function withProbes(reason: string, probes: ProbeReport | undefined): string {
  if (!probes || probes.sent === 0) return reason;
  return `${reason}; probes: ${probes.answered} of ${probes.sent} answered (GET ${probes.paths.join(', GET ')})`;
}
