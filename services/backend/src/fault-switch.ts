import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { FaultState } from '../../../contracts/console-api.ts';
import { ApiError } from '../../../contracts/errors.ts';

/**
 * The fault switch: makes the backend misbehave on purpose (error bursts with stack traces, slow
 * answers, dependency timeouts) so that real anomalous logs exist for demonstrations and tests.
 * It does nothing unless enabled by configuration (`FAULTS_ENABLED=1`); then `POST /api/faults`
 * sets it and it can expire on its own, so a forgotten demo does not keep failing requests.
 */

/** `POST /api/faults`: every field optional, omitted means 0 (off). */
export const FaultSettingsSchema = z.strictObject({
  errorRate: z.number().min(0).max(1).default(0),
  slowMs: z.number().int().min(0).max(30_000).default(0),
  timeoutRate: z.number().min(0).max(1).default(0),
  /** Switch off again after this many seconds. @default never */
  durationSeconds: z.number().int().min(1).max(86_400).optional(),
});
export type FaultSettings = z.input<typeof FaultSettingsSchema>;

/** `POST /api/faults/burst`: write `count` error lines with stack traces right now. */
export const FaultBurstSchema = z.strictObject({
  count: z.number().int().min(1).max(1000),
});

/** Where injected failures are written; one call per log line. */
export type FaultLog = (line: Record<string, unknown>) => void;

export interface FaultSwitchOptions {
  readonly enabled: boolean;
  /** How long an injected dependency timeout waits before answering 504. */
  readonly dependencyTimeoutMs: number;
  readonly log: FaultLog;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Plausible failures, so the logs look like a real incident rather than a test marker. */
const FAILURES = [
  ['ECONNRESET', 'read ECONNRESET while querying orders-db (10.0.3.17:5432)'],
  ['ERR_CACHE', 'cache cluster redis-main returned MOVED 3999 10.0.4.9:6379 during failover'],
  ['ERR_STATE', "Cannot read properties of undefined (reading 'lineItems') in OrderTotals.compute"],
] as const;

export class FaultSwitch {
  readonly enabled: boolean;
  private settings = { errorRate: 0, slowMs: 0, timeoutRate: 0 };
  private expiresAt: number | null = null;
  private readonly options: FaultSwitchOptions;
  private readonly random: () => number;
  private readonly now: () => number;
  private sequence = 0;

  constructor(options: FaultSwitchOptions) {
    this.options = options;
    this.enabled = options.enabled;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  state(): FaultState {
    this.expireIfDue();
    return {
      enabled: this.enabled,
      ...this.settings,
      expiresAt: this.expiresAt === null ? null : new Date(this.expiresAt).toISOString(),
    };
  }

  /** Replaces the settings; 403 when the switch is not enabled by configuration. */
  set(input: FaultSettings): FaultState {
    this.assertEnabled();
    const parsed = FaultSettingsSchema.parse(input);
    this.settings = { errorRate: parsed.errorRate, slowMs: parsed.slowMs, timeoutRate: parsed.timeoutRate };
    this.expiresAt = parsed.durationSeconds === undefined ? null : this.now() + parsed.durationSeconds * 1000;
    return this.state();
  }

  /** Writes `count` error lines, each with a stack trace, as an incident's burst would. */
  burst(count: number): number {
    this.assertEnabled();
    for (let i = 0; i < count; i += 1) this.logFailure('error burst');
    return count;
  }

  /** The middleware that applies the current settings to a request. */
  middleware(): MiddlewareHandler {
    const faults = this;
    return async function injectFaults(_c, next) {
      if (faults.enabled) await faults.apply();
      await next();
    };
  }

  private async apply(): Promise<void> {
    this.expireIfDue();
    const { errorRate, slowMs, timeoutRate } = this.settings;
    if (slowMs > 0) await sleep(slowMs);
    if (timeoutRate > 0 && this.random() < timeoutRate) {
      await sleep(this.options.dependencyTimeoutMs);
      this.logFailure('dependency timeout', 'ETIMEDOUT', 'orders-db did not answer within the deadline');
      throw new ApiError('gateway_timeout', 'a dependency did not answer in time');
    }
    if (errorRate > 0 && this.random() < errorRate) {
      this.logFailure('injected error');
      throw new ApiError('internal', 'internal error');
    }
  }

  private logFailure(kind: string, forcedCode?: string, forcedMessage?: string): void {
    const [code, message] = FAILURES[this.sequence++ % FAILURES.length]!;
    const error = new Error(forcedMessage ?? message);
    Object.assign(error, { code: forcedCode ?? code });
    this.options.log({
      level: 'error',
      time: new Date(this.now()).toISOString(),
      msg: `unhandled ${kind}: ${error.message}`,
      code: forcedCode ?? code,
      stack: error.stack,
      fault: true,
    });
  }

  /** 403 unless enabled by configuration; checked before a request body is even read. */
  assertEnabled(): void {
    if (!this.enabled) {
      throw new ApiError(
        'forbidden',
        'the fault switch is disabled; start the backend with FAULTS_ENABLED=1',
      );
    }
  }

  private expireIfDue(): void {
    if (this.expiresAt !== null && this.now() >= this.expiresAt) {
      this.settings = { errorRate: 0, slowMs: 0, timeoutRate: 0 };
      this.expiresAt = null;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
