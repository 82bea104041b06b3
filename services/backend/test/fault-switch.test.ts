import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createBackendApp } from '../src/app.ts';
import { FaultSwitch } from '../src/fault-switch.ts';
import { LocalAnomalySource } from '../src/local-anomaly-source.ts';

function backendWithFaults(random: () => number, now = () => Date.UTC(2026, 0, 1)) {
  const faultLines: Record<string, unknown>[] = [];
  const faults = new FaultSwitch({
    enabled: true,
    dependencyTimeoutMs: 20,
    log: (l) => faultLines.push(l),
    random,
    now,
  });
  const app = createBackendApp({
    services: [],
    anomalies: new LocalAnomalySource({ services: [], timeoutMs: 100 }),
    scoring: undefined,
    faults,
    healthTimeoutMs: 100,
    log: () => undefined,
  });
  return { app, faultLines };
}

const post = (body: unknown) => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});

describe('fault switch (FAULTS_ENABLED=1)', () => {
  test('off by default; error bursts answer 500 and log a stack trace', async () => {
    const { app, faultLines } = backendWithFaults(() => 0.1);
    assert.equal((await app.request('/api/services')).status, 200);
    const set = await app.request('/api/faults', post({ errorRate: 0.5 }));
    assert.deepEqual(await set.json(), {
      enabled: true,
      errorRate: 0.5,
      slowMs: 0,
      timeoutRate: 0,
      expiresAt: null,
    });
    const res = await app.request('/api/services');
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: { code: 'internal', message: 'internal error' } });
    assert.equal(faultLines.length, 1);
    assert.equal(
      faultLines[0]!.msg,
      'unhandled injected error: read ECONNRESET while querying orders-db (10.0.3.17:5432)',
    );
    assert.match(String(faultLines[0]!.stack), /^Error: read ECONNRESET[^\n]*\n {4}at /);
    // The switch's own routes are never faulted, so it can always be turned off.
    assert.equal((await app.request('/api/faults', post({}))).status, 200);
    assert.equal((await app.request('/api/services')).status, 200);
  });

  test('dependency timeouts answer 504 after the dependency deadline', async () => {
    const { app, faultLines } = backendWithFaults(() => 0);
    await app.request('/api/faults', post({ timeoutRate: 1 }));
    const res = await app.request('/api/services');
    assert.equal(res.status, 504);
    assert.deepEqual(await res.json(), {
      error: { code: 'gateway_timeout', message: 'a dependency did not answer in time' },
    });
    assert.equal(faultLines[0]!.code, 'ETIMEDOUT');
  });

  test('slow responses add the configured latency', async () => {
    const { app } = backendWithFaults(() => 0.99);
    await app.request('/api/faults', post({ slowMs: 120 }));
    const started = performance.now();
    assert.equal((await app.request('/api/services')).status, 200);
    assert.ok(performance.now() - started >= 115, 'the request was not slowed');
  });

  test('settings expire after durationSeconds', async () => {
    let now = Date.UTC(2026, 0, 1);
    const { app } = backendWithFaults(
      () => 0,
      () => now,
    );
    const set = await app.request('/api/faults', post({ errorRate: 1, durationSeconds: 60 }));
    assert.equal(((await set.json()) as { expiresAt: string }).expiresAt, '2026-01-01T00:01:00.000Z');
    assert.equal((await app.request('/api/services')).status, 500);
    now += 60_000;
    assert.equal((await app.request('/api/services')).status, 200);
  });

  test('burst writes exactly count error lines; bad settings are 400s', async () => {
    const { app, faultLines } = backendWithFaults(() => 0.99);
    const res = await app.request('/api/faults/burst', post({ count: 3 }));
    assert.deepEqual(await res.json(), { logged: 3 });
    assert.equal(faultLines.length, 3);
    const bad = await app.request('/api/faults', post({ errorRate: 2, slowMs: 'slow', extra: true }));
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      error: {
        code: 'invalid_request',
        message: 'request does not match the schema',
        issues: [
          { path: 'errorRate', message: 'Too big: expected number to be <=1' },
          { path: 'slowMs', message: 'Invalid input: expected number, received string' },
          { path: '(root)', message: 'Unrecognized key: "extra"' },
        ],
      },
    });
  });
});

describe('fault routes answer loopback names only (DNS rebinding)', () => {
  // A page on evil.example whose name the attacker rebinds to 127.0.0.1 reaches the backend (or the
  // console in front of it) with its own name in Host: it must not turn faults on for 24 h.
  const request = (path: string, headers: Record<string, string>, body?: unknown) =>
    new Request(`http://127.0.0.1:8081${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  test('another Host, or another forwarded Host, is a 403 and changes nothing', async () => {
    const { app } = backendWithFaults(() => 0.1);
    const attempts: Record<string, string>[] = [
      { host: 'evil.example:8081' },
      { host: '127.0.0.1:8081', 'x-forwarded-host': 'evil.example:8080' },
    ];
    for (const headers of attempts) {
      for (const [path, body] of [
        ['/api/faults', { errorRate: 1, durationSeconds: 86_400 }],
        ['/api/faults/burst', { count: 5 }],
        ['/api/faults', undefined],
      ] as const) {
        const res = await app.request(request(path, headers, body));
        assert.equal(res.status, 403, `${path} ${JSON.stringify(headers)}`);
        assert.deepEqual(await res.json(), {
          error: {
            code: 'forbidden',
            message: 'the fault switch answers only to localhost, 127.0.0.1 or [::1] (DNS rebinding)',
          },
        });
      }
    }
    const state = await app.request(request('/api/faults', { host: 'localhost:8081' }));
    assert.equal(((await state.json()) as { errorRate: number }).errorRate, 0);
  });

  test('loopback names work, with or without a port', async () => {
    const { app } = backendWithFaults(() => 0.1);
    for (const host of ['127.0.0.1:8081', 'localhost', 'localhost:8080', '[::1]:8081']) {
      const res = await app.request(request('/api/faults', { host }, { slowMs: 1 }));
      assert.equal(res.status, 200, host);
    }
  });
});
