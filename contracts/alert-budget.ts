/**
 * The alert budget: the share of normal items (lines, sessions) a service accepts to see flagged, α.
 * Every score the model returns is a conformal p-value put on one fixed scale, so that a budget is a
 * score threshold and the same threshold means the same budget for every artifact, service and unit:
 *
 *   score = u / (u + 3), u = −log10(p)   — p = 0.001 scores 0.5, p = 0.01 scores 0.4, p = 1e-9 0.75.
 *
 * A caller flags `score >= thresholdForBudget(budget)`, which is `p <= budget`. The scale is
 * hyperbolic in −log10(p) so it never saturates: ever smaller p-values keep scoring higher (1e-30
 * scores 0.909), so raising a threshold lowers alerts smoothly all the way up.
 *
 * A contract, not model internals: the declaration bounds a service's budget with it, the sidecar and
 * the log scorer turn a declared budget into a threshold with it, the console shows budgets next to the
 * alert rates it observes. No dependencies.
 */

/** The budget a service gets when it declares none: one false alarm per thousand normal items. */
export const DEFAULT_BUDGET = 0.001;
/**
 * The largest budget anyone may declare: 5 % of normal items flagged is a noise source, not an
 * alarm. Items the model will not flag at any budget (a line under its drift floor) score below it.
 */
export const MAX_BUDGET = 0.05;

/** −log10 of the p-value that scores 0.5 (0.001). */
const HALF_SCORE_SURPRISE = 3;

/**
 * The score of a p-value (0..1; monotone: a smaller p never scores lower). Rounded to 9 decimals, so
 * equal evidence ties exactly while evidence that differs a little (two orderings of the same events)
 * still scores apart.
 */
export function scoreOfP(p: number): number {
  const u = Math.max(0, -Math.log10(Math.min(1, Math.max(p, Number.MIN_VALUE))));
  return Math.round((u / (u + HALF_SCORE_SURPRISE)) * 1e9) / 1e9;
}

/**
 * The score at or above which an item is flagged under a budget.
 *
 * @example
 * thresholdForBudget(0.001); // 0.5
 * thresholdForBudget(0.01); // 0.4
 */
export function thresholdForBudget(budget: number): number {
  return scoreOfP(budget);
}

/**
 * The smallest budget `n` training items can honour: a conformal p-value is never below `1/(n + 1)`
 * (an item above every training item), so 0.001 needs at least 999 items.
 */
export function minBudget(trainingItems: number): number {
  return 1 / (trainingItems + 1);
}

/**
 * The budget actually applied: the declared one, or the finest one the training set supports when
 * it is too small for it (the honest fallback, stated wherever the budget is shown).
 */
export function effectiveBudget(budget: number, trainingItems: number): number {
  return Math.max(budget, minBudget(trainingItems));
}

/** Why a budget is not what the caller asked for, or undefined when it is. */
export function budgetFallbackNote(budget: number, trainingItems: number): string | undefined {
  const applied = effectiveBudget(budget, trainingItems);
  if (applied === budget) return undefined;
  return `budget ${budget} needs at least ${Math.ceil(1 / budget - 1)} training items; with ${trainingItems} the finest is 1/${trainingItems + 1} = ${round4(applied)}`;
}

const round4 = (x: number) => Number(x.toPrecision(4));
