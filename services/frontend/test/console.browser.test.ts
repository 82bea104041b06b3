import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PredictionResponse } from '../../../contracts/prediction.ts';
import { startInferenceServer } from '../../../model/serve/index.ts';
import {
  anomaly,
  available,
  CHROMIUM,
  screenshots,
  skip,
  unexpected,
  useConsoleBrowser,
} from './support/console-browser.ts';

/**
 * The console's views in a real browser (Debian's Chromium, playwright-core) against real servers
 * (test/support/console-stack.ts); the live behaviour is in console-live.browser.test.ts. Screenshots
 * go to test-results/console/ (gitignored).
 */
const ui = useConsoleBrowser();

test('landing: services, a painted chart, compact rows, playground scores equal the model’s', {
  skip,
  timeout: 60_000,
}, async () => {
  assert.ok(available, `REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM}`);
  const page = await ui.open();
  assert.deepEqual(await page.locator('.services .service .name').allTextContents(), ['frontend', 'backend']);
  assert.equal(await page.locator('.services .dot.up').count(), 2);
  // Each card: the service's declared alert budget beside the alert rate of its last hour.
  await page.locator('.services .service .alerts').nth(1).waitFor();
  assert.deepEqual(await page.locator('.services .service .alerts').allTextContents(), [
    'alerts 1.16 % of 7,770 lines (60 min) · budget 0.1 %',
    'alerts 1.16 % of 7,770 lines (60 min) · budget 2 %',
  ]);
  assert.deepEqual(await page.locator('.services .alerts.over-budget').allTextContents(), [
    'alerts 1.16 % of 7,770 lines (60 min) · budget 0.1 %',
  ]);
  const chart = page.locator('.chart[data-service="frontend"][data-points="30"]');
  await chart.waitFor();
  const painted = await page.locator('.chart canvas').evaluate((canvas: HTMLCanvasElement) => {
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) count += 1;
    return count;
  });
  assert.ok(painted > 500, `the chart canvas looks empty (${painted} painted pixels)`);
  const first = page.locator('table.anomalies tr.anomaly').first();
  assert.equal(
    await first.locator('td.line').textContent(),
    'ERROR frontend request 1000 timed out after 3000 ms',
  );
  assert.equal(await first.locator('td.score').textContent(), '0.97');
  // Capacity, locally: the supervisor's processes and the app tasks they add up to.
  const capacity = page.locator('section[aria-labelledby="capacity-title"]');
  await capacity.locator('td', { hasText: 'pid 4242' }).waitFor();
  assert.deepEqual(await capacity.locator('.task-counts li').allTextContents(), [
    'frontend 0/1 running · 1 pending',
    'backend 1/1 running',
  ]);
  await page.screenshot({ path: join(screenshots, 'landing-1280.png'), fullPage: true });

  const lines = (await page.locator('textarea#lines').inputValue()).split('\n');
  await page.getByRole('button', { name: 'Score lines' }).click();
  await page.locator('table.predictions tbody tr').nth(2).waitFor();
  // The model mines templates online, so the reference is a fresh server seeing the lines first.
  const reference = await startInferenceServer({ port: 0 });
  const direct = (await (
    await fetch(`${reference.url}/endpoints/log-anomaly/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ logs: lines.map((message) => ({ timestamp: Date.now(), message })) }),
    })
  ).json()) as PredictionResponse;
  await reference.close();
  assert.deepEqual(
    await page.locator('table.predictions td.score').allTextContents(),
    direct.predictions.map((p) => p.score.toFixed(3)),
  );
  await page.close();
});

test('selecting a service plots that service’s series (compared with the API)', {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await ui.open();
  await page.locator('.chart[data-points="30"]').waitFor();
  for (const [name, how] of [
    ['backend', 'click'],
    ['frontend', 'keyboard'],
    ['backend', 'click'],
  ] as const) {
    const card = page.locator('.services .service', { hasText: name });
    if (how === 'click') await card.click();
    else {
      await card.focus();
      await page.keyboard.press('Enter');
      // Health is pushed every second here; a push must neither replace the card nor take the focus.
      const checkedBefore = await card.locator('.detail').last().textContent();
      await card.evaluate((el) => {
        el.dataset.marked = 'yes';
      });
      await page.waitForFunction(
        (before) => {
          const pressed = document.querySelector('.service[aria-pressed="true"] .detail:last-of-type');
          return pressed !== null && pressed.textContent !== before;
        },
        checkedBefore,
        { timeout: 5000 },
      );
      assert.equal(await card.getAttribute('data-marked'), 'yes', 'the card element was replaced');
      assert.equal(
        await page.evaluate(() => document.activeElement?.querySelector('.name')?.textContent),
        name,
        'the focused card survives health updates',
      );
    }
    assert.equal(await card.getAttribute('aria-pressed'), 'true');
    const api = (await (
      await fetch(`${ui.stack.backendUrl}/api/services/${name}/series?bucketSeconds=60&buckets=30`)
    ).json()) as { points: { anomalous: number }[] };
    const expected = String(api.points.reduce((s, p) => s + p.anomalous, 0));
    await page.waitForFunction(
      ([service, value]) => {
        const chart = document.querySelector<HTMLElement>('.chart');
        return chart?.dataset.service === service && chart.dataset.anomalous === value;
      },
      [name, expected] as const,
      { timeout: 5000 },
    );
    assert.match((await page.locator('#timeline-title').textContent()) ?? '', new RegExp(`· ${name} ·`));
  }
  // The two services' series differ, so the comparison above could not pass by accident.
  const sums = await Promise.all(
    ['frontend', 'backend'].map(async (name) => {
      const body = (await (
        await fetch(`${ui.stack.backendUrl}/api/services/${name}/series?bucketSeconds=60&buckets=30`)
      ).json()) as { points: { anomalous: number }[] };
      return body.points.reduce((s, p) => s + p.anomalous, 0);
    }),
  );
  assert.notEqual(sums[0], sums[1]);
  await page.close();
});

test('a 20-line burst keeps rows compact; the full line with its stack opens on demand', {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await ui.open();
  const before = await page.evaluate(() => document.documentElement.scrollHeight);
  const stackTrace = Array.from(
    { length: 12 },
    (_, i) => `    at handler (/app/server.mjs:${100 + i}:7)`,
  ).join('\n');
  for (let i = 0; i < 20; i++) {
    const line = JSON.stringify({
      level: 'error',
      msg: `injected failure ${i}: read ECONNRESET while querying orders-db`,
      stack: `Error: read ECONNRESET\n${stackTrace}`,
    });
    ui.stack.sidecars.backend.record(
      anomaly('backend', line, { revision: 'backend:8', task: `task-backend-${i}` }),
    );
  }
  await page
    .locator('table.anomalies tr.anomaly', { hasText: 'injected failure 19' })
    .waitFor({ timeout: 5000 });
  const after = await page.evaluate(() => document.documentElement.scrollHeight);
  const rowHeights = await page
    .locator('table.anomalies tr.anomaly')
    .evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
  assert.ok(Math.max(...rowHeights) < 60, `a row is ${Math.max(...rowHeights)} px tall`);
  assert.ok(after - before < 1000, `the burst made the page ${after - before} px taller`);
  await page.screenshot({ path: join(screenshots, 'anomaly-burst-1280.png'), fullPage: true });

  // Filters: revision backend:8 leaves only the burst.
  await page.getByLabel('Revision').selectOption('backend:8');
  const revisions = await page.locator('table.anomalies td.revision').allTextContents();
  assert.ok(revisions.length > 0 && revisions.every((r) => r === 'backend:8'));

  const row = page.locator('table.anomalies tr.anomaly', { hasText: 'injected failure 19' });
  await row.getByRole('button', { name: 'Full line' }).click();
  const details = page.locator('table.anomalies tr.details pre');
  assert.match((await details.textContent()) ?? '', /at handler \(\/app\/server\.mjs:111:7\)/);
  assert.equal(await page.getByRole('button', { name: 'Copy line' }).count(), 1);
  await page.close();
});

test('at 390 px and 360 px nothing overflows and table cells never break letter by letter', {
  skip,
  timeout: 60_000,
}, async () => {
  for (const width of [390, 360]) {
    const page = await ui.open(width);
    await page.locator('table.anomalies tr.anomaly').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than ${width} px`);
    const cells = await page.locator('table.anomalies tr.anomaly td.service').evaluateAll((tds) =>
      tds.map((td) => ({
        width: td.getBoundingClientRect().width,
        height: td.getBoundingClientRect().height,
      })),
    );
    for (const cell of cells) {
      assert.ok(cell.height < 30 && cell.width > 40, `a service cell is ${cell.width}×${cell.height} px`);
    }
    const rows = await page.locator('table.anomalies tr.anomaly').count();
    assert.ok(rows <= 10, `${rows} rows before "show more" at ${width} px`);
    const rowHeights = await page
      .locator('table.anomalies tr.anomaly')
      .evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().height));
    assert.ok(Math.max(...rowHeights) < 90, `a row is ${Math.max(...rowHeights)} px tall at ${width} px`);
    if (width === 390) await page.screenshot({ path: join(screenshots, 'mobile-390.png'), fullPage: true });
    await page.close();
  }
});

