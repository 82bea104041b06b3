/**
 * A circuit breaker for the endpoint: after `failureThreshold` consecutive failures it opens and no call
 * is made for `openMs`; then one probe is let through (half-open). The probe's success closes it, its
 * failure opens it again. This stops a down endpoint from costing a timeout per batch and gives it room
 * to recover; records wait in the bounded queue meanwhile. Pure: the clock is passed in.
 */

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Options for {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** How long it stays open before a probe. */
  readonly openMs: number;
  /** Called on every state change (metrics, a log line). */
  readonly onStateChange?: (to: BreakerState, from: BreakerState) => void;
}

/**
 * @example
 * const breaker = new CircuitBreaker({ failureThreshold: 5, openMs: 2000 });
 * if (breaker.tryAcquire(Date.now())) { try { await call(); breaker.onSuccess(); } catch { breaker.onFailure(Date.now()); } }
 */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly openMs: number;
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probeInFlight = false;
  private opens = 0;
  private readonly onStateChange: (to: BreakerState, from: BreakerState) => void;

  constructor(options: CircuitBreakerOptions) {
    this.failureThreshold = options.failureThreshold;
    this.openMs = options.openMs;
    this.onStateChange = options.onStateChange ?? (() => {});
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Times the breaker has opened since start. */
  get openCount(): number {
    return this.opens;
  }

  /** Milliseconds until a call may be attempted (0 when one may go now). */
  msUntilAllowed(now: number): number {
    if (this.current === 'closed') return 0;
    if (this.current === 'half_open') return this.probeInFlight ? Number.POSITIVE_INFINITY : 0;
    return Math.max(0, this.openedAt + this.openMs - now);
  }

  /**
   * Whether a call may be made now. In half-open state only one call (the probe) is admitted; the caller
   * must report its outcome with {@link onSuccess} or {@link onFailure}.
   */
  tryAcquire(now: number): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (now < this.openedAt + this.openMs) return false;
      this.transition('half_open');
    }
    if (this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.probeInFlight = false;
    if (this.current !== 'closed') this.transition('closed');
  }

  onFailure(now: number): void {
    this.failures += 1;
    if (this.current === 'half_open') {
      this.probeInFlight = false;
      this.open(now);
    } else if (this.current === 'closed' && this.failures >= this.failureThreshold) {
      this.open(now);
    }
  }

  /**
   * A call admitted in half-open state that ended without an answer about the endpoint (shutdown): lets
   * the next probe through instead of waiting forever.
   */
  release(): void {
    this.probeInFlight = false;
  }

  private open(now: number): void {
    this.openedAt = now;
    this.opens += 1;
    this.transition('open');
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.onStateChange(to, from);
  }
}
