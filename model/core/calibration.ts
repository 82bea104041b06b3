/**
 * Thresholds from training scores alone: the line model's quantile-plus-margin, and for sessions the
 * novelty rules at a Good-Turing level and the conformal bound (README, "Session score and threshold").
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

/** Threshold above the training quantile plus margin; spread from the training scores' own scale. */
export function calibrationFrom(raws: readonly number[]): { rawThreshold: number; spread: number } {
  const q = quantile(raws, THRESHOLD_QUANTILE);
  const rawThreshold = q + Math.max(THRESHOLD_MIN_MARGIN, THRESHOLD_HEADROOM_SHARE * (1 - q));
  const spread = Math.max(0.02, (rawThreshold - quantile(raws, 0.5)) / 4);
  return { rawThreshold: round(rawThreshold), spread: round(spread) };
}

/**
 * Level of a novelty rule: a kind of novelty flags by rule when at most this share of new normal
 * sessions is expected to show it. By exchangeability, a new normal session holds something no other
 * session holds with probability at most `(m + 1) / (n + 1)`, where `m` of the `n` training sessions do
 * so leave-one-out (Good-Turing's missing mass, with the conformal `+1`): with 50 sessions and none
 * such, 0.0196; with one in 6,096, 0.0003.
 */
export const RULE_LEVEL = 0.05;

/** Whether novelty seen leave-one-out in `m` of `n` training sessions is rare enough to be a rule. */
export function ruleHolds(m: number, n: number): boolean {
  return (m + 1) / (n + 1) <= RULE_LEVEL;
}

/**
 * Level of the conformal threshold: a new normal item is flagged with probability at most this. With
 * fewer than `1/α − 1` training items no conformal test reaches α, and the finest one, `1/(n + 1)`, is
 * used: the item must score above every training item.
 */
export const CONFORMAL_LEVEL = 0.01;

/**
 * Conformal calibration (Vovk et al.; split-conformal with leave-one-out scores): the decision
 * threshold sits just above the `(j + 1)`-th largest training score, `j = ⌊α(n + 1)⌋ − 1`, so the
 * conformal p-value `(1 + #{training ≥ s}) / (n + 1)` of any flagged score is ≤ α. Capped at `cap`
 * (a score that rules flag), and the spread is taken from the scores' own scale.
 */
export function conformalCalibration(
  raws: readonly number[],
  cap: number,
  alpha = CONFORMAL_LEVEL,
): { rawThreshold: number; spread: number } {
  const sorted = Float64Array.from(raws).sort();
  const n = sorted.length;
  const level = Math.max(alpha, 1 / (n + 1));
  const j = Math.max(0, Math.floor(level * (n + 1) + 1e-9) - 1);
  const bound = sorted[n - 1 - Math.min(j, n - 1)] ?? 0;
  // Rounded up to the calibration's 6 decimals, so a score equal to the bound stays below it.
  const rawThreshold = Math.min(cap, Math.floor(bound * 1e6 + 1) / 1e6);
  const spread = Math.max(0.02, (rawThreshold - quantile(raws, 0.5)) / 4);
  return { rawThreshold, spread: round(spread) };
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
