import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { PredictionResponseSchema } from '../../../contracts/prediction.ts';
import { type AnomalyModel, DEFAULT_MODEL_DIR, loadModel } from '../../core/model.ts';
import { createInferenceApp } from '../app.ts';
import { type RunningInferenceServer, startInferenceServer } from '../server.ts';

const json = { 'content-type': 'application/json' };
let model: AnomalyModel;
before(async () => {
  model = await loadModel(DEFAULT_MODEL_DIR);
});

describe('GET /ping', () => {
  it('answers 503 while the model loads, then 200 with an empty body', async () => {
    // Prepare
    let resolve!: (m: AnomalyModel) => void;
    const app = createInferenceApp(new Promise<AnomalyModel>((r) => (resolve = r)));
    // Act / Assess
    const before = await app.request('/ping');
    assert.equal(before.status, 503);
    const invoke = await app.request('/invocations', {
      method: 'POST',
      headers: json,
      body: '{"data":[1,2,3,4]}',
    });
    assert.equal(invoke.status, 503);
    assert.deepEqual(await invoke.json(), {
      error: { code: 'unavailable', message: 'the model is still loading' },
    });
    resolve(model);
    await new Promise((r) => setImmediate(r));
    const ready = await app.request('/ping');
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), '');
  });
});

describe('POST /invocations', () => {
  const app = () => createInferenceApp(model);

  it('scores raw log events with template and reasons, in request order', async () => {
    const res = await app().request('/invocations', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        logs: [
          { timestamp: '2024-05-01T12:00:00Z', message: 'INFO GET /api/services 200 12ms request_id=1' },
          {
            timestamp: 1714564800000,
            message: 'FATAL kernel panic: unable to mount root fs on unknown-block(0,0)',
          },
        ],
      }),
    });
    assert.equal(res.status, 200);
    const body = PredictionResponseSchema.parse(await res.json());
    assert.equal(body.predictions.length, 2);
    const [normal, fatal] = body.predictions;
    assert.equal(normal!.anomaly, false);
    assert.equal(normal!.template, 'GET <*> <*> <*> request_id=<*>');
    assert.deepEqual(normal!.reasons, []);
    assert.equal(fatal!.anomaly, true);
    assert.deepEqual(fatal!.reasons, ['new-template', 'severity:FATAL', 'failure-word', 'unusual-content']);
    assert.ok(fatal!.score > normal!.score);
    assert.deepEqual(body.model, {
      name: 'log-anomaly-default',
      version: model.info.version,
      threshold: 0.5,
    });
  });

  it('scores seed vectors, single and batched, and answers on /endpoints/{name}/invocations too', async () => {
    const single = await app().request('/endpoints/log-anomaly/invocations', {
      method: 'POST',
      headers: json,
      body: '{"data":[1714564800,60,3,12]}',
    });
    assert.equal(single.status, 200);
    const one = PredictionResponseSchema.parse(await single.json());
    assert.equal(one.predictions.length, 1);
    assert.deepEqual(one.predictions[0]!.reasons, ['seed-features:message-length']);
    const batch = await app().request('/invocations', {
      method: 'POST',
      headers: json,
      body: '{"data":[[1714564800,60,3,12],[1714564800,60000,3,12]]}',
    });
    const two = PredictionResponseSchema.parse(await batch.json());
    assert.equal(two.predictions[1]!.anomaly, true);
    assert.equal(two.predictions[0]!.anomaly, false);
  });

  it('answers each client error with its status and exact body', async () => {
    const post = (body: string, headers: Record<string, string> = json) =>
      app().request('/invocations', { method: 'POST', headers, body });
    const cases: [Response | Promise<Response>, number, unknown][] = [
      [
        post('{"data":[1,2,3]}'),
        400,
        {
          error: {
            code: 'invalid_request',
            message: 'request does not match the schema',
            issues: [{ path: 'data', message: 'must have exactly 4 numbers' }],
          },
        },
      ],
      [
        post('not json'),
        400,
        {
          error: {
            code: 'invalid_json',
            message: `body is not valid JSON: Unexpected token 'o', "not json" is not valid JSON`,
          },
        },
      ],
      [
        post('{"data":[1,2,3,4]}', { 'content-type': 'text/plain' }),
        415,
        {
          error: {
            code: 'unsupported_media_type',
            message: "content type must be application/json; got 'text/plain'",
          },
        },
      ],
      [
        post(JSON.stringify({ logs: Array.from({ length: 5001 }, () => ({ timestamp: 0, message: 'x' })) })),
        413,
        {
          error: {
            code: 'payload_too_large',
            message: 'logs holds 5001 items; the limit is 5000 per request',
          },
        },
      ],
      [
        post('x'.repeat(5 * 1024 * 1024 + 1)),
        413,
        { error: { code: 'payload_too_large', message: 'body is larger than the limit of 5242880 bytes' } },
      ],
      [app().request('/nope'), 404, { error: { code: 'not_found', message: 'no route for GET /nope' } }],
    ];
    for (const [response, status, body] of cases) {
      const res = await response;
      assert.equal(res.status, status);
      assert.deepEqual(await res.json(), body);
    }
  });

  it('never crashes on arbitrary bodies: 200 or a 4xx in the error shape', async () => {
    const anyEvent = fc.record({
      timestamp: fc.oneof(fc.double(), fc.string(), fc.integer()),
      message: fc.string({ unit: 'binary', maxLength: 200 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.json(),
          fc.array(anyEvent, { maxLength: 5 }).map((logs) => JSON.stringify({ logs })),
          fc.array(fc.double(), { maxLength: 5 }).map((data) => JSON.stringify({ data })),
        ),
        async (body) => {
          const res = await app().request('/invocations', { method: 'POST', headers: json, body });
          const value = (await res.json()) as Record<string, unknown>;
          if (res.status === 200) PredictionResponseSchema.parse(value);
          else {
            assert.ok([400, 413].includes(res.status), `status ${res.status}`);
            assert.equal(typeof (value.error as { code?: unknown }).code, 'string');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('startInferenceServer', () => {
  let server: RunningInferenceServer;
  before(async () => {
    server = await startInferenceServer({ port: 0 });
  });
  after(async () => {
    await server.close();
  });

  it('listens on loopback and serves the contract over HTTP', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const ping = await fetch(`${server.url}/ping`);
    assert.equal(ping.status, 200);
    const res = await fetch(`${server.url}/invocations`, {
      method: 'POST',
      headers: json,
      body: '{"logs":[{"timestamp":0,"message":"INFO configuration reloaded"}]}',
    });
    assert.equal(res.status, 200);
    assert.equal(
      PredictionResponseSchema.parse(await res.json()).predictions[0]!.template,
      'configuration reloaded',
    );
  });

  it('rejects when the artifact directory does not exist', async () => {
    await assert.rejects(
      startInferenceServer({ port: 0, modelDir: '/nonexistent/model' }),
      /cannot read the model artifact/,
    );
  });
});
