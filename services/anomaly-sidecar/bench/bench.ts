import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { SIDECAR_INTAKE_TOKEN_HEADER } from '../../../contracts/sidecar.ts';
import { SIDECAR_NODE_FLAGS, SIDECAR_PROCESS_ENV } from '../contract.ts';
import { parsePrometheus } from '../src/prometheus.ts';
import { BENCH_INTAKE_TOKEN, chunkedBody, modelErrorOutage, startModelFront } from './fault-cases.ts';
import { cpuSeconds, dropped, p99Ms, sampleRss, scored } from './measure.ts';

/**
 * `npm run bench:sidecar`: the sidecar as it ships (the esbuild bundle of main.ts, SIDECAR_NODE_FLAGS and
 * SIDECAR_PROCESS_ENV) in its own process,
 * pinned to CPU 0; the real inference server (model/serve) and this driver pinned to CPU 1. Loopback only,
 * bounded in count and time (about 90 s).
 *
 * 1. Baseline: raw JSON.parse throughput of the very payloads sent (lines/s), in this process.
 * 2. Sustained: FireLens-shaped bodies (`format json`, 500 records) offered at RATE lines/s for RUN_SECONDS,
 *    RUNS times; scored lines/s measured from the sidecar's own counters, lines per CPU-second of the
 *    sidecar process (/proc), p99 intake-to-scored from its histogram, RSS sampled from /proc. Medians
 *    over the runs; lines per CPU-second also as a ratio to JSON.parse of the same bodies.
 * 2b. Ramp (issue 25): RAMP offered rates for RAMP_SECONDS each, below and past the sidecar's ceiling:
 *    scored lines/s, lines per CPU-second, bodies pushed back (503 + Retry-After), records dropped.
 * 3. Outage: the model process is killed for OUTAGE_SECONDS while the load continues; max RSS and
 *    drops are recorded; then it is restarted on the same port and the time until lines are scored
 *    again is measured.
 * 4. Faults (issue 14), on a second sidecar of the same bundle behind a front (fault-cases.ts): 1,000 lines
 *    while the model container fails (ModelError), calls and recovery; a chunked 200 MiB body, peak RSS.
 * Last line: one JSON object. QUICK=1 stops after 2 (about 40 s); tuning() lists the settings it passes on.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RATE = Number(process.env.RATE ?? 55_000);
const RUNS = Number(process.env.RUNS ?? 3);
const RUN_SECONDS = Number(process.env.RUN_SECONDS ?? 8);
const OUTAGE_SECONDS = Number(process.env.OUTAGE_SECONDS ?? 30);
const RAMP = (process.env.RAMP ?? '25000,50000,75000,100000,150000').split(',').map(Number);
const RAMP_SECONDS = Number(process.env.RAMP_SECONDS ?? 6);
const RECORDS_PER_BODY = 500;
const BODIES = 40;

const log = (msg: string) => process.stderr.write(`bench:sidecar ${msg}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

// --- payloads: realistic app lines, a few templates, ~0.5% errors -------------------------------
const TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/acme-cluster/8f03e41243824aea923aca126495f665';
function line(i: number): string {
  const t = new Date(1718000000000 + i).toISOString();
  switch (i % 8) {
    case 0:
      return `${t} INFO GET /api/services/${i % 97} 200 ${i % 40}ms request_id=${(i * 2654435761) % 4294967296}`;
    case 1:
      return `${t} INFO user ${i % 1000} signed in from 10.0.${i % 255}.${(i * 7) % 255}`;
    case 2:
      return `${t} DEBUG cache hit for key session:${i % 5000} ttl=${i % 300}s`;
    case 3:
      return `{"level":"info","msg":"request served","path":"/api/items/${i % 311}","status":200,"ms":${i % 90}}`;
    case 4:
      return `${t} INFO POST /api/orders 201 ${i % 70}ms bytes=${(i * 13) % 9000}`;
    case 5:
      return `${t} WARN slow query on table orders took ${200 + (i % 800)}ms`;
    case 6:
      return i % 200 === 6
        ? `${t} ERROR upstream connection refused by 10.0.3.17:8081 after ${i % 5} retries`
        : `${t} INFO health check ok in ${i % 5}ms`;
    default:
      return `${t} INFO worker ${i % 16} processed batch ${i} of ${i % 64} items`;
  }
}
const bodies: string[] = [];
for (let b = 0; b < BODIES; b++) {
  const records = [];
  for (let r = 0; r < RECORDS_PER_BODY; r++) {
    const i = b * RECORDS_PER_BODY + r;
    records.push({
      date: 1718000000 + i / 1000,
      log: line(i),
      source: 'stdout',
      container_name: 'app',
      ecs_cluster: 'acme-cluster',
      ecs_task_arn: TASK,
      ecs_task_definition: 'acme-app:7',
      container_id: '8f03e41243824aea923aca126495f665-2531612879',
    });
  }
  bodies.push(JSON.stringify(records));
}
const bytesPerLine = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0) / (BODIES * RECORDS_PER_BODY);

function jsonParseLinesPerSecond(): number {
  const rates: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    let lines = 0;
    while (performance.now() - started < 400) {
      for (const body of bodies) lines += (JSON.parse(body) as unknown[]).length;
    }
    rates.push(lines / ((performance.now() - started) / 1000));
  }
  return median(rates);
}

/**
 * Sidecar settings the benchmark passes through when set, over the image's (to compare bounds and
 * malloc's thresholds); SIDECAR_EXTRA_FLAGS adds V8 flags after the image's (space-separated).
 */
