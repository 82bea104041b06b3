/**
 * Thresholds from training scores alone for the heuristic evidence (the window mix, the seed vector),
 * and the line model's drift floor. The budget's own thresholds are conformal (`conformal.ts`).
 */

/** Training-score quantile the threshold sits above: at most ~1% of training items are flagged. */
export const THRESHOLD_QUANTILE = 0.99;
/**
 * Share of the headroom above that quantile added as a margin (at least {@link THRESHOLD_MIN_MARGIN}):
 * production meets more new lines than leave-one-out training suggests, and where training lines
 * rarely score high, a line must stand out further before it alarms.
 */
export const THRESHOLD_HEADROOM_SHARE = 0.25;
export const THRESHOLD_MIN_MARGIN = 0.05;

/**
 * The line model's drift floor: no budget flags a line scoring below the 99 % leave-one-out training
 * quantile plus margin. Leave-one-out treats the stream as exchangeable, but a stream keeps bringing
 * templates training never saw: on Thunderbird_2k the leave-one-out bound alone (above every training
 * line) flagged 4.8 % of the next half's normal lines, the floor none.
 */
export function driftFloor(raws: readonly number[]): number {
  return calibrationFrom(raws).rawThreshold;
}

/** Threshold above the training quantile plus margin; spread from the training scores' own scale. */
export function calibrationFrom(raws: readonly number[]): { rawThreshold: number; spread: number } {
  const q = quantile(raws, THRESHOLD_QUANTILE);
  const rawThreshold = q + Math.max(THRESHOLD_MIN_MARGIN, THRESHOLD_HEADROOM_SHARE * (1 - q));
  const spread = Math.max(0.02, (rawThreshold - quantile(raws, 0.5)) / 4);
  return { rawThreshold: round(rawThreshold), spread: round(spread) };
}

/** Linear-interpolated quantile of unsorted values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
