import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  App,
  Image,
  InternalService,
  ModelEndpoint,
  OperationsConsole,
  Platform,
  WebService,
  WorkerService,
} from '../../../config/index.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { runFault } from '../fault-cli.ts';
import { type RunningPlatform, startPlatform } from '../platform.ts';
import { prepareFrontendAssets } from '../prepare.ts';

/**
 * Issue 21, item 5: `fault SERVICE on RATE | off | status` for a team's services that have no fault
 * switch of their own — a Python web service behind the local ALB, a Node internal service reached
 * through its service address, a worker — on a running start with the real sidecar and model: the
 * runtime fails RATE of the service's requests at its edge (5xx in the platform's error shape) and
 * logs each failure, with a stack trace, into the service's current revision's log stream, where its
 * sidecar scores it; a worker gets error lines at a pace proportional to RATE; `off` restores it;
 * `status` says so; after a local deployment replaces the revision, the fault follows it.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TEAM = fileURLToPath(new URL('./fixtures/team', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

function teamWiring() {
  const app = new App();
  const team = new Platform(app, 'team', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  new ModelEndpoint(team, 'log-anomaly');
  // A team's Node service, internal: callers reach it through its service address.
  const orders = new InternalService(team, 'orders', {
    image: Image.fromDockerfile('orders/Dockerfile'),
    port: 3000,
    healthCheck: { path: '/healthz' },
    local: { command: ['node', 'orders/server.mjs'] },
  });
  // A team's Python web service behind the local ALB on /py; it names the orders address it was given.
  new WebService(team, 'pyapi', {
    image: Image.fromDockerfile('pyapi/Dockerfile'),
    port: 8000,
    healthCheck: { path: '/healthz' },
    paths: ['/py', '/py/*'],
    talksTo: [orders],
    local: { command: ['python3', '-u', 'pyapi/app.py'] },
  });
  // A worker: no requests, a line every 100 ms.
  new WorkerService(team, 'mailer', { image: Image.fromDockerfile('D', { entry: WORKER }) });
  // The package's console on the default route, as this repository declares it: its API
  // (`console-api`) has its own fault switch, and its web server proxies /api/* to that API.
  new OperationsConsole(team, 'console');
  return wirePlatform(app.synth());
}

type Received = { records: Array<{ line: string; score: number }> };

describe('fault SERVICE on|off|status for services without a switch, at the runtime’s edge', {
  timeout: 240_000,
}, () => {
  let platform: RunningPlatform;
  let dir: string;
  let stateFile: string;
  let printed = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fault-edge-'));
    stateFile = join(dir, 'runtime.json');
    const out = new PassThrough();
    out.on('data', (chunk: Buffer) => {
      printed += chunk.toString();
    });
    platform = await startPlatform({
      wiring: teamWiring(),
      root: TEAM,
      packageRoot: ROOT,
      webPort: 0,
      apiPort: 0,
      modelPort: 0,
      out,
      stateFile,
      readyTimeoutMs: 90_000,
      prepare: (print) => prepareFrontendAssets(ROOT, print),
    });
  });
  after(async () => {
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const fault = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runFault(args, { stateFile, out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const sidecarOf = (label: string) => {
    const sidecar = platform.state().processes.find((p) => p.label === `${label}/sidecar`);
    assert.ok(sidecar?.port, `${label} has a sidecar`);
    return `http://127.0.0.1:${sidecar.port}`;
  };
  /** The sidecar's scored lines that are the rehearsed failures (anomalous ones are listed). */
  const listedFailures = async (label: string) => {
    const { records } = (await (await fetch(`${sidecarOf(label)}/anomalies?limit=500`)).json()) as Received;
    return records.filter((r) => r.line.includes('rehearsed by berth fault'));
  };

  it('pyapi on 1: every request through the local ALB is a 5xx in the error shape, logged with a stack trace and scored', async () => {
    assert.equal((await fetch(`${platform.urls.web}/py/`)).status, 200, 'healthy before the fault');
    const asked = Date.now();
    const on = await fault('pyapi', 'on', '1');
    const answered = Date.now();
    assert.equal(on.code, 0, on.err);
    const state = JSON.parse(on.out) as Record<string, unknown>;
    assert.equal(state.errorRate, 1);
    assert.equal(state.revision, 'pyapi:1');
    const expiresAt = Date.parse(String(state.expiresAt));
    assert.ok(
      expiresAt >= asked + 300_000 && expiresAt <= answered + 300_000,
      `switches itself off 5 minutes after it was set (${state.expiresAt})`,
    );
    for (let i = 0; i < 5; i++) {
      const answer = await fetch(`${platform.urls.web}/py/orders/${i}`);
      assert.equal(answer.status, 500);
      const body = (await answer.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'internal');
      assert.equal(typeof body.error.message, 'string');
    }
    // Printed as the service's own stderr, and scored by its sidecar (the real model) as anomalous.
    assert.match(printed, /^pyapi +\| Error: .*GET \/py\/orders\/0.*rehearsed by berth fault/m);
    assert.match(printed, /^pyapi +\| +at handleRequest /m);
    const listed = await waitFor('the failures scored anomalous at pyapi’s sidecar', 30_000, async () => {
      const failures = await listedFailures('pyapi');
      return failures.length >= 5 ? failures : undefined;
    });
    assert.ok(listed.every((r) => r.score > 0));
    assert.ok(
      listed.some((r) => /\n {4}at /.test(r.line)),
      'the stack trace is part of the scored event',
    );
  });

  it('pyapi status prints the state; off restores it', async () => {
    const status = await fault('pyapi', 'status');
    assert.equal(status.code, 0, status.err);
    const state = JSON.parse(status.out) as Record<string, unknown>;
    assert.equal(state.errorRate, 1);
    assert.ok(Number(state.failed) >= 5, `failed ${state.failed}`);
    const off = await fault('pyapi', 'off');
    assert.equal(off.code, 0, off.err);
    assert.equal((JSON.parse(off.out) as Record<string, unknown>).errorRate, 0);
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${platform.urls.web}/py/`)).status, 200);
    assert.equal((JSON.parse((await fault('pyapi', 'status')).out) as Record<string, unknown>).errorRate, 0);
  });

  it('orders on 1: an internal service fails at its service address, where its callers reach it', async () => {
    const { ordersUrl } = (await (await fetch(`${platform.urls.web}/py/`)).json()) as { ordersUrl: string };
    assert.equal((await fetch(`${ordersUrl}/orders`)).status, 200);
    assert.equal((await fault('orders', 'on', '1')).code, 0);
    const answer = await fetch(`${ordersUrl}/orders`);
    assert.equal(answer.status, 500);
    assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'internal');
    await waitFor('the failure scored at orders’ sidecar', 30_000, async () => {
      return (await listedFailures('orders')).length > 0;
    });
    assert.equal((await fault('orders', 'off')).code, 0);
    assert.equal((await fetch(`${ordersUrl}/orders`)).status, 200);
  });

  it('mailer on 1: a worker gets error lines at a steady pace until off', async () => {
    const on = await fault('mailer', 'on', '1');
    assert.equal(on.code, 0, on.err);
    assert.equal((JSON.parse(on.out) as Record<string, unknown>).revision, 'mailer:1');
    await waitFor('ten failures scored at the worker’s sidecar', 30_000, async () => {
      return (await listedFailures('mailer')).length >= 10;
    });
    const off = await fault('mailer', 'off');
    assert.equal(off.code, 0, off.err);
    // The runtime prints what it writes in order with the worker's own lines: once the worker has
    // printed 20 ticks past the last one before `off`, every failure written before it is printed too.
    const lastTick = () =>
      Math.max(0, ...[...printed.matchAll(/^mailer +\| tick (\d+)$/gm)].map((m) => Number(m[1])));
    const failures = () => printed.match(/^mailer +\| Error: job failed/gm)?.length ?? 0;
    const atOff = lastTick();
    await waitFor('20 ticks after off', 30_000, () => lastTick() >= atOff + 20);
    const written = failures();
    await waitFor('20 more ticks', 30_000, () => lastTick() >= atOff + 40);
    assert.equal(failures(), written, 'no failure written after off');
    assert.equal((JSON.parse((await fault('mailer', 'status')).out) as Record<string, unknown>).errorRate, 0);
  });

  it('after a local deployment of pyapi completes, the fault follows to pyapi:2', async () => {
    assert.equal((await fault('pyapi', 'on', '1')).code, 0);
    const outcome = await platform.deploy('pyapi', {}, () => {});
    assert.deepEqual(outcome, { status: 'completed', revision: 'pyapi:2' });
    const status = JSON.parse((await fault('pyapi', 'status')).out) as Record<string, unknown>;
    assert.equal(status.revision, 'pyapi:2');
    assert.equal((await fetch(`${platform.urls.web}/py/after-deploy`)).status, 500);
    await waitFor('the failure scored at pyapi:2’s sidecar', 30_000, async () => {
      return (await listedFailures('pyapi@2')).some((r) => r.line.includes('/py/after-deploy'));
    });
    assert.equal((await fault('pyapi', 'off')).code, 0);
    assert.equal((await fetch(`${platform.urls.web}/py/`)).status, 200);
  });

  it('one path per service: the console’s API keeps its own switch; its web server, which proxies /api, gets the runtime’s', async () => {
    const api = await fault('console-api', 'status');
    assert.equal(api.code, 0, api.err);
    assert.deepEqual(JSON.parse(api.out), {
      enabled: true,
      errorRate: 0,
      slowMs: 0,
      timeoutRate: 0,
      expiresAt: null,
    });
    const on = await fault('console', 'on', '1');
    assert.equal(on.code, 0, on.err);
    assert.equal((JSON.parse(on.out) as { by: string }).by, 'the local runtime');
    assert.equal((await fetch(`${platform.urls.web}/`)).status, 500);
    // The API's own switch was not touched through the web server's proxy.
    assert.equal(
      (JSON.parse((await fault('console-api', 'status')).out) as { errorRate: number }).errorRate,
      0,
    );
    assert.equal((await fault('console', 'off')).code, 0);
    assert.equal((await fetch(`${platform.urls.web}/`)).status, 200);
  });

  it('refuses an unknown service and a rate out of range in one line with the fix, exit 2', async () => {
    const unknown = await fault('nope', 'on', '1');
    assert.equal(unknown.code, 2);
    assert.equal(unknown.err.split('\n').length, 1, unknown.err);
    assert.match(unknown.err, /^fault: no service 'nope' .*Fix: /);
    const range = await fault('pyapi', 'on', '2');
    assert.equal(range.code, 2);
    assert.equal(range.err.split('\n').length, 1, range.err);
    assert.match(range.err, /^fault: .*0 to 1.*Fix: /);
  });
});
