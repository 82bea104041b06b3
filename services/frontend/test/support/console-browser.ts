import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AnomalyRecord } from '../../../../contracts/anomaly.ts';
import type { LocalDeploymentsState, LocalProcessesState } from '../../../../contracts/console-ops.ts';
import { CHROMIUM, chromiumAvailable, launchChromium } from '../../../../test/support/browser.ts';
import { type ConsoleStack, startConsoleStack } from './console-stack.ts';

/**
 * What the console's browser tests share: Debian's Chromium driven by playwright-core (a fresh,
 * temporary profile per launch) against the console stack. Without Chromium the tests are skipped,
 * loudly; REQUIRE_BROWSER=1 (CI) turns the skip into a failure.
 */
export { CHROMIUM };
export const available = chromiumAvailable;
const required = process.env.REQUIRE_BROWSER === '1';
/** The `skip` option of every browser test. */
export const skip = !available && !required ? `no Chromium at ${CHROMIUM}` : false;
/** Screenshots land here (test-results/ is gitignored). */
export const screenshots = new URL('../../../../test-results/console/', import.meta.url).pathname;

if (!available) {
  const banner = `\n${'!'.repeat(78)}\n!! console browser test SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n${'!'.repeat(78)}\n`;
  process.stderr.write(banner);
}

export interface ConsoleBrowser {
  readonly stack: ConsoleStack;
  readonly browser: Browser;
  /** Errors the pages logged (CSP violations included). */
  readonly problems: string[];
  /** A new page at `width` px, once the console says it is live. */
  open(width?: number): Promise<Page>;
  /** Replaces the deployments state file as the local runtime must: write beside it, then rename. */
  writeDeployments(state: LocalDeploymentsState): void;
  /** Replaces the supervisor's processes state file the same way. */
  writeProcesses(processes: LocalProcessesState['processes']): void;
}

/** Registers `before`/`after` hooks for the file and returns the shared handles. */
export function useConsoleBrowser(): ConsoleBrowser {
  let stack: ConsoleStack | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let stateDir = '';
  const problems: string[] = [];

  before(async () => {
    if (!available) return;
    stateDir = mkdtempSync(join(tmpdir(), 'console-state-'));
    // What the local runtime's supervisor writes: the capacity view lists these processes.
    writeFileSync(
      join(stateDir, 'processes.json'),
      JSON.stringify({
        updatedAt: new Date().toISOString(),
        processes: [
          { service: 'backend', role: 'app', pid: 4242, port: 18081, state: 'running', restarts: 1 },
          { service: 'backend', role: 'sidecar', pid: 4243, port: 19881, state: 'running', restarts: 0 },
          { service: 'frontend', role: 'app', pid: 4244, port: 18080, state: 'restarting', restarts: 3 },
        ],
      }),
    );
    stack = await startConsoleStack({
      deploymentsStateFile: join(stateDir, 'deployments.json'),
      processesStateFile: join(stateDir, 'processes.json'),
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    mkdirSync(screenshots, { recursive: true });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  return {
    get stack() {
      return stack!;
    },
    get browser() {
      return browser!;
    },
    problems,
    async open(width = 1280) {
      const page = await context!.newPage();
      await page.setViewportSize({ width, height: 900 });
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(stack!.url);
      await page.locator('.live-state[data-state="live"]').waitFor({ timeout: 10_000 });
      return page;
    },
    writeDeployments(state) {
      const file = join(stateDir, 'deployments.json');
      writeFileSync(`${file}.tmp`, JSON.stringify(state));
      renameSync(`${file}.tmp`, file);
    },
    writeProcesses(processes) {
      const file = join(stateDir, 'processes.json');
      writeFileSync(`${file}.tmp`, JSON.stringify({ updatedAt: new Date().toISOString(), processes }));
      renameSync(`${file}.tmp`, file);
    },
  };
}

let nextAnomaly = 0;

/** A fresh anomalous line of `service`, as a sidecar records it (a new id each). */
export function anomaly(service: string, line: string, extra: Partial<AnomalyRecord> = {}): AnomalyRecord {
  nextAnomaly += 1;
  return {
    id: `injected-${nextAnomaly}`,
    service,
    task: `task-${service}-2`,
    timestamp: new Date().toISOString(),
    score: 0.99,
    reasons: ['rare-template', 'severity:ERROR'],
    line,
    ...extra,
  };
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Console errors other than failed requests, which the tests provoke on purpose (a service down). */
export const unexpected = (problems: readonly string[]) =>
  problems.filter((p) => !/Failed to load resource/.test(p));
