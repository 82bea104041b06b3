import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { formatDuration } from './args.ts';
import { type Clock, type RetryPolicy, retryThrottled, type Sleep } from './retry.ts';

/**
 * Everything the deploy core touches outside itself. The CLI passes the real ECS client, `Date` and
 * `setTimeout`; tests pass a mocked client and fake time, so a 15-minute rollout runs in milliseconds.
 */
export interface DeployDeps {
  readonly ecs: Pick<ECSClient, 'send'>;
  /** The release records (deploy writes them, seed fills the first); absent: nothing is recorded. */
  readonly ssm?: Pick<SSMClient, 'send'>;
  readonly clock: Clock;
  readonly sleep: Sleep;
  /** Progress, events and the plan (stdout). */
  readonly out: (line: string) => void;
  /** Failures (stderr). */
  readonly err: (line: string) => void;
  readonly retryPolicy?: RetryPolicy;
  readonly random?: () => number;
}

/** Calls ECS through the throttling retry, saying on stdout why the command pauses. */
export function callEcs<T>(deps: DeployDeps, operation: string, call: () => Promise<T>): Promise<T> {
  return retryThrottled(call, {
    sleep: deps.sleep,
    ...(deps.retryPolicy ? { policy: deps.retryPolicy } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    onRetry: ({ attempt, delayMs, error }) =>
      deps.out(
        `${operation} throttled (${errorName(error)}); retrying in ${formatDuration(delayMs)} (attempt ${attempt + 1})`,
      ),
  });
}

/** `AccessDeniedException: User … is not authorized …`: what an operator needs, without a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'error';
}
