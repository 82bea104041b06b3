/**
 * `npm run bench:stream`: the live stream (`GET /api/events`) under 0, 100 and 800 readers that stop
 * reading, each through the burst (16 rounds of 1,000 error lines with stack traces, the feed
 * polling every 100 ms): streams held, the backend's RSS (before, peak, after the readers left) and
 * `GET /api/services` latency during the burst. The real backend process on loopback; medians of
 * BENCH_RUNS (default 3) runs per level. Last line: one JSON object. Goals (issue 25): with 800 stalled
 * readers, RSS under 256 MiB and p99 under 500 ms, memory back near the baseline once they go.
 * Run it alone: `flock /tmp/heavy.lock npm run bench:stream`.
 */

import { waitFor } from '../../../test/support/wait-for.ts';
import {
  burstAndMeasure,
  openStalledReaders,
  percentile,
  spawnBackend,
} from '../test/support/stream-load.ts';
import { startSidecar } from '../test/support/upstream-servers.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LEVELS = [0, 100, 800];
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (n: number) => Math.round(n * 10) / 10;

interface Run {
  held: number;
  refused: number;
  baselineMiB: number;
  peakMiB: number;
  afterMiB: number;
  p50Ms: number;
  p99Ms: number;
  closedByServer: number;
}

async function once(readers: number): Promise<Run> {
  const sidecar = await startSidecar('frontend', { records: 0 });
  const backend = await spawnBackend({
    SERVICES: JSON.stringify([
      { name: 'frontend', healthUrl: `${sidecar.url}/health`, sidecarUrl: sidecar.url },
    ]),
    ANOMALY_POLL_MS: '100',
    HEALTH_INTERVAL_MS: '1000',
  });
  try {
    for (let i = 0; i < 20; i++) await (await fetch(`${backend.url}/api/services`)).arrayBuffer();
    const baselineMiB = backend.rssMiB();
    const stalled = await openStalledReaders(backend.url, readers, {
      headers: (i) => ({ 'x-console-identity': `reader-${i}` }),
    });
    // Without streams the feed reads nothing; the rounds then come at the pace they do with streams.
    const burst = await burstAndMeasure({
      backend,
      sidecar,
      service: 'frontend',
      ...(readers === 0 ? { roundMs: 250 } : {}),
    });
    const closedByServer = stalled.closedByServer();
    stalled.close();
    // Memory after they go: the lowest RSS within 20 s (V8 returns pages on its own schedule).
    let afterMiB = backend.rssMiB();
    await waitFor('RSS back near the baseline', 20_000, () => {
      afterMiB = Math.min(afterMiB, backend.rssMiB());
      return afterMiB < baselineMiB + 8;
    }).catch(() => undefined);
    return {
      held: stalled.held,
      refused: Object.values(stalled.refused).reduce((a, b) => a + b, 0),
      baselineMiB,
      peakMiB: burst.peakMiB,
      afterMiB,
      p50Ms: percentile(burst.latencies, 50),
      p99Ms: percentile(burst.latencies, 99),
      closedByServer,
    };
  } finally {
    await backend.close();
    await sidecar.close();
  }
}

const results: Record<string, Record<string, number>> = {};
for (const readers of LEVELS) {
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await once(readers);
    runs.push(run);
    process.stdout.write(`# ${readers} readers, run ${i + 1}: ${JSON.stringify(run)}\n`);
  }
  const med = (pick: (r: Run) => number) => round(median(runs.map(pick)));
  results[String(readers)] = {
    subscribersHeld: med((r) => r.held),
    refused: med((r) => r.refused),
    baselineRssMiB: med((r) => r.baselineMiB),
    peakRssMiB: med((r) => r.peakMiB),
    rssAfterCloseMiB: med((r) => r.afterMiB),
    servicesP50Ms: med((r) => r.p50Ms),
    servicesP99Ms: med((r) => r.p99Ms),
    closedByServer: med((r) => r.closedByServer),
  };
}
const at800 = results['800']!;
console.log(
  JSON.stringify({
    bench: 'stream',
    runs: RUNS,
    burst: { rounds: 16, linesPerRound: 1000, anomalyPollMs: 100 },
    readers: results,
    goals: {
      peakRssUnder256MiB: at800.peakRssMiB! < 256,
      servicesP99Under500Ms: at800.servicesP99Ms! < 500,
    },
  }),
);
