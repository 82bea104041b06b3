import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { AnomaliesResponseSchema, SeriesResponseSchema } from '../../../contracts/anomaly.ts';
import type { PredictionResponse } from '../../../contracts/prediction.ts';
import { CountsResponseSchema } from '../../../contracts/revision-counts.ts';
import { EndpointError } from '../../../model/client/scoring-client.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { parsePrometheus } from '../src/prometheus.ts';
import { createSidecar, type Sidecar } from '../src/sidecar.ts';
import {
  firelensRecord,
  ROUTER_HEADERS,
  type SwitchableEndpoint,
  scorerFor,
  startSwitchableEndpoint,
  testConfig,
} from './support.ts';

/** The hono adapter in-process (`app.request`), scoring on the real inference server. */

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
let endpoint: SwitchableEndpoint;
let sidecar: Sidecar;
const out: string[] = [];

before(async () => {
  endpoint = await startSwitchableEndpoint();
  sidecar = createSidecar(testConfig({ batchMaxAgeMs: 5, maxBodyBytes: 64 * 1024, maxLineChars: 1000 }), {
    scorer: scorerFor(endpoint.url),
    writeOut: (text) => out.push(...text.trimEnd().split('\n')),
    stdoutBacklog: () => 0,
    log: () => {},
  });
});
after(async () => {
  await sidecar.pipeline.stop(0);
  await endpoint.close();
});

