import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '../../../contracts/errors.ts';
import { LocalAnomalySource } from '../src/local-anomaly-source.ts';
import { sampleRecords, startSidecar, unusedPort } from './support/upstream-servers.ts';

const NEWEST = Date.UTC(2026, 0, 15, 12, 0, 0);
let sidecar: Awaited<ReturnType<typeof startSidecar>>;
let source: LocalAnomalySource;

before(async () => {
  sidecar = await startSidecar('web', { records: 6, newest: NEWEST });
  source = new LocalAnomalySource({
    services: [
      { name: 'web', sidecarUrl: `${sidecar.url}/` },
      { name: 'gone', sidecarUrl: `http://127.0.0.1:${await unusedPort()}` },
      { name: 'plain' },
    ],
    timeoutMs: 200,
  });
});
after(() => sidecar.close());

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
  return error;
}

describe('LocalAnomalySource against a sidecar-shaped server', () => {
  test('series: asks the sidecar with the exact query and returns its points', async () => {
    sidecar.behaviour.mode = 'ok';
    const series = await source.series('web', { bucketSeconds: 30, buckets: 2 });
    assert.equal(sidecar.requests.at(-1), 'GET /series?bucketSeconds=30&buckets=2');
    assert.deepEqual(series, {
      service: 'web',
      bucketSeconds: 30,
      points: [
        { t: NEWEST - 30_000, scored: 100, anomalous: 0, maxScore: 0.2, meanScore: 0.1 },
        { t: NEWEST, scored: 101, anomalous: 1, maxScore: 0.4, meanScore: 0.1 },
      ],
    });
  });

  test('recentAnomalies: passes the limit and reports services it could not read', async () => {
    sidecar.behaviour.mode = 'ok';
    const result = await source.recentAnomalies(['web', 'gone', 'plain'], 2);
    assert.equal(sidecar.requests.at(-1), 'GET /anomalies?limit=2');
    assert.deepEqual(result.records, sampleRecords('web', 2, NEWEST));
    assert.deepEqual(
      result.unavailable.sort((a, b) => a.service.localeCompare(b.service)),
      [
        { service: 'gone', reason: "the anomaly sidecar of 'gone' is unreachable (connection refused)" },
        { service: 'plain', reason: 'no anomaly sidecar configured' },
      ],
    );
  });

  const failures = [
    ['slow', 504, 'gateway_timeout', "the anomaly sidecar of 'web' did not answer in time"],
    ['http-500', 502, 'bad_gateway', "the anomaly sidecar of 'web' answered HTTP 500"],
    ['not-json', 502, 'bad_gateway', "the anomaly sidecar of 'web' answered invalid JSON"],
  ] as const;
  for (const [mode, status, code, message] of failures) {
    test(`series: a sidecar in mode ${mode} is a ${status} ${code}`, async () => {
      sidecar.behaviour.mode = mode;
      sidecar.behaviour.delayMs = 500;
      try {
        const error = await rejection(source.series('web', { bucketSeconds: 60, buckets: 5 }));
        assert.deepEqual([error.status, error.code, error.message], [status, code, message]);
      } finally {
        sidecar.behaviour.mode = 'ok';
      }
    });
  }

  test('recentAnomalies: a record that breaks the contract makes the sidecar unavailable, not a crash', async () => {
    sidecar.behaviour.mode = 'bad-shape';
    try {
      const result = await source.recentAnomalies(['web'], 5);
      assert.deepEqual(result.records, []);
      assert.equal(result.unavailable.length, 1);
      assert.match(
        result.unavailable[0]!.reason,
        /^the anomaly sidecar of 'web' answered an unexpected shape \(/,
      );
    } finally {
      sidecar.behaviour.mode = 'ok';
    }
  });

  test('series: an unreachable sidecar is a 502, a service without one a 404', async () => {
    const gone = await rejection(source.series('gone', { bucketSeconds: 60, buckets: 5 }));
    assert.deepEqual(
      [gone.status, gone.message],
      [502, "the anomaly sidecar of 'gone' is unreachable (connection refused)"],
    );
    const plain = await rejection(source.series('plain', { bucketSeconds: 60, buckets: 5 }));
    assert.deepEqual(
      [plain.status, plain.message],
      [404, "service 'plain' has no anomaly sidecar configured"],
    );
  });
});
