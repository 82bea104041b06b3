import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RuntimeState } from '../platform.ts';

/**
 * Local deployments end to end: `npm start` (platform/cli/main.ts start) with the real services, then
 * `npm run deploy -- --local` (platform/cli/main.ts deploy) as a person runs it, under steady traffic
 * through the local ALB. A good canary of the frontend completes with the declared split observed at
 * the ALB; a bad backend release (FAULT_ERROR_RATE=0.5) is rolled back on its anomalies. Bounded:
 * start-up 90 s, each deployment 120 s.
 */

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const dir = join(tmpdir(), `local-deploy-e2e-${process.pid}`);
const stateFile = join(dir, 'runtime.json');

interface Run {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

function deploy(args: string[]): Promise<Run> {
  const started = Date.now();
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'platform/cli/main.ts', 'deploy', ...args], {
      cwd: ROOT,
      env: { ...process.env, LOCAL_STATE_FILE: stateFile, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, out, err, ms: Date.now() - started });
    });
  });
}

/** Steady demand through the ALB (console page and its API, which calls the backend), failures counted. */
function steadyTraffic(web: string) {
  let stopped = false;
  const counts = { requests: 0, failed: 0, byStatus: new Map<number, number>() };
  const loop = async () => {
    while (!stopped) {
      for (const path of ['/', '/api/services']) {
        try {
          const response = await fetch(`${web}${path}`, { signal: AbortSignal.timeout(5000) });
          await response.arrayBuffer();
          counts.requests += 1;
          counts.byStatus.set(response.status, (counts.byStatus.get(response.status) ?? 0) + 1);
          // 5xx from the switch itself (ALB 502/503/504 while revisions swap) are failures; the bad
          // release's own 500s are its own doing and are counted apart.
          if (response.status === 502 || response.status === 503 || response.status === 504)
            counts.failed += 1;
        } catch {
          counts.requests += 1;
          counts.failed += 1;
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const loops = [loop(), loop()];
  return {
    counts,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

describe('local deployments, end to end', { timeout: 420_000 }, () => {
  let supervisor: ChildProcess;
  let output = '';
  let web = '';

  before(async () => {
    supervisor = spawn(process.execPath, ['--import', 'tsx', 'platform/cli/main.ts', 'start'], {
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

  it('a good canary of the frontend completes, with the declared 10 % split observed at the ALB and no request failed by the switch', async () => {
    const traffic = steadyTraffic(web);
    const run = await deploy(['--local', '--service', 'frontend']);
    await traffic.stop();
    console.log(
      `[figure] good canary: start to completed ${run.ms} ms; traffic ${traffic.counts.requests} requests, ${traffic.counts.failed} failed by the switch`,
    );
    console.log(run.out);
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.match(run.out, /frontend: deployment started \(CANARY\)/);
    assert.match(run.out, /production traffic 10% new/);
    assert.match(run.out, /rollout COMPLETED .* frontend:2 serves all traffic, frontend:1 stopped/);
    const split = /observed at the load balancer: (\d+) requests, (\d+) \(([\d.]+)%\) to frontend:2/.exec(
      run.out,
    );
    assert.ok(split, run.out);
    assert.ok(Number(split[1]) >= 50, `enough requests in the canary phase: ${split[1]}`);
    const share = Number(split[3]);
    assert.ok(share > 2 && share < 25, `about 10 % of the canary phase went to the new revision: ${share}`);
    assert.equal(traffic.counts.failed, 0);
    // The console's deployments view reads the runtime's state file.
    const deployments = JSON.parse(readFileSync(join(dir, 'deployments.json'), 'utf8'));
    const frontend = deployments.services.find((s: { service: string }) => s.service === 'frontend');
    assert.equal(frontend.strategy, 'canary');
    assert.equal(frontend.deployments[0].revision, 'frontend:2');
    assert.equal(frontend.deployments[0].rolloutState, 'completed');
  });

  it('a bad backend release (FAULT_ERROR_RATE=0.5) is rolled back on its anomalies; all traffic back on the old revision', async () => {
    const traffic = steadyTraffic(web);
    const run = await deploy(['--local', '--service', 'backend', '--env', 'FAULT_ERROR_RATE=0.5']);
    await traffic.stop();
    console.log(run.out);
    assert.equal(run.code, 1, `${run.out}\n${run.err}`);
    assert.match(
      run.out,
      /backend: ROLLING BACK backend:2: anomaly rate [\d.]+ % of \d+ lines ≥ 5 % \(rollbackOn anomaly-rate\)/,
    );
    assert.match(run.out, /backend: rolled back; backend:1 serves all traffic/);
    assert.match(run.err, /deploy: backend: rolled-back: anomaly rate/);
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as RuntimeState;
    const control = state.control!;
    const outcome = (await (
      await fetch(`${control.url}/deployments/local-2`, {
        headers: { authorization: `Bearer ${control.token}` },
      })
    ).json()) as { outcome: { decidedAt: number; trafficBackAt: number } };
    // First anomalous line of the new revision: the earliest record with its revision in the merged view.
    const backendSidecars = state.processes.filter(
      (p) => p.label.startsWith('backend') && p.role === 'sidecar',
    );
    assert.ok(backendSidecars.length >= 1);
    const decision = outcome.outcome;
    const firstAnomalous = /first anomalous line of backend:2 at (\d+)/.exec(output);
    const firstMs = firstAnomalous ? Number(firstAnomalous[1]) : undefined;
    console.log(
      `[figure] bad release: first anomalous line -> decision ${firstMs === undefined ? 'n/a' : decision.decidedAt - firstMs} ms; decision -> all traffic on the old revision ${decision.trafficBackAt - decision.decidedAt} ms; ${traffic.counts.failed} requests failed by the switch`,
    );
    assert.ok(firstMs !== undefined, 'the new revision wrote an anomalous line');
    assert.ok(decision.decidedAt - firstMs <= 60_000);
    assert.ok(decision.trafficBackAt - decision.decidedAt <= 5000);
    assert.equal(traffic.counts.failed, 0);
  });
});
