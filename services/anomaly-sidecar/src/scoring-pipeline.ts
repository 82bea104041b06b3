import type { LogEvent, LogsRequest, PredictionResponse } from '../../../contracts/prediction.ts';
import { anomalyRecord, summarizeBatch } from '../../../contracts/scoring-output.ts';
import { EndpointError } from '../../../model/client/scoring-client.ts';
import { TemplateMiner } from '../../../model/features/index.ts';
import { backoffDelayMs } from './backoff.ts';
import { msUntilBatchDue } from './batcher.ts';
import { BoundedQueue } from './bounded-queue.ts';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.ts';
import { emfDocument, IntervalAccumulator } from './emf.ts';
import { AnomalyHistory, RecordIds, SeriesStore } from './history.ts';
import type { IntakeResult } from './intake.ts';
import { type DropReason, SidecarMetrics } from './sidecar-metrics.ts';

/**
 * The scoring core: a bounded queue of received records, cut into batches by size and age, scored on the
 * endpoint with retries, backoff and a circuit breaker, and published as EMF metrics, anomaly records
 * (stdout) and the in-memory history the console reads. Everything that can fail is counted; intake
 * never waits on the endpoint.
 */

/** The part of the shared ScoringClient the pipeline uses (model/client). */
export interface Scorer {
  score(request: LogsRequest, signal?: AbortSignal): Promise<PredictionResponse>;
}

/** A record waiting in the queue. */
interface QueuedRecord {
  readonly time: number;
  readonly line: string;
  readonly container?: string;
  readonly task?: string;
  readonly source?: string;
  /** When it arrived on POST /logs (epoch ms). */
  readonly receivedAt: number;
  /** Rounds of retries its batches have exhausted while the endpoint otherwise worked. */
  tries: number;
  /** Rounds its batches failed while the breaker was (or went) open: an outage, mostly. */
  outageRounds: number;
}

/** Fixed overhead charged per queued record on top of its characters (object, fields, ring slot). */
const RECORD_OVERHEAD_BYTES = 160;
/**
 * Rounds failed during an outage (probes of an open breaker, or the failure that opened it) after which
 * a record is dropped: high, since probes come one per BREAKER_OPEN_MS and say little about the record,
 * yet bounded, so a batch that always fails cannot hold the breaker open for good.
 */
const MAX_OUTAGE_ROUNDS = 10;
/** Rounds of exhausted retries after which a record is dropped instead of requeued. */
const MAX_ROUNDS = 2;
/**
 * Split bounds for a batch the model refuses: deep enough to isolate one line of a 512-line batch
 * (2 calls per level), and a total that keeps a model refusing everything from costing ~2n calls.
 */
const MAX_SPLIT_DEPTH = 9;
const MAX_SPLIT_CALLS = 32;
/** Which bound a failed round counts against (`none`: aborted, or never tried). */
type Round = 'retry' | 'outage' | 'none';
/** Calls one batch (and the parts split from it) has spent, shared by every part. */
interface SplitBudget {
  calls: number;
}
/** Templates the local miner keeps before starting over (it only names anomalous lines). */
const MAX_LOCAL_TEMPLATES = 2000;
/** Stdout bytes buffered by Node before anomaly records are suppressed instead of queued in memory. */
const MAX_STDOUT_BACKLOG_BYTES = 4 * 1024 * 1024;
/** Shown as `task` when FireLens sent no `ecs_task_arn` (the record contract requires one). */
export const UNKNOWN_TASK = 'unknown';

/** Options of the pipeline (a subset of the sidecar configuration). */
export interface ScoringPipelineOptions {
  readonly serviceName: string;
  readonly clusterName: string;
  /** The revision the records and metrics carry (a deployment measures the new one apart). */
  readonly revision?: string;
  readonly logGroupName?: string;
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
  readonly history: AnomalyHistory;
  readonly series = new SeriesStore();
  readonly breaker: CircuitBreaker;
  private readonly options: ScoringPipelineOptions;
  private readonly scorer: Scorer;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly writeOut: (text: string) => void;
  private readonly stdoutBacklog: () => number;
  private readonly log: NonNullable<ScoringPipelineDeps['log']>;
  private readonly queue: BoundedQueue<QueuedRecord>;
  private readonly interval = new IntervalAccumulator();
  private readonly abort = new AbortController();
  private miner = new TemplateMiner();
  private readonly recordIds = new RecordIds();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private emfTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private recordBudgetSecond = -1;
  private recordBudget = 0;

