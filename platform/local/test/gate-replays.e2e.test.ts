import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LocalDeploymentsState } from '../../../contracts/console-ops.ts';
import { chromiumAvailable, launchChromium } from '../../../test/support/browser.ts';
import { ROOT, runScript, type SpawnedPlatform, spawnPlatform } from '../../../test/support/platform.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { startDemoTraffic } from '../demo-traffic.ts';
import { abortReplay, failedBySwitch, slowAnswers } from '../replays.ts';

/**
 * The deployment gate's replays end to end (issue 24), on a platform of its own with no demo traffic, so
 * that idle means idle: `npm start`, then `npm run deploy -- --local` as a person runs it. Idle releases
 * are judged on their probes (good completes, bad is rolled back naming them); neither 128 nor 150
 * aborted uploads roll a good release back; the dilution replay (30 % fault under 80 requests/s of a
 * healthy route) is rolled back and the console shows both revisions, the verdict and its rule; a scorer
 * outage follows the declared policy. Load on loopback, bounded in count and time; assertions on outcomes
 * and counts, figures printed as `[figure]` lines.
 */

const screenshots = join(ROOT, 'test-results', 'console');

describe('the deployment gate, end to end', { timeout: 900_000 }, () => {
  let platform: SpawnedPlatform;
  let web = '';

  before(async () => {
    platform = await spawnPlatform();
    web = platform.urls.web;
  });
  after(() => platform?.stop());

  const deploy = (args: string[]) =>
    runScript('deploy', ['--local', ...args], {
      env: { LOCAL_STATE_FILE: platform.stateFile },
      timeoutMs: 150_000,
    });
  /** Users of the console: its page and its API (which calls the backend), `rps` a second. */
  const users = (rps: number) =>
    startDemoTraffic(
      [
        { method: 'GET', url: `${web}/` },
        { method: 'GET', url: `${web}/api/services` },
      ],
      rps,
    );
  const deployments = () =>
    JSON.parse(readFileSync(join(platform.stateDir, 'deployments.json'), 'utf8')) as LocalDeploymentsState;
  /** Resolves once `service`'s running deployment gives its new revision `percent` of the traffic. */
  const atTraffic = (service: string, percent: number) =>
    waitFor(`${service} at ${percent} %`, 120_000, () =>
      deployments().services.some(
        (s) =>
          s.service === service &&
          s.deployments[0]?.rolloutState === 'in-progress' &&
          s.deployments[0].trafficPercent === percent,
      ),
    );

  it('an idle good release completes on its probes alone', async () => {
    const run = await deploy(['--service', 'backend']);
    console.log(run.stdout);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(
      run.stdout,
      /backend: gate SUCCEEDED (passed|no-baseline-passed): .*probes: \d+ of \d+ answered \(GET \/healthz, GET \/api\/deployments\)/,
    );
    assert.match(run.stdout, /rollout COMPLETED/);
  });

  it('an idle bad release (FAULT_ERROR_RATE=0.5) is rolled back on its probes, and the reason names them', async () => {
    const run = await deploy(['--service', 'backend', '--env', 'FAULT_ERROR_RATE=0.5']);
    console.log(run.stdout);
    console.log(`[figure] idle bad release: start to rollback ${run.ms} ms (goal ≤ 60000)`);
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(
      run.stdout,
      /backend: ROLLING BACK backend:\d+: gate worse: .*GET \/api\/deployments.*probes: \d+ of \d+ answered \(GET \/healthz, GET \/api\/deployments\)/,
    );
    assert.match(run.stderr, /deploy: backend: rolled-back: gate worse/);
  });

  it('a good canary completes though 128 uploads are aborted in 1.5 s during its canary; the switch fails no request', async () => {
    const traffic = users(20);
    const release = deploy(['--service', 'frontend']);
    await atTraffic('frontend', 10);
    const made = await abortReplay(`${web}/api/predict`, 128, 1500);
    const run = await release;
    traffic.stop();
    console.log(run.stdout);
    console.log(
      `[figure] good canary: start to completed ${run.ms} ms; ${traffic.stats.sent} user requests, ${failedBySwitch(traffic.stats)} failed by the switch, ${slowAnswers(traffic.stats)} too slow; ${made} aborted uploads → ${run.code === 0 ? 'completed' : 'rolled back'}`,
    );
    assert.equal(made, 128);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(
      run.stdout,
      /frontend: IN_PROGRESS POST_TEST_TRAFFIC_SHIFT production traffic 0% new, judged on its probes/,
    );
    assert.equal(failedBySwitch(traffic.stats), 0);
    const frontend = deployments().services.find((s) => s.service === 'frontend')!;
    assert.deepEqual(
      frontend.deployments[0]!.judgements?.map((j) => [j.stage, j.trafficPercent, j.verdict]),
      [
        ['POST_PRODUCTION_TRAFFIC_SHIFT', 100, 'SUCCEEDED'],
        ['POST_PRODUCTION_TRAFFIC_SHIFT', 10, 'SUCCEEDED'],
        ['POST_TEST_TRAFFIC_SHIFT', 0, 'SUCCEEDED'],
      ],
    );
  });

  it('a good backend release completes though 150 clients abort their uploads while it bakes', async () => {
    const traffic = users(20);
    const release = deploy(['--service', 'backend']);
    await atTraffic('backend', 50);
    const made = await abortReplay(`${web}/api/predict`, 150, 1500);
    const run = await release;
    traffic.stop();
    console.log(run.stdout);
    console.log(
      `[figure] aborts during a backend release: ${made} aborted uploads → ${run.code === 0 ? 'completed' : 'rolled back'}`,
    );
    assert.equal(made, 150);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  });

  it('the dilution replay (30 % fault under 80 requests/s of a healthy route) is rolled back; the console shows both revisions, the verdict and its rule', async () => {
    const traffic = users(8);
    // The healthy route: the backend's fault switch state, which the fault itself never touches.
    const flood = startDemoTraffic([{ method: 'GET', url: `${web}/api/faults` }], 80);
    const run = await deploy(['--service', 'backend', '--env', 'FAULT_ERROR_RATE=0.3']);
    flood.stop();
    traffic.stop();
    console.log(run.stdout);
    console.log(
      `[figure] dilution replay: ${flood.stats.sent} flood requests at 80/s, ${traffic.stats.sent} user requests → ${run.code === 1 ? 'rolled back' : 'completed'}`,
    );
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    // Whichever comparison has its evidence first; never the flooded route's.
    assert.match(
      run.stdout,
      /backend: ROLLING BACK backend:\d+: (gate worse: (errors|anomalies) on (?!GET \/api\/faults)|anomaly rate [\d.]+ % of \d+ lines ≥ 5 % \(rollbackOn anomaly-rate\))/,
    );

    if (!chromiumAvailable) {
      console.log('[browser] skipped: no Chromium');
      return;
    }
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      await page.goto(web);
      const judgement = page
        .locator('.deployment[data-service="backend"] .judgement[data-verdict="FAILED"]')
        .first();
      await judgement.waitFor({ timeout: 15_000 });
      const rows = await judgement.locator('tbody tr').allTextContents();
      assert.equal(rows.length, 2, rows.join(' | '));
      assert.match(rows[0]!, /^backend:\d+ new.*%.*%/);
      assert.match(rows[1]!, /^backend:\d+ old.*%.*%/);
      assert.match((await judgement.locator('h4').textContent()) ?? '', /^FAILED/);
      assert.match(
        (await judgement.locator('.rule').textContent()) ?? '',
        /^Rule (worse|logging broken|scorer outage|declared rollback alarm)/,
      );
      // For the screenshot only. The console re-renders on every pushed update, so the element found may be
      // replaced before it is scrolled to: try again on the fresh one.
      await waitFor('the judgement scrolled into view', 15_000, () =>
        judgement.scrollIntoViewIfNeeded({ timeout: 2_000 }).then(() => true),
      );
      mkdirSync(screenshots, { recursive: true });
      const path = join(screenshots, 'rolled-back-release-e2e.png');
      await page.screenshot({ path });
      console.log(`[browser] screenshot ${path}`);
    } finally {
      await browser.close();
    }
  });

  it('a scorer outage during a release follows the declared policy (judge-on-errors): judged on its error rates, and says so', async () => {
    // The model server stays stopped for the whole release: each process the supervisor starts in its
    // place is stopped as soon as the runtime state names it.
    const stopped = new Set<number>();
    let outage = true;
    const hold = (async () => {
      while (outage) {
        for (const p of platform.state().processes.filter((q) => q.role === 'model')) {
          for (const group of p.processGroups) {
            if (stopped.has(group)) continue;
            try {
              process.kill(-group, 'SIGSTOP');
              stopped.add(group);
            } catch {
              // Gone already.
            }
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await waitFor('the model stopped', 10_000, () => stopped.size > 0);
    const traffic = users(20);
    const run = await deploy(['--service', 'frontend']);
    traffic.stop();
    outage = false;
    await hold;
    for (const group of stopped) {
      try {
        process.kill(-group, 'SIGCONT');
      } catch {
        // Replaced meanwhile.
      }
    }
    console.log(run.stdout);
    console.log(
      `[figure] scorer outage during a release: ${run.code === 0 ? 'completed' : 'rolled back'} (policy judge-on-errors)`,
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(
      run.stdout,
      /frontend: gate SUCCEEDED scorer-outage-judged-on-errors: the model endpoint failed \d+ calls/,
    );
  });
});
