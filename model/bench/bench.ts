import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { normalCorpus } from '../cli/corpus.ts';
import { DEFAULT_MODEL_DIR, loadModel } from '../core/model.ts';
import { parseLogLine } from '../features/parse.ts';

/**
 * `npm run bench:model`: featurisation throughput (with plain JSON.parse of the same lines as the
 * baseline measured in the same run) and /invocations latency for batches of 1, 100 and 1000 raw
 * lines over real HTTP on loopback. Medians over several runs; the last line is one JSON object.
 */
const RUNS = 5;
const LINES = 100_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const model = await loadModel(DEFAULT_MODEL_DIR);
// Unseen lines too (a tenth), so the new-template path is part of the measurement.
let lines = normalCorpus(LINES, 99).map((l, i) => (i % 10 === 0 ? `${l} unexpected variant ${i}` : l));
let jsonLines = lines.map((line) => JSON.stringify({ log: line, source: 'stdout' }));

function throughput(work: () => void): number {
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const t = performance.now();
    work();
    rates.push(LINES / ((performance.now() - t) / 1000));
  }
  return median(rates);
}

let sink = 0;
throughput(() => {
  for (const l of lines) sink += model.featurize(parseLogLine(l).message, undefined).rarity;
}); // warm-up
const featurizeLinesPerSecond = throughput(() => {
  for (const line of lines) {
    const parsed = parseLogLine(line);
    sink += model.featurize(parsed.message, parsed.level).rarity;
  }
});
const jsonParseLinesPerSecond = throughput(() => {
  for (const j of jsonLines) sink += (JSON.parse(j) as { log: string }).log.length;
});
const scoreLinesPerSecond = throughput(() => {
  for (const line of lines) sink += model.scoreEvent({ timestamp: 0, message: line }).score;
});

// The request bodies are built, then the 100k-line arrays released: the client's own major GCs over
// them would otherwise land in the server's latency figures.
const bodies = new Map(
  ([1, 100, 1000] as const).map((batch) => [
    batch,
    JSON.stringify({
      logs: lines.slice(0, batch).map((message, i) => ({ timestamp: 1714564800000 + i, message })),
    }),
  ]),
);
lines = [];
jsonLines = [];

/** p50 and p99 of `requests` POSTs of `body` to `url` (after 20 warm-up calls). */
async function latencyOf(url: string, body: string, requests: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < requests + 20; i++) {
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    if (i >= 20) times.push(performance.now() - t); // the first 20 warm up
  }
  return { p50: round(percentile(times, 0.5)), p99: round(percentile(times, 0.99)) };
}

/** A process that answers on loopback and prints `{"url"}` on its first stdout line. */
async function spawnServer(args: string[]): Promise<{ url: string; child: ReturnType<typeof spawn> }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [firstLine] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: (JSON.parse(firstLine.toString().split('\n')[0]!) as { url: string }).url, child };
}

// The server runs in its own process, as in production, so its RSS and latency are its own.
const server = await spawnServer(['--import', 'tsx', new URL('../serve/main.ts', import.meta.url).pathname]);
const child = server.child;
const latency: Record<string, { p50: number; p99: number }> = {};
for (const [batch, requests] of [
  [1, 400],
  [100, 300],
  [1000, 60],
] as const) {
  latency[batch] = await latencyOf(`${server.url}/invocations`, bodies.get(batch)!, requests);
}
const vmRss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
const rssMiB = vmRss ? round(Number(vmRss[1]) / 1024, 1) : -1;
child.kill('SIGTERM');
await once(child, 'exit');

// Baseline in the same run: a bare node:http server that reads the same 100-line body and answers a
// canned 100-prediction response, i.e. the loopback, fetch and scheduling noise of this machine now.
const canned = JSON.stringify(model.score(JSON.parse(bodies.get(100)!)));
const floor = await spawnServer([
  '-e',
  `const http = require('node:http'); const out = ${JSON.stringify(canned)};
   const s = http.createServer((q, r) => { const c = []; q.on('data', (d) => c.push(d)); q.on('end', () => {
     JSON.parse(Buffer.concat(c).toString()); r.writeHead(200, { 'content-type': 'application/json' }); r.end(out); }); });
   s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + s.address().port })));`,
]);
const floorLatency = await latencyOf(floor.url, bodies.get(100)!, 300);
floor.child.kill('SIGTERM');
await once(floor.child, 'exit');

const result = {
  lines: LINES,
  runs: RUNS,
  featurizeLinesPerSecond: Math.round(featurizeLinesPerSecond),
  jsonParseLinesPerSecond: Math.round(jsonParseLinesPerSecond),
  featurizeToJsonParseRatio: round(featurizeLinesPerSecond / jsonParseLinesPerSecond, 3),
  scoreLinesPerSecond: Math.round(scoreLinesPerSecond),
  p50Ms1: latency[1]!.p50,
  p99Ms1: latency[1]!.p99,
  p50Ms100: latency[100]!.p50,
  p99Ms100: latency[100]!.p99,
  p50Ms1000: latency[1000]!.p50,
  p99Ms1000: latency[1000]!.p99,
  floorP50Ms100: floorLatency.p50,
  floorP99Ms100: floorLatency.p99,
  // The model server's batch-100 latency over the bare server's in the same run: what scoring adds
  // beyond this machine's loopback, fetch and scheduling at that moment.
  p50ToFloorRatio100: round(latency[100]!.p50 / floorLatency.p50, 2),
  p99ToFloorRatio100: round(latency[100]!.p99 / floorLatency.p99, 2),
  rssMiB,
  goals: { featurizeLinesPerSecond: 200_000, p50Ms100: 2, p99Ms100: 10 },
  sink: sink > 0,
};
console.error('model bench: featurisation is parse + mask + template match + severity + content vector');
console.log(JSON.stringify(result));
