import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runScript } from '../../../test/support/platform.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { demoRequests, parseDemoTrafficFlag, startDemoTraffic } from '../demo-traffic.ts';
import { backendUrlOf, faultRequest } from '../fault-cli.ts';
import { parsePortVariable } from '../ports.ts';

describe('npm start (main.ts) refusals', () => {
  it('exits 2 with a clear message when WEB_PORT is taken, before starting anything', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runScript('start', [], {
        env: { WEB_PORT: String(port), API_PORT: '0', MODEL_PORT: '0', LOCAL_STATE_FILE: '/dev/null' },
      });
      assert.equal(result.code, 2);
      assert.equal(
        result.stderr.trim(),
        `npm start: port ${port} (WEB_PORT) is already in use on 127.0.0.1. Stop whatever listens there (e.g. \`ss -ltnp 'sport = :${port}'\`) or choose another port: WEB_PORT=<port> npm start`,
      );
      assert.doesNotMatch(result.stdout, /^ready/m);
    } finally {
      blocker.close();
    }
  });

  it('exits 2 with the usage for a bad port value or an unknown flag', async () => {
    for (const [env, args, message] of [
      [
        { API_PORT: 'eighty' },
        [],
        "npm start: API_PORT must be a port number from 0 to 65535 (0 picks a free one); got 'eighty'",
      ],
      [{}, ['--turbo'], 'npm start: unknown argument --turbo'],
      [
        {},
        ['--demo-traffic=0'],
        "npm start: --demo-traffic=R takes a rate from 0 (exclusive) to 100 requests per second; got '--demo-traffic=0'",
      ],
      [{}, ['--now', 'nightly'], 'npm start: --now nightly: no scheduled job of that name (declared: none)'],
      [{}, ['--now'], 'npm start: --now needs the name of a scheduled job'],
    ] as const) {
      const result = await runScript('start', args, { env });
      assert.equal(result.code, 2);
      assert.equal(result.stderr.split('\n')[0], message);
      assert.match(result.stderr, /^usage: npm start/m);
    }
  });
});

describe('parsePortVariable', () => {
  it('defaults, accepts 0 and rejects garbage', () => {
    assert.equal(parsePortVariable('WEB_PORT', undefined, 8080), 8080);
    assert.equal(parsePortVariable('WEB_PORT', '', 8080), 8080);
    assert.equal(parsePortVariable('WEB_PORT', '0', 8080), 0);
    assert.equal(parsePortVariable('WEB_PORT', '9000', 8080), 9000);
    assert.throws(() => parsePortVariable('WEB_PORT', '65536', 8080), /WEB_PORT must be a port number/);
    assert.throws(() => parsePortVariable('WEB_PORT', '-1', 8080), /WEB_PORT must be a port number/);
  });
});

describe('parseDemoTrafficFlag', () => {
  it('is off by default, 2 rps bare, or the given rate', () => {
    assert.equal(parseDemoTrafficFlag([]), undefined);
    assert.equal(parseDemoTrafficFlag(['--demo-traffic']), 2);
    assert.equal(parseDemoTrafficFlag(['--demo-traffic=0.5']), 0.5);
    assert.throws(() => parseDemoTrafficFlag(['--demo-traffic=fast']), /takes a rate/);
  });
});

