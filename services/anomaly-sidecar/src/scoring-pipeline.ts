import type { Prediction } from '../../../contracts/prediction.ts';
import { type BatchOutcomes, BatchScorer, type Scorer } from './batch-scorer.ts';
import { msUntilBatchDue } from './batcher.ts';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.ts';
import type { AnomalyHistory, SeriesStore } from './history.ts';
import type { IntakeResult } from './intake.ts';
import { joinRecords, PLATFORM_MULTILINE_PARSER } from './multiline.ts';
import {
  chargeRound,
  type QueuedRecord,
  queuedBytesOf,
  RecordQueue,
  type Reserved,
  type Round,
} from './record-queue.ts';
import type { RequestClassCounter } from './request-classes.ts';
import { ScorePublisher } from './score-publisher.ts';
import { type DropReason, SidecarMetrics } from './sidecar-metrics.ts';

/**
 * The scoring core: a bounded queue of received records (record-queue.ts), cut into batches by size and
 * age, scored on the endpoint with retries, backoff and a circuit breaker (batch-scorer.ts), and published
 * as EMF metrics, anomaly records (stdout) and the in-memory history the console reads
 * (score-publisher.ts). This class composes them and decides when a batch starts. Everything that can
 * fail is counted; intake never waits on the endpoint.
 */

/** Options of the pipeline (a subset of the sidecar configuration). */
export interface ScoringPipelineOptions {
  readonly serviceName: string;
  readonly clusterName: string;
  /** The revision the records and metrics carry (a deployment measures the new one apart). */
  readonly revision?: string;
  readonly logGroupName?: string;
  readonly anomalyBudget?: number;
  readonly anomalyThreshold?: number;
  readonly batchMaxRecords: number;
  readonly batchMaxBytes: number;
  readonly batchMaxAgeMs: number;
  readonly queueMaxRecords: number;
  readonly queueMaxBytes: number;
  readonly scoringConcurrency: number;
  readonly retryMaxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly breakerFailureThreshold: number;
  readonly breakerOpenMs: number;
  readonly emfIntervalSeconds: number;
  readonly anomalyRecordsPerSecond: number;
  readonly anomalyHistory: number;
  /** Longest line accepted, also the longest a joined multi-line event may grow. @default 65536 */
  readonly maxLineChars?: number;
}

