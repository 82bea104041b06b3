import type { AnomalyRecord } from '../../../contracts/anomaly.ts';
import type { Prediction, PredictionResponse } from '../../../contracts/prediction.ts';
import { COUNTS_EMF_PROPERTIES, OTHER_LINES_CLASS } from '../../../contracts/revision-counts.ts';
import { alertThreshold, anomalyRecord, summarizeBatch } from '../../../model/client/scoring-output.ts';
import { TemplateMiner } from '../../../model/features/index.ts';
import { emfDocument, IntervalAccumulator } from './emf.ts';
import { AnomalyHistory, RecordIds, SeriesStore } from './history.ts';
import type { QueuedRecord } from './record-queue.ts';
import { RequestClassCounter } from './request-classes.ts';
import type { DropReason, SidecarMetrics } from './sidecar-metrics.ts';

/**
 * What the sidecar makes of scored and dropped records: the Prometheus counters, the interval's EMF line,
 * one anomaly record per anomalous line on stdout (within a per-second budget and a bound on what stdout
 * may buffer), and the in-memory history and series the console reads.
 */

/** Templates the local miner keeps before starting over (it only names anomalous lines). */
const MAX_LOCAL_TEMPLATES = 2000;
/** Stdout bytes buffered by Node before anomaly records are suppressed instead of queued in memory. */
const MAX_STDOUT_BACKLOG_BYTES = 4 * 1024 * 1024;
/** Shown as `task` when FireLens sent no `ecs_task_arn` (the record contract requires one). */
export const UNKNOWN_TASK = 'unknown';

/** Who the outputs speak for, and their bounds (a subset of the sidecar configuration). */
export interface ScorePublisherOptions {
  readonly serviceName: string;
  readonly clusterName: string;
  /** The revision the records and metrics carry (a deployment measures the new one apart). */
  readonly revision?: string;
  /** The service's alert budget; a declared threshold overrides it (model/client/scoring-output.ts). */
  readonly anomalyBudget?: number;
  readonly anomalyThreshold?: number;
  readonly anomalyRecordsPerSecond: number;
  readonly anomalyHistory: number;
}

/** Where the outputs go. */
export interface ScorePublisherDeps {
  readonly metrics: SidecarMetrics;
  readonly clock: () => number;
  /** Writes one or more complete lines to stdout (EMF and anomaly records). */
  readonly writeOut: (text: string) => void;
  /** Bytes written but not yet flushed by stdout. */
  readonly stdoutBacklog: () => number;
}

export class ScorePublisher {
  readonly history: AnomalyHistory<QueuedRecord, Prediction>;
  readonly series = new SeriesStore();
  /** What the deployment gate reads: lines and requests per request class, cumulative and per interval. */
  readonly counts = new RequestClassCounter();
  private readonly options: ScorePublisherOptions;
  private readonly deps: ScorePublisherDeps;
  private readonly interval = new IntervalAccumulator();
  private miner = new TemplateMiner();
  private readonly recordIds = new RecordIds();
  private recordBudgetSecond = -1;
  private recordBudget = 0;

  constructor(options: ScorePublisherOptions, deps: ScorePublisherDeps) {
    this.options = options;
    this.deps = deps;
    this.history = new AnomalyHistory(options.anomalyHistory, (record, prediction, id) =>
      this.anomalyOf(record, prediction, id),
    );
  }

