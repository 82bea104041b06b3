import type { AnomalyRecord, SeriesResponse } from '../../../contracts/anomaly.ts';
import type { UnavailableSource } from '../../../contracts/console-api.ts';

/**
 * The anomaly port: where the console's anomaly time series and anomalous lines come from. Two
 * adapters implement it: {@link LocalAnomalySource} (the local runtime's sidecars) and
 * {@link CloudWatchAnomalySource} (the sidecars' EMF metrics and the anomaly log group on AWS).
 */
export interface AnomalySource {
  readonly kind: 'local' | 'cloudwatch';
  /** One service's series, oldest bucket first, exactly `query.buckets` points. */
  series(service: string, query: SeriesQuery, signal?: AbortSignal): Promise<SeriesResponse>;
  /** The newest anomalous lines of `services`, newest first, at most `limit`. */
  recentAnomalies(services: readonly string[], limit: number, signal?: AbortSignal): Promise<RecentAnomalies>;
}

export interface SeriesQuery {
  readonly bucketSeconds: number;
  readonly buckets: number;
}

export interface RecentAnomalies {
  readonly records: AnomalyRecord[];
  readonly unavailable: UnavailableSource[];
}

/** Newest first, then cut to `limit`: the merge both adapters use. */
export function newestFirst(records: readonly AnomalyRecord[], limit: number): AnomalyRecord[] {
  return [...records].sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp)).slice(0, limit);
}