/** What the pipeline needs from the outside world; defaults are the real ones. */
export interface ScoringPipelineDeps {
  readonly scorer: Scorer;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /** Writes one or more complete lines to stdout (EMF and anomaly records). @default process.stdout.write */
  readonly writeOut?: (text: string) => void;
  /** Bytes written but not yet flushed by stdout. @default process.stdout.writableLength */
  readonly stdoutBacklog?: () => number;
  /** Operational log (stderr, JSON). @default a JSON line on stderr */
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export class ScoringPipeline {
  readonly metrics: SidecarMetrics;
  readonly breaker: CircuitBreaker;
  private readonly options: ScoringPipelineOptions;
  private readonly clock: () => number;
  private readonly queue: RecordQueue;
  private readonly publisher: ScorePublisher;
  private readonly batches: BatchScorer;
  private readonly log: NonNullable<ScoringPipelineDeps['log']>;
  private readonly abort = new AbortController();
  private inFlight = 0;
  /**
   * Records taken from the queue whose batch has not come to an outcome yet (being scored, waiting for a
   * retry, split). With it, one `/metrics` answer always balances: received = scored + dropped + joined +
   * queued + in flight.
   */
  private recordsInFlight = 0;
  /** The queue bytes of the batches whose calls have not ended (see `reserved`). */
  private bytesInFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private emfTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(options: ScoringPipelineOptions, deps: ScoringPipelineDeps) {
    this.options = options;
    this.clock = deps.clock ?? Date.now;
    const log = deps.log ?? defaultLog;
    this.log = log;
    this.queue = new RecordQueue({ maxRecords: options.queueMaxRecords, maxBytes: options.queueMaxBytes });
    this.breaker = new CircuitBreaker({
      failureThreshold: options.breakerFailureThreshold,
      openMs: options.breakerOpenMs,
      onStateChange: (to, from) => {
        if (to === 'open') this.metrics.breakerOpened.inc();
        log(to === 'open' ? 'warn' : 'info', `circuit breaker ${from} -> ${to}`, {
          queueDepth: this.queue.length,
        });
        // Leaving the open state may make a batch due; the open state itself is re-checked by its timer.
        if (to !== 'open') queueMicrotask(() => this.kick());
      },
    });
    this.metrics = new SidecarMetrics({
      queueDepth: () => this.queue.length,
      queueBytes: () => this.queue.bytes,
      inFlight: () => this.inFlight,
      recordsInFlight: () => this.recordsInFlight,
      breakerState: () => BREAKER_GAUGE[this.breaker.state],
    });
    this.publisher = new ScorePublisher(options, {
      metrics: this.metrics,
      clock: this.clock,
      writeOut: deps.writeOut ?? ((text) => process.stdout.write(text)),
      stdoutBacklog: deps.stdoutBacklog ?? (() => process.stdout.writableLength),
    });
    this.batches = new BatchScorer(options, {
      scorer: deps.scorer,
      breaker: this.breaker,
      metrics: this.metrics,
      signal: this.abort.signal,
      clock: this.clock,
      random: deps.random ?? Math.random,
      log,
    });
  }

  /** The last anomaly records, for `GET /anomalies`. */
  get history(): AnomalyHistory<QueuedRecord, Prediction> {
    return this.publisher.history;
  }

  /** Lines and requests per request class, for `GET /counts` (the local deployment gate). */
  get counts(): RequestClassCounter {
    return this.publisher.counts;
  }

  /** The anomaly time series, for `GET /series`. */
  get series(): SeriesStore {
    return this.publisher.series;
  }

  /** Starts the periodic EMF line. */
  start(): void {
    this.emfTimer ??= setInterval(() => this.flushEmf(), this.options.emfIntervalSeconds * 1000);
    this.emfTimer.unref();
  }

  /** Queues the records of one intake body and counts what it rejected. Never waits. */
  ingest(result: IntakeResult): void {
    const now = this.clock();
    const received = result.records.length + result.rejected.malformed + result.rejected.oversized;
    this.metrics.received.inc(received);
    this.drop('malformed', result.rejected.malformed);
    this.drop('oversized', result.rejected.oversized);
    if (this.stopped) {
      this.drop('shutdown', result.records.length);
      return;
    }
    // A multi-line event (a stack trace) becomes one record, scored once (multiline.ts).
    const { events, joined } = joinRecords(
      result.records,
      PLATFORM_MULTILINE_PARSER,
      this.options.maxLineChars ?? 65_536,
    );
    this.metrics.joined.inc(joined);
    const outage = this.breaker.state !== 'closed';
    // Counted as they arrive, so an event shed below still shows the gate that the revision logs; counted
    // per event (a joined stack trace once), the unit it is scored in.
    const classes = events.map((r) => this.publisher.counts.received(r.line));
    this.drop('queue_full', this.queue.admit(events, now, outage, classes));
    this.kick();
  }

  /**
   * Whether the queue can take all of `result`'s records without evicting one already waiting. When it
   * cannot, the intake pushes back (503, Retry-After) instead of accepting records only to drop them:
   * the router keeps them and retries, or gives them up and counts them.
   */
  canAdmit(result: IntakeResult): boolean {
    return this.stopped || this.queue.hasRoomFor(result.records, this.reserved);
  }

  /**
   * Room kept for the records out in batches: a failed call puts them back, and a body admitted into
   * their room would make that put-back drop records already accepted. Their count is exact (an outcome
   * moves records out of it as it settles them); their bytes are held until the call ends.
   */
  private get reserved(): Reserved {
    return { records: this.recordsInFlight, bytes: this.bytesInFlight };
  }

  /** The queue is full now: a body can be refused before it is parsed. */
  get saturated(): boolean {
    return !this.stopped && this.queue.fullWith(this.reserved);
  }

  /** Records waiting to be scored. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Resolves when the queue is empty and no call is in flight (tests, benchmark). */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Flushes what it can within `graceMs` (ignoring batch age, still honouring the breaker), then aborts
   * in-flight calls, counts what is left as dropped (`shutdown`) and writes a last EMF line.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.stopped) return;
    this.draining = true;
    if (this.emfTimer) clearInterval(this.emfTimer);
    this.kick();
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      this.whenIdle(),
      new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(deadline);
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    // Aborted calls requeue their batches on the way out; give them a turn before counting.
    while (this.inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
    this.drop('shutdown', this.queue.clear());
    this.flushEmf();
  }

