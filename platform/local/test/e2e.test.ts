import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parsePrometheus } from '../../../services/anomaly-sidecar/src/prometheus.ts';
import { ROOT, runScript, type SpawnedPlatform, spawnPlatform } from '../../../test/support/platform.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { backendUrlOf, faultRequest } from '../fault-cli.ts';
import { isAlive } from '../process-tree.ts';
import { groupAlive } from '../supervisor.ts';

/**
 * End to end, on one platform: `npm start -- --demo-traffic` (the real model server, services, sidecars,
 * predict handler and the shipped default artifact) on free ports, checked in the order a person would:
 * the console and the prediction API answer; at rest, under demo traffic and client errors, nothing is
 * listed as an anomaly; a fault burst is listed within 5 s; a killed backend comes back; `npm run deploy
 * -- --local` completes a good canary and rolls back a bad release on its anomalies; SIGTERM leaves no
 * process behind. One start instead of three: each check runs after the ones whose quiet it needs.
 * `AT_REST_SECONDS` shortens the quiet period when iterating locally (the issue's figure is 60).
 */

const QUIET_SECONDS = Number(process.env.AT_REST_SECONDS ?? 60);
const PARTS: Array<[string, string]> = [
  ['model server', 'model/serve/main.ts'],
  ['model artifact', 'model/artifacts/default'],
  ['backend', 'services/backend/main.ts'],
  ['frontend server', 'services/frontend/server/main.ts'],
  ['anomaly sidecar', 'services/anomaly-sidecar/main.ts'],
  ['predict handler', 'functions/predict/handler.ts'],
];
const missing = PARTS.filter(([, path]) => !existsSync(join(ROOT, path)));
const skip =
  missing.length > 0
    ? `SKIPPED, PARTS MISSING: ${missing.map(([name, path]) => `${name} (${path})`).join(', ')}`
    : false;
if (skip) console.error(`\n*** platform/local e2e ${skip} ***\n`);

type Listed = { records: Array<{ service: string; line: string; score: number; reasons?: string[] }> };
type Series = { points: Array<{ scored: number; anomalous: number }> };

