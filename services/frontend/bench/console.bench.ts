/**
 * `npm run bench:console`: Lighthouse performance and accessibility of the console (median of
 * BENCH_RUNS, default 5, mobile emulation, Debian's Chromium), and how long an anomaly recorded by a
 * sidecar takes to appear on an open page (median of 5). Last line: one JSON object.
 *
 * The console runs as in the browser test (test/support/console-stack.ts): a fresh vite build behind
 * the real frontend server, the real backend with its local adapters and live feed, sidecar-shaped
 * servers and the real inference server. With CONSOLE_URL set it measures a running platform instead
 * (`npm start`): the anomalies are then real ones, from `POST /api/faults/burst` through the log
 * router, the sidecar and the model. Run it alone: `flock /tmp/heavy.lock npm run bench:console`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { CHROMIUM, CHROMIUM_FLAGS, launchChromium } from '../../../test/support/browser.ts';
import { startConsoleStack } from '../test/support/console-stack.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// The backend's production defaults (services/backend/main.ts), not the test's faster polling.
const ANOMALY_POLL_MS = 500;
const target = process.env.CONSOLE_URL;
const stack = target
  ? undefined
  : await startConsoleStack({ anomalyPollMs: ANOMALY_POLL_MS, healthIntervalMs: 5000 });
const url = target ?? stack!.url;

/** Makes one new anomalous line exist; returns when it was asked for. */
async function injectAnomaly(i: number): Promise<number> {
  const started = Date.now();
  if (stack) {
    stack.sidecars.frontend.record({
      id: `bench-${i}`,
      service: 'frontend',
      task: 'bench',
      timestamp: new Date(started).toISOString(),
      score: 0.99,
      line: `ERROR bench injected ${i}`,
    });
  } else {
    const response = await fetch(`${url}/api/faults/burst`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 5 }),
    });
    if (!response.ok) throw new Error(`burst: HTTP ${response.status} (is the fault switch enabled?)`);
  }
  return started;
}
const results: {
  performance: number;
  accessibility: number;
  fcpMs: number;
  lcpMs: number;
  cls: number;
  tbtMs: number;
}[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
    // A fresh profile each run, so no run profits from the previous one's cache.
    const profile = mkdtempSync(join(tmpdir(), 'console-lighthouse-'));
    const chrome = await chromeLauncher.launch({
      chromePath: CHROMIUM,
      chromeFlags: CHROMIUM_FLAGS,
      userDataDir: profile,
    });
    try {
      const result = await lighthouse(url, {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance', 'accessibility'],
      });
      const lhr = result!.lhr;
      const audit = (id: string) => lhr.audits[id]?.numericValue ?? Number.NaN;
      results.push({
        performance: lhr.categories.performance?.score ?? 0,
        accessibility: lhr.categories.accessibility?.score ?? 0,
        fcpMs: Math.round(audit('first-contentful-paint')),
        lcpMs: Math.round(audit('largest-contentful-paint')),
        cls: Math.round(audit('cumulative-layout-shift') * 1000) / 1000,
        tbtMs: Math.round(audit('total-blocking-time')),
      });
      const failed = Object.values(lhr.audits)
        .filter((a) => lhr.categories.accessibility?.auditRefs.some((r) => r.id === a.id) && a.score === 0)
        .map((a) => a.id);
      process.stdout.write(
        `run ${i + 1}: ${JSON.stringify(results.at(-1))}${failed.length ? ` a11y failed: ${failed.join(',')}` : ''}\n`,
      );
    } finally {
      await chrome.kill();
      rmSync(profile, { recursive: true, force: true });
    }
  }

  // Anomaly → on screen, in the same browser build the test uses.
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(url);
  await page.locator('.live-state[data-state="live"]').waitFor({ timeout: 10_000 });
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const started = await injectAnomaly(i);
    // A row whose record is at least as new as the injection: the same machine's clock on both sides.
    await page.waitForFunction(
      (since) =>
        [...document.querySelectorAll<HTMLTimeElement>('table.anomalies tr.anomaly time')].some(
          (t) => Date.parse(t.dateTime) >= since - 5,
        ),
      started,
      { timeout: 15_000, polling: 20 },
    );
    latencies.push(Date.now() - started);
  }
  await browser.close();

  const pick = (key: keyof (typeof results)[number]) => median(results.map((r) => r[key]));
  const summary = {
    bench: 'console',
    runs: RUNS,
    target: target ? 'running platform (CONSOLE_URL)' : 'in-process console stack',
    lighthouse: {
      performance: pick('performance'),
      accessibility: pick('accessibility'),
      performanceRuns: results.map((r) => r.performance),
      accessibilityRuns: results.map((r) => r.accessibility),
      fcpMs: pick('fcpMs'),
      lcpMs: pick('lcpMs'),
      cls: pick('cls'),
      tbtMs: pick('tbtMs'),
    },
    goals: { performance: 0.95, accessibility: 0.95, anomalyToScreenMs: 2000 },
    anomalyToScreenMs: {
      median: median(latencies),
      runs: latencies,
      from: target
        ? 'POST /api/faults/burst (log router → sidecar → model → record)'
        : 'the sidecar recording it',
      ...(target ? {} : { backendPollMs: ANOMALY_POLL_MS }),
    },
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} finally {
  await stack?.close();
}
