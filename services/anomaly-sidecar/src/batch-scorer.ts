import type { LogEvent, LogsRequest, PredictionResponse } from '../../../contracts/prediction.ts';
import { EndpointError } from '../../../model/client/scoring-client.ts';
import { backoffDelayMs } from './backoff.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { QueuedRecord, Round } from './record-queue.ts';
import type { DropReason, SidecarMetrics } from './sidecar-metrics.ts';

/**
 * One batch on the endpoint: retries with backoff while the breaker allows, a split in halves when the
 * model refuses the input, and every outcome handed back to the pipeline (scored, requeued, dropped).
 */

/** The part of the shared ScoringClient the pipeline uses (model/client). */
export interface Scorer {
  score(request: LogsRequest, signal?: AbortSignal): Promise<PredictionResponse>;
}

/**
 * Split bounds for a batch the model refuses: deep enough to isolate one line of a 512-line batch
 * (2 calls per level), and a total that keeps a model refusing everything from costing ~2n calls.
 */
const MAX_SPLIT_DEPTH = 9;
const MAX_SPLIT_CALLS = 32;

/** Calls one batch (and the parts split from it) has spent, shared by every part. */
interface SplitBudget {
  calls: number;
}

/** Retry settings and the request's log group (a subset of the sidecar configuration). */
export interface BatchScorerOptions {
  readonly logGroupName?: string;
  readonly retryMaxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

/** What a batch can come to; the pipeline decides what each means for the queue and the outputs. */
export interface BatchOutcomes {
  /** Every line has a prediction. */
  scored(batch: readonly QueuedRecord[], response: PredictionResponse): void;
  /** The batch could not be scored this round; its records go back to the queue if they have rounds left. */
  requeue(batch: readonly QueuedRecord[], round: Round): void;
  dropped(reason: DropReason, count: number): void;
  /** A call failed for the endpoint's sake (down, throttled, timing out), not for its input. */
  failed(): void;
}

/** What {@link BatchScorer} needs from the pipeline around it. */
export interface BatchScorerDeps {
  readonly scorer: Scorer;
  readonly breaker: CircuitBreaker;
  readonly metrics: SidecarMetrics;
  readonly outcomes: BatchOutcomes;
  /** Aborted when the pipeline stops: calls in flight and backoff waits end at once. */
  readonly signal: AbortSignal;
  readonly clock: () => number;
  readonly random: () => number;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export class BatchScorer {
  private readonly options: BatchScorerOptions;
  private readonly deps: BatchScorerDeps;

  constructor(options: BatchScorerOptions, deps: BatchScorerDeps) {
    this.options = options;
    this.deps = deps;
  }

  /**
   * Scores one batch whose first call the breaker has already admitted. An endpoint that fails (down,
   * throttled, timing out, a crashed model container, a missing endpoint) is retried with backoff while
   * the breaker allows, then the batch goes back to the queue. Only an input the model refused splits the
   * batch, in halves, within {@link SplitBudget}, so one bad record never costs its companions their
   * score and a model that refuses everything never costs more than a few calls.
   */
  async score(batch: QueuedRecord[], depth = 0, split: SplitBudget = { calls: 0 }): Promise<void> {
    const { breaker, metrics, outcomes, signal, clock } = this.deps;
    // A round that fails because the endpoint is down (a probe of the open breaker, or the failure that
    // opens it) says little about these records: it counts against the outage bound, not the retry one.
    const startedClosed = breaker.state === 'closed';
    const round = (): Round => (startedClosed && breaker.state === 'closed' ? 'retry' : 'outage');
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1 && !breaker.tryAcquire(clock())) {
        outcomes.requeue(batch, round());
        return;
      }
      const started = clock();
      let response: PredictionResponse;
      try {
        metrics.endpointCalls.inc();
        split.calls += 1;
        response = await this.deps.scorer.score(this.requestOf(batch), signal);
        if (response.predictions.length !== batch.length) {
          throw new EndpointError(
            'bad_response',
            `the endpoint returned ${response.predictions.length} predictions for ${batch.length} lines`,
          );
        }
      } catch (error) {
        if (signal.aborted) {
          breaker.release();
          outcomes.requeue(batch, 'none');
          return;
        }
        const failure =
          error instanceof EndpointError ? error : new EndpointError('unavailable', String(error));
        metrics.endpointErrors.inc(1, failure.failure);
        if (failure.rejectedInput) {
          // The endpoint is up and answered; the input is the problem.
          breaker.onSuccess();
          await this.splitRejected(batch, depth, split, failure.message);
          return;
        }
        outcomes.failed();
        breaker.onFailure(clock());
        if (failure.failure === 'bad_response') {
          outcomes.dropped('bad_response', batch.length);
          this.deps.log('error', 'the endpoint answered an unusable response; batch skipped', {
            error: failure.message,
            records: batch.length,
          });
          return;
        }
        if (attempt >= this.options.retryMaxAttempts || breaker.state === 'open') {
          outcomes.requeue(batch, round());
          return;
        }
        const delay = backoffDelayMs(
          attempt,
          { baseMs: this.options.retryBaseMs, maxMs: this.options.retryMaxMs },
          this.deps.random,
        );
        await sleep(delay, signal);
        continue;
      }
      breaker.onSuccess();
      metrics.batchLatency.observe((clock() - started) / 1000);
      outcomes.scored(batch, response);
      return;
    }
  }

  /** Halves a refused batch; a single line, or a part past the split bounds, is dropped as refused. */
  private async splitRejected(
    batch: QueuedRecord[],
    depth: number,
    split: SplitBudget,
    why: string,
  ): Promise<void> {
    const { outcomes, breaker, clock } = this.deps;
    if (batch.length === 1 || depth >= MAX_SPLIT_DEPTH) {
      outcomes.dropped('rejected_by_model', batch.length);
      this.deps.log('warn', 'the model rejected lines; skipped', { error: why, records: batch.length });
      return;
    }
    const middle = Math.ceil(batch.length / 2);
    for (const half of [batch.slice(0, middle), batch.slice(middle)]) {
      if (split.calls >= MAX_SPLIT_CALLS) {
        outcomes.dropped('rejected_by_model', half.length);
      } else if (!breaker.tryAcquire(clock())) {
        outcomes.requeue(half, 'none');
      } else {
        await this.score(half, depth + 1, split);
      }
    }
  }

  private requestOf(batch: readonly QueuedRecord[]): LogsRequest {
    const logGroup = this.options.logGroupName;
    const logs: LogEvent[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      const event: { timestamp: number; message: string; logStream?: string; logGroup?: string } = {
        timestamp: r.time,
        message: r.line,
      };
      if (r.container !== undefined) event.logStream = r.container;
      if (logGroup !== undefined) event.logGroup = logGroup;
      logs[i] = event;
    }
    return { logs };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
