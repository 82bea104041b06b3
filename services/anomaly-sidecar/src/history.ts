import { randomBytes } from 'node:crypto';
import type { AnomalyRecord, SeriesPoint } from '../../../contracts/anomaly.ts';

/**
 * What the operations console reads from a sidecar (`GET /anomalies`, `GET /series`), held in fixed-size
 * ring buffers so memory does not depend on traffic or uptime.
 */

/**
 * The ids of one sidecar run's records: a random run id, so a restarted sidecar never repeats an id of
 * the task, and a sequence number. Identical lines logged in the same millisecond get distinct ids.
 */
export class RecordIds {
  private readonly run = randomBytes(6).toString('hex');
  private next = 0;

  take(): string {
    return this.format(this.reserve());
  }

  /** The next id's sequence number, its string built later by {@link format}. */
  reserve(): number {
    const seq = this.next;
    this.next += 1;
    return seq;
  }

  format(seq: number): string {
    return `${this.run}-${seq.toString(36)}`;
  }
}

/**
 * The last `capacity` anomaly records. A record may be added unbuilt, as the line's record, its
 * prediction and its id's sequence number: it is built by `build` once, when first read, and most records
 * leave the history unread. The parts are kept in parallel rings, so adding one allocates nothing (a
 * closure per anomalous line was most of what publishing a batch allocated).
 */
export class AnomalyHistory<Line = never, Prediction = never> {
  private readonly built: (AnomalyRecord | undefined)[];
  private readonly lines: (Line | undefined)[];
  private readonly predictions: (Prediction | undefined)[];
  private readonly seqs: Float64Array;
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    private readonly build?: (line: Line, prediction: Prediction, seq: number) => AnomalyRecord,
  ) {
    this.built = new Array<AnomalyRecord | undefined>(capacity);
    this.lines = new Array<Line | undefined>(capacity);
    this.predictions = new Array<Prediction | undefined>(capacity);
    this.seqs = new Float64Array(capacity);
  }

  add(record: AnomalyRecord): void {
    this.built[this.next] = record;
    this.lines[this.next] = undefined;
    this.predictions[this.next] = undefined;
    this.advance();
  }

  /** Adds a record to be built when first read. */
  addUnbuilt(line: Line, prediction: Prediction, seq: number): void {
    if (this.build === undefined) throw new Error('this history builds no records');
    this.built[this.next] = undefined;
    this.lines[this.next] = line;
    this.predictions[this.next] = prediction;
    this.seqs[this.next] = seq;
    this.advance();
  }

  /** Up to `limit` records, newest first. */
  newest(limit: number): AnomalyRecord[] {
    const out: AnomalyRecord[] = [];
    for (let i = 1; i <= Math.min(limit, this.count); i++) {
      const slot = (this.next - i + this.capacity) % this.capacity;
      let record = this.built[slot];
      if (record === undefined) {
        record = this.build!(this.lines[slot]!, this.predictions[slot]!, this.seqs[slot]!);
        this.built[slot] = record;
        this.lines[slot] = undefined;
        this.predictions[slot] = undefined;
      }
      out.push(record);
    }
    return out;
  }

  private advance(): void {
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count += 1;
  }
}

/** Resolution of the stored series; every served bucket size is a multiple of it. */
export const SERIES_RESOLUTION_SECONDS = 10;

/**
 * Scores per {@link SERIES_RESOLUTION_SECONDS} slot for `retentionSeconds`, aggregated on read into the
 * bucket size asked for. 24 h at 10 s is 8640 slots of five numbers: about 350 KB, fixed.
 */
export class SeriesStore {
  readonly slots: number;
  private readonly slotStart: Float64Array;
  private readonly scored: Float64Array;
  private readonly anomalous: Float64Array;
  private readonly maxScore: Float64Array;
  private readonly scoreSum: Float64Array;

  constructor(readonly retentionSeconds = 86_400) {
    this.slots = Math.ceil(retentionSeconds / SERIES_RESOLUTION_SECONDS);
    this.slotStart = new Float64Array(this.slots).fill(-1);
    this.scored = new Float64Array(this.slots);
    this.anomalous = new Float64Array(this.slots);
    this.maxScore = new Float64Array(this.slots);
    this.scoreSum = new Float64Array(this.slots);
  }

  /** Adds the scores of one batch, scored at `at` (epoch ms). */
  addBatch(at: number, scored: number, anomalous: number, maxScore: number, scoreSum: number): void {
    const i = this.slotOf(at, true);
    this.scored[i]! += scored;
    this.anomalous[i]! += anomalous;
    if (maxScore > this.maxScore[i]!) this.maxScore[i] = maxScore;
    this.scoreSum[i]! += scoreSum;
  }

  /**
   * Up to `buckets` points of `bucketSeconds` each, oldest first, the last one being the current
   * (partial) bucket, as the backend's CloudWatch adapter aligns them. Buckets that ended before
   * `since` (when the sidecar started) are left out: zeros there would claim that nothing was
   * scored at a time nothing was running.
   */
  points(
    now: number,
    bucketSeconds: number,
    buckets: number,
    since = Number.NEGATIVE_INFINITY,
  ): SeriesPoint[] {
    const bucketMs = bucketSeconds * 1000;
    const current = Math.floor(now / bucketMs) * bucketMs;
    const first = Math.max(current - (buckets - 1) * bucketMs, Math.floor(since / bucketMs) * bucketMs);
    buckets = Math.max(1, Math.round((current - first) / bucketMs) + 1);
    const slotMs = SERIES_RESOLUTION_SECONDS * 1000;
    const oldestKept = Math.floor(now / slotMs) * slotMs - (this.slots - 1) * slotMs;
    const out: SeriesPoint[] = [];
    for (let b = 0; b < buckets; b++) {
      const t = first + b * bucketMs;
      let scored = 0;
      let anomalous = 0;
      let max = 0;
      let sum = 0;
      for (let s = Math.max(t, oldestKept); s < t + bucketMs; s += slotMs) {
        const i = this.slotOf(s, false);
        if (i < 0) continue;
        scored += this.scored[i]!;
        anomalous += this.anomalous[i]!;
        if (this.maxScore[i]! > max) max = this.maxScore[i]!;
        sum += this.scoreSum[i]!;
      }
      out.push({
        t,
        scored,
        anomalous,
        maxScore: max,
        meanScore: scored > 0 ? Math.min(1, Math.max(0, sum / scored)) : 0,
      });
    }
    return out;
  }

  private slotOf(at: number, create: boolean): number {
    const slotMs = SERIES_RESOLUTION_SECONDS * 1000;
    const start = Math.floor(at / slotMs) * slotMs;
    const i = Math.floor(start / slotMs) % this.slots;
    if (this.slotStart[i] === start) return i;
    if (!create) return -1;
    // The slot last held data one retention period ago: reuse it.
    this.slotStart[i] = start;
    this.scored[i] = 0;
    this.anomalous[i] = 0;
    this.maxScore[i] = 0;
    this.scoreSum[i] = 0;
    return i;
  }
}
