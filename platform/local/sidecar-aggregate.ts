import type { AddressInfo } from 'node:net';
import {
  AnomaliesQuerySchema,
  type AnomaliesResponse,
  AnomaliesResponseSchema,
  type AnomalyRecord,
  type SeriesPoint,
  SeriesQuerySchema,
  type SeriesResponse,
  SeriesResponseSchema,
} from '../../contracts/anomaly.ts';
import { anomalyKey } from '../../contracts/anomaly-key.ts';
import { errorBody } from '../../contracts/errors.ts';
import { SIDECAR_PATHS } from '../../contracts/sidecar.ts';
import { createLimitedServer, httpServerLimits } from '../../runtime/http-server.ts';

/**
 * One service's anomaly data over every revision it ran: what CloudWatch (metrics summed over tasks,
 * one anomaly log group) is to the console on AWS. The console's local anomaly source reads a service's
 * `sidecarUrl`; during a local deployment that URL stays this server while sidecars come and go. Like
 * CloudWatch it keeps what it has read: a sidecar that restarts, or a revision a deployment retired,
 * takes none of its history with it (issue 25: 3,096 → 201 records after a sidecar was replaced).
 */

export interface SidecarAggregate {
  readonly url: string;
  close(): Promise<void>;
}

/** The sidecars' finest series resolution, the one the aggregate keeps. */
const RESOLUTION_MS = 10_000;
/** The sidecar's longest answer in 10-second buckets (its `buckets` limit): four hours. */
const MAX_BUCKETS_PER_READ = 1440;

/** What the aggregate keeps, bounded whatever the traffic or the uptime. */
export interface AggregateLimits {
  /** Newest anomaly records kept. @default 2000 */
  readonly records?: number;
  /** Sidecar runs whose series are kept (each restart or revision is one). @default 64 */
  readonly runs?: number;
  /** How far back series are kept. @default 24 hours */
  readonly retentionMs?: number;
}

/** One sidecar run's non-empty 10-second points, by bucket start. */
interface RunSeries {
  readonly since: number;
  readonly points: Map<number, SeriesPoint>;
  /** When it was last read, so the next read asks only for what is new. */
  readAt: number;
}

/**
 * The kept data, pure: records merged by their identity (`anomalyKey`), series kept per sidecar run
 * (a run's points only grow while their bucket is current, so the latest read of a point replaces
 * the previous one) and summed over runs on the way out.
 */
export class AggregateStore {
  private readonly records = new Map<string, AnomalyRecord>();
  private readonly runs = new Map<string, RunSeries>();
  private readonly maxRecords: number;
  private readonly maxRuns: number;
  private readonly retentionMs: number;

  constructor(
    readonly service: string,
    limits: AggregateLimits = {},
  ) {
    this.maxRecords = limits.records ?? 2000;
    this.maxRuns = limits.runs ?? 64;
    this.retentionMs = limits.retentionMs ?? 86_400_000;
  }

  addRecords(records: readonly AnomalyRecord[]): void {
    for (const record of records) this.records.set(anomalyKey(record), record);
    if (this.records.size <= this.maxRecords) return;
    const newest = [...this.records.entries()]
      .sort(([, a], [, b]) => Date.parse(b.timestamp) - Date.parse(a.timestamp))
      .slice(0, this.maxRecords);
    this.records.clear();
    for (const [key, record] of newest) this.records.set(key, record);
  }

  /** Adds one read of a sidecar's 10-second series; `source` names the sidecar (its address). */
  addSeries(source: string, series: SeriesResponse, now: number): void {
    if (series.bucketSeconds * 1000 !== RESOLUTION_MS) return;
    const since = series.since ?? series.points[0]?.t ?? now;
    const key = `${source}|${since}`;
    let run = this.runs.get(key);
    if (!run) {
      run = { since, points: new Map(), readAt: now };
      this.runs.set(key, run);
    }
    run.readAt = now;
    for (const point of series.points) {
      if (point.scored > 0 || point.anomalous > 0) run.points.set(point.t, point);
    }
    this.forgetOld(now);
  }

  /** When `source`'s current run was last read (0: never). */
  lastRead(source: string): number {
    let latest = 0;
    for (const [key, run] of this.runs) {
      if (key.startsWith(`${source}|`) && run.readAt > latest) latest = run.readAt;
    }
    return latest;
  }

