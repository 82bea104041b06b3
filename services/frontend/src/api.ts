import type {
  AnomaliesListResponse,
  PredictionResponse,
  SeriesResponse,
  ServicesResponse,
} from '../../../contracts/console-api.ts';

/**
 * The console's calls to `/api` (same origin; the frontend server proxies them to the backend).
 * A failure becomes an {@link ApiFailure} carrying the platform's error message, so the UI can say
 * what went wrong (`the backend is unreachable`) instead of showing nothing.
 */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
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
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiFailure(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `the server answered HTTP ${response.status}`,
    );
  }
  if (body === undefined)
    throw new ApiFailure(response.status, 'bad_response', 'the server answered no JSON');
  return body as T;
}

export const api = {
  services: () => request<ServicesResponse>('/api/services'),
  series: (service: string, bucketSeconds: number, buckets: number) =>
    request<SeriesResponse>(
      `/api/services/${encodeURIComponent(service)}/series?bucketSeconds=${bucketSeconds}&buckets=${buckets}`,
    ),
  anomalies: (limit: number) => request<AnomaliesListResponse>(`/api/anomalies?limit=${limit}`),
  predict: (messages: readonly string[]) =>
    request<PredictionResponse>('/api/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ logs: messages.map((message) => ({ timestamp: Date.now(), message })) }),
    }),
};

/** `12:04:05` in the viewer's time zone. */
export function clock(iso: string | number): string {
  return new Date(iso).toLocaleTimeString([], { hour12: false });
}
