import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, chromiumAvailable, launchChromium } from '../../../test/support/browser.ts';
import { ROOT, type SpawnedPlatform, spawnPlatform } from '../../../test/support/platform.ts';

/**
 * A team's own platform (fixtures/team-console.declaration.ts: a Python storefront, a Node orders API,
 * a worker and two scheduled jobs, no frontend or backend of this repository) plus one
 * `new OperationsConsole(platform, 'console', { path: '/console' })`, run by `start` as a team runs it,
 * and its console opened in a real browser (Debian's Chromium). Every wait is on a condition.
 */

const DECLARATION = join(ROOT, 'platform/local/test/fixtures/team-console.declaration.ts');
const required = process.env.REQUIRE_BROWSER === '1';
const skip = !chromiumAvailable && !required ? `no Chromium at ${CHROMIUM}` : false;
const screenshots = join(ROOT, 'test-results', 'console');

describe("a team's platform with the operations console, in a browser", { skip, timeout: 240_000 }, () => {
  let platform: SpawnedPlatform;
  let browser: Browser;
  let page: Page;

  before(async () => {
    assert.ok(chromiumAvailable, `REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM}`);
    platform = await spawnPlatform({
      env: { PLATFORM_DECLARATION: DECLARATION },
      args: ['--now', 'nightly-report', '--now', 'warehouse-sync'],
      readyWithinMs: 150_000,
    });
    browser = await launchChromium();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it("keeps the ALB's default route for the team's storefront", async () => {
    const answer = await fetch(`${platform.urls.web}/`);
    assert.equal(answer.status, 200);
    assert.equal(((await answer.json()) as { service: string }).service, 'pyapi');
  });

  it("shows the team's services and its worker, healthy, under /console", async () => {
    await page.goto(`${platform.urls.web}/console/`);
    const cards = page.locator('.services .service');
    await page
      .locator('.services .service[data-health="up"]', { hasText: 'orders' })
      .waitFor({ timeout: 60_000 });
    await page
      .locator('.services .service[data-health="up"]', { hasText: 'storefront' })
      .waitFor({ timeout: 60_000 });
    await page
      .locator('.services .service[data-health="up"]', { hasText: 'mailer' })
      .waitFor({ timeout: 60_000 });
    const names = await cards.locator('.name').allTextContents();
    assert.deepEqual(
      [...names].sort(),
      ['console', 'console-api', 'mailer', 'orders', 'storefront'],
      `cards: ${names.join(', ')}`,
    );
    assert.equal(await cards.filter({ hasText: 'mailer' }).locator('.kind').textContent(), 'worker');
  });

  it("lists each job's runs: exit code, duration, scored and anomalous lines, the failed run failed", async () => {
    const failed = page.locator('.job-runs tr[data-job="warehouse-sync"][data-status="failed"]');
    const succeeded = page.locator('.job-runs tr[data-job="nightly-report"][data-status="succeeded"]');
    await failed.waitFor({ timeout: 90_000 });
    await succeeded.waitFor({ timeout: 90_000 });
    assert.equal(await failed.locator('.exit').textContent(), 'exit 3');
    assert.equal(await succeeded.locator('.exit').textContent(), 'exit 0');
    assert.match((await succeeded.locator('.duration').textContent()) ?? '', /^\d+(\.\d)? s$/);
    // Its lines as the run's sidecar counted them; each anomalous line the model flagged is listed.
    const lines = (await failed.locator('.lines').textContent()) ?? '';
    const counted = /^([1-9]\d*) scored · (\d+) anomalous$/.exec(lines);
    assert.ok(counted, `lines: ${lines}`);
    assert.equal(await failed.locator('.anomalies li').count(), Math.min(Number(counted[2]), 20));
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: join(screenshots, 'team-console.png'), fullPage: true });
  });
});
