/**
 * `npm run bench:web`: console bundle sizes (gzip, brotli), backend throughput and p99 at 50
 * connections (autocannon against 127.0.0.1, bounded duration, median of runs, ratio to /healthz of
 * the same process as baseline), first paint of the console in Debian's Chromium when present, and
 * image sizes over their base when `npm run images:verify` has run. Last line: one JSON object.
 *
 * The backend runs as its production bundle in a child process, its sidecars and model endpoint in
 * another, so autocannon does not share an event loop with what it measures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { CHROMIUM, chromiumAvailable, launchChromium } from '../../../test/support/browser.ts';

const root = new URL('../../..', import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function bundleSizes(outDir: string) {
  const { build } = await import('vite');
  await build({
    configFile: join(root, 'services/frontend/vite.config.ts'),
    build: { outDir, emptyOutDir: true },
    logLevel: 'warn',
  });
  const files = readdirSync(join(outDir, 'assets'));
  const sum = (ext: string, f: (b: Buffer) => number) =>
    files.filter((n) => n.endsWith(ext)).reduce((s, n) => s + f(readFileSync(join(outDir, 'assets', n))), 0);
  return {
    jsBytes: sum('.js', (b) => b.byteLength),
    jsGzipBytes: sum('.js', (b) => gzipSync(b, { level: 9 }).byteLength),
    jsBrotliBytes: sum('.js', (b) => brotliCompressSync(b).byteLength),
    cssBytes: sum('.css', (b) => b.byteLength),
    cssGzipBytes: sum('.css', (b) => gzipSync(b, { level: 9 }).byteLength),
  };
}

function startChild(
  args: string[],
  env: Record<string, string>,
  readyPattern: RegExp,
): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => readyPattern.test(l));
      if (line) resolve({ child, line });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code} before it was ready`)));
  });
}

async function load(url: string, init: { method?: string; body?: string } = {}) {
  const rps: number[] = [];
  const p99: number[] = [];
  let errors = 0;
  let non2xx = 0;
  for (let i = 0; i < RUNS; i += 1) {
    const result = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: SECONDS,
      method: (init.method ?? 'GET') as 'GET',
      ...(init.body ? { body: init.body, headers: { 'content-type': 'application/json' } } : {}),
    });
    rps.push(result.requests.average);
    p99.push(result.latency.p99);
    errors += result.errors + result.timeouts;
    non2xx += result.non2xx;
  }
  return { requestsPerSecond: Math.round(median(rps)), p99Ms: median(p99), errors, non2xx };
}

async function firstPaint(url: string) {
  if (!chromiumAvailable) return { skipped: `no Chromium at ${CHROMIUM}` };
  const browser = await launchChromium();
  try {
    const samples: { fcp: number; load: number }[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(url, { waitUntil: 'load' });
      await page.locator('.services .service').first().waitFor();
      samples.push(
        await page.evaluate(() => {
          const paint = performance.getEntriesByName('first-contentful-paint')[0];
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
          return { fcp: paint?.startTime ?? -1, load: nav.loadEventEnd };
        }),
      );
      await context.close();
    }
    return {
      firstContentfulPaintMs: Math.round(median(samples.map((s) => s.fcp))),
      loadEventMs: Math.round(median(samples.map((s) => s.load))),
    };
  } finally {
    await browser.close();
  }
}

function imageSizes() {
  const file = join(root, '.local/images/verify.json');
  if (!existsSync(file)) return { skipped: 'run npm run images:verify first' };
  const verify = JSON.parse(readFileSync(file, 'utf8')) as {
    images: { image: string; ok: boolean; overBaseBytes?: number }[];
  };
  return Object.fromEntries(verify.images.map((i) => [i.image, i.ok ? i.overBaseBytes : 'failed']));
}

const children: ChildProcess[] = [];
const outDir = mkdtempSync(join(tmpdir(), 'bench-web-'));
try {
  const bundle = await bundleSizes(join(outDir, 'public'));
  await new Promise<void>((resolve, reject) => {
    const b = spawn(process.execPath, ['scripts/images/bundle.mjs', 'backend', 'frontend'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    b.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bundle exited ${code}`))));
  });
  const upstreams = await startChild(
    ['--import', 'tsx', 'services/frontend/bench/upstreams.ts'],
    {},
    /^upstreams /,
  );
  children.push(upstreams.child);
  const { sidecars, model } = JSON.parse(upstreams.line.slice('upstreams '.length)) as {
    sidecars: Record<string, string>;
    model: string;
  };
  const services = Object.entries(sidecars).map(([name, url]) => ({
    name,
    healthUrl: `${url}/health`,
    sidecarUrl: url,
  }));
  const backend = await startChild(
    ['services/backend/dist/server.mjs'],
    {
      PORT: '0',
      HOST: '127.0.0.1',
      SERVICES: JSON.stringify(services),
      MODEL_ENDPOINT_NAME: 'log-anomaly',
      MODEL_ENDPOINT_URL: model,
    },
    /"msg":"listening"/,
  );
  children.push(backend.child);
  // The request log goes to stdout; drain it so the pipe never blocks the backend.
  backend.child.stdout!.resume();
  const backendUrl = `http://127.0.0.1:${(JSON.parse(backend.line) as { port: number }).port}`;

  const healthz = await load(`${backendUrl}/healthz`);
  const anomalies = await load(`${backendUrl}/api/anomalies?limit=50`);
  const predict = await load(`${backendUrl}/api/predict`, {
    method: 'POST',
    body: JSON.stringify({ logs: [{ timestamp: 1768478400000, message: 'ERROR connection reset by peer' }] }),
  });

  const frontend = await startChild(
    ['services/frontend/dist/server.mjs'],
    { PORT: '0', HOST: '127.0.0.1', BACKEND_URL: backendUrl },
    /"msg":"listening"/,
  );
  children.push(frontend.child);
  frontend.child.stdout!.resume();
  const paint = await firstPaint(`http://127.0.0.1:${(JSON.parse(frontend.line) as { port: number }).port}/`);

  const result = {
    bench: 'web',
    runs: RUNS,
    secondsPerRun: SECONDS,
    connections: CONNECTIONS,
    console: { ...bundle, goalJsGzipBytes: 50 * 1024, withinGoal: bundle.jsGzipBytes <= 50 * 1024 },
    backend: {
      healthz,
      anomalies: {
        ...anomalies,
        ratioToHealthz: Math.round((anomalies.requestsPerSecond / healthz.requestsPerSecond) * 1000) / 1000,
      },
      predict: {
        ...predict,
        ratioToHealthz: Math.round((predict.requestsPerSecond / healthz.requestsPerSecond) * 1000) / 1000,
      },
    },
    consolePaint: paint,
    lighthouse:
      'not run: not installed, and its npm package pulls a large dependency tree; first paint in Chromium is reported instead',
    imageOverBaseBytes: imageSizes(),
  };
  console.log(JSON.stringify(result));
} finally {
  for (const child of children) child.kill('SIGTERM');
  rmSync(outDir, { recursive: true, force: true });
}
