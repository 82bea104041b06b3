/**
 * When to cut a batch: as soon as a full batch is waiting (by count or by bytes), or when the oldest
 * waiting record has waited `maxAgeMs`. Pure: the caller passes the queue's state and the clock.
 */

/** Batch limits. */
export interface BatchPolicy {
  /** Records per batch. */
  readonly maxRecords: number;
  /** Bytes per batch. */
  readonly maxBytes: number;
  /** Longest a record waits for companions. */
  readonly maxAgeMs: number;
}

/** What the batcher needs to know about the queue. */
export interface QueueState {
  readonly length: number;
  readonly bytes: number;
  /** When the oldest waiting record arrived (epoch ms); undefined when empty. */
  readonly oldestAt: number | undefined;
}

/**
 * Milliseconds until the next batch is due: 0 for now, `Infinity` when nothing waits.
 *
 * @example
 * msUntilBatchDue({ length: 3, bytes: 90, oldestAt: 1000 }, 1200, { maxRecords: 500, maxBytes: 1 << 20, maxAgeMs: 1000 }); // 800
 */
export function msUntilBatchDue(queue: QueueState, now: number, policy: BatchPolicy): number {
  if (queue.length === 0 || queue.oldestAt === undefined) return Number.POSITIVE_INFINITY;
  if (queue.length >= policy.maxRecords || queue.bytes >= policy.maxBytes) return 0;
  return Math.max(0, queue.oldestAt + policy.maxAgeMs - now);
}
