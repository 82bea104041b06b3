import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type {
  AnomaliesResponse,
  AnomalyRecord,
  SeriesPoint,
  SeriesResponse,
} from '../../../contracts/anomaly.ts';
import { startSidecarAggregate } from '../sidecar-aggregate.ts';

/**
 * The local stand-in for CloudWatch (metrics summed over tasks, one anomaly log group): it keeps what
 * it has read, so a sidecar that restarts (or a revision a deployment retired) takes nothing with it.
 * Issue 25: a replaced sidecar took its anomaly history with it (3,096 → 201 records).
 */

const TEN_S = 10_000;
const servers: Server[] = [];
after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

/** A sidecar-shaped server: its own run's records and 10-second series since `since`. */
async function fakeSidecar(options: {
  readonly port?: number;
  readonly run: string;
  readonly since: number;
  readonly records: number;
  readonly scoredPerBucket: number;
}): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const records: AnomalyRecord[] = Array.from({ length: options.records }, (_, i) => ({
    id: `${options.run}-${i}`,
    service: 'backend',
    task: 'pid-1',
    timestamp: new Date(options.since + i * 1000).toISOString(),
    score: 0.9,
    line: `ERROR ${options.run} line ${i}`,
  }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    let body: unknown;
    if (url.pathname === '/anomalies') {
      const limit = Number(url.searchParams.get('limit') ?? 50);
      body = {
        service: 'backend',
        records: [...records].reverse().slice(0, limit),
      } satisfies AnomaliesResponse;
    } else if (url.pathname === '/series') {
      const bucketSeconds = Number(url.searchParams.get('bucketSeconds'));
      const buckets = Number(url.searchParams.get('buckets'));
      assert.equal(bucketSeconds, 10, 'the aggregate reads the finest buckets');
      const now = Date.now();
      const current = Math.floor(now / TEN_S) * TEN_S;
      const first = Math.max(current - (buckets - 1) * TEN_S, Math.floor(options.since / TEN_S) * TEN_S);
      const points: SeriesPoint[] = [];
      for (let t = first; t <= current; t += TEN_S) {
        points.push({ t, scored: options.scoredPerBucket, anomalous: 1, maxScore: 0.9, meanScore: 0.5 });
      }
      body = { service: 'backend', bucketSeconds, since: options.since, points } satisfies SeriesResponse;
    } else {
      body = { status: 'ok' };
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;

describe('the sidecar aggregate keeps what it read', () => {
  it('a restarted sidecar and a retired revision take no history with them', async () => {
    const started = Date.now() - 60_000;
    const first = await fakeSidecar({ run: 'run1', since: started, records: 30, scoredPerBucket: 5 });
    let live = [first.url];
    const aggregate = await startSidecarAggregate({ service: 'backend', port: 0, sidecars: () => live });
    try {
      const before = await getJson<AnomaliesResponse>(`${aggregate.url}/anomalies?limit=500`);
      assert.equal(before.records.length, 30);

      // The sidecar is replaced (same address, new process, empty history).
      await first.close();
      const restarted = await fakeSidecar({
        port: first.port,
        run: 'run2',
        since: Date.now(),
        records: 2,
        scoredPerBucket: 3,
      });
      const after = await getJson<AnomaliesResponse>(`${aggregate.url}/anomalies?limit=500`);
      assert.equal(after.records.length, 32, 'the first run’s 30 records are kept');
      assert.deepEqual(new Set(after.records.map((r) => r.id.split('-')[0])), new Set(['run1', 'run2']));

      // The series starts where the first run started, and counts both runs.
      const series = await getJson<SeriesResponse>(`${aggregate.url}/series?bucketSeconds=60&buckets=30`);
      assert.equal(series.since, started);
      assert.ok(series.points[0]!.t <= started && started < series.points[0]!.t + 60_000);
      const scored = series.points.reduce((sum, p) => sum + p.scored, 0);
      assert.ok(scored >= 6 * 5, `${scored} lines scored over the minute of the first run`);

      // A deployment retires the revision: its sidecar leaves the list; what it scored stays.
      live = [];
      await restarted.close();
      const retired = await getJson<AnomaliesResponse>(`${aggregate.url}/anomalies?limit=500`);
      assert.equal(retired.records.length, 32);
    } finally {
      await aggregate.close();
    }
  });
});