describe('fault CLI', () => {
  it("maps commands onto the backend's fault endpoints", () => {
    assert.deepEqual(faultRequest(['on']), {
      method: 'POST',
      path: '/api/faults',
      body: { errorRate: 0.5, durationSeconds: 300 },
    });
    assert.deepEqual(faultRequest(['on', '0.2']), {
      method: 'POST',
      path: '/api/faults',
      body: { errorRate: 0.2, durationSeconds: 300 },
    });
    assert.deepEqual(faultRequest(['off']), { method: 'POST', path: '/api/faults', body: {} });
    assert.deepEqual(faultRequest(['burst']), {
      method: 'POST',
      path: '/api/faults/burst',
      body: { count: 20 },
    });
    assert.deepEqual(faultRequest(['burst', '5']), {
      method: 'POST',
      path: '/api/faults/burst',
      body: { count: 5 },
    });
    assert.deepEqual(faultRequest(['status']), { method: 'GET', path: '/api/faults' });
  });

  it('refuses bad commands and values', () => {
    assert.throws(() => faultRequest([]), { message: 'a command is required' });
    assert.throws(() => faultRequest(['explode']), { message: "unknown command 'explode'" });
    assert.throws(() => faultRequest(['on', '2']), { message: "on takes a number from 0 to 1; got '2'" });
    assert.throws(() => faultRequest(['burst', '1.5']), {
      message: "burst takes a whole number from 1 to 1000; got '1.5'",
    });
    assert.throws(() => faultRequest(['off', 'now']), { message: 'off takes no argument' });
  });

  it('finds the backend in the runtime state', () => {
    const state = {
      supervisorPid: 1,
      startedAt: '',
      urls: { web: '', api: '', model: null },
      processes: [
        {
          label: 'backend/sidecar',
          role: 'sidecar' as const,
          port: 1,
          pid: 2,
          processGroups: [2],
          restarts: 0,
          healthy: true,
        },
        {
          label: 'backend',
          role: 'service' as const,
          port: 4321,
          pid: 3,
          processGroups: [3],
          restarts: 0,
          healthy: true,
        },
      ],
    };
    assert.equal(backendUrlOf(state), 'http://127.0.0.1:4321');
    assert.throws(() => backendUrlOf({ ...state, processes: [] }), {
      message: 'the running platform has no backend service',
    });
    // After a deployment (issue 21: it kept calling the first revision's port): the current revision.
    const deployed = {
      ...state,
      processes: [
        { ...state.processes[1]!, pid: null, processGroups: [], healthy: false, service: 'backend' },
        {
          ...state.processes[1]!,
          label: 'backend@2',
          port: 5555,
          pid: 9,
          processGroups: [9],
          service: 'backend',
        },
      ],
    };
    assert.equal(backendUrlOf(deployed), 'http://127.0.0.1:5555');
  });

  it('names the fix, without a stack trace, when the running platform runs no service', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fault-'));
    const file = join(dir, 'runtime.json');
    writeFileSync(
      file,
      JSON.stringify({ supervisorPid: process.pid, startedAt: '', urls: {}, processes: [] }),
    );
    try {
      const result = await runScript('fault', ['status'], { env: { LOCAL_STATE_FILE: file } });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr.trim(),
        'fault: the running platform runs no service. Fix: run fault SERVICE burst|on RATE|off|status against a platform that declares one.',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says when no platform is running', async () => {
    const result = await runScript('fault', ['status'], {
      env: { LOCAL_STATE_FILE: '/nonexistent/runtime.json' },
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr.trim(),
      'fault: no running platform found (/nonexistent/runtime.json); start it with npm start',
    );
  });
});

describe('startDemoTraffic', () => {
  it('sends the requests round-robin at the given rate and counts answers', async () => {
    const { createServer: createHttpServer } = await import('node:http');
    const seen: string[] = [];
    const server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        seen.push(
          `${req.method} ${req.url} ${body ? JSON.stringify(Object.keys(JSON.parse(body))) : ''}`.trim(),
        );
        res.writeHead(req.url === '/api/services' ? 500 : 200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const started = performance.now();
    const traffic = startDemoTraffic(demoRequests({ web: base, api: base }), 20);
    const answered = () => traffic.stats.ok + traffic.stats.failed;
    await waitFor('three requests answered', 10_000, () => answered() >= 3);
    traffic.stop();
    const elapsedMs = performance.now() - started;
    await waitFor('every request sent to be answered', 10_000, () => answered() === traffic.stats.sent);
    server.close();
    // At 20/s a request leaves every 50 ms at the most: never faster, however slow the machine is.
    assert.ok(
      traffic.stats.sent <= Math.floor(elapsedMs / 50) + 1,
      `${traffic.stats.sent} requests in ${Math.round(elapsedMs)} ms at 20/s`,
    );
    // Round-robin in the order sent; the server may finish them in another order (a POST's body can
    // arrive after the next GET on a loaded machine), so the requests it saw are compared as a set.
    const cycle = ['GET /', 'GET /api/services', 'POST /predict ["logs"]'];
    const sent = Array.from({ length: traffic.stats.sent }, (_, i) => cycle[i % cycle.length]!);
    assert.deepEqual([...seen].sort(), sent.sort());
    assert.equal(traffic.stats.ok + traffic.stats.failed, traffic.stats.sent);
    assert.equal(traffic.stats.failed, seen.filter((s) => s === 'GET /api/services').length);
  });
});
