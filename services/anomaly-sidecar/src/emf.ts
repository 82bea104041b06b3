import { ANOMALY_DIMENSIONS, ANOMALY_METRICS } from '../../../contracts/anomaly.ts';
import { anomalyEmfDocument, type ScoringStats } from '../../../model/client/scoring-output.ts';

/**
 * The sidecar's EMF lines: the shared writer (model/client/scoring-output.ts, also the log-scorer's) fed
 * with what happened in one interval. The sidecar's stdout goes to CloudWatch Logs through the awslogs
 * driver, where EMF is extracted without any agent.
 */

/** Metric and dimension names come from the contract the backend, dashboard and alarms also read. */
export const EMF_METRICS = {
  scored: ANOMALY_METRICS.linesScored,
  anomalous: ANOMALY_METRICS.anomalousLines,
  maxScore: ANOMALY_METRICS.maxScore,
  meanScore: ANOMALY_METRICS.meanScore,
  dropped: ANOMALY_METRICS.recordsDropped,
} as const;

export const EMF_DIMENSIONS = ANOMALY_DIMENSIONS;

/** What happened in one interval. */
export type IntervalStats = ScoringStats;

/** One EMF document of an interval (the shared writer; the cluster rides along as a property). */
export const emfDocument = anomalyEmfDocument;

/** Accumulates {@link IntervalStats} between EMF lines. */
export class IntervalAccumulator {
  private scored = 0;
  private anomalous = 0;
  private maxScore = 0;
  private scoreSum = 0;
  private dropped = 0;

  addScore(score: number, anomalous: boolean): void {
    this.scored += 1;
    if (anomalous) this.anomalous += 1;
    if (score > this.maxScore) this.maxScore = score;
    this.scoreSum += score;
  }

  addDropped(count: number): void {
    this.dropped += count;
  }

  /** Whether anything happened since the last {@link drain}. */
  get isEmpty(): boolean {
    return this.scored === 0 && this.dropped === 0;
  }

  /** The interval's stats; resets the accumulator. */
  drain(): IntervalStats {
    const stats = {
      scored: this.scored,
      anomalous: this.anomalous,
      maxScore: this.maxScore,
      scoreSum: this.scoreSum,
      dropped: this.dropped,
    };
    this.scored = 0;
    this.anomalous = 0;
    this.maxScore = 0;
    this.scoreSum = 0;
    this.dropped = 0;
    return stats;
  }
}
