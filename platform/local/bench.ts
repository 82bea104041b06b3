import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SpawnedPlatform, spawnPlatform } from '../../test/support/platform.ts';
import { processTree, rssBytes } from './process-tree.ts';

/**
 * `npm run bench:local`: start-to-ready time (warm, and with an empty tsx compile cache as right
 * after a fresh `npm ci`), RSS of the whole running platform, and fault-to-first-anomaly latency.
 * Baseline, measured in the same run: one `node --import tsx` process starting an HTTP server.
 * Prints one JSON object as its last line. RUNS (default 3) sets the repetitions.
 */

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const RUNS = Number(process.env.RUNS ?? 3);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** One `node --import tsx` process listening on a port: the floor of any child's start. */
async function baselineMs(): Promise<number> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      "import('node:http').then(h=>h.createServer().listen(0,'127.0.0.1',function(){console.log('up');this.close()}))",
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((r) => child.stdout!.once('data', () => r()));
  const ms = performance.now() - t0;
  await new Promise((r) => child.once('exit', r));
  return ms;
}

/** Sum of RSS over the supervisor and every descendant. */
function platformRssBytes(pid: number): { bytes: number; processes: number } {
  const tree = processTree(pid);
  return { bytes: tree.reduce((n, p) => n + rssBytes(p), 0), processes: tree.length };
}

/** Time from a fault burst on the backend to its first line being listed by the console API. */
async function faultToAnomalyMs(launched: SpawnedPlatform, marker: number): Promise<number> {
  const state = launched.state();
  const backend = state.processes.find((p) => p.label === 'backend')!;
  const since = Date.now();
  const t0 = performance.now();
  const burst = await fetch(`http://127.0.0.1:${backend.port}/api/faults/burst`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count: 5 + marker }),
  });
  if (!burst.ok) throw new Error(`burst: HTTP ${burst.status} ${await burst.text()}`);
  for (;;) {
    const r = await fetch(`${launched.urls.web}/api/anomalies?service=backend&limit=20`);
    if (r.ok) {
      const body = (await r.json()) as { records: Array<{ timestamp: string; line: string }> };
      if (
        body.records.some(
          (rec) => Date.parse(rec.timestamp) >= since - 1000 && rec.line.includes('unhandled error burst'),
        )
      ) {
        return performance.now() - t0;
      }
    }
    if (performance.now() - t0 > 30_000) throw new Error('no anomaly listed within 30 s of the burst');
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function main(): Promise<void> {
  const baselines: number[] = [];
  const warm: number[] = [];
  const rss: number[] = [];
  const faults: number[] = [];
  const stops: number[] = [];
  let processes = 0;

  // One throw-away start warms the compile cache and builds the console's assets if needed.
  await (await spawnPlatform()).stop();

  for (let i = 0; i < RUNS; i += 1) {
    baselines.push(await baselineMs());
    const launched = await spawnPlatform();
    warm.push(launched.readyMs);
    await new Promise((r) => setTimeout(r, 2000));
    const measured = platformRssBytes(launched.child.pid!);
    rss.push(measured.bytes);
    processes = measured.processes;
    faults.push(await faultToAnomalyMs(launched, i));
    stops.push(await launched.stop());
    console.error(
      `run ${i + 1}: ready ${warm.at(-1)!.toFixed(0)} ms, rss ${(rss.at(-1)! / 2 ** 20).toFixed(0)} MiB, fault→anomaly ${faults.at(-1)!.toFixed(0)} ms`,
    );
  }

  // "Right after npm ci": an empty tsx compile cache (TMPDIR → a fresh directory).
  const fresh = mkdtempSync(join(tmpdir(), 'local-bench-cold-'));
  let coldMs: number;
  try {
    const cold = await spawnPlatform({ env: { TMPDIR: fresh } });
    coldMs = cold.readyMs;
    await cold.stop();
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }

  const baseline = median(baselines);
  const result = {
    bench: 'local',
    runs: RUNS,
    readyWarmMsMedian: Math.round(median(warm)),
    readyWarmMs: warm.map(Math.round),
    readyColdCacheMs: Math.round(coldMs),
    goalReadyWarmMs: 10_000,
    baselineSingleProcessStartMs: Math.round(baseline),
    readyToBaselineRatio: Number((median(warm) / baseline).toFixed(2)),
    rssMiBMedian: Math.round(median(rss) / 2 ** 20),
    processes,
    faultToFirstAnomalyMsMedian: Math.round(median(faults)),
    faultToFirstAnomalyMs: faults.map(Math.round),
    goalFaultToAnomalyMs: 5000,
    stopMsMedian: Math.round(median(stops)),
  };
  console.log(JSON.stringify(result));
}

await main();
