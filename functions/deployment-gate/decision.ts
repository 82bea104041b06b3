import { OTHER_LINES_CLASS, type RevisionCounts } from '../../contracts/revision-counts.ts';

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

/** Bad events among events. */
export interface Tally {
  readonly bad: number;
  readonly total: number;
}

/** One request class of one revision (contracts/revision-counts.ts names them). */
export interface ClassSample {
  /** `GET /api/services` (method and path template), or `(other lines)`: the lines outside requests. */
  readonly name: string;
  /** Anomalous lines among the class's scored lines. */
  readonly lines: Tally;
  /** 5xx among the class's requests, from its request lines. */
  readonly requests: Tally;
}

/** What one revision did over the window. */
export interface RevisionSample {
  /** The revision's label (`frontend:4`), named in reasons. */
  readonly revision: string;
  /** Lines its sidecars received, and of those the scored and the anomalous ones. */
  readonly lines: { readonly received: number; readonly scored: number; readonly anomalous: number };
  /** Calls to the model endpoint that failed: an outage of the scorer shows here. */
  readonly scorerFailures: number;
  /** Requests and target 5xx at the load balancer; null when the service has none (internal services). */
  readonly loadBalancer: Tally | null;
  readonly classes: readonly ClassSample[];
}

/** A revision's sample from its sidecars' counts and, for web services, its load balancer's. */
export function sampleOf(
  revision: string,
  counts: RevisionCounts,
  loadBalancer: Tally | null,
): RevisionSample {
  return {
    revision,
    lines: { received: counts.received, scored: counts.scored, anomalous: counts.anomalous },
    scorerFailures: counts.scorerFailures,
    loadBalancer,
    classes: Object.entries(counts.classes).map(([name, [scored, anomalous, requests, errors]]) => ({
      name,
      lines: { bad: anomalous, total: scored },
      requests: { bad: errors, total: requests },
    })),
  };
}

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

export type SignalName = 'anomalies' | 'errors';

/** The statistics of every comparison: constants of the rule, each with its reason. */
export const GATE_RULES = {
  /**
   * Three standard errors for both bounds (one-sided 99.87 % each): an equal-quality release must land
   * beyond its own bound *and* the old one beyond its own before a rollback, about one in a million.
   */
  confidenceZ: 3,
  /** Worse means at least twice the old rate even at the bounds' least damning reading. */
  maxRiskRatio: 2,
  /**
   * And at least this far above it: the model's calibrated threshold flags ~1 % of normal lines, and a new
   * process's first lines (cold caches, slow first requests) add some; 5xx have no such floor of noise.
   */
  minExcess: { anomalies: 0.01, errors: 0.005 } satisfies Record<SignalName, number>,
  /**
   * Without a baseline (a first deployment, a route only the new revision serves, an old revision below
   * the minimum volume): a quarter of lines anomalous, or 5 % of requests failing, is a bad release.
   */
  ceiling: { anomalies: 0.25, errors: 0.05 } satisfies Record<SignalName, number>,
  /** A class is compared once it has this many events on the new revision; fewer cannot make a bound. */
  classFloor: 10,
  /** ECS's own default between IN_PROGRESS invocations. */
  callBackDelaySeconds: 30,
} as const;

/** A rate with its confidence bounds. */
export interface RateEstimate extends Tally {
  readonly rate: number;
  readonly lower: number;
  readonly upper: number;
}

