import type { ServiceStatus } from '../../../contracts/console-api.ts';
import type { ServiceTarget } from './config.ts';

/**
 * Probes every service's health URL in parallel, each with its own deadline, so one hung service
 * cannot hold up the overview.
 */
export async function probeServices(
  targets: readonly ServiceTarget[],
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
): Promise<ServiceStatus[]> {
  return Promise.all(targets.map((target) => probeService(target, timeoutMs, fetchImpl)));
}

export async function probeService(
  target: ServiceTarget,
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
): Promise<ServiceStatus> {
  const checkedAt = new Date().toISOString();
  const status = await probe(target, timeoutMs, fetchImpl, checkedAt);
  return target.kind ? { ...status, kind: target.kind } : status;
}

async function probe(
  target: ServiceTarget,
  timeoutMs: number,
  fetchImpl: typeof fetch,
  checkedAt: string,
): Promise<ServiceStatus> {
  if (!target.healthUrl) return { name: target.name, health: 'unknown', checkedAt };
  const started = performance.now();
  try {
    const response = await fetchImpl(target.healthUrl, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    // Drain the body so the connection is released; the content does not matter.
    await response.arrayBuffer().catch(() => undefined);
    const latencyMs = Math.round(performance.now() - started);
    const up = response.status >= 200 && response.status < 300;
    return {
      name: target.name,
      health: up ? 'up' : 'down',
      httpStatus: response.status,
      latencyMs,
      ...(up ? {} : { detail: `HTTP ${response.status}` }),
      checkedAt,
    };
  } catch (error) {
    return {
      name: target.name,
      health: 'down',
      latencyMs: Math.round(performance.now() - started),
      detail: describeFetchFailure(error),
      checkedAt,
    };
  }
}

/** A short, safe reason for a failed outbound call (no stack, no internal detail beyond the errno). */
export function describeFetchFailure(error: unknown): string {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  const cause = (error as { cause?: { code?: string } } | null)?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code) return `network error (${cause.code})`;
  return 'network error';
}