const post = (body: BodyInit, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  sidecar.app.request('/logs', { method: 'POST', headers: { ...ROUTER_HEADERS, ...headers }, body });

describe('POST /logs', () => {
  it('accepts a FireLens format json body and a gzip-compressed json_lines body; both are scored', async () => {
    const json = await post(fixture('firelens-json.json'));
    assert.equal(json.status, 202);
    assert.deepEqual(await json.json(), { accepted: 3, rejected: 0 });
    const lines = await post(gzipSync(fixture('firelens-json-lines.ndjson')), {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    });
    assert.equal(lines.status, 202);
    assert.deepEqual(await lines.json(), { accepted: 3, rejected: 0 });
    await sidecar.pipeline.whenIdle();
    assert.equal(sidecar.pipeline.metrics.scored.get(), 6);
  });

  it('reports skipped records in a 202 without refusing the body', async () => {
    const res = await post(
      JSON.stringify([firelensRecord('ok'), { date: 1 }, firelensRecord('x'.repeat(1001))]),
    );
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { accepted: 1, rejected: 2, reasons: { malformed: 1, oversized: 1 } });
  });

  it('refuses bodies it cannot read with the error shape, and counts them', async () => {
    const metrics = sidecar.pipeline.metrics;
    const cases: [Response, number, string][] = [
      [await post('[{"log":', { 'content-type': 'application/json' }), 400, 'invalid_json'],
      [await post('log=x', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
      [await post('x'.repeat(65 * 1024)), 413, 'payload_too_large'],
      [
        await post(gzipSync(Buffer.alloc(10 * 1024 * 1024, 32)), {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        }),
        413,
        'payload_too_large',
      ],
      [
        await post('not gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
        400,
        'invalid_request',
      ],
      [
        await post('[]', { 'content-type': 'application/json', 'content-encoding': 'br' }),
        415,
        'unsupported_media_type',
      ],
    ];
    for (const [res, status, code] of cases) {
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    }
    assert.deepEqual(metrics.bodiesRejected.snapshot(), {
      invalid_json: 1,
      too_large: 2,
      unsupported_media_type: 1,
      bad_encoding: 2,
      busy: 0,
      overloaded: 0,
      unauthorized: 0,
    });
  });

  it('property: no body, media type or encoding header crashes intake (never a 500)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc
            .array(fc.oneof(fc.anything(), fc.record({ log: fc.string(), date: fc.anything() })), {
              maxLength: 30,
            })
            .map((a) => JSON.stringify(a) ?? ''),
          fc.uint8Array({ maxLength: 2000 }),
        ),
        fc.constantFrom(
          'application/json',
          'application/x-ndjson',
          'text/plain',
          'application/json; charset=utf-8',
        ),
        fc.constantFrom(undefined, 'gzip', 'identity', 'deflate'),
        async (body, contentType, encoding) => {
          const headers: Record<string, string> = { 'content-type': contentType };
          if (encoding) headers['content-encoding'] = encoding;
          const res = await post(body as BodyInit, headers);
          assert.ok([202, 400, 413, 415].includes(res.status), `status ${res.status}`);
          const parsed = (await res.json()) as Record<string, unknown>;
          if (res.status !== 202) assert.equal(typeof (parsed.error as { code: string }).code, 'string');
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('GET endpoints', () => {
  it('/health answers 200 with the breaker state', async () => {
    const res = await sidecar.app.request('/health');
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.status, 'ok');
    assert.equal(body.service, 'backend');
    assert.equal(body.breaker, 'closed');
  });

  it('/metrics is Prometheus text with every counter, drop reason and the latency histograms', async () => {
    await sidecar.pipeline.whenIdle();
    const res = await sidecar.app.request('/metrics');
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const metrics = parsePrometheus(await res.text());
    const m = sidecar.pipeline.metrics;
    assert.equal(metrics.get('sidecar_records_received_total'), m.received.get());
    assert.equal(metrics.get('sidecar_records_scored_total'), m.scored.get());
    assert.equal(
      metrics.get('sidecar_records_dropped_total{reason="oversized"}'),
      m.dropped.get('oversized'),
    );
    assert.equal(metrics.get('sidecar_records_dropped_total{reason="queue_full"}'), 0);
    assert.equal(metrics.get('sidecar_endpoint_errors_total{kind="timeout"}'), 0);
    assert.equal(metrics.get('sidecar_queue_depth'), 0);
    assert.equal(metrics.get('sidecar_breaker_state'), 0);
    assert.equal(metrics.get('sidecar_batch_latency_seconds_count'), m.batchLatency.count);
    assert.equal(metrics.get('sidecar_intake_to_scored_seconds_bucket{le="+Inf"}'), m.scored.get());
  });

  it('/anomalies and /series answer the contract shapes', async () => {
    await post(
      JSON.stringify([firelensRecord('2024-06-10T06:13:20Z FATAL kernel panic: cannot mount root fs')]),
    );
    await sidecar.pipeline.whenIdle();
    const anomalies = AnomaliesResponseSchema.parse(
      await (await sidecar.app.request('/anomalies?limit=1')).json(),
    );
    assert.equal(anomalies.service, 'backend');
    assert.equal(anomalies.records.length, 1);
    assert.equal(anomalies.records[0]!.line, '2024-06-10T06:13:20Z FATAL kernel panic: cannot mount root fs');
    const series = SeriesResponseSchema.parse(
      await (await sidecar.app.request('/series?bucketSeconds=60&buckets=5')).json(),
    );
    // The sidecar started moments ago: its minute (or the one before), no zeros from before it ran.
    assert.ok(series.points.length <= 2, `${series.points.length} points`);
    assert.equal(
      series.points.reduce((sum, p) => sum + p.scored, 0),
      sidecar.pipeline.metrics.scored.get(),
    );
    assert.ok(
      series.points.every((p, i) => i === 0 || p.t > series.points[i - 1]!.t),
      'oldest first',
    );
  });

  it('/counts answers the contract shape: what arrived and was scored since start, per request class', async () => {
    const read = async () =>
      CountsResponseSchema.strict().parse(await (await sidecar.app.request('/counts')).json());
    const before = await read();
    await post(
      JSON.stringify([firelensRecord('{"msg":"request","method":"GET","path":"/orders/7","status":502}')]),
    );
    await sidecar.pipeline.whenIdle();
    const after = await read();
    assert.equal(after.service, 'backend');
    assert.equal(after.received - before.received, 1);
    assert.equal(after.scored - before.scored, 1);
    assert.equal(after.scored, sidecar.pipeline.metrics.scored.get());
    const orders = after.classes['GET /orders/{n}'];
    assert.deepEqual([orders?.[0], orders?.[2], orders?.[3]], [1, 1, 1], 'one line, one request, one 5xx');
  });

  it('bad query parameters are 400s naming the parameter', async () => {
    const res = await sidecar.app.request('/series?bucketSeconds=15');
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { issues: { path: string; message: string }[] } };
    // The backend's rule too (contracts/anomaly.ts): CloudWatch periods, so both anomaly sources agree.
    assert.deepEqual(body.error.issues, [
      { path: 'bucketSeconds', message: 'must be 10, 30 or a multiple of 60' },
    ]);
    assert.equal((await sidecar.app.request('/series?bucketSeconds=20')).status, 400);
    assert.equal((await sidecar.app.request('/anomalies?limit=0')).status, 400);
    assert.equal((await sidecar.app.request('/nope')).status, 404);
  });
});

describe('push-back under overload (issue 25)', () => {
  /** Posts `n` FireLens records (`INFO request <from>`…) to a sidecar's intake, as the router does. */
  const sender = (sidecar: Sidecar) => (n: number, from: number) =>
    sidecar.app.request('/logs', {
      method: 'POST',
      headers: { ...ROUTER_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: n }, (_, i) => firelensRecord(`INFO request ${from + i}`))),
    });

  it('answers 503 with Retry-After when the queue has no room for a body, and queues and drops nothing of it', async () => {
    // A queue of 5 that nothing drains during the test (batches only by an hour's age, of 100 records).
    const full = createSidecar(
      testConfig({ queueMaxRecords: 5, batchMaxRecords: 100, batchMaxAgeMs: 3_600_000 }),
      { scorer: scorerFor(endpoint.url), writeOut: () => {}, stdoutBacklog: () => 0, log: () => {} },
    );
    try {
      const send = sender(full);
      assert.equal((await send(4, 0)).status, 202);
      // 4 + 3 > 5: the whole body is refused, none of it evicts a waiting record.
      const refused = await send(3, 4);
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'unavailable');
      assert.equal((await send(1, 7)).status, 202, 'a body that fits is still taken');
      // Full now: refused before it is parsed.
      assert.equal((await send(1, 8)).status, 503);
      const metrics = parsePrometheus(full.pipeline.metrics.render());
      assert.equal(metrics.get('sidecar_intake_bodies_rejected_total{reason="overloaded"}'), 2);
      assert.equal(metrics.get('sidecar_intake_records_pushed_back_total'), 3);
      assert.equal(full.pipeline.metrics.received.get(), 5, 'refused records were never received');
      assert.equal(full.pipeline.metrics.dropped.get(), 0, 'nothing accepted and then dropped');
      assert.equal(full.pipeline.queueDepth, 5);
    } finally {
      await full.pipeline.stop(0);
    }
  });

  it('keeps room for the records in flight, so a failed batch is put back and never dropped for new ones', async () => {
    // One call at a time, held until the test fails it (the endpoint unavailable); one attempt per round.
    const held: ((error: Error) => void)[] = [];
    const scorer = {
      score: (_request: unknown, signal?: AbortSignal) =>
        new Promise<PredictionResponse>((_answer, fail) => {
          signal?.addEventListener('abort', () => fail(new Error('aborted')), { once: true });
          held.push(fail);
        }),
    };
    const full = createSidecar(
      testConfig({ queueMaxRecords: 5, batchMaxRecords: 5, scoringConcurrency: 1, retryMaxAttempts: 1 }),
      { scorer, writeOut: () => {}, stdoutBacklog: () => 0, log: () => {} },
    );
    try {
      const send = sender(full);
      assert.equal((await send(5, 0)).status, 202, 'a batch of 5 taken');
      await waitFor('the batch in flight', 10_000, () => (held.length === 1 ? true : undefined));
      // The five in flight may come back: a body that would leave them no room is refused.
      assert.equal((await send(5, 5)).status, 503);
      held.shift()!(new EndpointError('unavailable', 'the endpoint is down'));
      // Put back, then taken again for its next round.
      await waitFor('the batch tried again', 10_000, () => (held.length === 1 ? true : undefined));
      assert.equal(full.pipeline.metrics.dropped.get(), 0, 'nothing accepted and then dropped');
      assert.equal(full.pipeline.metrics.received.get(), 5);
    } finally {
      await full.pipeline.stop(0);
    }
  });

  it('takes bodies again once the queue drains, however many it refused while full', async () => {
    // Scoring calls held until the test answers them (or the pipeline stops and aborts them, as the SDK
    // client would); an intake budget of a few bodies.
    const held: (() => void)[] = [];
    const scorer = {
      score: (request: { logs: readonly unknown[] }, signal?: AbortSignal) =>
        new Promise<PredictionResponse>((answer, fail) => {
          signal?.addEventListener('abort', () => fail(new Error('aborted')), { once: true });
          held.push(() =>
            answer({
              predictions: request.logs.map(() => ({ score: 0.1, anomaly: false })),
              model: { name: 'held', version: '1', threshold: 0.5 },
            }),
          );
        }),
    };
    const full = createSidecar(
      // Room for ten: five in flight (kept for them, as they may come back) and five waiting.
      testConfig({
        queueMaxRecords: 10,
        batchMaxRecords: 5,
        scoringConcurrency: 1,
        intakeMaxBufferedBytes: 4096,
      }),
      { scorer, writeOut: () => {}, stdoutBacklog: () => 0, log: () => {} },
    );
    try {
      const send = sender(full);
      assert.equal((await send(5, 0)).status, 202, 'a batch of 5 in flight');
      assert.equal((await send(5, 5)).status, 202, 'the queue full behind it');
      // Far more refused bodies than the intake budget holds: each must give its bytes back.
      for (let i = 0; i < 50; i++) assert.equal((await send(1, 100 + i)).status, 503);
      // Two batches: the one in flight, then the five queued behind it.
      for (let batch = 0; batch < 2; batch++) {
        assert.equal(held.length, 1, `batch ${batch} in flight`);
        held.shift()!();
        await waitFor(`batch ${batch} scored`, 10_000, () =>
          full.pipeline.metrics.scored.get() === 5 * (batch + 1) ? true : undefined,
        );
      }
      assert.equal(full.pipeline.queueDepth, 0);
      const again = await send(1, 200);
      assert.equal(again.status, 202, `after the queue drained: ${await again.text()}`);
      const metrics = parsePrometheus(full.pipeline.metrics.render());
      assert.equal(metrics.get('sidecar_intake_bodies_rejected_total{reason="overloaded"}'), 50);
      assert.equal(metrics.get('sidecar_intake_bodies_rejected_total{reason="busy"}'), 0);
    } finally {
      await full.pipeline.stop(0);
    }
  });
});
