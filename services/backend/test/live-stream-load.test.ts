import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '../../../test/support/wait-for.ts';
import {
  type BackendProcess,
  burstAndMeasure,
  openStalledReaders,
  percentile,
  type StalledReaders,
  spawnBackend,
} from './support/stream-load.ts';
import { type RunningServer, startSidecar } from './support/upstream-servers.ts';

/**
 * The live stream under abuse, against the real backend process (its RSS is what the task's 512 MiB
 * limit sees): 800 readers that stop reading plus a 16k-line burst. The bounds are the issue's, with
 * room for a loaded two-core machine; the precise figures are `npm run bench:stream`'s.
 */

const READERS = 800;
const RSS_LIMIT_MIB = 256;
/**
 * The bound on an idle machine; on a loaded one (the suite runs beside other CPU-bound jobs)
 * three times the p99 of the same calls to a control backend without streams, made at the same
 * moment. Before the bound, one burst held the calls for seconds.
 */
const P99_LIMIT_MS = 500;
/** After every reader has gone, RSS returns to within this of the baseline. */
const RETURN_MARGIN_MIB = 64;

const running: (RunningServer | BackendProcess)[] = [];
let readers: StalledReaders | undefined;
after(async () => {
  readers?.close();
  await Promise.all(running.map((r) => r.close()));
});

test(`${READERS} stalled stream readers plus a 16k-line burst: RSS < ${RSS_LIMIT_MIB} MiB, /api/services p99 < ${P99_LIMIT_MS} ms, memory returned`, {
  timeout: 180_000,
}, async () => {
  const sidecar = await startSidecar('frontend', { records: 0 });
  running.push(sidecar);
  const env = {
    SERVICES: JSON.stringify([
      { name: 'frontend', healthUrl: `${sidecar.url}/health`, sidecarUrl: sidecar.url },
    ]),
    ANOMALY_POLL_MS: '100',
    HEALTH_INTERVAL_MS: '1000',
  };
  const [backend, control] = await Promise.all([spawnBackend(env), spawnBackend(env)]);
  running.push(backend, control);
  const baseline = backend.rssMiB();

  readers = await openStalledReaders(backend.url, READERS, {
    headers: (i) => ({ 'x-console-identity': `reader-${i}` }),
  });
  assert.equal(readers.held, READERS, `streams held: ${JSON.stringify(readers.refused)}`);

  const burst = await burstAndMeasure({
    backend,
    control,
    sidecar,
    service: 'frontend',
    stopAboveMiB: RSS_LIMIT_MIB,
  });
  const peak = burst.peakMiB;
  const p99 = percentile(burst.latencies, 99);
  const controlP99 = percentile(burst.controlLatencies, 99);
  const latencyLimit = Math.max(P99_LIMIT_MS, 3 * controlP99);

  process.stdout.write(
    `# ${READERS} stalled readers: baseline ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB, /api/services p99 ${p99.toFixed(0)} ms (control backend ${controlP99.toFixed(0)} ms), closed by the server ${readers.closedByServer()}\n`,
  );
  assert.ok(peak < RSS_LIMIT_MIB, `peak RSS ${peak.toFixed(0)} MiB (baseline ${baseline.toFixed(0)} MiB)`);
  assert.ok(
    p99 < latencyLimit,
    `/api/services p99 ${p99.toFixed(0)} ms (limit ${latencyLimit.toFixed(0)} ms)`,
  );

  readers.close();
  readers = undefined;
  await waitFor(
    `RSS back within ${RETURN_MARGIN_MIB} MiB of the ${baseline.toFixed(0)} MiB baseline after the readers closed`,
    60_000,
    () => backend.rssMiB() < baseline + RETURN_MARGIN_MIB,
  );
});
