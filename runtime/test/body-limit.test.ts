import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { z } from 'zod';
import { PREDICTION_LIMITS } from '../../contracts/prediction.ts';
import { createInferenceApp } from '../../model/serve/app.ts';
import { type RunningInferenceServer, startInferenceServer } from '../../model/serve/server.ts';
import { createBackendApp } from '../../services/backend/src/app.ts';
import { FaultSwitch } from '../../services/backend/src/fault-switch.ts';
import { LocalAnomalySource } from '../../services/backend/src/local-anomaly-source.ts';
import { listen, type RunningServer } from '../../services/backend/test/support/upstream-servers.ts';
import { createFrontendApp } from '../../services/frontend/server/app.ts';
import { loadStaticAssets } from '../../services/frontend/server/static-assets.ts';
import { countedBody, requestDeclaring, sendChunkedSlowly } from '../../test/support/request-bodies.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { bodyLimit } from '../body-limit.ts';
import { IntakeBudget } from '../body-reader.ts';
import { jsonErrorHandler, readJsonBody } from '../hono.ts';

/**
 * Every server of the platform that limits a request body, held to one rule: the limit is counted while
 * the body is read. A body 1 byte past the limit is a 413 in the error shape as soon as that byte arrives
 * — sent slowly, chunked with no Content-Length, or with a Content-Length that understates it — without
 * waiting for the rest and without reading more than the limit; a body of exactly the limit passes it.
 */

/** One server and route with a body limit. */
interface Subject {
  readonly name: string;
  readonly path: string;
  readonly maxBytes: number;
  /** In-process, as `app.request` (absent for a route hono never sees). */
  readonly app?: { request(input: Request): Response | Promise<Response> };
  /** The same route on a loopback port. */
  port(): number;
}

const FAULT_BODY_BYTES = 16 * 1024;
const servers: { close(): Promise<void> }[] = [];
const assetsDir = mkdtempSync(join(tmpdir(), 'body-limit-assets-'));
writeFileSync(join(assetsDir, 'index.html'), '<!doctype html><title>console</title>');

const readJsonApp = new Hono();
readJsonApp.onError(jsonErrorHandler(() => {}));
readJsonApp.post('/json', async (c) => c.json(await readJsonBody(c, z.unknown(), { maxBytes: 1024 })));

const backendApp = createBackendApp({
  services: [],
  anomalies: new LocalAnomalySource({ services: [], timeoutMs: 100 }),
  scoring: undefined,
  faults: new FaultSwitch({ enabled: true, dependencyTimeoutMs: 10, log: () => {} }),
  healthTimeoutMs: 100,
  log: () => {},
}) as unknown as Hono;
// Nothing listens on the discard port: a body that passes the limit is forwarded and answered 502.
const frontendApp = createFrontendApp({
  assets: loadStaticAssets(assetsDir),
  backendUrl: 'http://127.0.0.1:9',
  backendTimeoutMs: 1000,
  log: () => {},
}) as unknown as Hono;
// A model that never finishes loading: the limit runs before the handler would answer 503.
const modelApp = createInferenceApp(new Promise(() => {}));

let readJson: RunningServer;
let backend: RunningServer;
let frontend: RunningServer;
let model: RunningServer;
let modelServer: RunningInferenceServer;

before(async () => {
  readJson = await listen(readJsonApp);
  backend = await listen(backendApp);
  frontend = await listen(frontendApp);
  model = await listen(modelApp);
  modelServer = await startInferenceServer({ port: 0, log: () => {} });
  servers.push(readJson, backend, frontend, model, modelServer);
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(assetsDir, { recursive: true, force: true });
});

const portOf = (server: () => { url: string }) => () => Number(new URL(server().url).port);
const subjects: Subject[] = [
  { name: 'readJsonBody', path: '/json', maxBytes: 1024, app: readJsonApp, port: portOf(() => readJson) },
  {
    name: 'backend POST /api/predict',
    path: '/api/predict',
    maxBytes: PREDICTION_LIMITS.maxBodyBytes,
    app: backendApp,
    port: portOf(() => backend),
  },
  {
    name: 'backend POST /api/faults',
    path: '/api/faults',
    maxBytes: FAULT_BODY_BYTES,
    app: backendApp,
    port: portOf(() => backend),
  },
  {
    name: 'frontend proxy POST /api/predict',
    path: '/api/predict',
    maxBytes: PREDICTION_LIMITS.maxBodyBytes,
    app: frontendApp,
    port: portOf(() => frontend),
  },
  {
    name: 'model server app POST /invocations',
    path: '/invocations',
    maxBytes: PREDICTION_LIMITS.maxBodyBytes,
    app: modelApp,
    port: portOf(() => model),
  },
  {
    name: 'model server POST /invocations (node:http fast path)',
    path: '/invocations',
    maxBytes: PREDICTION_LIMITS.maxBodyBytes,
    port: portOf(() => modelServer),
  },
];

