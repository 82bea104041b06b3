import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_ERROR_BODY_CHARS } from '../../../contracts/errors.ts';
import { createSageMakerRuntimeClient, ScoringClient } from '../../../model/client/scoring-client.ts';
import { createBackendApp } from '../src/app.ts';
import type { ServiceTarget } from '../src/config.ts';
import { FaultSwitch } from '../src/fault-switch.ts';
import { LocalAnomalySource } from '../src/local-anomaly-source.ts';
import {
  type RunningServer,
  sampleRecords,
  startModelEndpoint,
  startSidecar,
  unusedPort,
} from './support/upstream-servers.ts';

// GIVEN a backend wired to two real sidecar-shaped servers and a real SageMaker-shaped endpoint.
const NEWEST = Date.UTC(2026, 0, 15, 12, 0, 0);
let frontendSidecar: Awaited<ReturnType<typeof startSidecar>>;
let backendSidecar: Awaited<ReturnType<typeof startSidecar>>;
let model: Awaited<ReturnType<typeof startModelEndpoint>>;
let app: ReturnType<typeof createBackendApp>;
const logLines: Record<string, unknown>[] = [];
const servers: RunningServer[] = [];

before(async () => {
  frontendSidecar = await startSidecar('frontend', { records: 4, newest: NEWEST });
  backendSidecar = await startSidecar('backend', { records: 3, newest: NEWEST - 30_000 });
  model = await startModelEndpoint('log-anomaly');
  servers.push(frontendSidecar, backendSidecar, model);
  const services: ServiceTarget[] = [
    { name: 'frontend', healthUrl: `${frontendSidecar.url}/health`, sidecarUrl: frontendSidecar.url },
    { name: 'backend', healthUrl: `${backendSidecar.url}/health`, sidecarUrl: backendSidecar.url },
    { name: 'worker', healthUrl: `http://127.0.0.1:${await unusedPort()}/healthz` },
  ];
  app = createBackendApp({
    services,
    anomalies: new LocalAnomalySource({ services, timeoutMs: 300 }),
    scoring: new ScoringClient({
      endpointName: 'log-anomaly',
      runtime: createSageMakerRuntimeClient({ endpointUrl: model.url, maxAttempts: 1 }),
      timeoutMs: 300,
    }),
    faults: new FaultSwitch({ enabled: false, dependencyTimeoutMs: 10, log: (l) => logLines.push(l) }),
    healthTimeoutMs: 300,
    log: (line) => logLines.push(line),
  });
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const json = (body: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  body,
  headers: { 'content-type': 'application/json', ...headers },
});

describe('GET routes', () => {
  test('GET /healthz answers ok', async () => {
    const res = await app.request('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  test('GET /api/services probes every service: up, up, and down for a refused connection', async () => {
    const res = await app.request('/api/services');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { anomalySource: string; services: Record<string, unknown>[] };
    assert.equal(body.anomalySource, 'local');
    assert.deepEqual(
      body.services.map((s) => [s.name, s.health, s.httpStatus, s.detail]),
      [
        ['frontend', 'up', 200, undefined],
        ['backend', 'up', 200, undefined],
        ['worker', 'down', undefined, 'connection refused'],
      ],
    );
  });

  test('GET /api/services/:service/series forwards the query and returns the sidecar series', async () => {
    const res = await app.request('/api/services/frontend/series?bucketSeconds=60&buckets=3');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { service: string; bucketSeconds: number; points: { t: number }[] };
    assert.equal(body.service, 'frontend');
    assert.equal(body.bucketSeconds, 60);
    assert.deepEqual(
      body.points.map((p) => p.t),
      [NEWEST - 120_000, NEWEST - 60_000, NEWEST],
    );
    assert.equal(frontendSidecar.requests.at(-1), 'GET /series?bucketSeconds=60&buckets=3');
  });

  test('GET /api/anomalies merges the sidecars newest first and cuts to the limit', async () => {
    const res = await app.request('/api/anomalies?limit=4');
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      records: { service: string; timestamp: string }[];
      unavailable: unknown;
    };
    assert.deepEqual(
      body.records.map((r) => [r.service, r.timestamp]),
      [
        ['frontend', new Date(NEWEST).toISOString()],
        ['backend', new Date(NEWEST - 30_000).toISOString()],
        ['frontend', new Date(NEWEST - 60_000).toISOString()],
        ['backend', new Date(NEWEST - 90_000).toISOString()],
      ],
    );
    assert.deepEqual(body.unavailable, [{ service: 'worker', reason: 'no anomaly sidecar configured' }]);
  });

  test('GET /api/anomalies?service= reads only that sidecar', async () => {
    const res = await app.request('/api/anomalies?service=backend&limit=2');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      records: sampleRecords('backend', 2, NEWEST - 30_000),
      unavailable: [],
    });
  });
});

