import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AnomaliesResponse,
  AnomaliesResponseSchema,
  type SeriesPoint,
  type SeriesResponse,
  SeriesResponseSchema,
} from '../../contracts/anomaly.ts';
import { errorBody } from '../../contracts/errors.ts';
import { SIDECAR_PATHS } from '../../contracts/sidecar.ts';

/**
 * One service's anomaly data over every revision it runs: what CloudWatch (metrics summed over tasks,
 * one anomaly log group) is to the console on AWS. The console's local anomaly source reads a service's
 * `sidecarUrl`; during a local deployment that URL stays this server while sidecars come and go.
 */

export interface SidecarAggregate {
  readonly url: string;
  close(): Promise<void>;
}

/** Merges newest-first anomaly lists into one, newest first, at most `limit`. */
export function mergeAnomalies(
  service: string,
  answers: readonly AnomaliesResponse[],
  limit: number,
): AnomaliesResponse {
  const records = answers
    .flatMap((a) => a.records)
    .sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp))
    .slice(0, limit);
  return { service, records };
}

/** Sums series of the same buckets: counts add, the max is the max, the mean is weighted by lines. */
export function mergeSeries(
  service: string,
  bucketSeconds: number,
  answers: readonly SeriesResponse[],
): SeriesResponse {
  const byBucket = new Map<number, SeriesPoint>();
  for (const point of answers.flatMap((a) => a.points)) {
    const prior = byBucket.get(point.t);
    if (!prior) {
      byBucket.set(point.t, { ...point });
      continue;
    }
    const scored = prior.scored + point.scored;
    byBucket.set(point.t, {
      t: point.t,
      scored,
      anomalous: prior.anomalous + point.anomalous,
      maxScore: Math.max(prior.maxScore, point.maxScore),
      meanScore:
        scored === 0 ? 0 : (prior.meanScore * prior.scored + point.meanScore * point.scored) / scored,
    });
  }
  return { service, bucketSeconds, points: [...byBucket.values()].sort((a, b) => a.t - b.t) };
}

/**
 * Serves `GET /anomalies` and `GET /series` (the sidecar's own query strings, passed through) merged
 * over `sidecars()`, and `GET /health`. A sidecar that does not answer is left out of the merge.
 */
export async function startSidecarAggregate(options: {
  readonly service: string;
  readonly port: number;
  readonly sidecars: () => readonly string[];
  readonly timeoutMs?: number;
}): Promise<SidecarAggregate> {
  const timeoutMs = options.timeoutMs ?? 1500;
  const fetchAll = async <T>(
    path: string,
    schema: { safeParse(v: unknown): { success: boolean; data?: T } },
  ): Promise<T[]> => {
    const answers: (T | undefined)[] = await Promise.all(
      options.sidecars().map(async (base): Promise<T | undefined> => {
        try {
          const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
          if (!response.ok) return undefined;
          const parsed = schema.safeParse(await response.json());
          return parsed.success ? parsed.data : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    return answers.filter((a): a is T => a !== undefined);
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const answer = async () => {
      if (req.method !== 'GET') return send(405, errorBody('method_not_allowed', 'GET only'));
      if (url.pathname === SIDECAR_PATHS.health)
        return send(200, { status: 'ok', sidecars: options.sidecars().length });
      if (url.pathname === SIDECAR_PATHS.anomalies) {
        const limit = Math.min(500, Math.max(1, Number(url.searchParams.get('limit') ?? 50) || 50));
        const answers = await fetchAll<AnomaliesResponse>(
          `${url.pathname}${url.search}`,
          AnomaliesResponseSchema,
        );
        return send(200, mergeAnomalies(options.service, answers, limit));
      }
      if (url.pathname === SIDECAR_PATHS.series) {
        const answers = await fetchAll<SeriesResponse>(`${url.pathname}${url.search}`, SeriesResponseSchema);
        const bucketSeconds =
          answers[0]?.bucketSeconds ?? Number(url.searchParams.get('bucketSeconds') ?? 60);
        return send(200, mergeSeries(options.service, bucketSeconds, answers));
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
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
