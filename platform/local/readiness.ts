import { describeHealth, type Unit } from './unit.ts';

/** A failure to start, with what the user should do. */
export class StartError extends Error {
  override readonly name = 'StartError';
}

/**
 * Resolves once every unit's health check passes; throws a {@link StartError} naming each unit that
 * did not pass within `timeoutMs` with its last output, or when `signal` aborts first.
 */
export async function waitUntilReady(
  units: readonly Unit[],
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const interrupted = new Promise<'interrupted'>((resolveAbort) => {
    if (signal?.aborted) resolveAbort('interrupted');
    signal?.addEventListener('abort', () => resolveAbort('interrupted'), { once: true });
  });
  const all = Promise.all(units.map(async (u) => ({ unit: u, ok: await u.waitHealthy(timeoutMs) })));
  const results = await Promise.race([all, interrupted]);
  if (results === 'interrupted') throw new StartError('start-up interrupted; everything started was stopped');
  const failed = results.filter((r) => !r.ok).map((r) => r.unit);
  if (failed.length === 0) return;
  const details = failed
    .map((u) => {
      const tail = u.lastLines.map((l) => `    ${l}`).join('\n') || '    (no output)';
      return `  ${u.plan.label}: ${describeHealth(u.plan.health)} did not pass within ${timeoutMs / 1000} s; last output:\n${tail}`;
    })
    .join('\n');
  throw new StartError(
    `not ready: ${failed.map((u) => u.plan.label).join(', ')} never became healthy\n${details}`,
  );
}
