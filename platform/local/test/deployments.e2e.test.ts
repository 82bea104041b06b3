import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { available, CHROMIUM } from '../../../services/frontend/test/support/console-browser.ts';
import { CHROMIUM_FLAGS } from '../../../services/frontend/test/support/console-stack.ts';
import { startDemoTraffic } from '../demo-traffic.ts';
import type { RuntimeState } from '../platform.ts';
import { abortReplay, failedBySwitch, slowAnswers } from '../replays.ts';

/**
 * Local deployments end to end, judged by the deployment gate (issue 24): `npm start` (platform/local/
 * main.ts) with the real services, then `npm run deploy -- --local` (platform/deploy/main.ts) as a person
 * runs it. Idle releases are judged on their probes (good completes, bad is rolled back naming them);
 * under steady traffic through the local ALB a good canary completes with the declared split, and
 * neither 128 nor 150 aborted uploads roll a good release back; a bad release and the dilution replay
 * (30 % fault under 80 requests/s of a healthy route) are rolled back; a scorer outage follows the
 * declared policy. Bounded: start-up 90 s, each deployment 150 s, load on loopback only; assertions on
 * outcomes and counts, figures printed as `[figure]` lines.
 */

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const dir = join(tmpdir(), `local-deploy-e2e-${process.pid}`);
const stateFile = join(dir, 'runtime.json');
const screenshots = join(ROOT, 'test-results', 'console');

interface Run {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

/** `npm run deploy -- …`; `onLine` sees each progress line as it is printed. */
function deploy(args: string[], onLine: (line: string) => void = () => {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'platform/deploy/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, LOCAL_STATE_FILE: stateFile, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      partial += c.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, out, err, ms: Date.now() - started });
    });
  });
}

/** The outcome the control endpoint reports for a deployment (decision times). */
async function outcomeOf(id: string) {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as RuntimeState;
  const response = await fetch(`${state.control!.url}/deployments/${id}`, {
    headers: { authorization: `Bearer ${state.control!.token}` },
  });
  return (
    (await response.json()) as {
      outcome: { decidedAt?: number; trafficBackAt?: number; firstBadAt?: number };
    }
  ).outcome;
}

/** The deployment ids the runtime gives, in order: local-1, local-2, … */
let deployments = 0;
const nextId = () => `local-${++deployments}`;

