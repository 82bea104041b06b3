import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { type AnomalyModel, loadModel } from '../../core/model.ts';
import { createInferenceApp } from '../app.ts';
import { answerInvocation, isInvocation } from '../invocations-listener.ts';
import { type RunningInferenceServer, startInferenceServer } from '../server.ts';

/**
 * The plain node:http invocation path answers exactly as the hono app does (same bodies, statuses and
 * error shapes), over real HTTP.
 */

let server: RunningInferenceServer;
let model: AnomalyModel;
before(async () => {
  model = await loadModel();
  server = await startInferenceServer({ port: 0, log: () => {} });
});
after(() => server.close());

const post = (path: string, body: string, contentType = 'application/json') =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

describe('invocations on the node:http path', () => {
  it('answers the same predictions as the hono app, on both routes', async () => {
    const body = JSON.stringify({
      logs: [
        { timestamp: 1714564800001, message: 'FATAL kernel panic: out of memory' },
        { timestamp: '2024-05-01T12:00:00Z', message: 'INFO GET /api/services 200 3ms' },
      ],
    });
    const viaApp = await createInferenceApp(model).request('/invocations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const expected = await viaApp.json();
    for (const path of ['/invocations', '/endpoints/log-anomaly/invocations', '/invocations?x=1']) {
      const response = await post(path, body);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.deepEqual(await response.json(), expected, path);
    }
  });

  it('answers 415, 400 and 413 in the platform error shape', async () => {
    const cases: Array<[Response, number, string]> = [
      [await post('/invocations', '{"data":[1,2,3,4]}', 'text/plain'), 415, 'unsupported_media_type'],
      [await post('/invocations', '{"data":[1,2,'), 400, 'invalid_json'],
      [await post('/invocations', '{"data":[1,2,3]}'), 400, 'invalid_request'],
      [
        await post('/invocations', `{"logs":[],"x":"${'a'.repeat(PREDICTION_LIMITS.maxBodyBytes)}"}`),
        413,
        'payload_too_large',
      ],
    ];
    for (const [response, status, code] of cases) {
      assert.equal(response.status, status, code);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, code);
      assert.doesNotMatch(body.error.message, /at .*\.ts:\d+/);
    }
  });

  it('leaves every other route to the hono app (ping, 404 in the error shape)', async () => {
    assert.equal((await fetch(`${server.url}/ping`)).status, 200);
    const missing = await fetch(`${server.url}/invocations`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'not_found');
  });

  it('answers 503 while the model loads, and a chunked body past the limit with 413', async () => {
    let loaded: AnomalyModel | undefined;
    const plain: Server = createServer((req, res) => {
      if (isInvocation(req))
        answerInvocation(
          req,
          res,
          () => loaded,
          () => {},
        );
      else res.end();
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/invocations`;
    try {
      const loading = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(loading.status, 503);
      assert.equal(((await loading.json()) as { error: { code: string } }).error.code, 'unavailable');
      loaded = model;
      // A streamed body carries no content-length: the limit is enforced while reading.
      const big = new ReadableStream({
        start(controller) {
          const chunk = new TextEncoder().encode('a'.repeat(1024 * 1024));
          for (let i = 0; i < 6; i++) controller.enqueue(chunk);
          controller.close();
        },
      });
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: big,
        duplex: 'half',
      } as RequestInit);
      assert.equal(response.status, 413);
    } finally {
      plain.closeAllConnections();
      await new Promise((r) => plain.close(r));
    }
  });
});
