import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { App, Image, ModelEndpoint, Platform, WebService } from '../../../config/index.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { faultTarget, runFault, serviceUrlOf } from '../fault-cli.ts';
import { type RunningPlatform, type RuntimeState, startPlatform } from '../platform.ts';

/**
 * Issue 21, item 5: `fault SERVICE burst|on RATE|off|status` for any declared service (not only a
 * `backend`), always at the service's current revision after a `deploy --local`; an unknown service is
 * one line naming the services, exit 2; one path per service: its own switch when it has one, else the
 * runtime's control endpoint (fault-edge.test.ts runs that path on a real start).
 */

const proc = (label: string, port: number, pid: number | null, service = label.split('@')[0]) => ({
  label,
  role: 'service' as const,
  service,
  port,
  pid,
  processGroups: pid === null ? [] : [pid],
  restarts: 0,
  healthy: pid !== null,
});

function state(processes: RuntimeState['processes']): RuntimeState {
  return { supervisorPid: process.pid, startedAt: '', urls: { web: '', api: '', model: null }, processes };
}

describe('fault for any service', () => {
  it('reads the service first, and keeps `fault burst` meaning the backend', () => {
    assert.deepEqual(faultTarget(['orders', 'burst', '5']), {
      service: 'orders',
      request: { method: 'POST', path: '/api/faults/burst', body: { count: 5 } },
    });
    assert.deepEqual(faultTarget(['pyapi', 'on', '0.2']), {
      service: 'pyapi',
      request: { method: 'POST', path: '/api/faults', body: { errorRate: 0.2, durationSeconds: 300 } },
    });
    assert.deepEqual(faultTarget(['status']), {
      service: 'backend',
      request: { method: 'GET', path: '/api/faults' },
    });
    assert.throws(() => faultTarget(['orders']), { message: 'a command is required' });
  });

  it("reaches the service's current revision after a local deployment, whatever its name", () => {
    const deployed = state([
      proc('orders', 4000, null),
      proc('orders/sidecar', 4001, 11),
      proc('orders@2', 5000, 12),
      proc('pyapi', 6000, 13),
    ]);
    assert.equal(serviceUrlOf(deployed, 'orders'), 'http://127.0.0.1:5000');
    assert.equal(serviceUrlOf(deployed, 'pyapi'), 'http://127.0.0.1:6000');
  });

  it('names the running services for an unknown one', () => {
    const running = state([proc('orders', 4000, 1), proc('pyapi', 6000, 2)]);
    assert.throws(() => serviceUrlOf(running, 'nope'), {
      message: "no service 'nope' in the running platform (services: orders, pyapi)",
    });
  });

  describe('against a running platform', () => {
    let dir: string;
    let file: string;
    let server: Server;
    let missing: Server;
    let control: Server;
    let proxy: Server;
    const calls: string[] = [];
    const controlCalls: Array<{ call: string; authorization?: string; body: unknown }> = [];
    before(async () => {
      // `orders@2` has the fault switch; `pyapi` answers anything with 200, as a service without one may.
      server = createServer((req, res) => {
        calls.push(`${req.method} ${req.url}`);
        res.setHeader('content-type', 'application/json');
        if (req.method === 'GET' && req.url === '/api/faults') {
          res.end('{"enabled":true,"errorRate":0,"slowMs":0,"timeoutRate":0,"expiresAt":null}');
        } else if (req.url === '/api/faults/burst') {
          res.end(JSON.stringify({ logged: 5 }));
        } else {
          res.statusCode = 404;
          res.end();
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      missing = createServer((req, res) => {
        calls.push(`pyapi ${req.method} ${req.url}`);
        res.setHeader('content-type', 'application/json');
        res.end('{"service":"pyapi"}');
      });
      await new Promise<void>((r) => missing.listen(0, '127.0.0.1', r));
      // A console-like web server that forwards /api/* to a service with the switch: the switch's state
      // comes back through it, marked by the proxy's Via (services/frontend's backend proxy).
      proxy = createServer((req, res) => {
        calls.push(`console ${req.method} ${req.url}`);
        res.setHeader('content-type', 'application/json');
        res.setHeader('via', '1.1 console');
        res.end('{"enabled":true,"errorRate":0,"slowMs":0,"timeoutRate":0,"expiresAt":null}');
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      // The runtime's control endpoint: records what it is asked, answers as the runtime would.
      control = createServer((req, res) => {
        let text = '';
        req.on('data', (c: Buffer) => {
          text += c.toString();
        });
        req.on('end', () => {
          controlCalls.push({
            call: `${req.method} ${req.url}`,
            ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
            body: text ? JSON.parse(text) : undefined,
          });
          res.setHeader('content-type', 'application/json');
          res.end('{"service":"x","errorRate":0.5,"by":"the local runtime"}');
        });
      });
      await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
      dir = mkdtempSync(join(tmpdir(), 'fault-any-'));
      file = join(dir, 'runtime.json');
      writeFileSync(
        file,
        JSON.stringify({
          ...state([
            proc('orders', 1, null),
            proc('orders@2', port, process.pid),
            proc('pyapi', (missing.address() as AddressInfo).port, process.pid),
            { ...proc('mailer', 0, process.pid), port: null },
            proc('console', (proxy.address() as AddressInfo).port, process.pid),
          ]),
          control: { url: `http://127.0.0.1:${(control.address() as AddressInfo).port}`, token: 't0ken' },
        }),
      );
    });
    after(() => {
      server.close();
      missing.close();
      control.close();
      proxy.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const run = async (args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runFault(args, {
        stateFile: file,
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    it('bursts the current revision of a service that is not the backend, through its own switch', async () => {
      const { code, out, err } = await run(['orders', 'burst', '5']);
      assert.equal(code, 0, err);
      assert.equal(out, '{"logged":5}');
      // Asked once, read-only, which path it takes; then its own switch only.
      assert.deepEqual(calls, ['GET /api/faults', 'POST /api/faults/burst']);
      assert.deepEqual(controlCalls, []);
    });

    it('refuses an unknown service in one line naming the services, exit 2', async () => {
      const { code, err } = await run(['nope', 'status']);
      assert.equal(code, 2);
      assert.equal(
        err,
        "fault: no service 'nope' in the running platform (services: orders, pyapi, mailer, console). Fix: fault SERVICE burst|on RATE|off|status with one of them.",
      );
    });

    it('asks for a service when none is given and the platform has no backend, exit 2', async () => {
      const { code, err } = await run(['status']);
      assert.equal(code, 2);
      assert.equal(
        err,
        'fault: this platform has no service named backend, the default. Fix: name the service: fault SERVICE burst|on RATE|off|status (services: orders, pyapi, mailer, console).',
      );
    });

    it('turns a service without a switch on, off and asks its status at the runtime’s control endpoint, with its token', async () => {
      calls.length = 0;
      assert.equal((await run(['pyapi', 'on', '0.5'])).code, 0);
      assert.equal((await run(['pyapi', 'off'])).code, 0);
      const status = await run(['pyapi', 'status']);
      assert.equal(status.code, 0, status.err);
      assert.equal(status.out, '{"service":"x","errorRate":0.5,"by":"the local runtime"}');
      // Only the read-only question reached the service itself.
      assert.deepEqual(calls, ['pyapi GET /api/faults', 'pyapi GET /api/faults', 'pyapi GET /api/faults']);
      assert.deepEqual(controlCalls, [
        {
          call: 'POST /faults',
          authorization: 'Bearer t0ken',
          body: { service: 'pyapi', errorRate: 0.5, durationSeconds: 300 },
        },
        { call: 'POST /faults', authorization: 'Bearer t0ken', body: { service: 'pyapi', errorRate: 0 } },
        { call: 'GET /faults?service=pyapi', authorization: 'Bearer t0ken', body: undefined },
      ]);
    });

    it('asks a worker (no port) nothing: the runtime paces its failures', async () => {
      controlCalls.length = 0;
      calls.length = 0;
      assert.equal((await run(['mailer', 'on', '1'])).code, 0);
      assert.deepEqual(calls, []);
      assert.deepEqual(controlCalls, [
        {
          call: 'POST /faults',
          authorization: 'Bearer t0ken',
          body: { service: 'mailer', errorRate: 1, durationSeconds: 300 },
        },
      ]);
    });

    it('takes a switch answered through a proxy (Via) for another service’s: the runtime faults the proxy itself', async () => {
      controlCalls.length = 0;
      calls.length = 0;
      assert.equal((await run(['console', 'on', '0.5'])).code, 0);
      assert.deepEqual(calls, ['console GET /api/faults']);
      assert.deepEqual(controlCalls, [
        {
          call: 'POST /faults',
          authorization: 'Bearer t0ken',
          body: { service: 'console', errorRate: 0.5, durationSeconds: 300 },
        },
      ]);
    });

    it('refuses a rate out of range in one line with the fix, before asking anything, exit 2', async () => {
      controlCalls.length = 0;
      const { code, err } = await run(['pyapi', 'on', '1.5']);
      assert.equal(code, 2);
      assert.equal(
        err,
        "fault: on takes a number from 0 to 1; got '1.5'. Fix: fault [SERVICE] on [RATE 0 to 1] | off | burst [COUNT 1 to 1000] | status (fault --help).",
      );
      assert.deepEqual(controlCalls, []);
    });
  });
});

describe('fault SERVICE burst for a service without the switch, on a running start', () => {
  const TEAM = fileURLToPath(new URL('./fixtures/team', import.meta.url));
  const FIXTURE = fileURLToPath(new URL('./fixtures/http-service.ts', import.meta.url));
  let platform: RunningPlatform;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fault-burst-'));
    const app = new App();
    const team = new Platform(app, 'team', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
    new ModelEndpoint(team, 'log-anomaly', {
      image: Image.fromDockerfile('Dockerfile.model', { entry: FIXTURE }),
      artifactDir: '.',
    });
    // A team's Node service: it answers every path with 200, and has no fault switch.
    new WebService(team, 'orders', {
      image: Image.fromDockerfile('orders/Dockerfile'),
      port: 3000,
      local: { command: ['node', 'orders/server.mjs'] },
    });
    platform = await startPlatform({
      wiring: wirePlatform(app.synth()),
      root: TEAM,
      webPort: 0,
      apiPort: 0,
      modelPort: 0,
      out: new PassThrough().resume(),
      stateFile: join(dir, 'runtime.json'),
      parts: {
        sidecarEntry: FIXTURE,
        predictHandler: `${fileURLToPath(new URL('./fixtures/handler.ts', import.meta.url))}#handler`,
        lambdaHostEntry: fileURLToPath(new URL('../lambda-host.ts', import.meta.url)),
      },
      readyTimeoutMs: 30_000,
    });
  });
  after(async () => {
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes the burst into the service's log stream through the runtime: its sidecar receives it", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runFault(['orders', 'burst', '3'], {
      stateFile: join(dir, 'runtime.json'),
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    assert.equal(code, 0, err.join('\n'));
    assert.deepEqual(JSON.parse(out.join('')), {
      logged: 3,
      by: 'the local runtime (orders has no fault switch)',
    });
    const sidecar = platform.state().processes.find((p) => p.label === 'orders/sidecar');
    type Rec = { log: string; container_name: string; source: string };
    let records: Rec[] = [];
    await waitFor('the burst at the sidecar', 10_000, async () => {
      records = (await (await fetch(`http://127.0.0.1:${sidecar!.port}/received`)).json()) as Rec[];
      return records.filter((r) => r.log.startsWith('Error: fault burst')).length >= 3;
    });
    const first = records.find((r) => r.log.startsWith('Error: fault burst'));
    assert.equal(first?.container_name, 'orders');
    assert.equal(first?.source, 'stderr');
    assert.ok(
      records.some((r) => /^ {4}at /.test(r.log)),
      'its stack frames follow',
    );
  });
});
