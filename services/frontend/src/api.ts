import type {
  AnomaliesListResponse,
  PredictionResponse,
  SeriesResponse,
  ServicesResponse,
} from '../../../contracts/console-api.ts';
import type {
  AlarmsResponse,
  CapacityResponse,
  DeploymentsResponse,
  IdentityResponse,
  RemediationResponse,
} from '../../../contracts/console-ops.ts';
import type { ErrorIssue } from '../../../contracts/errors.ts';
import type { JobsResponse } from '../../../contracts/job-runs.ts';

/**
 * The console's calls to `/api` (same origin; the frontend server proxies them to the backend).
 * A failure becomes an {@link ApiFailure} carrying the platform's error message and issues, so the UI
 * can say what went wrong (`the backend is unreachable`, `data.0: expected number`) instead of
 * showing nothing.
 */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: readonly ErrorIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers: { accept: 'application/json', ...init?.headers } });
  } catch {
    throw new ApiFailure(0, 'network', 'the console server cannot be reached; check your connection');
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string; issues?: ErrorIssue[] } } | undefined)
      ?.error;
    throw new ApiFailure(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `the server answered HTTP ${response.status}`,
      Array.isArray(error?.issues) ? error.issues : [],
    );
  }
  if (body === undefined)
    throw new ApiFailure(response.status, 'bad_response', 'the server answered no JSON');
  return body as T;
}

const postJson = (body: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
});

export const api = {
  services: () => request<ServicesResponse>('api/services'),
  series: (service: string, bucketSeconds: number, buckets: number) =>
    request<SeriesResponse>(
      `api/services/${encodeURIComponent(service)}/series?bucketSeconds=${bucketSeconds}&buckets=${buckets}`,
    ),
  anomalies: (limit: number) => request<AnomaliesListResponse>(`api/anomalies?limit=${limit}`),
  deployments: () => request<DeploymentsResponse>('api/deployments'),
  remediation: () => request<RemediationResponse>('api/remediation'),
  alarms: () => request<AlarmsResponse>('api/alarms'),
  capacity: () => request<CapacityResponse>('api/capacity'),
  jobs: () => request<JobsResponse>('api/jobs'),
  identity: () => request<IdentityResponse>('auth/me'),
  predictLines: (messages: readonly string[]) =>
    request<PredictionResponse>(
      'api/predict',
      postJson(JSON.stringify({ logs: messages.map((message) => ({ timestamp: Date.now(), message })) })),
    ),
  /** Sends the text as typed, so the API's own validation (with issue paths) answers a bad body. */
  predictBody: (body: string) => request<PredictionResponse>('api/predict', postJson(body)),
};

/** `12:04:05` in the viewer's time zone. */
export function clock(iso: string | number): string {
  return new Date(iso).toLocaleTimeString([], { hour12: false });
}

/** `3 min ago`, `12 s ago`: how fresh a state is. */
export function ago(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}
