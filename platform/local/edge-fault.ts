/**
 * A fault the local runtime rehearses for a service that has no fault switch of its own
 * (`fault SERVICE on RATE`): RATE of the requests its proxies send to the revision in service are
 * answered 500 by the runtime instead, and each failure is written into that revision's log stream as
 * an error with a stack trace, as a failing app would print it, so its sidecar scores it like the app's
 * own output. It switches itself off after its duration (5 minutes from the CLI, as the backend's own
 * switch), so a forgotten rehearsal does not keep failing requests. Local only: on AWS nothing but the
 * app fails its requests or writes its logs.
 */

/** Where a failure is written: a revision's app, whose lines go to its log router and sidecar. */
export interface LogStream {
  /** False when the process has not started yet (nothing is written). */
  writeLog(lines: readonly string[]): boolean;
}

/** What `status` reports of an edge fault. */
export interface EdgeFaultSettings {
  /** Share of requests failed (a worker: RATE × {@link WORKER_FAILURES_PER_SECOND} lines a second), 0..1; 0 is off. */
  readonly errorRate: number;
  /** When it switches itself off, ISO-8601; `null` while off. */
  readonly expiresAt: string | null;
  /** Failures written since it was last switched on. */
  readonly failed: number;
}

/**
 * A worker answers no requests, so `on RATE` paces error lines instead: RATE × this many a second, as
 * if it handled ten jobs a second and RATE of them failed (the demo traffic is 2 requests a second).
 */
export const WORKER_FAILURES_PER_SECOND = 10;

/**
 * One failure as Node prints an uncaught error: its message, then its stack frames (the sidecar joins
 * them into one event, as FireLens's multiline parser would).
 *
 * @example
 * failureLines('GET /orders failed: read ECONNRESET'); // ['Error: GET /orders failed: …', '    at …', '    at …']
 */
export function failureLines(message: string): string[] {
  return [
    `Error: ${message}`,
    '    at handleRequest (/srv/app/server.js:42:11)',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
  ];
}

/** One service's edge fault: its rate, its expiry and the failures it wrote. */
export class EdgeFault {
  private errorRate = 0;
  private expiresAt: number | null = null;
  private failed = 0;

  constructor(
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  /** Switches it on at `errorRate` for `durationSeconds`, or off with 0; the failure count restarts. */
  set(errorRate: number, durationSeconds: number): EdgeFaultSettings {
    this.errorRate = errorRate;
    this.expiresAt = errorRate > 0 ? this.now() + durationSeconds * 1000 : null;
    this.failed = 0;
    return this.settings();
  }

  /** The rate now (0 once expired). */
  get rate(): number {
    if (this.expiresAt !== null && this.now() >= this.expiresAt) {
      this.errorRate = 0;
      this.expiresAt = null;
    }
    return this.errorRate;
  }

  settings(): EdgeFaultSettings {
    const errorRate = this.rate;
    return {
      errorRate,
      expiresAt: this.expiresAt === null ? null : new Date(this.expiresAt).toISOString(),
      failed: this.failed,
    };
  }

  /** Whether one request fails now: drawn at the current rate. */
  draw(): boolean {
    const rate = this.rate;
    return rate > 0 && this.random() < rate;
  }

  /** Writes one failure (`what` failed) into `stream`, counting it when written. */
  record(stream: LogStream, what: string): void {
    const message = `${what} failed: read ECONNRESET from the upstream (rehearsed by berth fault)`;
    if (stream.writeLog(failureLines(message))) this.failed += 1;
  }
}
