import type { EndpointFailure } from '../../../model/client/scoring-client.ts';
import { Counter, Gauge, Histogram, renderPrometheus } from './prometheus.ts';

/** Why a record never got a score. Every reason is a label of `sidecar_records_dropped_total`. */
export type DropReason =
  /** The line was longer than MAX_LINE_CHARS. */
  | 'oversized'
  /** Not a record (not an object, no string `log`), or a json_lines line that is not JSON. */
  | 'malformed'
  /** The queue was full; the oldest records made room. */
  | 'queue_full'
  /** The endpoint failed the record's batch through every retry, twice. */
  | 'retries_exhausted'
  /** The model container refused the record (400/413/422), after the batch was split to find it. */
  | 'rejected_by_model'
  /** The endpoint answered something that is not a prediction per record. */
  | 'bad_response'
  /** Still queued when the shutdown grace period ended. */
  | 'shutdown';

export const DROP_REASONS: readonly DropReason[] = [
  'oversized',
  'malformed',
  'queue_full',
  'retries_exhausted',
  'rejected_by_model',
  'bad_response',
  'shutdown',
];

/** Why a whole `POST /logs` body was refused (its records could not even be counted). */
export type BodyRejectReason =
  | 'invalid_json'
  | 'too_large'
  | 'unsupported_media_type'
  | 'bad_encoding'
  /** The intake budget (bytes of bodies being read at once) was exhausted; the sender retries. */
  | 'busy'
  /** Not from the task's log router: the intake token was missing or wrong. */
  | 'unauthorized';

const ENDPOINT_FAILURES: readonly EndpointFailure[] = [
  'timeout',
  'unavailable',
  'throttled',
  'model_error',
  'missing_endpoint',
  'rejected_input',
  'bad_response',
];

/** Latency bounds in seconds: fine below 100 ms, where a healthy sidecar lives. */
const LATENCY_BOUNDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10,
];

/** Every metric the sidecar exposes on `GET /metrics`. */
export class SidecarMetrics {
  readonly received = new Counter('sidecar_records_received_total', 'Log records received on POST /logs.');
  readonly scored = new Counter('sidecar_records_scored_total', 'Log records scored by the endpoint.');
  readonly anomalous = new Counter(
    'sidecar_records_anomalous_total',
    'Scored records at or above the anomaly threshold.',
  );
  readonly dropped = new Counter<DropReason>(
    'sidecar_records_dropped_total',
    'Records that were never scored, by reason.',
    'reason',
    DROP_REASONS,
  );
  readonly bodiesRejected = new Counter<BodyRejectReason>(
    'sidecar_intake_bodies_rejected_total',
    'POST /logs bodies refused whole, by reason.',
    'reason',
    ['invalid_json', 'too_large', 'unsupported_media_type', 'bad_encoding', 'busy', 'unauthorized'],
  );
  readonly endpointErrors = new Counter<EndpointFailure>(
    'sidecar_endpoint_errors_total',
    'Failed endpoint calls, by failure kind.',
    'kind',
    ENDPOINT_FAILURES,
  );
  readonly endpointCalls = new Counter('sidecar_endpoint_calls_total', 'Endpoint calls made.');
  readonly breakerOpened = new Counter('sidecar_breaker_opened_total', 'Times the circuit breaker opened.');
  readonly recordsSuppressed = new Counter(
    'sidecar_anomaly_records_suppressed_total',
    'Anomaly records not written to stdout (rate limit or stdout backlog); still counted as anomalous.',
  );
  readonly batchLatency = new Histogram(
    'sidecar_batch_latency_seconds',
    'Duration of one endpoint call for a batch.',
    LATENCY_BOUNDS,
  );
  readonly intakeToScored = new Histogram(
    'sidecar_intake_to_scored_seconds',
    'Time from a record arriving on POST /logs to its score.',
    LATENCY_BOUNDS,
  );
  private readonly gauges: Gauge[];

  constructor(read: {
    queueDepth: () => number;
    queueBytes: () => number;
    breakerState: () => number;
    inFlight: () => number;
  }) {
    this.gauges = [
      new Gauge('sidecar_queue_depth', 'Records waiting to be scored.', read.queueDepth),
      new Gauge('sidecar_queue_bytes', 'Characters of log text waiting to be scored.', read.queueBytes),
      new Gauge('sidecar_batches_in_flight', 'Endpoint calls in progress.', read.inFlight),
      new Gauge(
        'sidecar_breaker_state',
        'Circuit breaker: 0 closed, 1 open, 2 half-open.',
        read.breakerState,
      ),
      new Gauge('process_resident_memory_bytes', 'Resident set size.', () => process.memoryUsage.rss()),
    ];
  }

  render(): string {
    return renderPrometheus([
      this.received,
      this.scored,
      this.anomalous,
      this.dropped,
      this.bodiesRejected,
      this.endpointCalls,
      this.endpointErrors,
      this.breakerOpened,
      this.recordsSuppressed,
      this.batchLatency,
      this.intakeToScored,
      ...this.gauges,
    ]);
  }
}