describe('operations routes (local adapter by default)', () => {
  test('deployments, remediation, alarms and capacity answer with their source and why they are empty', async () => {
    const get = async (path: string) => {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      return (await res.json()) as Record<string, unknown>;
    };
    assert.deepEqual(await get('/api/deployments'), {
      source: 'local',
      services: [],
      note: 'DEPLOYMENTS_STATE_FILE is not set',
    });
    const remediation = await get('/api/remediation');
    assert.equal(remediation.budget, null);
    assert.match(String(remediation.note), /^remediation runs on AWS only/);
    const alarms = (await get('/api/alarms')) as { alarms: { name: string; state: string }[] };
    assert.deepEqual(
      alarms.alarms.map((a) => [a.name, a.state]),
      [
        ['frontend-unhealthy', 'OK'],
        ['backend-unhealthy', 'OK'],
        ['worker-unhealthy', 'ALARM'],
      ],
    );
    assert.deepEqual(await get('/api/capacity'), {
      source: 'local',
      instances: [],
      tasks: [],
      processes: [],
      note: 'PROCESSES_STATE_FILE is not set',
    });
  });
});

describe('prediction proxy', () => {
  test('POST /api/predict scores log lines through the model endpoint', async () => {
    const res = await app.request(
      '/api/predict',
      json(
        JSON.stringify({
          logs: [
            { timestamp: '2026-01-15T12:00:00Z', message: 'GET /index.html 200' },
            { timestamp: 1768478400000, message: 'FATAL kernel: machine check exception' },
          ],
        }),
      ),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      predictions: [
        { score: 0.08, anomaly: false },
        { score: 0.91, anomaly: true },
      ],
      model: { name: 'test-model', version: '1', threshold: 0.5 },
    });
  });

  test('a slow model endpoint is a 504 in the error shape', async () => {
    model.behaviour.mode = 'slow';
    model.behaviour.delayMs = 1000;
    try {
      const res = await app.request('/api/predict', json('{"data":[1,2,3,4]}'));
      assert.equal(res.status, 504);
      assert.deepEqual(await res.json(), {
        error: { code: 'gateway_timeout', message: 'the model endpoint did not answer in time' },
      });
    } finally {
      model.behaviour.mode = 'ok';
    }
  });

  test('a failing model endpoint is a 502 in the error shape', async () => {
    model.behaviour.mode = 'http-500';
    try {
      const res = await app.request('/api/predict', json('{"data":[1,2,3,4]}'));
      assert.equal(res.status, 502);
      assert.deepEqual(await res.json(), {
        error: { code: 'bad_gateway', message: 'the model endpoint failed (unavailable)' },
      });
    } finally {
      model.behaviour.mode = 'ok';
    }
  });
});

