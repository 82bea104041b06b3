import { execFile } from 'node:child_process';
import { get } from 'node:http';

/**
 * HTTP health checks, as the ECS agent and the ALB target group run them: `GET` the service's declared
 * path; a 2xx within the timeout is a pass.
 */

/**
 * One probe: true on a 2xx answer within `timeoutMs`. Each probe uses its own connection, closed
 * afterwards (as the ECS agent's and the ALB's checks do): a pooled keep-alive connection would hold a
 * service's graceful `server.close()` open at shutdown.
 */
export function probeHealth(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(
      url,
      { agent: false, headers: { connection: 'close' }, timeout: timeoutMs },
      (response) => {
        response.resume();
        response.once('end', () =>
          resolve((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300),
        );
        response.once('error', () => resolve(false));
      },
    );
    request.once('timeout', () => request.destroy(new Error('timeout')));
    request.once('error', () => resolve(false));
  });
}

/**
 * One command probe, as the ECS agent runs a container's `CMD` health check: exit 0 within `timeoutMs`
 * passes; anything else (a non-zero exit, a missing program, the timeout) fails.
 */
export function probeCommand(
  command: { readonly file: string; readonly args: readonly string[] },
  options: {
    readonly env: Readonly<Record<string, string>>;
    readonly cwd: string;
    readonly timeoutMs: number;
  },
): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      command.file,
      [...command.args],
      { env: { ...options.env }, cwd: options.cwd, timeout: options.timeoutMs, killSignal: 'SIGKILL' },
      (error) => resolve(error === null),
    );
  });
}

/** Options of {@link waitUntilHealthy}. */
export interface WaitOptions {
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** Consecutive passes needed (the check's `healthyThreshold`). @default 1 */
  readonly healthyThreshold?: number;
  /** Pause between probes; short, since locally a process is up within a second or two. @default 100 */
  readonly intervalMs?: number;
  /** Deadline of one probe. @default 1000 */
  readonly probeTimeoutMs?: number;
  /** Stops waiting early (e.g. shutdown requested). */
  readonly signal?: AbortSignal;
}

/** Resolves true once `url` passes `healthyThreshold` probes in a row, false on timeout or abort. */
export async function waitUntilHealthy(url: string, options: WaitOptions): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  const needed = options.healthyThreshold ?? 1;
  const interval = options.intervalMs ?? 100;
  let passes = 0;
  while (Date.now() < deadline && !options.signal?.aborted) {
    const ok = await probeHealth(
      url,
      Math.min(options.probeTimeoutMs ?? 1000, Math.max(1, deadline - Date.now())),
    );
    passes = ok ? passes + 1 : 0;
    if (passes >= needed) return true;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  return false;
}