  constructor(options: ScoringPipelineOptions, deps: ScoringPipelineDeps) {
    this.options = options;
    this.scorer = deps.scorer;
    this.clock = deps.clock ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.writeOut = deps.writeOut ?? ((text) => process.stdout.write(text));
    this.stdoutBacklog = deps.stdoutBacklog ?? (() => process.stdout.writableLength);
    this.log = deps.log ?? defaultLog;
    this.history = new AnomalyHistory(options.anomalyHistory);
    this.queue = new BoundedQueue<QueuedRecord>(
      { maxItems: options.queueMaxRecords, maxBytes: options.queueMaxBytes },
      (r) => r.line.length + RECORD_OVERHEAD_BYTES,
    );
    this.breaker = new CircuitBreaker({
      failureThreshold: options.breakerFailureThreshold,
      openMs: options.breakerOpenMs,
      onStateChange: (to, from) => {
        if (to === 'open') this.metrics.breakerOpened.inc();
        this.log(to === 'open' ? 'warn' : 'info', `circuit breaker ${from} -> ${to}`, {
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
      breakerState: () => BREAKER_GAUGE[this.breaker.state],
    });
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
    let dropped = 0;
    const outage = this.breaker.state !== 'closed';
    for (const record of result.records) {
      // While the endpoint is down and the queue full, a new record would only evict one that is barely
      // older, and every such record lives long enough to be promoted to V8's old space, which is what
      // grew the sidecar's memory during outages. Shed it at the door instead (also `queue_full`).
      if (outage && this.queueIsFull(record.line.length)) {
        dropped += 1;
        continue;
      }
      const queued: QueuedRecord = {
        time: record.time,
        line: record.line,
        receivedAt: now,
        tries: 0,
        outageRounds: 0,
      };
      if (record.container !== undefined) (queued as { container?: string }).container = record.container;
      if (record.task !== undefined) (queued as { task?: string }).task = record.task;
      if (record.source !== undefined) (queued as { source?: string }).source = record.source;
      dropped += this.queue.push(queued);
    }
    this.drop('queue_full', dropped);
    this.kick();
  }

  private queueIsFull(lineChars: number): boolean {
    return (
      this.queue.length >= this.options.queueMaxRecords ||
      this.queue.bytes + lineChars + RECORD_OVERHEAD_BYTES > this.options.queueMaxBytes
    );
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
    this.drop('shutdown', this.queue.clear().length);
    this.flushEmf();
  }

  /** Writes the interval's EMF line (nothing when nothing happened). */
  flushEmf(): void {
    if (this.interval.isEmpty) return;
    const document = emfDocument({
      service: this.options.serviceName,
      cluster: this.options.clusterName,
      ...(this.options.revision !== undefined ? { revision: this.options.revision } : {}),
      timestamp: this.clock(),
      stats: this.interval.drain(),
    });
    this.writeOut(`${JSON.stringify(document)}\n`);
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
            { length: this.queue.length, bytes: this.queue.bytes, oldestAt: this.queue.peek()?.receivedAt },
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
      this.inFlight += 1;
      void this.scoreBatch(batch)
        .catch((error: unknown) => {
          // scoreBatch handles every endpoint failure; reaching here is a bug, and must not lose records.
          this.log('error', 'unexpected failure while scoring a batch', { error: String(error) });
          this.drop('bad_response', batch.length);
        })
        .finally(() => {
          this.inFlight -= 1;
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
   * Scores one batch whose first call the breaker has already admitted. An endpoint that fails (down,
   * throttled, timing out, a crashed model container, a missing endpoint) is retried with backoff while
   * the breaker allows, then the batch goes back to the queue. Only an input the model refused splits the
   * batch, in halves, within {@link SplitBudget}, so one bad record never costs its companions their
   * score and a model that refuses everything never costs more than a few calls.
   */
  private async scoreBatch(
    batch: QueuedRecord[],
    depth = 0,
    split: SplitBudget = { calls: 0 },
  ): Promise<void> {
    // A round that fails because the endpoint is down (a probe of the open breaker, or the failure that
    // opens it) says little about these records: it counts against the outage bound, not the retry one.
    const startedClosed = this.breaker.state === 'closed';
    const round = (): Round => (startedClosed && this.breaker.state === 'closed' ? 'retry' : 'outage');
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1 && !this.breaker.tryAcquire(this.clock())) {
        this.requeue(batch, round());
        return;
      }
      const started = this.clock();
      let response: PredictionResponse;
      try {
        this.metrics.endpointCalls.inc();
        split.calls += 1;
        response = await this.scorer.score(this.requestOf(batch), this.abort.signal);
        if (response.predictions.length !== batch.length) {
          throw new EndpointError(
            'bad_response',
            `the endpoint returned ${response.predictions.length} predictions for ${batch.length} lines`,
          );
        }
      } catch (error) {
        if (this.abort.signal.aborted) {
          this.breaker.release();
          this.requeue(batch, 'none');
          return;
        }
        const failure =
          error instanceof EndpointError ? error : new EndpointError('unavailable', String(error));
        this.metrics.endpointErrors.inc(1, failure.failure);
        if (failure.rejectedInput) {
          // The endpoint is up and answered; the input is the problem.
          this.breaker.onSuccess();
          await this.splitRejected(batch, depth, split, failure.message);
          return;
        }
        this.breaker.onFailure(this.clock());
        if (failure.failure === 'bad_response') {
          this.drop('bad_response', batch.length);
          this.log('error', 'the endpoint answered an unusable response; batch skipped', {
            error: failure.message,
            records: batch.length,
          });
          return;
        }
        if (attempt >= this.options.retryMaxAttempts || this.breaker.state === 'open') {
          this.requeue(batch, round());
          return;
        }
        const delay = backoffDelayMs(
          attempt,
          { baseMs: this.options.retryBaseMs, maxMs: this.options.retryMaxMs },
          this.random,
        );
        await sleep(delay, this.abort.signal);
        continue;
      }
      this.breaker.onSuccess();
      this.metrics.batchLatency.observe((this.clock() - started) / 1000);
      this.publish(batch, response);
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
    if (batch.length === 1 || depth >= MAX_SPLIT_DEPTH) {
      this.drop('rejected_by_model', batch.length);
      this.log('warn', 'the model rejected lines; skipped', { error: why, records: batch.length });
      return;
    }
    const middle = Math.ceil(batch.length / 2);
    for (const half of [batch.slice(0, middle), batch.slice(middle)]) {
      if (split.calls >= MAX_SPLIT_CALLS) {
        this.drop('rejected_by_model', half.length);
      } else if (!this.breaker.tryAcquire(this.clock())) {
        this.requeue(half, 'none');
      } else {
        await this.scoreBatch(half, depth + 1, split);
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

  /** Puts a batch back at the front; records that have already had their rounds are dropped. */
  private requeue(batch: readonly QueuedRecord[], round: Round): void {
    const keep: QueuedRecord[] = [];
    let exhausted = 0;
    for (const record of batch) {
      if (round === 'retry') record.tries += 1;
      if (round === 'outage') record.outageRounds += 1;
      if (record.tries >= MAX_ROUNDS || record.outageRounds >= MAX_OUTAGE_ROUNDS) exhausted += 1;
      else keep.push(record);
    }
    this.drop('retries_exhausted', exhausted);
    if (this.stopped) this.drop('shutdown', keep.length);
    else this.drop('queue_full', this.queue.unshiftAll(keep));
  }

  private publish(batch: readonly QueuedRecord[], response: PredictionResponse): void {
    const now = this.clock();
    // Which lines are anomalies, and their records, are decided by the shared builders
    // (contracts/scoring-output.ts), as in the log-scorer.
    const summary = summarizeBatch(response.predictions, this.options.anomalyThreshold);
    let out = '';
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      const prediction = response.predictions[i]!;
      const isAnomaly = summary.flags[i]!;
      this.interval.addScore(prediction.score, isAnomaly);
      this.metrics.intakeToScored.observe((now - record.receivedAt) / 1000);
      if (!isAnomaly) continue;
      const anomaly = anomalyRecord({
        id: this.recordIds.take(),
        service: this.options.serviceName,
        task: record.task ?? UNKNOWN_TASK,
        ...(record.container !== undefined ? { container: record.container } : {}),
        line: record.line,
        eventTime: record.time,
        prediction,
        ...(this.options.revision !== undefined ? { revision: this.options.revision } : {}),
        templateOf: (message) => this.localTemplate(message),
      });
      this.history.add(anomaly);
      if (this.mayWriteRecord(now)) out += `${JSON.stringify(anomaly)}\n`;
      else this.metrics.recordsSuppressed.inc();
    }
    this.metrics.scored.inc(batch.length);
    this.metrics.anomalous.inc(summary.anomalous);
    this.series.addBatch(now, batch.length, summary.anomalous, summary.maxScore, summary.scoreSum);
    if (out !== '') this.writeOut(out);
  }

  /** Names an anomalous line the model returned no template for. */
  private localTemplate(message: string): string {
    if (this.miner.size >= MAX_LOCAL_TEMPLATES) this.miner = new TemplateMiner();
    return this.miner.add(message).template;
  }

  /** Per-second budget for anomaly records on stdout, and a bound on what stdout may buffer. */
  private mayWriteRecord(now: number): boolean {
    const second = Math.floor(now / 1000);
    if (second !== this.recordBudgetSecond) {
      this.recordBudgetSecond = second;
      this.recordBudget = this.options.anomalyRecordsPerSecond;
    }
    if (this.recordBudget <= 0 || this.stdoutBacklog() > MAX_STDOUT_BACKLOG_BYTES) return false;
    this.recordBudget -= 1;
    return true;
  }

  private drop(reason: DropReason, count: number): void {
    if (count <= 0) return;
    this.metrics.dropped.inc(count, reason);
    this.interval.addDropped(count);
  }
}

const BREAKER_GAUGE: Readonly<Record<BreakerState, number>> = { closed: 0, open: 1, half_open: 2 };

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

function defaultLog(
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  process.stderr.write(`${JSON.stringify({ level, msg, component: 'anomaly-sidecar', ...fields })}\n`);
}
