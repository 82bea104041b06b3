import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/**
 * The one browser of the tests and benchmarks: Debian's Chromium (`CHROMIUM_PATH` to use another),
 * driven by playwright-core, headless, with a fresh temporary profile per launch.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);

/** Headless, with nothing running in the background that could skew a measurement. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * Launches the browser; close it when done.
 *
 * @example
 * const browser = await launchChromium();
 * try { const page = await browser.newPage(); … } finally { await browser.close(); }
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}