describe('local deployments judged by the gate, end to end', { timeout: 900_000 }, () => {
  let supervisor: ChildProcess;
  let output = '';
  let web = '';

  before(async () => {
    supervisor = spawn(process.execPath, ['--import', 'tsx', 'platform/local/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        WEB_PORT: '0',
        API_PORT: '0',
        MODEL_PORT: '0',
        LOCAL_STATE_FILE: stateFile,
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    supervisor.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    supervisor.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const deadline = Date.now() + 90_000;
    for (;;) {
      const ready = /^ready web=(\S+?)\/? /m.exec(output);
      if (ready) {
        web = ready[1]!;
        break;
      }
      if (Date.now() > deadline || supervisor.exitCode !== null) {
        throw new Error(`npm start did not become ready:\n${output.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    supervisor?.kill('SIGTERM');
    await new Promise((r) => supervisor?.once('exit', r) ?? r(undefined));
    rmSync(dir, { recursive: true, force: true });
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

  it('an idle good release completes on its probes alone', async () => {
    nextId();
    const run = await deploy(['--local', '--service', 'backend']);
    console.log(run.out);
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.match(
      run.out,
      /backend: gate SUCCEEDED (passed|no-baseline-passed): .*probes: \d+ of \d+ answered \(GET \/healthz, GET \/api\/deployments\)/,
    );
    assert.match(run.out, /rollout COMPLETED/);
  });

  it('an idle bad release (FAULT_ERROR_RATE=0.5) is rolled back on its probes, and the reason names them', async () => {
    nextId();
    const run = await deploy(['--local', '--service', 'backend', '--env', 'FAULT_ERROR_RATE=0.5']);
    console.log(run.out);
    console.log(`[figure] idle bad release: start to rollback ${run.ms} ms (goal ≤ 60000)`);
    assert.equal(run.code, 1, `${run.out}\n${run.err}`);
    assert.match(
      run.out,
      /backend: ROLLING BACK backend:\d+: gate worse: .*GET \/api\/deployments.*probes: \d+ of \d+ answered \(GET \/healthz, GET \/api\/deployments\)/,
    );
    assert.match(run.err, /deploy: backend: rolled-back: gate worse/);
  });

  it('a good canary completes with the declared split; 128 aborted uploads in 1.5 s during its canary do not roll it back; no request failed by the switch', async () => {
    nextId();
    const traffic = users(20);
    let aborts: Promise<number> | undefined;
    const run = await deploy(['--local', '--service', 'frontend'], (line) => {
      if (!aborts && /production traffic 10% new/.test(line))
        aborts = abortReplay(`${web}/api/predict`, 128, 1500);
    });
    traffic.stop();
    const made = await aborts;
    console.log(run.out);
    console.log(
      `[figure] good canary: start to completed ${run.ms} ms; ${traffic.stats.sent} user requests, ${failedBySwitch(traffic.stats)} failed by the switch, ${slowAnswers(traffic.stats)} too slow; aborts replayed: ${made} → ${run.code === 0 ? 'completed' : 'rolled back'}`,
    );
    assert.equal(made, 128);
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.match(
      run.out,
      /frontend: IN_PROGRESS POST_TEST_TRAFFIC_SHIFT production traffic 0% new, judged on its probes/,
    );
    assert.match(run.out, /rollout COMPLETED .* frontend:\d+ serves all traffic, frontend:\d+ stopped/);
    // Observed per stage: the test route (probes only), the canary phase, then all traffic.
    const observed = [
      ...run.out.matchAll(/observed at the load balancer: (\d+) requests, (\d+) \(([\d.]+)%\)/g),
    ];
    assert.equal(observed.length, 3, run.out);
    const share = Number(observed[1]![3]);
    assert.ok(share > 2 && share < 25, `about 10 % of the canary phase went to the new revision: ${share}`);
    assert.equal(failedBySwitch(traffic.stats), 0);
    const state = JSON.parse(readFileSync(join(dir, 'deployments.json'), 'utf8'));
    const frontend = state.services.find((s: { service: string }) => s.service === 'frontend');
    assert.equal(frontend.deployments[0].rolloutState, 'completed');
    assert.deepEqual(
      frontend.deployments[0].judgements.map((j: { stage: string; verdict: string }) => [j.stage, j.verdict]),
      [
        ['POST_PRODUCTION_TRAFFIC_SHIFT', 'SUCCEEDED'],
        ['POST_PRODUCTION_TRAFFIC_SHIFT', 'SUCCEEDED'],
        ['POST_TEST_TRAFFIC_SHIFT', 'SUCCEEDED'],
      ],
    );
  });

  it('a good backend release completes though 150 clients abort their uploads while it bakes', async () => {
    nextId();
    const traffic = users(20);
    let aborts: Promise<number> | undefined;
    const run = await deploy(['--local', '--service', 'backend'], (line) => {
      if (!aborts && /production traffic 50% new/.test(line))
        aborts = abortReplay(`${web}/api/predict`, 150, 1500);
    });
    traffic.stop();
    const made = await aborts;
    console.log(run.out);
    console.log(
      `[figure] aborts during a backend release: ${made} aborted uploads → ${run.code === 0 ? 'completed' : 'rolled back'}`,
    );
    assert.equal(made, 150);
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
  });

  it('a bad backend release (FAULT_ERROR_RATE=0.5) is rolled back; the console shows both revisions, the verdict and its rule', async () => {
    const id = nextId();
    const traffic = users(20);
    const run = await deploy(['--local', '--service', 'backend', '--env', 'FAULT_ERROR_RATE=0.5']);
    traffic.stop();
    console.log(run.out);
    assert.equal(run.code, 1, `${run.out}\n${run.err}`);
    assert.match(
      run.out,
      /backend: ROLLING BACK backend:\d+: (gate worse: |anomaly rate [\d.]+ % of \d+ lines ≥ 5 % \(rollbackOn anomaly-rate\))/,
    );
    assert.match(run.out, /backend: rolled back; backend:\d+ serves all traffic/);
    const decision = await outcomeOf(id);
    assert.ok(decision.firstBadAt !== undefined, 'the new revision wrote a bad line');
    assert.match(run.out, /backend: first bad line of backend:\d+ at \d+/);
    const firstToDecision = decision.decidedAt! - decision.firstBadAt;
    console.log(
      `[figure] bad release: first anomalous line -> decision ${firstToDecision} ms (goal ≤ 30000); decision -> all traffic on the old revision ${decision.trafficBackAt! - decision.decidedAt!} ms; ${failedBySwitch(traffic.stats)} requests failed by the switch, ${slowAnswers(traffic.stats)} too slow; by status ${JSON.stringify(traffic.stats.byStatus)}`,
    );
    assert.ok(decision.trafficBackAt! - decision.decidedAt! <= 5000);
    assert.equal(failedBySwitch(traffic.stats), 0);

    if (!available) {
      console.log(`[browser] skipped: no Chromium at ${CHROMIUM}`);
      return;
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      await page.goto(web);
      const judgement = page.locator('.deployment[data-service="backend"] .judgement[data-verdict="FAILED"]');
      await judgement.first().waitFor({ timeout: 15_000 });
      const rows = await judgement.first().locator('tbody tr').allTextContents();
      assert.equal(rows.length, 2, rows.join(' | '));
      assert.match(rows[0]!, /^backend:\d+ new.*%.*%/);
      assert.match(rows[1]!, /^backend:\d+ old.*%.*%/);
      assert.match(
        (await judgement.first().locator('.rule').textContent()) ?? '',
        /^Rule (worse|logging broken|scorer outage)/,
      );
      assert.match((await judgement.first().locator('h4').textContent()) ?? '', /^FAILED/);
      await judgement.first().scrollIntoViewIfNeeded();
      mkdirSync(screenshots, { recursive: true });
      const path = join(screenshots, 'rolled-back-release-e2e.png');
      await page.screenshot({ path });
      console.log(`[browser] screenshot ${path}`);
    } finally {
      await browser.close();
    }
  });

  it('the dilution replay: a 30 % fault under 80 requests/s of a healthy route is rolled back, naming the failing route', async () => {
    nextId();
    const traffic = users(8);
    // The healthy route: the backend's fault switch state, which the fault itself never touches.
    const flood = startDemoTraffic([{ method: 'GET', url: `${web}/api/faults` }], 80);
    const run = await deploy(['--local', '--service', 'backend', '--env', 'FAULT_ERROR_RATE=0.3']);
    flood.stop();
    traffic.stop();
    console.log(run.out);
    console.log(
      `[figure] dilution replay: ${flood.stats.sent} flood requests at 80/s, ${traffic.stats.sent} user requests → ${run.code === 1 ? 'rolled back' : 'completed'}`,
    );
    assert.equal(run.code, 1, `${run.out}\n${run.err}`);
    assert.match(
      run.out,
      /backend: ROLLING BACK backend:\d+: gate worse: (errors|anomalies) on (?!GET \/api\/faults)/,
    );
  });

  it('a scorer outage during a release follows the declared policy (judge-on-errors): judged on its error rates, and says so', async () => {
    nextId();
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as RuntimeState;
    const stopped = new Set<number>();
    // The model server stays stopped for the whole release: each process the supervisor starts in its
    // place is stopped as soon as the runtime state names it.
    let outage = true;
    const hold = (async () => {
      while (outage) {
        const current = JSON.parse(readFileSync(stateFile, 'utf8')) as RuntimeState;
        for (const p of current.processes.filter((q) => q.role === 'model')) {
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
    assert.ok(state.processes.some((p) => p.role === 'model'));
    const traffic = users(20);
    const run = await deploy(['--local', '--service', 'frontend']);
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
    console.log(run.out);
    console.log(
      `[figure] scorer outage during a release: ${run.code === 0 ? 'completed' : 'rolled back'} (policy judge-on-errors)`,
    );
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.match(
      run.out,
      /frontend: gate SUCCEEDED scorer-outage-judged-on-errors: the model endpoint failed \d+ calls/,
    );
  });
});
