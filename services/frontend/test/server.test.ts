import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { createBackendApp } from '../../backend/src/app.ts';
import { FaultSwitch } from '../../backend/src/fault-switch.ts';
import { LocalAnomalySource } from '../../backend/src/local-anomaly-source.ts';
import { listen, type RunningServer, unusedPort } from '../../backend/test/support/upstream-servers.ts';
import { createFrontendApp } from '../server/app.ts';
import { IMMUTABLE_CACHE, loadStaticAssets } from '../server/static-assets.ts';

// GIVEN built assets on disk, the real backend app on a loopback port, and a backend that hangs.
const assetsDir = mkdtempSync(join(tmpdir(), 'console-assets-'));
const script = `console.log(${JSON.stringify('x'.repeat(2000))});`;
mkdirSync(join(assetsDir, 'assets'));
writeFileSync(join(assetsDir, 'index.html'), '<!doctype html><title>console</title><div id="root"></div>');
writeFileSync(join(assetsDir, 'assets', 'index-AbC123.js'), script);
writeFileSync(join(assetsDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');

let backend: RunningServer;
let hanging: RunningServer;
const backendLog: Record<string, unknown>[] = [];
const frontendFor = (backendUrl: string, backendTimeoutMs = 2000) =>
  createFrontendApp({
    assets: loadStaticAssets(assetsDir),
    backendUrl,
    backendTimeoutMs,
    log: () => undefined,
  });

before(async () => {
  backend = await listen(
    createBackendApp({
      services: [],
      anomalies: new LocalAnomalySource({ services: [], timeoutMs: 100 }),
      scoring: undefined,
      faults: new FaultSwitch({ enabled: false, dependencyTimeoutMs: 10, log: () => undefined }),
      healthTimeoutMs: 100,
      log: (line) => backendLog.push(line),
    }) as unknown as Hono,
  );
  const slow = new Hono();
  slow.all('*', async (c) => {
    await new Promise((r) => setTimeout(r, 1000));
    return c.json({});
  });
  hanging = await listen(slow);
});
after(async () => {
  await Promise.all([backend.close(), hanging.close()]);
  rmSync(assetsDir, { recursive: true, force: true });
});

describe('static console', () => {
  test('index.html is revalidated and carries the CSP and security headers', async () => {
    const res = await frontendFor(backend.url).request('/');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '<!doctype html><title>console</title><div id="root"></div>');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(
      res.headers.get('content-security-policy'),
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    assert.deepEqual(
      ['x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy'].map(
        (h) => res.headers.get(h),
      ),
      ['nosniff', 'DENY', 'no-referrer', 'same-origin'],
    );
  });

  test('hashed assets are cached for a year, compressed, and revalidate with 304', async () => {
    const app = frontendFor(backend.url);
    const res = await app.request('/assets/index-AbC123.js', { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), IMMUTABLE_CACHE);
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(gunzipSync(Buffer.from(await res.arrayBuffer())).toString(), script);
    const br = await app.request('/assets/index-AbC123.js', { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(br.headers.get('content-encoding'), 'br');
    const again = await app.request('/assets/index-AbC123.js', {
      headers: { 'if-none-match': String(res.headers.get('etag')) },
    });
    assert.equal(again.status, 304);
  });

  test('console routes fall back to index.html; a missing file is a 404 in the error shape', async () => {
    const app = frontendFor(backend.url);
    const route = await app.request('/services/frontend');
    assert.equal(route.status, 200);
    assert.equal(route.headers.get('content-type'), 'text/html; charset=utf-8');
    const missing = await app.request('/assets/index-gone.js');
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      error: { code: 'not_found', message: 'no file at /assets/index-gone.js' },
    });
    const post = await app.request('/', { method: 'POST' });
    assert.equal(post.status, 404);
    assert.deepEqual(await post.json(), { error: { code: 'not_found', message: 'no route for POST /' } });
  });

  test('GET /healthz answers without asking the backend', async () => {
    const res = await frontendFor(`http://127.0.0.1:${await unusedPort()}`).request('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });
});

describe('/api proxy', () => {
  test("sends the caller's identity for the live stream's caps: the load balancer's address, never the caller's own claim", async () => {
    const seen: (string | undefined)[] = [];
    const forwardedHosts: (string | undefined)[] = [];
    const echo = new Hono();
    echo.all('*', (c) => {
      seen.push(c.req.header('x-console-identity'));
      forwardedHosts.push(c.req.header('x-forwarded-host'));
      return c.json({});
    });
    const echoing = await listen(echo);
    try {
      await frontendFor(echoing.url).request('/api/events', {
        headers: {
          'x-console-identity': 'user:admin',
          'x-forwarded-for': '203.0.113.9, 10.0.3.17',
          host: 'evil.example:8080',
        },
      });
      await frontendFor(echoing.url).request('/api/services', {
        headers: { 'x-console-identity': 'forged' },
      });
      assert.deepEqual(seen, ['address:10.0.3.17', 'address:unknown']);
      // The browser's Host reaches the backend, whose loopback-only routes judge it (DNS rebinding).
      assert.deepEqual(forwardedHosts, ['evil.example:8080', 'localhost']);
    } finally {
      await echoing.close();
    }
  });

  test('forwards method, path, query, body and the request id; passes the backend answer through', async () => {
    const res = await frontendFor(backend.url).request('/api/anomalies?limit=3', {
      headers: { 'x-request-id': 'trace-42' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { records: [], unavailable: [] });
    assert.deepEqual(
      [backendLog.at(-1)?.path, backendLog.at(-1)?.requestId, backendLog.at(-1)?.status],
      ['/api/anomalies', 'trace-42', 200],
    );
  });

  test("marks what it forwards with Via, so the backend's fault switch is not taken for the frontend's own", async () => {
    const res = await frontendFor(backend.url).request('/api/faults');
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { enabled: boolean }).enabled, false);
    assert.equal(res.headers.get('via'), '1.1 console');
  });

  test("the backend's 4xx answers reach the browser unchanged: malformed JSON, wrong types, unknown route", async () => {
    const app = frontendFor(backend.url);
    const post = (body: string) =>
      app.request('/api/predict', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const malformed = await post('{"data":');
    assert.equal(malformed.status, 400);
    assert.deepEqual(await malformed.json(), {
      error: { code: 'invalid_json', message: 'body is not valid JSON: Unexpected end of JSON input' },
    });
    const wrongType = await post('{"data":"1,2,3,4"}');
    assert.equal(wrongType.status, 400);
    assert.deepEqual(await wrongType.json(), {
      error: {
        code: 'invalid_request',
        message: 'request does not match the schema',
        issues: [{ path: 'data', message: 'Invalid input' }],
      },
    });
    const unknown = await app.request('/api/unknown');
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), {
      error: { code: 'not_found', message: 'no route for GET /api/unknown' },
    });
  });

  test('an oversized body is a 413 at the proxy, before it reaches the backend', async () => {
    const before = backendLog.length;
    const res = await frontendFor(backend.url).request('/api/predict', {
      method: 'POST',
      body: 'x'.repeat(5 * 1024 * 1024 + 1),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), {
      error: { code: 'payload_too_large', message: 'body is larger than the limit of 5242880 bytes' },
    });
    assert.equal(backendLog.length, before);
  });

  test('an unreachable backend is a 502 in the error shape', async () => {
    const res = await frontendFor(`http://127.0.0.1:${await unusedPort()}`).request('/api/services');
    assert.equal(res.status, 502);
    assert.deepEqual(await res.json(), {
      error: { code: 'bad_gateway', message: 'the backend is unreachable' },
    });
  });

  test('a slow backend is a 504 in the error shape', async () => {
    const res = await frontendFor(hanging.url, 150).request('/api/services');
    assert.equal(res.status, 504);
    assert.deepEqual(await res.json(), {
      error: { code: 'gateway_timeout', message: 'the backend did not answer in time' },
    });
  });

  test('a server-sent event stream outlives the header deadline and is not compressed', async () => {
    const { streamSSE } = await import('hono/streaming');
    const events = new Hono();
    events.get('/api/events', (c) =>
      streamSSE(c, async (stream) => {
        for (let i = 0; i < 8; i++) {
          await stream.writeSSE({ event: 'tick', data: String(i) });
          await stream.sleep(100);
        }
      }),
    );
    const upstream = await listen(events);
    try {
      const proxy = await listen(frontendFor(upstream.url, 300) as unknown as Hono);
      try {
        const res = await fetch(`${proxy.url}/api/events`, { headers: { 'accept-encoding': 'gzip' } });
        assert.equal(res.headers.get('content-type'), 'text/event-stream');
        assert.equal(res.headers.get('content-encoding'), null);
        const text = await res.text();
        assert.equal(
          (text.match(/^event: tick$/gm) ?? []).length,
          8,
          'all 8 events, 800 ms > the 300 ms deadline',
        );
      } finally {
        await proxy.close();
      }
    } finally {
      await upstream.close();
    }
  });
});