const chunkOf = (maxBytes: number) => Math.min(64 * 1024, Math.ceil(maxBytes / 8));

async function assertTooLarge(status: number, body: string, maxBytes: number): Promise<void> {
  assert.equal(status, 413, body);
  const parsed = JSON.parse(body) as { error: { code: string; message: string } };
  assert.equal(parsed.error.code, 'payload_too_large');
  assert.match(parsed.error.message, new RegExp(`\\b${maxBytes}\\b`), 'the message names the limit');
}

for (const subject of subjects) {
  describe(subject.name, () => {
    it('a chunked body sent slowly, 1 byte past the limit and not ended, is a 413 before it ends', async () => {
      const answer = await sendChunkedSlowly(subject.port(), subject.path, {
        bytes: subject.maxBytes + 1,
        chunkBytes: chunkOf(subject.maxBytes),
        pauseMs: 2,
        end: false,
      });
      await assertTooLarge(answer.status, answer.body, subject.maxBytes);
      assert.equal(answer.ended, false);
    });

    it('a chunked body of exactly the limit passes the limit', async () => {
      const answer = await sendChunkedSlowly(subject.port(), subject.path, {
        bytes: subject.maxBytes,
        chunkBytes: chunkOf(subject.maxBytes),
        pauseMs: 0,
        end: true,
      });
      assert.notEqual(answer.status, 413, answer.body);
      assert.ok(answer.status >= 400 && answer.status !== 500, `${answer.status} ${answer.body}`);
    });

    it('a declared Content-Length past the limit is a 413 before any of the body is sent', async () => {
      const answer = await sendChunkedSlowly(subject.port(), subject.path, {
        bytes: 0,
        chunkBytes: 1,
        pauseMs: 0,
        end: false,
        headers: { 'content-length': String(subject.maxBytes + 1) },
      });
      await assertTooLarge(answer.status, answer.body, subject.maxBytes);
    });

    const { app } = subject;
    if (app === undefined) return;
    it('a body whose Content-Length understates it is counted: 413 at 1 byte past the limit, read no further', async () => {
      const chunk = chunkOf(subject.maxBytes);
      const body = countedBody(subject.maxBytes + 1, chunk, false);
      const answered = Promise.resolve(
        app.request(requestDeclaring(`http://127.0.0.1${subject.path}`, body.stream, 2)),
      );
      const res = await Promise.race([
        answered,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`no answer within 20 s; ${body.pulled()} bytes read`)),
            20_000,
          ).unref(),
        ),
      ]);
      await assertTooLarge(res.status, await res.text(), subject.maxBytes);
      assert.ok(body.pulled() <= subject.maxBytes + chunk, `${body.pulled()} bytes read`);
    });
  });
}

describe('bodyLimit with a byte budget shared by the bodies being read', () => {
  it('answers 503 with Retry-After while the budget is spent, and returns it when a request is done', async () => {
    const budget = new IntakeBudget(1500);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = new Hono();
    app.onError(jsonErrorHandler(() => {}));
    app.post('/hold', bodyLimit({ maxBytes: 1000, budget }), async (c) => {
      await held;
      return c.text(String((await c.req.arrayBuffer()).byteLength));
    });
    app.post('/echo', bodyLimit({ maxBytes: 1000, budget }), async (c) =>
      c.text(String((await c.req.arrayBuffer()).byteLength)),
    );
    const post = (path: string, bytes: number) =>
      app.request(path, {
        method: 'POST',
        body: 'x'.repeat(bytes),
        headers: { 'content-type': 'text/plain' },
      });

    const first = post('/hold', 1000);
    await waitFor('the first body to be held', 5000, () => budget.reserved === 1000, 1);
    const refused = await post('/echo', 600);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'unavailable');
    assert.equal(budget.reserved, 1000, 'a refused body holds nothing');
    release();
    assert.equal(await (await first).text(), '1000');
    assert.equal(budget.reserved, 0, 'returned when the request is done');
    assert.equal(await (await post('/echo', 600)).text(), '600');
  });
});
