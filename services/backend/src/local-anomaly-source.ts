import type { z } from 'zod';
import {
  AnomaliesResponseSchema,
  type AnomalyRecord,
  type SeriesResponse,
  SeriesResponseSchema,
} from '../../../contracts/anomaly.ts';
import type { UnavailableSource } from '../../../contracts/console-api.ts';
import { ApiError } from '../../../contracts/errors.ts';
import type { AnomalySource, RecentAnomalies, SeriesQuery } from './anomaly-source.ts';
import { newestFirst } from './anomaly-source.ts';
import type { ServiceTarget } from './config.ts';
import { describeFetchFailure } from './service-health.ts';

/** Options for {@link LocalAnomalySource}. */
export interface LocalAnomalySourceOptions {
  /** The declared services; those with a `sidecarUrl` have anomaly data. */
  readonly services: readonly ServiceTarget[];
  /** Deadline for each sidecar call, in milliseconds. */
  readonly timeoutMs: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * The local adapter of the anomaly port: reads each service's anomaly sidecar
 * (`GET /anomalies?limit=N`, `GET /series?bucketSeconds=S&buckets=N`, shapes in contracts/anomaly.ts).
 * A sidecar that is down makes one service's series a 502/504 and is listed as `unavailable` in the
 * merged anomaly list, so the rest of the console keeps working.
 *
 * @example
 * const source = new LocalAnomalySource({ services: env.SERVICES, timeoutMs: 1500 });
 * const { points } = await source.series('frontend', { bucketSeconds: 60, buckets: 30 });
 */
export class LocalAnomalySource implements AnomalySource {
  readonly kind = 'local' as const;
  private readonly sidecars: ReadonlyMap<string, string>;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: LocalAnomalySourceOptions) {
    this.sidecars = new Map(
      options.services.flatMap((s) => (s.sidecarUrl ? [[s.name, s.sidecarUrl.replace(/\/+$/, '')]] : [])),
    );
    this.timeoutMs = options.timeoutMs;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async series(service: string, query: SeriesQuery, signal?: AbortSignal): Promise<SeriesResponse> {
    const base = this.sidecarOf(service);
    const url = `${base}/series?bucketSeconds=${query.bucketSeconds}&buckets=${query.buckets}`;
    const result = await this.getJson(service, url, SeriesResponseSchema, signal);
    if (!result.ok) throw result.error;
    return result.value;
  }

  async recentAnomalies(
    services: readonly string[],
    limit: number,
    signal?: AbortSignal,
  ): Promise<RecentAnomalies> {
    const unavailable: UnavailableSource[] = [];
    const lists = await Promise.all(
      services.map(async (service): Promise<AnomalyRecord[]> => {
        const base = this.sidecars.get(service);
        if (!base) {
          unavailable.push({ service, reason: 'no anomaly sidecar configured' });
          return [];
        }
        const result = await this.getJson(
          service,
          `${base}/anomalies?limit=${limit}`,
          AnomaliesResponseSchema,
          signal,
        );
        if (!result.ok) {
          unavailable.push({ service, reason: result.error.message });
          return [];
        }
        // The record's own `service` is what the sidecar says; keep it, it is the producer's truth.
        return result.value.records;
      }),
    );
    return { records: newestFirst(lists.flat(), limit), unavailable };
  }

  private sidecarOf(service: string): string {
    const base = this.sidecars.get(service);
    if (!base) throw new ApiError('not_found', `service '${service}' has no anomaly sidecar configured`);
    return base;
  }

  private async getJson<S extends z.ZodType>(
    service: string,
    url: string,
    schema: S,
    signal?: AbortSignal,
  ): Promise<{ ok: true; value: z.infer<S> } | { ok: false; error: ApiError }> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        headers: { accept: 'application/json' },
      });
    } catch (error) {
      const reason = describeFetchFailure(error);
      return reason === 'timeout'
        ? {
            ok: false,
            error: new ApiError(
              'gateway_timeout',
              `the anomaly sidecar of '${service}' did not answer in time`,
            ),
          }
        : {
            ok: false,
            error: new ApiError(
              'bad_gateway',
              `the anomaly sidecar of '${service}' is unreachable (${reason})`,
            ),
          };
    }
    if (!response.ok) {
      await response.arrayBuffer().catch(() => undefined);
      return {
        ok: false,
        error: new ApiError(
          'bad_gateway',
          `the anomaly sidecar of '${service}' answered HTTP ${response.status}`,
        ),
      };
    }
    let value: unknown;
    try {
      value = await response.json();
    } catch {
      return {
        ok: false,
        error: new ApiError('bad_gateway', `the anomaly sidecar of '${service}' answered invalid JSON`),
      };
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      return {
        ok: false,
        error: new ApiError(
          'bad_gateway',
          `the anomaly sidecar of '${service}' answered an unexpected shape (${parsed.error.issues[0]?.message ?? 'invalid'})`,
        ),
      };
    }
    return { ok: true, value: parsed.data };
  }
}
