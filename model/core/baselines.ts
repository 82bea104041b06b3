/**
 * Trivial detectors the model must never lose to, scored on exactly the split the model is scored on
 * (`core/benchmark.ts`). Each works on sequences of event keys: a session's events, or for line data
 * the stream of template ids the training miner assigns (`-1`: no template matched, always unseen).
 * Each returns a score per test sequence and its own threshold, fitted on the training sequences only.
 */

/** Scores of one baseline on the test sequences, flagged at `score >= threshold`. */
export interface BaselineScores {
  readonly scores: number[];
  readonly threshold: number;
}

/** Events are compared as strings so sessions (template strings) and lines (ids) share the code. */
export type EventSequence = readonly (string | number)[];

/** A sequence holding an event never seen in training: score = how many such events. */
export function newEventBaseline(
  train: readonly EventSequence[],
  test: readonly EventSequence[],
): BaselineScores {
  const seen = new Set<string | number>();
  for (const s of train) for (const e of s) if (e !== -1) seen.add(e);
  return {
    scores: test.map((s) => s.reduce<number>((n, e) => n + (e === -1 || !seen.has(e) ? 1 : 0), 0)),
    threshold: 1,
  };
}

/**
 * STIDE (Forrest et al., 1996) with windows of 2: the share of a sequence's length-2 windows (with
 * start and end marks) never seen in training; any mismatch flags.
 */
export function stideBaseline(
  train: readonly EventSequence[],
  test: readonly EventSequence[],
): BaselineScores {
  const seen = new Set<string>();
  for (const s of train) for (const w of windows2(s)) seen.add(w);
  return {
    scores: test.map((s) => {
      const ws = windows2(s);
      let miss = 0;
      for (const w of ws) if (!seen.has(w)) miss++;
      return miss / ws.length;
    }),
    threshold: Number.MIN_VALUE,
  };
}

function windows2(s: EventSequence): string[] {
  const out: string[] = [];
  let previous = '^';
  for (const e of s) {
    const current = e === -1 ? '?' : String(e);
    out.push(`${previous}\u0000${current}`);
    previous = current;
  }
  out.push(`${previous}\u0000$`);
  return out;
}

/**
 * Streams of line data: STIDE on the pair (previous line's event, this line's event), per line.
 * The first test line is paired with the last training line, as a live stream would be.
 */
export function stideLineBaseline(trainIds: readonly number[], testIds: readonly number[]): BaselineScores {
  const seen = new Set<string>();
  for (let i = 1; i < trainIds.length; i++) seen.add(`${trainIds[i - 1]}>${trainIds[i]}`);
  let previous = trainIds.at(-1) ?? -2;
  return {
    scores: testIds.map((id) => {
      const miss = id === -1 || !seen.has(`${previous}>${id}`) ? 1 : 0;
      previous = id;
      return miss;
    }),
    threshold: 1,
  };
}

/** Share of training items the count-vector baseline lets through: its threshold is their 99% quantile. */
export const NEAREST_NEIGHBOUR_QUANTILE = 0.99;

/**
 * Count-vector nearest neighbour: the Euclidean distance from an item's count vector (events of a
 * session, or tokens of a line) to the closest training vector; the threshold is the 99% quantile of
 * the training vectors' leave-one-out distances (a vector seen twice has a neighbour at 0).
 */
export function nearestNeighbourBaseline(
  train: readonly EventSequence[],
  test: readonly EventSequence[],
): BaselineScores {
  const { looDistances, scores } = nearestNeighbourDistances(train, test);
  const sorted = [...looDistances].sort((a, b) => a - b);
  const q =
    sorted[Math.min(sorted.length - 1, Math.ceil(NEAREST_NEIGHBOUR_QUANTILE * sorted.length) - 1)] ?? 0;
  // Strictly above the training quantile, so a test item at a training distance is not flagged.
  return { scores, threshold: q + 1e-9 };
}

/**
 * The same distance with a conformal threshold at the model's alert budget: an item is flagged when
 * fewer than `budget × (n + 1)` training vectors lie at least as far from the others, i.e. strictly
 * above the `⌊budget (n + 1)⌋`-th largest leave-one-out distance (the largest, when the training set
 * is too small for the budget: the same fallback as the model's).
 */
export function nearestNeighbourBudgetBaseline(
  train: readonly EventSequence[],
  test: readonly EventSequence[],
  budget: number,
): BaselineScores {
  const { looDistances, scores } = nearestNeighbourDistances(train, test);
  const descending = [...looDistances].sort((a, b) => b - a);
  const k = Math.max(1, Math.floor(budget * (descending.length + 1) + 1e-9));
  return { scores, threshold: (descending[k - 1] ?? 0) + 1e-9 };
}

/** Leave-one-out nearest-neighbour distances of the training vectors, and the test vectors' distances. */
function nearestNeighbourDistances(
  train: readonly EventSequence[],
  test: readonly EventSequence[],
): { looDistances: number[]; scores: number[] } {
  const dictionary = new Map<string | number, number>();
  const vectorOf = (s: EventSequence, grow: boolean) => {
    const v = new Map<number, number>();
    for (const e of s) {
      let k = dictionary.get(e);
      if (k === undefined) {
        k = grow ? dictionary.size : -1;
        if (grow) dictionary.set(e, k);
      }
      v.set(k, (v.get(k) ?? 0) + 1);
    }
    return v;
  };
  // Distinct training vectors with their multiplicity: most sessions repeat a handful of shapes.
  const distinct = new Map<string, { v: Map<number, number>; n: number; norm: number }>();
  for (const s of train) {
    const v = vectorOf(s, true);
    const key = [...v.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([k, c]) => `${k}:${c}`)
      .join(',');
    const found = distinct.get(key);
    if (found) found.n++;
    else distinct.set(key, { v, n: 1, norm: squaredNorm(v) });
  }
  const points = [...distinct.values()];
  const nearest = (v: Map<number, number>, skip: number) => {
    const norm = squaredNorm(v);
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < points.length; i++) {
      if (i === skip) continue;
      const p = points[i]!;
      let dot = 0;
      for (const [k, c] of v) dot += c * (p.v.get(k) ?? 0);
      const d = norm + p.norm - 2 * dot;
      if (d < best) best = d;
    }
    return Math.sqrt(Math.max(0, best));
  };
  const looDistances: number[] = [];
  points.forEach((p, i) => {
    const d = p.n > 1 ? 0 : nearest(p.v, i);
    for (let k = 0; k < p.n; k++) looDistances.push(d);
  });
  return { looDistances, scores: test.map((s) => nearest(vectorOf(s, false), -1)) };
}

function squaredNorm(v: ReadonlyMap<number, number>): number {
  let s = 0;
  for (const c of v.values()) s += c * c;
  return s;
}
