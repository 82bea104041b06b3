/** Waits `ms` milliseconds; injected so tests run on fake time. */
export type Sleep = (ms: number) => Promise<void>;

/** Current time in epoch milliseconds; injected so tests run on fake time. */
export interface Clock {
  now(): number;
}

export interface RetryPolicy {
  /** Total attempts including the first. */
  readonly maxAttempts: number;
  /** Delay before the first retry; doubles per retry. */
  readonly baseDelayMs: number;
  /** Upper bound of one delay. */
  readonly maxDelayMs: number;
}

/**
 * ECS allows bursts of ~20-50 requests per API per account and refills slowly; a CI run that deploys
 * while autoscaling and the remediation Lambda also call ECS can be throttled. Six attempts with
 * exponential backoff span roughly a minute, well inside a rollout.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 20_000 };

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
]);

/** True for errors that mean "slow down" (by name, by the SDK's own classification, or HTTP 429). */
export function isThrottlingError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: unknown;
    $retryable?: { throttling?: boolean };
    $metadata?: { httpStatusCode?: number };
  };
  return (
    (typeof e.name === 'string' && THROTTLING_NAMES.has(e.name)) ||
    e.$retryable?.throttling === true ||
    e.$metadata?.httpStatusCode === 429
  );
}

/**
 * Runs `call`, retrying throttling errors with exponential backoff and jitter; any other error, or
 * throttling on the last attempt, is rethrown unchanged.
 *
 * @param onRetry told about each retry so the operator sees why the command is waiting.
 * @example
 * const out = await retryThrottled(() => ecs.send(new DescribeServicesCommand(input)), { sleep, onRetry: log });
 */
export async function retryThrottled<T>(
  call: () => Promise<T>,
  options: {
    readonly sleep: Sleep;
    readonly policy?: RetryPolicy;
    /** 0 ≤ random() < 1; injected for deterministic delays in tests. */
    readonly random?: () => number;
    readonly onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  },
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isThrottlingError(error)) throw error;
      // "Equal jitter": at least half the exponential delay, so retries never bunch up at zero.
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.round(ceiling / 2 + random() * (ceiling / 2));
      options.onRetry?.({ attempt, delayMs, error });
      await options.sleep(delayMs);
    }
  }
}