function tuning(): Record<string, string> {
  const keys = [
    'QUEUE_MAX_RECORDS',
    'QUEUE_MAX_BYTES',
    'INTAKE_MAX_BUFFERED_BYTES',
    'MALLOC_MMAP_THRESHOLD_',
    'MALLOC_TRIM_THRESHOLD_',
  ];
  return Object.fromEntries(keys.filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));
}
const EXTRA_FLAGS = (process.env.SIDECAR_EXTRA_FLAGS ?? '').split(' ').filter(Boolean);
/** QUICK=1: the sustained runs only (no ramp, outage or faults); last line their medians. */
const QUICK = process.env.QUICK === '1';

// --- processes -----------------------------------------------------------------------------------
const children: ChildProcess[] = [];
function startProcess(cpu: number, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn('taskset', ['-c', String(cpu), process.execPath, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', AWS_EC2_METADATA_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}
async function firstJsonLine(child: ChildProcess, stream: 'stdout' | 'stderr', key: string) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`no '${key}' line within 30 s: ${buffer}`)), 30_000);
    child[stream]!.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (const l of buffer.split('\n')) {
        if (!l.startsWith('{')) continue;
        const parsed = JSON.parse(l) as Record<string, unknown>;
        if (key in parsed || parsed.msg === key) {
          clearTimeout(timer);
          resolve(parsed);
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before '${key}': ${buffer}`)));
  });
}
async function startModel(port = 0): Promise<{ child: ChildProcess; url: string }> {
  const child = startProcess(1, ['--import', 'tsx', 'services/anomaly-sidecar/bench/model-process.ts'], {
    PORT: String(port),
  });
  child.stderr!.resume();
  const ready = await firstJsonLine(child, 'stdout', 'url');
  return { child, url: ready.url as string };
}

// --- driver --------------------------------------------------------------------------------------
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
let port = 0;
let postErrors = 0;
/** Bodies the sidecar pushed back (503 with Retry-After): its answer to more than it can score. */
let pushedBack = 0;
function post(body: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/logs',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          [SIDECAR_INTAKE_TOKEN_HEADER]: BENCH_INTAKE_TOKEN,
        },
      },
      (res) => {
        if (res.statusCode === 503 && res.headers['retry-after']) pushedBack += 1;
        else if (res.statusCode !== 202) postErrors += 1;
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', () => {
      postErrors += 1;
      resolve();
    });
    req.end(body);
  });
}
/** Offers `rate` lines/s in 20 ms ticks until `stop()`; at most 16 bodies in flight (the rest is not sent and counted). */
function drive(rate: number): { stop: () => Promise<void>; skipped: () => number } {
  let running = true;
  let next = 0;
  let inFlight = 0;
  let skipped = 0;
  let owed = 0;
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    if (!running) return;
    owed += (rate * 20) / 1000;
    while (owed >= RECORDS_PER_BODY) {
      owed -= RECORDS_PER_BODY;
      if (inFlight >= 16) {
        skipped += RECORDS_PER_BODY;
        continue;
      }
      inFlight += 1;
      const p = post(bodies[next++ % BODIES]!).finally(() => {
        inFlight -= 1;
        pending.delete(p);
      });
      pending.add(p);
    }
  }, 20);
  return {
    skipped: () => skipped,
    stop: async () => {
      running = false;
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

async function metrics(): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return parsePrometheus(await res.text());
}
async function main(): Promise<void> {
  log(
    `payloads: ${BODIES} bodies x ${RECORDS_PER_BODY} FireLens records, ${bytesPerLine.toFixed(0)} bytes/line`,
  );
  const jsonParse = jsonParseLinesPerSecond();
  log(`baseline JSON.parse: ${Math.round(jsonParse)} lines/s`);

  const outfile = `${ROOT}services/anomaly-sidecar/.local/sidecar.mjs`;
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['services/anomaly-sidecar/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });

  let model = await startModel();
  const modelPort = Number(new URL(model.url).port);
  const sidecar = startProcess(0, [...SIDECAR_NODE_FLAGS, ...EXTRA_FLAGS, outfile], {
    PORT: '0',
    SERVICE_NAME: 'bench',
    INTAKE_TOKEN: BENCH_INTAKE_TOKEN,
    CLUSTER_NAME: 'bench',
    ENDPOINT_NAME: 'log-anomaly',
    ENDPOINT_URL: model.url,
    AWS_REGION: 'local',
    ...SIDECAR_PROCESS_ENV,
    ...tuning(),
  });
  sidecar.stdout!.resume();
  port = (await firstJsonLine(sidecar, 'stderr', 'listening')).port as number;
  sidecar.stderr!.resume();
  const pid = sidecar.pid!;
  log(`sidecar pid ${pid} on 127.0.0.1:${port} (CPU 0), model ${model.url} (CPU 1)`);

  // Warm-up.
  const warm = drive(RATE / 2);
  await sleep(2000);
  await warm.stop();
  await sleep(1500);

  const runs: {
    linesPerSecond: number;
    linesPerCpuSecond: number;
    p99Ms: number;
    rssMiB: number;
    dropped: number;
    skipped: number;
  }[] = [];
  for (let run = 0; run < RUNS; run++) {
    const before = await metrics();
    const rss = sampleRss(pid);
    const cpuBefore = cpuSeconds(pid);
    const started = performance.now();
    const driver = drive(RATE);
    await sleep(RUN_SECONDS * 1000);
    await driver.stop();
    // Lines scored within the window plus the tail still in the queue when the load stopped.
    const deadline = Date.now() + 5000;
    let after = await metrics();
    while (
      Date.now() < deadline &&
      (after.get('sidecar_queue_depth') ?? 0) + (after.get('sidecar_batches_in_flight') ?? 0) > 0
    ) {
      await sleep(20);
      after = await metrics();
    }
    const seconds = (performance.now() - started) / 1000;
    const scoredLines = scored(after) - scored(before);
    const result = {
      linesPerSecond: scoredLines / seconds,
      // The sidecar's own CPU per line: intake, queue, calls, publishing (the model is another process).
      linesPerCpuSecond: scoredLines / (cpuSeconds(pid) - cpuBefore),
      p99Ms: p99Ms(before, after),
      rssMiB: rss.stop(),
      dropped: dropped(after) - dropped(before),
      skipped: driver.skipped(),
    };
    runs.push(result);
    log(
      `run ${run + 1}: ${Math.round(result.linesPerSecond)} lines/s scored (offered ${RATE}), ${Math.round(result.linesPerCpuSecond)} lines per CPU-second, p99 ≤ ${result.p99Ms} ms, rss ${result.rssMiB.toFixed(1)} MiB, dropped ${result.dropped}, not sent ${result.skipped}`,
    );
    await sleep(500);
  }

  // The sustained runs' medians, which both the quick and the whole summary report.
  const sustained = {
    linesPerCpuSecond: median(runs.map((r) => r.linesPerCpuSecond)),
    rssMiB: median(runs.map((r) => r.rssMiB)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
  };
  if (QUICK) {
    console.log(
      JSON.stringify({
        quick: true,
        linesPerCpuSecond: Math.round(sustained.linesPerCpuSecond),
        linesPerCpuSecondRatio: round(sustained.linesPerCpuSecond / jsonParse, 3),
        jsonParseLinesPerSecond: Math.round(jsonParse),
        rssMiB: round(sustained.rssMiB),
        p99Ms: sustained.p99Ms,
        extraFlags: EXTRA_FLAGS,
        tuning: tuning(),
      }),
    );
    return;
  }
  // Ramp: offered rates below and above what one core scores; past it the sidecar pushes back (503)
  // instead of accepting and dropping, so what it scores stays at its ceiling.
  const ramp: {
    offered: number;
    scoredPerSecond: number;
    linesPerCpuSecond: number;
    pushedBackBodies: number;
    dropped: number;
    rssMiB: number;
  }[] = [];
  for (const offered of RAMP) {
    const before = await metrics();
    const cpuBefore = cpuSeconds(pid);
    const pushedBefore = pushedBack;
    const rss = sampleRss(pid);
    const started = performance.now();
    const driver = drive(offered);
    await sleep(RAMP_SECONDS * 1000);
    await driver.stop();
    const after = await metrics();
    const seconds = (performance.now() - started) / 1000;
    const step = {
      offered,
      scoredPerSecond: Math.round((scored(after) - scored(before)) / seconds),
      linesPerCpuSecond: Math.round((scored(after) - scored(before)) / (cpuSeconds(pid) - cpuBefore)),
      pushedBackBodies: pushedBack - pushedBefore,
      dropped: dropped(after) - dropped(before),
      rssMiB: round(rss.stop()),
    };
    ramp.push(step);
    log(`ramp ${JSON.stringify(step)}`);
    await sleep(1500);
  }

  // Outage: load continues while the endpoint is gone.
  log(`outage: killing the model for ${OUTAGE_SECONDS} s under ${RATE} lines/s`);
  const load = drive(RATE);
  await sleep(1000);
  const beforeOutage = await metrics();
  const outageRss = sampleRss(pid);
  model.child.kill('SIGKILL');
  await sleep(OUTAGE_SECONDS * 1000);
  const atRecovery = await metrics();
  const outageRssMiB = outageRss.stop();
  const droppedDuringOutage = dropped(atRecovery) - dropped(beforeOutage);
  model = await startModel(modelPort);
  const recovered = performance.now();
  let recoverySeconds = Number.POSITIVE_INFINITY;
  const scoredAtRecovery = scored(await metrics());
  while (performance.now() - recovered < 15_000) {
    if (scored(await metrics()) > scoredAtRecovery) {
      recoverySeconds = (performance.now() - recovered) / 1000;
      break;
    }
    await sleep(50);
  }
  await sleep(3000);
  const afterRecovery = await metrics();
  await load.stop();
  log(
    `outage: rss max ${outageRssMiB.toFixed(1)} MiB, dropped ${droppedDuringOutage} (${JSON.stringify(
      Object.fromEntries(
        [...atRecovery]
          .filter(([k]) => k.startsWith('sidecar_records_dropped_total'))
          .map(([k, v]) => [/reason="(\w+)"/.exec(k)![1], v - (beforeOutage.get(k) ?? 0)]),
      ),
    )}), breaker opened ${(atRecovery.get('sidecar_breaker_opened_total') ?? 0) - (beforeOutage.get('sidecar_breaker_opened_total') ?? 0)} times, recovery ${recoverySeconds.toFixed(2)} s, breaker state after ${afterRecovery.get('sidecar_breaker_state')}`,
  );

  sidecar.kill('SIGTERM');

  const front = await startModelFront(model.url);
  const faulty = startProcess(0, [...SIDECAR_NODE_FLAGS, outfile], {
    PORT: '0',
    SERVICE_NAME: 'bench',
    INTAKE_TOKEN: BENCH_INTAKE_TOKEN,
    ENDPOINT_NAME: 'log-anomaly',
    ENDPOINT_URL: front.url,
    AWS_REGION: 'local',
    ...SIDECAR_PROCESS_ENV,
  });
  faulty.stdout!.resume();
  const faultyPort = (await firstJsonLine(faulty, 'stderr', 'listening')).port as number;
  faulty.stderr!.resume();
  const modelError = await modelErrorOutage(faultyPort, front, bodies);
  log(
    `ModelError: ${modelError.callsPer1000Lines} endpoint calls for 1,000 lines, ${modelError.droppedAsRejected} counted as rejected, recovery ${modelError.recoverySeconds.toFixed(2)} s`,
  );
  const chunked = await chunkedBody(faultyPort, faulty.pid!);
  log(`chunked 200 MiB body: ${chunked.status}, peak rss ${chunked.peakRssMiB.toFixed(1)} MiB`);
  faulty.kill('SIGTERM');
  await front.close();
  model.child.kill('SIGTERM');
  agent.destroy();
  const linesPerSecond = median(runs.map((r) => r.linesPerSecond));
  const summary = {
    linesPerSecond: Math.round(linesPerSecond),
    linesPerCpuSecond: Math.round(sustained.linesPerCpuSecond),
    linesPerCpuSecondRatio: round(sustained.linesPerCpuSecond / jsonParse, 3),
    offeredLinesPerSecond: RATE,
    ramp,
    jsonParseLinesPerSecond: Math.round(jsonParse),
    jsonParseRatio: round(linesPerSecond / jsonParse, 3),
    p99Ms: sustained.p99Ms,
    rssMiB: round(sustained.rssMiB),
    droppedAtRate: median(runs.map((r) => r.dropped)),
    outageSeconds: OUTAGE_SECONDS,
    outageRssMiB: round(outageRssMiB),
    droppedDuringOutage,
    recoverySeconds: round(recoverySeconds, 2),
    modelErrorCallsPer1000Lines: modelError.callsPer1000Lines,
    modelErrorRecoverySeconds: round(modelError.recoverySeconds, 2),
    modelErrorDroppedAsRejected: modelError.droppedAsRejected,
    chunkedBodyStatus: chunked.status,
    chunkedBodyPeakRssMiB: round(chunked.peakRssMiB),
    bytesPerLine: Math.round(bytesPerLine),
    runs: RUNS,
    runSeconds: RUN_SECONDS,
    postErrors,
    pushedBackBodies: pushedBack,
    goals: {
      linesPerSecond: linesPerSecond >= 50_000,
      linesPerCpuSecond: sustained.linesPerCpuSecond >= 100_000,
      linesPerCpuSecondRatio: sustained.linesPerCpuSecond / jsonParse >= 0.05,
      rssMiB: sustained.rssMiB <= 80,
      outageRssMiB: outageRssMiB <= 90,
      recoverySeconds: recoverySeconds <= 5,
      modelErrorCallsPer1000Lines: modelError.callsPer1000Lines <= 60,
      modelErrorRecoverySeconds: modelError.recoverySeconds <= 5,
      chunkedBodyPeakRssMiB: chunked.peakRssMiB <= 128,
    },
  };
  console.log(JSON.stringify(summary));
}

try {
  await main();
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}
