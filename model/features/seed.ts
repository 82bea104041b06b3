import type { FeatureVector, LogEvent } from '../../contracts/prediction.ts';

/**
 * The seed design's four-number encoding of a log event (kept as the legacy `{"data":[…]}` input of
 * the prediction API): UNIX timestamp in seconds, message length, log-stream index, log-group name
 * length. It carries almost no signal (AP 0.074 on BGL_2k); it exists for compatibility only.
 */

/** Options for {@link encodeSeedFeatures}. */
export interface SeedEncodingOptions {
  /**
   * Maps a log-stream name to its index (the seed one-hot's position).
   * @default - a stable FNV-1a hash of the name modulo {@link SEED_STREAM_BUCKETS}; -1 without a stream
   */
  readonly streamIndex?: (logStream: string) => number;
}

/** Buckets of the default stream index. */
export const SEED_STREAM_BUCKETS = 64;

/**
 * Encodes a log event as the seed's four features.
 *
 * @example
 * encodeSeedFeatures({ timestamp: '2024-01-01T00:00:00Z', message: 'ok', logGroup: '/ecs/web' });
 * // [1704067200, 2, -1, 7]
 */
export function encodeSeedFeatures(event: LogEvent, options: SeedEncodingOptions = {}): FeatureVector {
  const millis = typeof event.timestamp === 'number' ? event.timestamp : Date.parse(event.timestamp);
  // Numbers below 1e11 are already seconds (CloudWatch and the seed used both conventions).
  const seconds = Math.abs(millis) < 1e11 ? millis : Math.floor(millis / 1000);
  const stream =
    event.logStream === undefined ? -1 : (options.streamIndex ?? defaultStreamIndex)(event.logStream);
  return [Number.isFinite(seconds) ? seconds : 0, event.message.length, stream, event.logGroup?.length ?? 0];
}

function defaultStreamIndex(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % SEED_STREAM_BUCKETS;
}