/** One comparison: a signal on the whole revision (`scope` `all lines`/`all requests`) or on one class. */
export interface Comparison {
  readonly signal: SignalName;
  readonly scope: string;
  readonly kind: 'insufficient' | 'ok' | 'worse';
  readonly current: RateEstimate;
  /** The old revision's rate; null without a baseline (the ceiling applies). */
  readonly baseline: RateEstimate | null;
  readonly detail: string;
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
  worse: `worse: at least ${GATE_RULES.maxRiskRatio}× the old revision's rate at ${GATE_RULES.confidenceZ}-sigma bounds on both, on the whole or on one request class`,
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

/**
 * Every comparison of the new revision with the old, worst first: each signal on the whole revision, then
 * on each request class. Classes are compared once the whole has reached the minimum volume.
 */
export function compareRevisions(
  current: RevisionSample,
  baseline: RevisionSample | null,
  minimumVolume: GatePolicy['minimumVolume'],
): Comparison[] {
  const out: Comparison[] = [];
  const classOf = (sample: RevisionSample | null, name: string) =>
    sample?.classes.find((c) => c.name === name);

  const lines = (s: RevisionSample): Tally => ({ bad: s.lines.anomalous, total: s.lines.scored });
  out.push(
    compare('anomalies', wholeScope('anomalies'), current, baseline, lines, minimumVolume.lines, 'lines'),
  );
  const requests = (s: RevisionSample): Tally | null =>
    s.loadBalancer ?? (s.classes.some((c) => c.requests.total > 0) ? sumRequests(s.classes) : null);
  const currentRequests = requests(current);
  if (currentRequests !== null) {
    out.push(
      compare(
        'errors',
        wholeScope('errors'),
        current,
        baseline,
        (s) => requests(s) ?? { bad: 0, total: 0 },
        minimumVolume.requests,
        'requests',
      ),
    );
  }
  const wholeJudged = (signal: SignalName) =>
    out.some((c) => c.signal === signal && c.kind !== 'insufficient');
  for (const cls of current.classes) {
    for (const [signal, unit, pick] of [
      ['anomalies', 'lines', (c: ClassSample) => c.lines],
      ['errors', 'requests', (c: ClassSample) => c.requests],
    ] as const) {
      if (!wholeJudged(signal) || pick(cls).total < GATE_RULES.classFloor) continue;
      out.push(
        compare(
          signal,
          cls.name,
          current,
          baseline,
          (s) => {
            const found = classOf(s, cls.name);
            return found ? pick(found) : { bad: 0, total: 0 };
          },
          GATE_RULES.classFloor,
          unit,
        ),
      );
    }
  }
  const rank = { worse: 0, insufficient: 1, ok: 2 } as const;
  return out.sort((a, b) => rank[a.kind] - rank[b.kind] || severity(b) - severity(a));
}

function compare(
  signal: SignalName,
  scope: string,
  current: RevisionSample,
  baseline: RevisionSample | null,
  tallyOf: (sample: RevisionSample) => Tally,
  minimum: number,
  unit: string,
): Comparison {
  const z = GATE_RULES.confidenceZ;
  const now = estimate(tallyOf(current), z);
  const label = `${signal} on ${scope}`;
  if (now.total < minimum) {
    return {
      signal,
      scope,
      kind: 'insufficient',
      current: now,
      baseline: null,
      detail: `${label}: ${now.total} ${unit} from ${current.revision}, fewer than the minimum ${minimum}`,
    };
  }
  const ours = `${describe(now)} of ${now.total} ${unit} on ${current.revision}`;
  const oldTally = baseline ? tallyOf(baseline) : null;
  if ((!baseline || !oldTally || oldTally.total < minimum) && scope === OTHER_LINES_CLASS) {
    // A new process's own start-up lines land here, which the old revision wrote long before the window:
    // without a baseline these lines are judged with the whole revision, never against a ceiling alone.
    return {
      signal,
      scope,
      kind: 'insufficient',
      current: now,
      baseline: null,
      detail: `${label}: ${ours}, no baseline: judged with the whole revision`,
    };
  }
  if (!baseline || !oldTally || oldTally.total < minimum) {
    const ceiling = GATE_RULES.ceiling[signal];
    const worse = now.lower > ceiling;
    const why = baseline
      ? `no baseline (${baseline.revision} has ${oldTally?.total ?? 0} ${unit})`
      : 'no old revision';
    return {
      signal,
      scope,
      kind: worse ? 'worse' : 'ok',
      current: now,
      baseline: null,
      detail: `${label}: ${ours}, ${why}: ${worse ? 'over' : 'under'} the ${percent(ceiling)} ceiling`,
    };
  }
  const old = estimate(oldTally, z);
  const ratio = old.upper > 0 ? now.lower / old.upper : Number.POSITIVE_INFINITY;
  const relative = ratio > GATE_RULES.maxRiskRatio && now.lower - old.upper >= GATE_RULES.minExcess[signal];
  // A thin baseline leaves the old revision's bound too wide to prove a ratio; a rate over the ceiling
  // even at its lowest reading, where the old revision did not show it, is a bad release all the same.
  const ceiling = GATE_RULES.ceiling[signal];
  const overCeiling = scope !== OTHER_LINES_CLASS && now.lower > ceiling && now.lower > old.rate;
  const worse = relative || overCeiling;
  const theirs = `${describeOld(old)} of ${old.total} on ${baseline.revision}`;
  const verdict = relative
    ? `at least ${ratio.toFixed(1)}× the old rate (limit ${GATE_RULES.maxRiskRatio}×)`
    : overCeiling
      ? `over the ${percent(ceiling)} ceiling, where the old revision was not`
      : `not shown above ${GATE_RULES.maxRiskRatio}× the old rate`;
  return {
    signal,
    scope,
    kind: worse ? 'worse' : 'ok',
    current: now,
    baseline: old,
    detail: `${label}: ${ours} vs ${theirs}: ${verdict}`,
  };
}

/**
 * The Wilson score interval of `bad / total` at `z` standard errors: honest at small counts and at rates
 * near 0 or 1, where the normal approximation is not ([0, 1] for no events).
 */
export function wilsonBounds(bad: number, total: number, z: number): { lower: number; upper: number } {
  if (total <= 0) return { lower: 0, upper: 1 };
  const p = bad / total;
  const z2 = z * z;
  const centre = p + z2 / (2 * total);
  const spread = z * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total));
  const scale = 1 + z2 / total;
  return {
    lower: Math.max(0, (centre - spread) / scale),
    upper: Math.min(1, (centre + spread) / scale),
  };
}

function estimate(tally: Tally, z: number): RateEstimate {
  const { lower, upper } = wilsonBounds(tally.bad, tally.total, z);
  return { ...tally, rate: tally.total > 0 ? tally.bad / tally.total : 0, lower, upper };
}

function sumRequests(classes: readonly ClassSample[]): Tally {
  return classes.reduce(
    (sum, c) => ({ bad: sum.bad + c.requests.bad, total: sum.total + c.requests.total }),
    { bad: 0, total: 0 },
  );
}

function wholeScope(signal: SignalName): string {
  return signal === 'anomalies' ? 'all lines' : 'all requests';
}

/** How far a comparison is from passing, to sort the worst first. */
function severity(c: Comparison): number {
  return c.baseline ? c.current.lower / Math.max(c.baseline.upper, 1e-9) : c.current.lower;
}

function withProbes(reason: string, probes: ProbeReport | undefined): string {
  if (!probes || probes.sent === 0) return reason;
  return `${reason}; probes: ${probes.answered} of ${probes.sent} answered (GET ${probes.paths.join(', GET ')})`;
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)} %`;
const describe = (e: RateEstimate) => `${percent(e.rate)} (≥ ${percent(e.lower)})`;
const describeOld = (e: RateEstimate) => `${percent(e.rate)} (≤ ${percent(e.upper)})`;
