/**
 * Per-window template counts for line data: lines are cut into windows (by time when the lines carry
 * timestamps, else by count), and each window's count vector is compared with the training windows'.
 * Two kinds of evidence, kept apart because they mean different things:
 * - a burst: one template far more frequent in a window than in any training window (a retry storm,
 *   an error repeated by every node); it raises the lines of that template;
 * - unusual counts: the window's whole count vector reconstructs badly through an autoencoder trained
 *   on the training windows (a mix of templates never seen together); it is reported per window.
 */

/** How lines are cut into windows. */
export interface WindowSpec {
  /** `time`: fixed wall-clock buckets of `size` seconds; `count`: `size` consecutive lines. */
  readonly mode: 'time' | 'count';
  readonly size: number;
}

/** Window length when lines carry timestamps: a minute, the usual resolution of log-rate alarms. */
export const TIME_WINDOW_SECONDS = 60;
/** Lines per window when they do not. */
export const COUNT_WINDOW_LINES = 100;
/** Share of timestamped lines needed to cut by time. */
export const TIMESTAMPED_SHARE = 0.9;
/**
 * A burst needs at least this many lines of its template in the window: fewer are too few to tell a
 * burst from chance (a template seen once a minute seen three times).
 */
export const BURST_MIN_COUNT = 10;
/**
 * Burst strength is `log2(count / training max per window)`; at this strength (4× the busiest training
 * window) the burst score is 0.5, the decision threshold. Twice the training max is within what a
 * few training windows fail to show; four times is not.
 */
export const BURST_THRESHOLD_LOG2 = 2;

/** The window spec for a set of lines: by time when nearly all carry a timestamp. */
export function chooseWindowSpec(timestamps: readonly (number | undefined)[]): WindowSpec {
  let stamped = 0;
  for (const t of timestamps) if (t !== undefined) stamped++;
  return stamped >= TIMESTAMPED_SHARE * timestamps.length && timestamps.length > 0
    ? { mode: 'time', size: TIME_WINDOW_SECONDS }
    : { mode: 'count', size: COUNT_WINDOW_LINES };
}

/**
 * The window of each line, as consecutive group numbers from 0 in line order. A line without a
 * timestamp joins the window of the line before it; a time window that recurs after other windows
 * (lines out of order) is the same window.
 */
export function windowsOf(timestamps: readonly (number | undefined)[], spec: WindowSpec): number[] {
  const out = new Array<number>(timestamps.length);
  if (spec.mode === 'count') {
    for (let i = 0; i < timestamps.length; i++) out[i] = Math.floor(i / spec.size);
    return out;
  }
  const bucketMs = spec.size * 1000;
  const ids = new Map<number, number>();
  let previous = 0;
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i];
    if (t === undefined) {
      out[i] = previous;
      continue;
    }
    const bucket = Math.floor(t / bucketMs);
    let id = ids.get(bucket);
    if (id === undefined) {
      id = ids.size;
      ids.set(bucket, id);
    }
    out[i] = id;
    previous = id;
  }
  return out;
}

/** Template counts of each window (`-1` stands for lines without a template). */
export function windowCounts(
  windows: readonly number[],
  templateIds: readonly number[],
): Map<number, number>[] {
  const counts: Map<number, number>[] = [];
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!;
    const id = templateIds[i]!;
    let c = counts[w];
    if (!c) {
      c = new Map();
      counts[w] = c;
    }
    c.set(id, (c.get(id) ?? 0) + 1);
  }
  return counts.map((c) => c ?? new Map());
}

/** Burst strength `log2(count / max(trainingMax, 1))`, or 0 below {@link BURST_MIN_COUNT}. */
export function burstStrength(count: number, trainingMax: number): number {
  if (count < BURST_MIN_COUNT) return 0;
  return Math.max(0, Math.log2(count / Math.max(1, trainingMax)));
}

/**
 * Lines a window needs before its count vector is judged: a serving batch often holds only part of a
 * window, and a handful of lines says nothing about the window's mix.
 */
export const MIN_WINDOW_LINES = 10;

/**
 * The autoencoder input of a window: the square root of each slotted template's share of the window,
 * one slot for the rest (including lines without a template). Shares, not counts, so a window that
 * a serving batch holds only part of compares with full training windows; the square root (Hellinger)
 * keeps rare templates visible next to dominant ones. Bursts are judged apart, on counts.
 */
export function windowRow(
  counts: ReadonlyMap<number, number>,
  slots: ReadonlyMap<number, number>,
): Float64Array {
  const row = new Float64Array(slots.size + 1);
  let total = 0;
  for (const [id, n] of counts) {
    row[slots.get(id) ?? slots.size]! += n;
    total += n;
  }
  if (total === 0) return row;
  for (let i = 0; i < row.length; i++) row[i] = Math.sqrt(row[i]! / total);
  return row;
}

/** Lines in a window. */
export function windowSize(counts: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}
