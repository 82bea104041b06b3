import { OTHER_LINES_CLASS, type RevisionCounts } from '../../contracts/revision-counts.ts';

/**
 * The comparisons the deployment gate decides on (decision.ts): what one revision did (its sample), and
 * each signal compared between the new and the old revision on the whole and per request class, by
 * relative risk with a Wilson bound on both, every constant with its reason.
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

/**
 * Every comparison of the new revision with the old, worst first: each signal on the whole revision, then
 * on each request class. Classes are compared once the whole has reached the minimum volume.
 */
export function compareRevisions(
  current: RevisionSample,
  baseline: RevisionSample | null,
  minimumVolume: { readonly lines: number; readonly requests: number },
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
  const undecided = (detail: string): Comparison => ({
    signal,
    scope,
    kind: 'insufficient',
    current: now,
    baseline: null,
    detail: `${label}: ${detail}`,
  });
  if (now.total < minimum) {
    return undecided(`${now.total} ${unit} from ${current.revision}, fewer than the minimum ${minimum}`);
  }
  const ours = `${describe(now)} of ${now.total} ${unit} on ${current.revision}`;
  const oldTally = baseline ? tallyOf(baseline) : null;
  if ((!baseline || !oldTally || oldTally.total < minimum) && scope === OTHER_LINES_CLASS) {
    // A new process's own start-up lines land here, which the old revision wrote long before the window:
    // without a baseline these lines are judged with the whole revision, never against a ceiling alone.
    return undecided(`${ours}, no baseline: judged with the whole revision`);
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

/** The scope of a signal compared on the whole revision. */
export function wholeScope(signal: SignalName): string {
  return signal === 'anomalies' ? 'all lines' : 'all requests';
}

/** How far a comparison is from passing, to sort the worst first. */
function severity(c: Comparison): number {
  return c.baseline ? c.current.lower / Math.max(c.baseline.upper, 1e-9) : c.current.lower;
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)} %`;
const describe = (e: RateEstimate) => `${percent(e.rate)} (≥ ${percent(e.lower)})`;
const describeOld = (e: RateEstimate) => `${percent(e.rate)} (≤ ${percent(e.upper)})`;
