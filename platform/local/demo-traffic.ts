/**
 * Demo traffic: normal requests at a steady rate, so the console's charts move and an injected fault
 * stands out against a baseline.
 */

/** One kind of request the generator sends, in turn. */
export interface DemoRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly body?: () => unknown;
}

/** Counters of a running generator. */
export interface DemoStats {
  sent: number;
  ok: number;
  failed: number;
  /** Answers by HTTP status. */
  byStatus: Record<number, number>;
  /** Requests that got no answer at all (refused, reset). */
  unanswered: number;
  /** Requests still unanswered at their deadline (a slow machine, or a slow service). */
  timedOut: number;
}

/** The requests a user of the console would make: the page, the console API and a prediction. */
export function demoRequests(urls: { web: string; api: string }): DemoRequest[] {
  return [
    { method: 'GET', url: `${urls.web}/` },
    { method: 'GET', url: `${urls.web}/api/services` },
    {
      method: 'POST',
      url: `${urls.api}/predict`,
      body: () => ({
        logs: [
          { timestamp: Date.now(), message: `GET /orders/${Math.floor(Math.random() * 1000)} 200 12ms` },
        ],
      }),
    },
  ];
}

/**
 * Sends `requests` round-robin at `rps` requests per second until stopped. A slow answer never
 * delays the schedule (each request has its own deadline); failures are counted, not thrown.
 *
 * @example
 * const stop = startDemoTraffic(demoRequests(urls), 2);
 * // …
 * stop();
 */
export function startDemoTraffic(
  requests: readonly DemoRequest[],
  rps: number,
): { stop(): void; stats: DemoStats } {
  const stats: DemoStats = { sent: 0, ok: 0, failed: 0, byStatus: {}, unanswered: 0, timedOut: 0 };
  let i = 0;
  const timer = setInterval(() => {
    const request = requests[i++ % requests.length]!;
    stats.sent += 1;
    fetch(request.url, {
      method: request.method,
      signal: AbortSignal.timeout(5000),
      ...(request.body
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body()) }
        : {}),
    })
      .then(async (response) => {
        await response.arrayBuffer();
        stats.byStatus[response.status] = (stats.byStatus[response.status] ?? 0) + 1;
        if (response.ok) stats.ok += 1;
        else stats.failed += 1;
      })
      .catch((error: unknown) => {
        stats.failed += 1;
        if ((error as Error | undefined)?.name === 'TimeoutError') stats.timedOut += 1;
        else stats.unanswered += 1;
      });
  }, 1000 / rps);
  return { stop: () => clearInterval(timer), stats };
}

/** Parses `--demo-traffic` (2 rps) or `--demo-traffic=R` (0 < R ≤ 100). */
export function parseDemoTrafficFlag(args: readonly string[]): number | undefined {
  const flag = args.find((a) => a === '--demo-traffic' || a.startsWith('--demo-traffic='));
  if (!flag) return undefined;
  if (flag === '--demo-traffic') return 2;
  const value = Number(flag.slice('--demo-traffic='.length));
  if (!Number.isFinite(value) || value <= 0 || value > 100) {
    throw new Error(
      `--demo-traffic=R takes a rate from 0 (exclusive) to 100 requests per second; got '${flag}'`,
    );
  }
  return value;
}
