import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { LocalDeploymentsState } from '../../../contracts/console-ops.ts';
import type { Judgement } from '../../../contracts/judgement.ts';
import { available, CHROMIUM, screenshots, skip, useConsoleBrowser } from './support/console-browser.ts';

/**
 * The judgement is visible (issue 24): during a rolled-back release the deployment view shows what the
 * gate saw, the old and the new revision side by side with their rates and bounds, the minimum volume
 * and what the probes supplied, the verdict and the rule that gave it. Debian's Chromium, real servers;
 * the state file is the one the local rehearsal writes.
 */
const ui = useConsoleBrowser();

const rate = (bad: number, total: number, lower: number, upper: number) => ({
  bad,
  total,
  rate: bad / total,
  lower,
  upper,
});
const rolledBack: Judgement = {
  stage: 'POST_PRODUCTION_TRAFFIC_SHIFT',
  trafficPercent: 50,
  at: new Date().toISOString(),
  verdict: 'FAILED',
  outcome: 'worse',
  rule: "worse: at 3-sigma bounds on both revisions, at least 2× the old revision's rate, or over the ceiling where the old revision was not, on the whole or on one request class",
  reason:
    'errors on GET /api/services: 29.2 % (≥ 10.4 %) of 24 requests on backend:2 vs 0.0 % (≤ 4.0 %) of 216 on backend:1: at least 2.6× the old rate (limit 2×)',
  minimumVolume: { lines: 100, requests: 50 },
  probes: { paths: ['/healthz', '/api/deployments'], sent: 20, answered: 20 },
  revisions: [
    {
      role: 'new',
      revision: 'backend:2',
      received: 511,
      anomalies: rate(19, 511, 0.0189, 0.0686),
      errors: rate(7, 504, 0.0048, 0.0389),
    },
    {
      role: 'old',
      revision: 'backend:1',
      received: 4539,
      anomalies: rate(45, 4539, 0.0062, 0.0154),
      errors: rate(0, 4536, 0, 0.002),
    },
  ],
  comparisons: [],
};

test('during a rolled-back release: both revisions rates with bounds, the verdict, its rule and the probes', {
  skip,
  timeout: 60_000,
}, async () => {
  assert.ok(available, `REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM}`);
  const at = new Date().toISOString();
  const state: LocalDeploymentsState = {
    updatedAt: at,
    services: [
      {
        service: 'backend',
        strategy: 'rolling',
        progressPercent: 0,
        deployments: [
          {
            id: 'backend-2',
            revision: 'backend:2',
            status: 'inactive',
            rolloutState: 'failed',
            reason: rolledBack.reason,
            desired: 1,
            running: 0,
            pending: 0,
            trafficPercent: 0,
            createdAt: at,
            updatedAt: at,
            judgements: [rolledBack],
            environment: { set: { FAULT_ERROR_RATE: '0.3' }, unset: [] },
          },
          {
            id: 'backend-1',
            revision: 'backend:1',
            status: 'active',
            rolloutState: 'completed',
            desired: 1,
            running: 1,
            pending: 0,
            trafficPercent: 100,
            createdAt: at,
            updatedAt: at,
          },
        ],
        rollbacks: [{ fromRevision: 'backend:2', toRevision: 'backend:1', reason: rolledBack.reason, at }],
      },
    ],
  };
  const page = await ui.open();
  ui.writeDeployments(state);
  const judgement = page.locator('.deployment[data-service="backend"] .judgement[data-verdict="FAILED"]');
  await judgement.waitFor({ timeout: 5000 });

  assert.match((await judgement.locator('h4').textContent()) ?? '', /FAILED\s*POST_PRODUCTION_TRAFFIC_SHIFT/);
  assert.equal(await judgement.locator('.rule').textContent(), `Rule ${rolledBack.rule}`);
  const row = async (role: string) =>
    (await judgement.locator(`tr[data-role="${role}"] td`).allTextContents()).map((t) =>
      t.replace(/\s+/g, ' ').trim(),
    );
  assert.deepEqual(await row('new'), [
    'backend:2 new',
    '511',
    '3.7 % (≥ 1.9 %) of 511',
    '1.4 % (≥ 0.5 %) of 504',
  ]);
  assert.deepEqual(await row('old'), [
    'backend:1 old',
    '4539',
    '1.0 % (≤ 1.5 %) of 4539',
    '0.0 % (≤ 0.2 %) of 4536',
  ]);
  assert.equal(
    (await judgement.locator('.volume').textContent())?.replace(/\s+/g, ' '),
    "Minimum volume 100 lines, 50 requests · probes supplied 20 of the new revision's 504 requests (20 sent to /healthz, /api/deployments)",
  );
  assert.equal(await judgement.locator('.reason').textContent(), rolledBack.reason);
  assert.match(
    (await page.locator('.deployment[data-service="backend"] .env-diff').textContent()) ?? '',
    /\+FAULT_ERROR_RATE=0\.3/,
  );
  await judgement.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(screenshots, 'judgement-rolled-back-1280.png') });
  await page.close();
});
