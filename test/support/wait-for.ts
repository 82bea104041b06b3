import { setTimeout as delay } from 'node:timers/promises';

/**
 * The one wait of the test suite: polls `probe` until it answers, so a test waits on a condition and never
 * on a fixed sleep. A probe answers with anything but `undefined` or `false` (that value is returned); a
 * probe that throws has not answered yet, and its last error is named if the deadline passes. Deadlines
 * are generous on purpose (a loaded two-core machine is slow, not wrong); a bound the test is about is
 * asserted on the elapsed time afterwards, not by the deadline.
 *
 * @example
 * const listed = await waitFor('the burst is listed', 10_000, async () => {
 *   const { records } = await (await fetch(url)).json();
 *   return records.length > 0 ? records : undefined;
 * });
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
      throw new Error(`${what}: not within ${timeoutMs} ms${why}`);
    }
    await delay(intervalMs);
  }
}
