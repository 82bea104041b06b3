/**
 * Probe traffic: GET requests to the declared paths (`deployment.probes`), sent to the new revision
 * through its test route when it has too little traffic to be judged. Bounded in count, concurrency and
 * time; every answer counts as answered, whatever its status (the judgement, not the probe, decides
 * whether a status is bad). The AWS gate and the local rehearsal send them with this one function.
 */

/** Where probes go: the test route's base URL (the test listener on AWS, the revision's port locally). */
export interface ProbeTarget {
  readonly baseUrl: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ProbeResult {
  readonly sent: number;
  readonly answered: number;
  /** Answers with a 5xx status (counted where a load balancer would count them). */
  readonly errors: number;
  /** When the first 5xx answer came (epoch ms), if one did. */
  readonly firstErrorAt?: number;
}

export interface ProbeOptions {
  /** Requests in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Deadline of one request. @default 3000 */
  readonly timeoutMs?: number;
  /** Stops sending (in-flight requests finish or time out). */
  readonly signal?: AbortSignal;
}

/**
 * Sends `count` GET requests, cycling through `paths` (starting at `offset`, so successive batches
 * spread over every path).
 *
 * @example
 * await sendProbes({ baseUrl: 'http://127.0.0.1:41234' }, ['/healthz', '/'], 20);
 */
export async function sendProbes(
  target: ProbeTarget,
  paths: readonly string[],
  count: number,
  options: ProbeOptions = {},
  offset = 0,
): Promise<ProbeResult> {
  if (paths.length === 0 || count <= 0) return { sent: 0, answered: 0, errors: 0 };
  const timeoutMs = options.timeoutMs ?? 3000;
  let next = 0;
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let firstErrorAt: number | undefined;
  const worker = async () => {
    while (next < count && !options.signal?.aborted) {
      const path = paths[(offset + next) % paths.length]!;
      next += 1;
      sent += 1;
      try {
        const response = await fetch(new URL(path, target.baseUrl), {
          headers: { ...target.headers, 'user-agent': 'platform-deployment-probe' },
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer();
        answered += 1;
        if (response.status >= 500) {
          errors += 1;
          firstErrorAt ??= Date.now();
        }
      } catch {
        // No answer (refused, reset, timed out): counted as sent only.
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, count) }, worker));
  return { sent, answered, errors, ...(firstErrorAt !== undefined ? { firstErrorAt } : {}) };
}
