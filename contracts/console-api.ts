import type { AnomalyRecord } from './anomaly.ts';

/**
 * The backend's JSON API as the console sees it. Types only (the console imports them with
 * `import type`, so no schema code reaches the browser bundle); the backend builds these values
 * itself and validates everything it receives from outside.
 */

/** A declared service's health, as probed by the backend. */
export interface ServiceStatus {
  readonly name: string;
  /** Behind the ALB, internal, or a worker (no port: its health is its process's or its ECS service's). */
  readonly kind?: 'web' | 'internal' | 'worker';
  /** `unknown` when no health URL is configured for the service. */
  readonly health: 'up' | 'down' | 'unknown';
  /** HTTP status of the health probe, when it answered. */
  readonly httpStatus?: number;
  /** How long the probe took, in milliseconds. */
  readonly latencyMs?: number;
  /** Why a probe failed (`timeout`, `connection refused`, `HTTP 503`). */
  readonly detail?: string;
  /** When the probe ran, ISO-8601. */
  readonly checkedAt: string;
  /** On AWS, from ECS DescribeServices: the service's task counts. */
  readonly tasks?: { readonly running: number; readonly desired: number; readonly pending: number };
  /** On AWS, the rollout state of the service's primary deployment. */
  readonly rollout?: 'in-progress' | 'completed' | 'failed';
  /** A scored service's alert budget and the alert rate observed against it. */
  readonly alerts?: ServiceAlerts;
}

/**
 * A service's declared alert budget (the share of normal lines its sidecar may flag,
 * contracts/alert-budget.ts) beside what its anomaly series shows over the last `windowMinutes`:
 * `anomalous / scored` is the observed alert rate.
 */
export interface ServiceAlerts {
  readonly budget: number;
  readonly windowMinutes: number;
  readonly scored?: number;
  readonly anomalous?: number;
  /** Why the rate is missing (the series could not be read); never shown as 0. */
  readonly unavailable?: string;
}

/** `GET /api/services`. */
export interface ServicesResponse {
  /** Where anomaly data comes from: the local runtime's sidecars or CloudWatch. */
  readonly anomalySource: 'local' | 'cloudwatch';
  /** Where health comes from: HTTP probes (local) or ECS DescribeServices (aws). */
  readonly healthSource?: 'probe' | 'ecs';
  readonly services: readonly ServiceStatus[];
}

/** A service whose anomaly data could not be read; reported, never silently left out. */
export interface UnavailableSource {
  readonly service: string;
  readonly reason: string;
}

/** `GET /api/anomalies?service=&limit=`: newest first, across the requested services. */
export interface AnomaliesListResponse {
  readonly records: readonly AnomalyRecord[];
  readonly unavailable: readonly UnavailableSource[];
}

/** `GET /api/faults` and the answer of `POST /api/faults`. */
export interface FaultState {
  readonly enabled: boolean;
  /** Share of API requests answered with an injected 500 (and a logged stack trace), 0..1. */
  readonly errorRate: number;
  /** Latency added to every API request, in milliseconds. */
  readonly slowMs: number;
  /** Share of API requests that wait for a dependency that never answers, then answer 504, 0..1. */
  readonly timeoutRate: number;
  /** When the faults switch themselves off, ISO-8601; `null` for never. */
  readonly expiresAt: string | null;
}

export type { AnomalyRecord, SeriesPoint, SeriesResponse } from './anomaly.ts';
export type { Prediction, PredictionResponse } from './prediction.ts';