test('playground: submit disabled when empty, stale results cleared, the seed example scores normal, issues shown', {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await ui.open();
  const submit = page.getByRole('button', { name: 'Score lines' });
  await page.locator('textarea#lines').fill('   \n  ');
  assert.equal(await submit.isDisabled(), true);
  await page.locator('textarea#lines').fill('GET /api/orders/1 200 3ms');
  await submit.click();
  await page.locator('table.predictions').waitFor();
  await page.getByLabel('request body (JSON)').check();
  assert.equal(await page.locator('table.predictions').count(), 0, 'results of other input are cleared');
  await submit.click();
  await page.locator('table.predictions td.verdict').waitFor();
  assert.equal(await page.locator('table.predictions td.verdict').textContent(), 'normal');
  await page.locator('textarea#body').fill('{"data":[1764626400,"sixty",12]}');
  assert.equal(await page.locator('table.predictions').count(), 0, 'editing clears the old result');
  await submit.click();
  const issues = page.locator('.state.error .issues li');
  await issues.first().waitFor();
  const texts = await issues.allTextContents();
  assert.ok(
    texts.some((t) => t.startsWith('data')),
    `issues name their path: ${texts.join(' | ')}`,
  );
  await page.close();
});

test('on AWS: the user from the ALB’s x-amzn-oidc-data and a sign-out link', {
  skip,
  timeout: 60_000,
}, async () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
  const token = `${encode({ alg: 'ES256', kid: 'k', signer: 'arn' })}.${encode({ sub: 'u-1', email: 'ana@example.com' })}.sig`;
  const signedIn = await ui.browser.newContext({ extraHTTPHeaders: { 'x-amzn-oidc-data': token } });
  const page = await signedIn.newPage();
  await page.goto(ui.stack.url);
  const link = page.getByRole('link', { name: 'Sign out' });
  await link.waitFor();
  assert.equal(await page.locator('.identity').textContent(), 'ana@example.comSign out');
  assert.equal(await link.getAttribute('href'), 'auth/sign-out');
  await signedIn.close();
});

test('axe-core: no serious or critical violations (desktop and 390 px)', {
  skip,
  timeout: 60_000,
}, async () => {
  const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  for (const width of [1280, 390]) {
    const page = await ui.open(width);
    await page.locator('table.anomalies tr.anomaly').first().waitFor();
    await page
      .locator('table.anomalies tr.anomaly')
      .first()
      .getByRole('button', { name: 'Full line' })
      .click();
    // Evaluated through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(source);
    const violations = await page.evaluate(async () => {
      const result = await (
        window as unknown as {
          axe: { run: () => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> };
        }
      ).axe.run();
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
    });
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad, [], `at ${width} px: ${JSON.stringify(violations)}`);
    await page.close();
  }
});

test('the pages logged no errors (CSP violations included)', { skip }, () => {
  assert.deepEqual(unexpected(ui.problems), []);
});