  /** Writes the interval's EMF line (nothing when nothing happened). */
  flushEmf(): void {
    this.publisher.flushEmf();
  }

  /** Starts as many batches as are due and allowed; arms a timer for the next one otherwise. */
  private kick(): void {
    if (this.stopped) return;
    while (this.inFlight < this.options.scoringConcurrency) {
      const now = this.clock();
      const due = this.draining
        ? this.queue.length > 0
          ? 0
          : Number.POSITIVE_INFINITY
        : msUntilBatchDue(
            { length: this.queue.length, bytes: this.queue.bytes, oldestAt: this.queue.oldestReceivedAt },
            now,
            {
              maxRecords: this.options.batchMaxRecords,
              maxBytes: this.options.batchMaxBytes,
              maxAgeMs: this.options.batchMaxAgeMs,
            },
          );
      if (due === Number.POSITIVE_INFINITY) break;
      const wait = Math.max(due, this.breaker.msUntilAllowed(now));
      if (wait > 0) {
        // Infinity: a half-open probe is in flight; its completion kicks again.
        if (wait !== Number.POSITIVE_INFINITY) this.arm(now, wait);
        break;
      }
      if (!this.breaker.tryAcquire(now)) break;
      const batch = this.queue.take(this.options.batchMaxRecords, this.options.batchMaxBytes);
      const batchBytes = queuedBytesOf(batch);
      this.bytesInFlight += batchBytes;
      this.inFlight += 1;
      const { outcomes, unsettled } = this.outcomesOf(batch);
      void this.batches
        .score(batch, outcomes)
        .catch((error: unknown) => {
          // score() handles every endpoint failure; reaching here is a bug, and must not lose records.
          this.log('error', 'unexpected failure while scoring a batch', { error: String(error) });
          outcomes.dropped('bad_response', unsettled());
        })
        .finally(() => {
          this.inFlight -= 1;
          this.bytesInFlight -= batchBytes;
          this.kick();
          this.notifyIdle();
        });
    }
    this.notifyIdle();
  }

  private arm(now: number, wait: number): void {
    const at = now + wait;
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.kick();
    }, wait);
  }

  private notifyIdle(): void {
    if (this.queue.length !== 0 || this.inFlight !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * What the records of one batch come to: each outcome moves its records out of the in-flight count in
   * the same step that counts them elsewhere, so no reading of the metrics sees them twice or nowhere.
   */
  private outcomesOf(batch: readonly QueuedRecord[]): {
    readonly outcomes: BatchOutcomes;
    readonly unsettled: () => number;
  } {
    let open = batch.length;
    this.recordsInFlight += open;
    const settled = (count: number) => {
      open -= count;
      this.recordsInFlight -= count;
    };
    return {
      outcomes: {
        scored: (part, response) => {
          settled(part.length);
          this.publisher.publish(part, response);
        },
        requeue: (part, round) => {
          settled(part.length);
          this.requeue(part, round);
        },
        dropped: (reason, count) => {
          settled(count);
          this.drop(reason, count);
        },
        failed: () => this.publisher.counts.scorerFailed(),
      },
      unsettled: () => open,
    };
  }

  /** Puts a batch back at the front; records that have already had their rounds are dropped. */
  private requeue(batch: readonly QueuedRecord[], round: Round): void {
    const { keep, exhausted } = chargeRound(batch, round);
    this.drop('retries_exhausted', exhausted);
    if (this.stopped) this.drop('shutdown', keep.length);
    else this.drop('queue_full', this.queue.putBack(keep));
  }

  private drop(reason: DropReason, count: number): void {
    this.publisher.dropped(reason, count);
  }
}

const BREAKER_GAUGE: Readonly<Record<BreakerState, number>> = { closed: 0, open: 1, half_open: 2 };

function defaultLog(
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  process.stderr.write(`${JSON.stringify({ level, msg, component: 'anomaly-sidecar', ...fields })}\n`);
}