  /** Counts, records and remembers one scored batch. */
  publish(batch: readonly QueuedRecord[], response: PredictionResponse): void {
    const { metrics } = this.deps;
    const now = this.deps.clock();
    // Which lines are anomalies, and their records, are decided by the shared builders
    // (model/client/scoring-output.ts), as in the log-scorer.
    const policy = { budget: this.options.anomalyBudget, threshold: this.options.anomalyThreshold };
    const summary = summarizeBatch(response.predictions, alertThreshold(policy, response.model));
    let out = '';
    // Anomalies before this one in the batch push it out of the history before anyone can read it; one
    // that is neither written nor kept is only counted, not built. One kept but not written is built
    // when the history is read: with many lines scoring high, building every record was a sixth of the
    // sidecar's allocations, for records that mostly leave the history unread. Ids are taken in order
    // either way.
    const firstKept = summary.anomalous - this.history.capacity;
    let anomalyIndex = 0;
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      const prediction = response.predictions[i]!;
      const isAnomaly = summary.flags[i]!;
      this.interval.addScore(prediction.score, isAnomaly);
      this.counts.scored(record.requestClass ?? OTHER_LINES_CLASS, isAnomaly);
      metrics.intakeToScored.observe((now - record.receivedAt) / 1000);
      if (!isAnomaly) continue;
      const kept = anomalyIndex >= firstKept;
      anomalyIndex += 1;
      const written = this.mayWriteRecord(now);
      if (!written) metrics.recordsSuppressed.inc();
      const id = this.recordIds.reserve();
      // Without the model's template the local miner names the line, and it learns from every one in
      // order: such a record is built now.
      if (!written && prediction.template !== undefined) {
        if (kept) this.history.addUnbuilt(record, prediction, id);
        continue;
      }
      const anomaly = this.anomalyOf(record, prediction, id);
      this.history.add(anomaly);
      if (written) out += `${JSON.stringify(anomaly)}\n`;
    }
    metrics.scored.inc(batch.length);
    metrics.anomalous.inc(summary.anomalous);
    this.series.addBatch(now, batch.length, summary.anomalous, summary.maxScore, summary.scoreSum);
    if (out !== '') this.deps.writeOut(out);
  }

  /** Counts records that never got a score, in the metrics and the interval's EMF line. */
  dropped(reason: DropReason, count: number): void {
    if (count <= 0) return;
    this.deps.metrics.dropped.inc(count, reason);
    this.interval.addDropped(count);
  }

  /**
   * Writes the interval's EMF line (nothing when nothing happened), with the gate's counts as plain
   * properties: lines received (scored or not), failed endpoint calls and the request classes. An
   * interval whose lines all waited on a failing endpoint is written too: that is how the gate tells a
   * scorer outage from a revision that logs nothing.
   */
  flushEmf(): void {
    if (this.interval.isEmpty && this.counts.intervalIsEmpty) return;
    const counts = this.counts.drainInterval();
    const document = emfDocument({
      service: this.options.serviceName,
      cluster: this.options.clusterName,
      ...(this.options.revision !== undefined ? { revision: this.options.revision } : {}),
      timestamp: this.deps.clock(),
      stats: this.interval.drain(),
    });
    const withCounts = {
      ...document,
      [COUNTS_EMF_PROPERTIES.received]: counts.received,
      [COUNTS_EMF_PROPERTIES.scorerFailures]: counts.scorerFailures,
      [COUNTS_EMF_PROPERTIES.classes]: counts.classes,
    };
    this.deps.writeOut(`${JSON.stringify(withCounts)}\n`);
  }

  /** The anomaly record of a scored line (model/client/scoring-output.ts builds it). */
  private anomalyOf(record: QueuedRecord, prediction: Prediction, id: number): AnomalyRecord {
    return anomalyRecord({
      id: this.recordIds.format(id),
      service: this.options.serviceName,
      task: record.task ?? UNKNOWN_TASK,
      ...(record.container !== undefined ? { container: record.container } : {}),
      line: record.line,
      eventTime: record.time,
      prediction,
      ...(this.options.revision !== undefined ? { revision: this.options.revision } : {}),
      templateOf: (message) => this.localTemplate(message),
    });
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
    if (this.recordBudget <= 0 || this.deps.stdoutBacklog() > MAX_STDOUT_BACKLOG_BYTES) return false;
    this.recordBudget -= 1;
    return true;
  }
}