  anomalies(limit: number): AnomaliesResponse {
    const records = [...this.records.values()]
      .sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp))
      .slice(0, limit);
    return { service: this.service, records };
  }

  /**
   * Up to `buckets` points of `bucketSeconds`, oldest first, ending with the current bucket and
   * starting no earlier than the bucket of the earliest run kept: counts add, the max is the max, the
   * mean is weighted by lines.
   */
  series(now: number, bucketSeconds: number, buckets: number): SeriesResponse {
    const bucketMs = bucketSeconds * 1000;
    const current = Math.floor(now / bucketMs) * bucketMs;
    const runs = [...this.runs.values()];
    const since = runs.length > 0 ? Math.min(...runs.map((r) => r.since)) : now;
    const first = Math.max(current - (buckets - 1) * bucketMs, Math.floor(since / bucketMs) * bucketMs);
    const sums = new Map<number, { scored: number; anomalous: number; max: number; weighted: number }>();
    for (let t = first; t <= current; t += bucketMs) {
      sums.set(t, { scored: 0, anomalous: 0, max: 0, weighted: 0 });
    }
    for (const run of runs) {
      for (const point of run.points.values()) {
        const sum = sums.get(Math.floor(point.t / bucketMs) * bucketMs);
        if (!sum) continue;
        sum.scored += point.scored;
        sum.anomalous += point.anomalous;
        sum.max = Math.max(sum.max, point.maxScore);
        sum.weighted += point.meanScore * point.scored;
      }
    }
    const points = [...sums.entries()].map(([t, s]) => ({
      t,
      scored: s.scored,
      anomalous: s.anomalous,
      maxScore: s.max,
      meanScore: s.scored > 0 ? Math.min(1, s.weighted / s.scored) : 0,
    }));
    return { service: this.service, bucketSeconds, ...(runs.length > 0 ? { since } : {}), points };
  }

  private forgetOld(now: number): void {
    const oldest = now - this.retentionMs;
    for (const [key, run] of this.runs) {
      for (const t of run.points.keys()) if (t < oldest) run.points.delete(t);
      if (run.points.size === 0 && run.readAt < oldest) this.runs.delete(key);
    }
    if (this.runs.size > this.maxRuns) {
      const byAge = [...this.runs.entries()].sort(([, a], [, b]) => a.readAt - b.readAt);
      for (const [key] of byAge.slice(0, this.runs.size - this.maxRuns)) this.runs.delete(key);
    }
  }
}

/** The aggregate's own limits: GET requests only, from the backend on loopback. */
const AGGREGATE_SERVER_LIMITS = httpServerLimits({ maxBodyBytes: 1024, maxConnections: 256 });

/**
 * Serves `GET /anomalies` and `GET /series` (the sidecar's query strings) from what it keeps, after
 * reading the live `sidecars()` once more, and `GET /health`. It also reads them every `readEveryMs`
 * in the background, so a sidecar that stops takes at most that much of its history with it. A
 * sidecar that does not answer is left out of that read.
 */
export async function startSidecarAggregate(options: {
  readonly service: string;
  readonly port: number;
  readonly sidecars: () => readonly string[];
  readonly timeoutMs?: number;
  /** @default 5000 */
  readonly readEveryMs?: number;
  readonly limits?: AggregateLimits;
}): Promise<SidecarAggregate> {
  const timeoutMs = options.timeoutMs ?? 1500;
  const store = new AggregateStore(options.service, options.limits);
  const getJson = async <T>(
    url: string,
    schema: { safeParse(v: unknown): { success: boolean; data?: T } },
  ): Promise<T | undefined> => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) return undefined;
      const parsed = schema.safeParse(await response.json());
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  };
  const readOne = async (base: string) => {
    const now = Date.now();
    const since = store.lastRead(base);
    const buckets =
      since === 0
        ? MAX_BUCKETS_PER_READ
        : Math.min(MAX_BUCKETS_PER_READ, Math.ceil((now - since) / RESOLUTION_MS) + 2);
    const [anomalies, series] = await Promise.all([
      getJson(`${base}${SIDECAR_PATHS.anomalies}?limit=500`, AnomaliesResponseSchema),
      getJson(
        `${base}${SIDECAR_PATHS.series}?bucketSeconds=${RESOLUTION_MS / 1000}&buckets=${buckets}`,
        SeriesResponseSchema,
      ),
    ]);
    if (anomalies) store.addRecords(anomalies.records);
    if (series) store.addSeries(base, series, now);
  };
  // One read at a time: concurrent requests share it.
  let reading: Promise<void> | undefined;
  const readAll = () => {
    reading ??= Promise.all(options.sidecars().map(readOne)).then(
      () => {
        reading = undefined;
      },
      () => {
        reading = undefined;
      },
    );
    return reading;
  };
  const background = setInterval(() => void readAll(), options.readEveryMs ?? 5000);
  background.unref();

  const server = createLimitedServer(AGGREGATE_SERVER_LIMITS, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const query = Object.fromEntries(url.searchParams);
    const answer = async () => {
      if (req.method !== 'GET') return send(405, errorBody('method_not_allowed', 'GET only'));
      if (url.pathname === SIDECAR_PATHS.health) {
        return send(200, { status: 'ok', sidecars: options.sidecars().length });
      }
      if (url.pathname === SIDECAR_PATHS.anomalies) {
        const parsed = AnomaliesQuerySchema.safeParse(query);
        if (!parsed.success) return send(400, errorBody('invalid_request', 'limit must be 1..500'));
        await readAll();
        return send(200, store.anomalies(parsed.data.limit));
      }
      if (url.pathname === SIDECAR_PATHS.series) {
        const parsed = SeriesQuerySchema.safeParse(query);
        if (!parsed.success) return send(400, errorBody('invalid_request', 'bad bucketSeconds or buckets'));
        await readAll();
        return send(200, store.series(Date.now(), parsed.data.bucketSeconds, parsed.data.buckets));
      }
      return send(404, errorBody('not_found', `no resource ${url.pathname}`));
    };
    answer().catch(() => send(502, errorBody('bad_gateway', 'the sidecars could not be read')));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(background);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