describe('bad input', () => {
  test('malformed JSON is a 400 invalid_json', async () => {
    const res = await app.request('/api/predict', json('{"logs":['));
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      error: { code: 'invalid_json', message: 'body is not valid JSON: Unexpected end of JSON input' },
    });
  });

  test('wrong types are a 400 invalid_request with the path of each issue', async () => {
    const res = await app.request('/api/predict', json('{"logs":[{"timestamp":"yesterday","message":42}]}'));
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      error: {
        code: 'invalid_request',
        message: 'request does not match the schema',
        issues: [
          { path: 'logs.0.timestamp', message: 'must be an ISO-8601 date' },
          { path: 'logs.0.message', message: 'Invalid input: expected string, received number' },
        ],
      },
    });
  });

  test('100k unknown keys and 5000 bad items: small error bodies that still say what is wrong', async () => {
    const keys = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, 1]));
    const unknown = await app.request('/api/predict', json(JSON.stringify({ data: [1, 2, 3, 4], ...keys })));
    assert.equal(unknown.status, 400);
    const unknownText = await unknown.text();
    assert.ok(unknownText.length <= MAX_ERROR_BODY_CHARS, `${unknownText.length} characters`);
    assert.match(unknownText, /Unrecognized keys: \\"k0\\", \\"k1\\"/);
    const items = await app.request(
      '/api/predict',
      json(JSON.stringify({ data: Array.from({ length: 5000 }, () => [1, 2, 3]) })),
    );
    const body = (await items.json()) as { error: { issues: { path: string; message: string }[] } };
    assert.ok(JSON.stringify(body).length <= MAX_ERROR_BODY_CHARS);
    assert.deepEqual(body.error.issues.at(-1), { path: '(more)', message: '4980 more issues not listed' });
  });

  test('a non-JSON content type is a 415', async () => {
    const res = await app.request('/api/predict', {
      method: 'POST',
      body: 'data=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 415);
    assert.deepEqual(await res.json(), {
      error: {
        code: 'unsupported_media_type',
        message: "content type must be application/json; got 'application/x-www-form-urlencoded'",
      },
    });
  });

  test('an oversized body is a 413, counted on the stream', async () => {
    const body = `{"logs":[{"timestamp":1,"message":"${'x'.repeat(5 * 1024 * 1024)}"}]}`;
    const res = await app.request('/api/predict', json(body));
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), {
      error: { code: 'payload_too_large', message: 'body is larger than the limit of 5242880 bytes' },
    });
  });

  test('an unknown route is a 404 in the error shape', async () => {
    const res = await app.request('/api/nope');
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      error: { code: 'not_found', message: 'no route for GET /api/nope' },
    });
  });

  test('an unknown service is a 404', async () => {
    const res = await app.request('/api/services/ghost/series');
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: { code: 'not_found', message: "no service named 'ghost'" } });
  });

  test('a bad series query is a 400 listing every issue', async () => {
    const res = await app.request('/api/services/frontend/series?bucketSeconds=45&buckets=abc&extra=1');
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      error: {
        code: 'invalid_request',
        message: 'query does not match the schema',
        issues: [
          { path: 'bucketSeconds', message: 'must be 10, 30 or a multiple of 60' },
          { path: 'buckets', message: 'must be a whole number' },
          { path: '(root)', message: 'Unrecognized key: "extra"' },
        ],
      },
    });
  });

  test('a limit out of range is a 400', async () => {
    const res = await app.request('/api/anomalies?limit=0');
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      error: {
        code: 'invalid_request',
        message: 'query does not match the schema',
        issues: [{ path: 'limit', message: 'Too small: expected number to be >=1' }],
      },
    });
  });

  test('the fault switch is a 403 when not enabled by configuration, before the body is read', async () => {
    const res = await app.request('/api/faults', json('not even json'));
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), {
      error: {
        code: 'forbidden',
        message: 'the fault switch is disabled; start the backend with FAULTS_ENABLED=1',
      },
    });
  });
});

describe('request log', () => {
  test('one JSON line per request, with status and the incoming request id', async () => {
    const before = logLines.length;
    const res = await app.request('/api/nope', { headers: { 'x-request-id': 'req-123' } });
    assert.equal(res.headers.get('x-request-id'), 'req-123');
    const lines = logLines.slice(before);
    assert.equal(lines.length, 1);
    const { time, durationMs, ...rest } = lines[0]!;
    assert.match(String(time), /^\d{4}-\d\d-\d\dT/);
    assert.equal(typeof durationMs, 'number');
    assert.deepEqual(rest, {
      level: 'warn',
      service: 'backend',
      msg: 'request',
      method: 'GET',
      path: '/api/nope',
      status: 404,
      requestId: 'req-123',
    });
  });
});
