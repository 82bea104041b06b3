import { AnomaliesResponseSchema } from '../../contracts/anomaly.ts';
import type { JobRun } from '../../contracts/job-runs.ts';
import { CountsResponseSchema } from '../../contracts/revision-counts.ts';
import { SIDECAR_PATHS } from '../../contracts/sidecar.ts';
import { parsePrometheus } from '../../runtime/prometheus-text.ts';

/**
 * A run's lines as its sidecar counted them, once it holds nothing back: every forwarded line taken
 * in, none queued or being scored (or `deadlineMs` passed). `received` counts lines; `scored` counts
 * the events scored, a multi-line stack trace being one event (services/anomaly-sidecar/src/multiline.ts).
 * `anomalies`: the last `keptAnomalies` anomalous lines, oldest first.
 */
export async function settledRunLines(
  url: string,
  forwarded: number,
  deadlineMs: number,
  keptAnomalies: number,
): Promise<Pick<JobRun, 'lines' | 'anomalies'>> {
  const deadline = Date.now() + deadlineMs;
  let lines = { received: 0, scored: 0, anomalous: 0 };
  while (Date.now() < deadline) {
    // The metrics first, then the counts: once the metrics say settled nothing more is scored, so the
    // counts read after them hold every line. Read at once, a batch scored between the two reads gave
    // counts from before it with metrics from after it ("0 scored", found under load).
    const metrics = await fetch(`${url}${SIDECAR_PATHS.metrics}`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.text())
      .catch(() => '');
    const counts = await fetch(`${url}${SIDECAR_PATHS.counts}`, { signal: AbortSignal.timeout(2000) })
      .then(async (r) => CountsResponseSchema.safeParse(await r.json()))
      .catch(() => null);
    const samples = parsePrometheus(metrics);
    const received = samples.get('sidecar_records_received_total') ?? 0;
    const held = (samples.get('sidecar_queue_depth') ?? 0) + (samples.get('sidecar_records_in_flight') ?? 0);
    if (counts?.success) {
      lines = { received, scored: counts.data.scored, anomalous: counts.data.anomalous };
      // Everything taken in and settled. A failing scorer is not settled: its batches are retried
      // (requeued, in flight) until scored or dropped, so a slow endpoint on a loaded machine does not
      // record a run with its lines unscored; the deadline bounds a scorer that stays down.
      if (received >= forwarded && held === 0) break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const anomalies = AnomaliesResponseSchema.safeParse(
    await fetch(`${url}${SIDECAR_PATHS.anomalies}?limit=${keptAnomalies}`, {
      signal: AbortSignal.timeout(2000),
    })
      .then((r) => r.json())
      .catch(() => null),
  );
  return { lines, anomalies: anomalies.success ? anomalies.data.records.map((r) => r.line).reverse() : [] };
}
