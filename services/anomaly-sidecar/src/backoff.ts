/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the
 * delay before retry `attempt` is uniform in [0, min(cap, base * 2^(attempt-1))], so sidecars of many
 * tasks that lost the endpoint together do not retry in lockstep.
 *
 * @example
 * backoffDelayMs(3, { baseMs: 100, maxMs: 2000 }, Math.random); // somewhere in 0..400
 */
export function backoffDelayMs(
  attempt: number,
  policy: { readonly baseMs: number; readonly maxMs: number },
  random: () => number,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