describe('npm start, end to end', { skip, timeout: 300_000 + QUIET_SECONDS * 1000 }, () => {
  let platform: SpawnedPlatform;
  let web = '';
  let api = '';

  before(async () => {
    platform = await spawnPlatform({ args: ['--demo-traffic'] });
    ({ web, api } = platform.urls);
  });
  after(async () => {
    await platform?.stop('SIGKILL');
  });

  const listed = async (service?: string) => {
    const r = await fetch(`${web}/api/anomalies?limit=200${service ? `&service=${service}` : ''}`);
    assert.equal(r.status, 200);
    return (await r.json()) as Listed;
  };
  const series = async (service: string) => {
    const r = await fetch(`${web}/api/services/${service}/series?bucketSeconds=10&buckets=60`);
    if (!r.ok) throw new Error(`series HTTP ${r.status}`);
    return ((await r.json()) as Series).points;
  };
  const sidecarTotals = async () =>
    Promise.all(
      platform
        .state()
        .processes.filter((p) => p.role === 'sidecar')
        .map(async (p) => {
          const metrics = parsePrometheus(await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text());
          const sum = (prefix: string) =>
            [...metrics].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
          return {
            label: p.label,
            received: sum('sidecar_records_received_total'),
            // A line joined into the one before it (a stack trace's frames) is settled with it: the
            // sidecar's accounting is received = scored + dropped + joined + queued + in flight.
            settled:
              sum('sidecar_records_scored_total') +
              sum('sidecar_records_dropped_total') +
              sum('sidecar_records_joined_total'),
            // No default: a renamed gauge must fail the wait, not pass it as 0.
            inFlight: metrics.get('sidecar_records_in_flight'),
          };
        }),
    );

  it('serves the console HTML through the local ALB', async () => {
    const response = await fetch(`${web}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await response.text(), /^<!doctype html>/i);
  });

  it('scores {"data":[1,2,3,4]} through the API Gateway, the predict handler and the model endpoint', async () => {
    const response = await fetch(`${api}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"data":[1,2,3,4]}',
    });
    const body = (await response.json()) as {
      predictions: Array<{ score: number; anomaly: boolean }>;
      model: { name: string };
    };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.predictions.length, 1);
    assert.ok(body.predictions[0]!.score >= 0 && body.predictions[0]!.score <= 1);
    assert.equal(typeof body.predictions[0]!.anomaly, 'boolean');
    assert.equal(typeof body.model.name, 'string');
  });

  it('scores raw log events, one prediction per event', async () => {
    const logs = [
      { timestamp: Date.now(), message: 'GET /api/services 200 3ms' },
      {
        timestamp: new Date().toISOString(),
        message: 'FATAL kernel panic: machine check 0x1f',
        logStream: 'node-7',
      },
    ];
    const response = await fetch(`${api}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ logs }),
    });
    const body = (await response.json()) as { predictions: Array<{ score: number }> };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.predictions.length, 2);
  });

  it('answers a malformed body with 400 in the error shape', async () => {
    const response = await fetch(`${api}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"data":[1,2,',
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'invalid_json');
  });

  it(`at rest: lists zero anomalies after ${QUIET_SECONDS} s of demo traffic, health checks and client errors`, async () => {
    const until = Date.now() + QUIET_SECONDS * 1000;
    const clientErrors = [
      () => fetch(`${web}/api/services/no-such-service/series`),
      () => fetch(`${web}/api/anomalies?limit=banana`),
      () =>
        fetch(`${web}/api/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }),
      () =>
        fetch(`${web}/api/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{',
        }),
      () => fetch(`${web}/no/such/page.php`),
    ];
    let sent = 0;
    const statuses = new Set<number>();
    while (Date.now() < until) {
      const response = await clientErrors[sent++ % clientErrors.length]!();
      await response.arrayBuffer();
      statuses.add(response.status);
      // Paces the client errors (a few a second, as a careless client sends them); not a wait on anything.
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(
      [...statuses].some((s) => s >= 400 && s < 500),
      `client errors answered ${[...statuses]}`,
    );
    // Every line written so far has been scored. First each sidecar receives newer lines of the demo
    // traffic (its router forwards in order), so it has received all the lines written so far; then it
    // settles at least that many with no batch in flight. Its queue is first in, first out, so with
    // nothing in flight what it settled are its oldest lines: all of those. (An empty queue is no
    // condition: under steady traffic the router's flushes and the batch age can keep one line queued
    // at every sample.)
    const atEnd = new Map((await sidecarTotals()).map((t) => [t.label, t.received]));
    const received = await waitFor('every sidecar to receive newer lines', 60_000, async () => {
      const totals = await sidecarTotals();
      if (totals.every((t) => t.received >= atEnd.get(t.label)! + 2)) {
        return new Map(totals.map((t) => [t.label, t.received]));
      }
      throw new Error(JSON.stringify({ atEnd: Object.fromEntries(atEnd), totals }));
    });
    await waitFor('every sidecar to settle what it received, nothing in flight', 60_000, async () => {
      const totals = await sidecarTotals();
      if (totals.every((t) => t.inFlight === 0 && t.settled >= received.get(t.label)!)) return true;
      // Thrown, so a missed deadline names where each sidecar stood.
      throw new Error(JSON.stringify({ received: Object.fromEntries(received), totals }));
    });
    const { records } = await listed();
    assert.deepEqual(
      records.map((r) => `${r.service} ${r.score} ${r.reasons?.join(',')} ${r.line.slice(0, 160)}`),
      [],
    );
    // Quiet because nothing was wrong, not because nothing was scored.
    const scored = async (service: string) => (await series(service)).reduce((n, p) => n + p.scored, 0);
    assert.ok((await scored('backend')) > QUIET_SECONDS, 'backend lines were scored');
    assert.ok((await scored('frontend')) > QUIET_SECONDS, 'frontend lines were scored');
    console.error(
      `at rest: ${records.length} anomalies listed after ${QUIET_SECONDS} s, ${sent} client errors sent`,
    );
  });

  it('lists a fault burst within 5 s, in the backend’s series and on the console API', async () => {
    const anomalous = async () => (await series('backend')).reduce((n, p) => n + p.anomalous, 0);
    const baseline = await anomalous();
    // What `npm run fault -- burst 20` sends, sent from here so the clock does not include the
    // CLI's own start-up (a tsx process).
    const request = faultRequest(['burst', '20']);
    const t0 = Date.now();
    const response = await fetch(`${backendUrlOf(platform.state())}${request.path}`, {
      method: request.method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request.body),
    });
    assert.deepEqual(await response.json(), { logged: 20 });
    // Within 5 s by construction, not by this machine's speed: the pipeline holds a line back at most
    // the router's flush plus the sidecar's batch age (≤ 2 s, plan.test.ts), and a fault line is
    // flagged in whatever batch it lands (model/test/at-rest.test.ts). Here it must be listed; the
    // time it took is the figure, waited for with a deadline a loaded machine meets.
    const found = await waitFor('the burst is listed', 30_000, async () => {
      const { records } = await listed('backend');
      return records.some((r) => r.line.includes('unhandled error burst')) ? records : undefined;
    });
    const elapsed = Date.now() - t0;
    assert.ok(
      found.every((r) => r.line.includes('unhandled error burst')),
      'only the fault is listed',
    );
    await waitFor(
      'the backend’s anomalous count to rise',
      10_000,
      async () => (await anomalous()) > baseline,
    );
    console.error(`fault burst → listed: ${elapsed} ms`);
  });

  it('npm run fault -- burst 20 reaches the backend of the running platform', async () => {
    const run = await runScript('fault', ['burst', '20'], {
      env: { LOCAL_STATE_FILE: platform.stateFile },
      timeoutMs: 30_000,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { logged: 20 });
  });

  it('brings a killed backend back, healthy, within 10 s', async () => {
    const before = platform.state().processes.find((p) => p.label === 'backend')!;
    const t0 = Date.now();
    process.kill(before.pid!, 'SIGKILL');
    await waitFor('backend restarted and healthy', 20_000, async () => {
      const now = platform.state().processes.find((p) => p.label === 'backend')!;
      if (now.pid === before.pid || !now.healthy) return undefined;
      const r = await fetch(`${web}/api/services`);
      const body = (await r.json()) as { services: Array<{ name: string; health: string }> };
      return r.ok && body.services.find((s) => s.name === 'backend')?.health === 'up' ? true : undefined;
    });
    assert.ok(Date.now() - t0 < 10_000, `back after ${Date.now() - t0} ms`);
    assert.match(
      platform.output(),
      new RegExp(`backend\\s+\\| \\[local\\] exited unexpectedly \\(pid ${before.pid}, signal SIGKILL\\)`),
    );
  });

  it('a good canary of the frontend completes, with the declared 10 % split observed at the ALB and no request failed by the switch', async () => {
    const traffic = steadyTraffic(web);
    const run = await deploy(['--local', '--service', 'frontend']);
    await traffic.stop();
    console.log(
      `[figure] good canary: start to completed ${run.ms} ms; traffic ${traffic.counts.requests} requests, ${traffic.counts.failed} failed by the switch`,
    );
    console.log(run.stdout);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /frontend: deployment started \(CANARY\)/);
    assert.match(run.stdout, /production traffic 10% new/);
    assert.match(run.stdout, /rollout COMPLETED .* frontend:2 serves all traffic, frontend:1 stopped/);
    // Observed per stage: the test route (probes only, no production traffic), the canary, then all traffic.
    const observed = [
      ...run.stdout.matchAll(
        /observed at the load balancer: (\d+) requests, (\d+) \(([\d.]+)%\) to frontend:2/g,
      ),
    ];
    assert.equal(observed.length, 3, run.stdout);
    const split = observed[1]!;
    assert.ok(Number(split[1]) >= 50, `enough requests in the canary phase: ${split[1]}`);
    const share = Number(split[3]);
    assert.ok(share > 2 && share < 25, `about 10 % of the canary phase went to the new revision: ${share}`);
    assert.equal(traffic.counts.failed, 0);
    // The console's deployments view reads the runtime's state file.
    const deployments = JSON.parse(readFileSync(join(platform.stateDir, 'deployments.json'), 'utf8'));
    const frontend = deployments.services.find((s: { service: string }) => s.service === 'frontend');
    assert.equal(frontend.strategy, 'canary');
    assert.equal(frontend.deployments[0].revision, 'frontend:2');
    assert.equal(frontend.deployments[0].rolloutState, 'completed');
  });

  it('a bad backend release (FAULT_ERROR_RATE=0.5) is rolled back on its errors and anomalies; all traffic back on the old revision', async () => {
    const traffic = steadyTraffic(web);
    const run = await deploy(['--local', '--service', 'backend', '--env', 'FAULT_ERROR_RATE=0.5']);
    await traffic.stop();
    console.log(run.stdout);
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    // The gate's verdict (or the declared anomaly-rate alarm, whichever has its evidence first).
    assert.match(
      run.stdout,
      /backend: ROLLING BACK backend:2: (gate worse: |anomaly rate [\d.]+ % of \d+ lines ≥ 5 % \(rollbackOn anomaly-rate\))/,
    );
    assert.match(run.stdout, /backend: rolled back; backend:1 serves all traffic/);
    assert.match(run.stderr, /deploy: backend: rolled-back: (gate worse|anomaly rate)/);
    const state = platform.state();
    const control = state.control!;
    const outcome = (await (
      await fetch(`${control.url}/deployments/local-2`, {
        headers: { authorization: `Bearer ${control.token}` },
      })
    ).json()) as { outcome: { decidedAt: number; trafficBackAt: number; firstBadAt?: number } };
    const backendSidecars = state.processes.filter(
      (p) => p.label.startsWith('backend') && p.role === 'sidecar',
    );
    assert.ok(backendSidecars.length >= 1);
    const decision = outcome.outcome;
    // The new revision's first bad line (its earliest anomalous line or 5xx answer), as the runtime reports it.
    assert.match(run.stdout, /backend: first bad line of backend:2 at \d+/);
    const firstMs = decision.firstBadAt;
    console.log(
      `[figure] bad release: first bad line -> decision ${firstMs === undefined ? 'n/a' : decision.decidedAt - firstMs} ms; decision -> all traffic on the old revision ${decision.trafficBackAt - decision.decidedAt} ms; ${traffic.counts.failed} requests failed by the switch`,
    );
    assert.ok(firstMs !== undefined, 'the new revision wrote a bad line');
    assert.ok(decision.decidedAt - firstMs <= 30_000);
    assert.ok(decision.trafficBackAt - decision.decidedAt <= 5000);
    assert.equal(traffic.counts.failed, 0);
  });

  it('stops on SIGTERM within a few seconds and leaves no process behind', async () => {
    const groups = platform.state().processes.flatMap((p) => p.processGroups);
    // At least the model, backend, frontend, two sidecars and predict; restarts and revisions add more.
    assert.ok(groups.length >= 6, `${groups.length} process groups recorded`);
    const pid = platform.child.pid!;
    const t0 = Date.now();
    platform.child.kill('SIGTERM');
    const { code } = await platform.exited;
    const elapsed = Date.now() - t0;
    assert.equal(code, 0, platform.output().slice(-2000));
    assert.ok(elapsed < 10_000, `stopped in ${elapsed} ms`);
    assert.equal(isAlive(pid), false);
    assert.deepEqual(
      groups.filter((g) => groupAlive(g)),
      [],
      'every recorded process group is gone',
    );
  });

  const deploy = (args: string[]) =>
    runScript('deploy', args, { env: { LOCAL_STATE_FILE: platform.stateFile } });
});

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
      // Paces the demand (about 50 requests a second per loop); not a wait on anything.
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
