import { z } from 'zod';
import { MAX_BUDGET } from '../../contracts/alert-budget.ts';

/**
 * Conformal p-values (Vovk et al., "Algorithmic Learning in a Random World"; Bates et al., "Testing
 * for outliers with conformal p-values", Annals of Statistics 2023) from training scores alone.
 *
 * Each training item is scored leave-one-out (as if it had not been trained on), giving `v_1..v_n`.
 * A new item scoring `x` has the conformal p-value `p(x) = (1 + #{v_i >= x}) / (n + 1)`: if normal
 * items are exchangeable, a new normal item gets `p <= α` with probability at most α. Flagging
 * `p <= α` is the budget.
 *
 * That p is a step function: every item above the largest training score gets `1/(n + 1)` (the
 * saturation the score must avoid). So the table interpolates between its knots on the conservative
 * side (never below the exact p-value, so the guarantee holds) and, above the top training score,
 * continues as `e^{−(x − v_max)/tail} / (n + 1)`: an extrapolation for ranking only, which decides
 * nothing a budget of at least `1/(n + 1)` would not.
 */

export const ConformalTableSchema = z.object({
  /** Training items the scores come from. */
  n: z.number().int().positive(),
  /**
   * `[score, items scoring at or above it]`, scores descending. Exact wherever the p-value is at most
   * {@link MAX_BUDGET} (every decision a budget can make); sampled below that.
   */
  knots: z.array(z.tuple([z.number(), z.number().int().nonnegative()])).min(1),
  /** Score distance above the top knot over which the extrapolated p-value falls by a factor e. */
  tail: z.number().positive(),
});
export type ConformalTable = z.infer<typeof ConformalTableSchema>;

/** Knots kept below the exact region: enough to rank ordinary items, small in the artifact. */
export const SAMPLED_KNOTS = 48;

/**
 * The table of leave-one-out training scores. `minTail` bounds the tail scale from below (in the
 * score's own units): a score whose training values barely vary must not turn a tiny step above
 * the top into an enormous p-value drop.
 */
export function conformalTable(scores: readonly number[], minTail: number): ConformalTable {
  if (scores.length === 0) throw new Error('a conformal table needs at least one training score');
  const n = scores.length;
  // Rounded up to 6 decimals: a stored knot is never below the training score it stands for, so a
  // new item equal to a training score is not taken for one above it.
  const sorted = Float64Array.from(scores, (s) => Math.ceil(s * 1e6) / 1e6).sort();
  const distinct: [number, number][] = [];
  for (let i = n - 1; i >= 0; ) {
    let j = i;
    while (j >= 0 && sorted[j] === sorted[i]) j--;
    distinct.push([sorted[i]!, n - 1 - j]);
    i = j;
  }
  const exactUpTo = MAX_BUDGET * (n + 1);
  // The top knot, every knot whose p-value a budget can reach, and the first one past them (so the
  // interval below the last exact knot is exact too); then a sample, ending at the lowest score.
  let exactCount = 1;
  while (exactCount < distinct.length && distinct[exactCount - 1]![1] + 1 <= exactUpTo) exactCount++;
  const exact = distinct.slice(0, exactCount);
  const rest = distinct.slice(exactCount);
  const step = Math.max(1, Math.ceil(rest.length / SAMPLED_KNOTS));
  const sampled = rest.filter((_, i) => i % step === 0 || i === rest.length - 1);
  const knots = [...exact, ...sampled];
  const top = knots[0]![0];
  const median = sorted[Math.floor((n - 1) / 2)]!;
  return { n, knots, tail: Math.max(minTail, (top - median) / 4) };
}

/**
 * The p-value of a new item scoring `x`: at least the exact conformal p-value below the top training
 * score, strictly decreasing in `x` above the lowest knot.
 *
 * @example
 * pValue(conformalTable([0, 0, 1, 2], 0.1), 3); // below 1/5: above every training score
 */
export function pValue(table: ConformalTable, x: number): number {
  const { n, knots, tail } = table;
  const top = knots[0]!;
  if (x > top[0]) return Math.exp(-(x - top[0]) / tail) / (n + 1);
  // Knots descend; find the first knot at or below x.
  let lo = 0;
  let hi = knots.length - 1;
  // Below the lowest training score every training item is at or above it.
  if (x < knots[hi]![0]) return 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (knots[mid]![0] > x) lo = mid + 1;
    else hi = mid;
  }
  const below = knots[lo]!;
  if (below[0] === x || lo === 0) return pAt(below[1], n);
  const above = knots[lo - 1]!;
  // Between two knots the exact p-value is that of the upper knot; interpolating towards the lower
  // knot's larger p-value stays at or above it.
  const t = (x - below[0]) / (above[0] - below[0]);
  return pAt(below[1], n) + (pAt(above[1], n) - pAt(below[1], n)) * t;
}

const pAt = (atOrAbove: number, n: number) => Math.min(1, (atOrAbove + 1) / (n + 1));
