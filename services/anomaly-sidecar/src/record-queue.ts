import { BoundedQueue } from './bounded-queue.ts';
import type { IntakeRecord } from './intake.ts';

/**
 * The records waiting to be scored: a queue bounded in records and bytes (the oldest make room), how a
 * record is charged for its place, and how many failed rounds a record may go through before it is
 * dropped instead of put back.
 */

/** A record waiting in the queue. */
export interface QueuedRecord {
  readonly time: number;
  readonly line: string;
  readonly container: string | undefined;
  readonly task: string | undefined;
  /** When it arrived on POST /logs (epoch ms). */
  readonly receivedAt: number;
  /** Its request class (request-classes.ts), counted again when it is scored. */
  readonly requestClass: string | undefined;
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

/** Which bound a failed round counts against (`none`: aborted, or never tried). */
export type Round = 'retry' | 'outage' | 'none';

/** Bounds of a {@link RecordQueue}. */
export interface RecordQueueLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

/**
 * @example
 * const queue = new RecordQueue({ maxRecords: 20_000, maxBytes: 32 << 20 });
 * queue.admit(result.records, Date.now(), false); // how many old records made room
 * const batch = queue.take(500, 1 << 20);
 */
export class RecordQueue {
  private readonly limits: RecordQueueLimits;
  private readonly queue: BoundedQueue<QueuedRecord>;

  constructor(limits: RecordQueueLimits) {
    this.limits = limits;
    this.queue = new BoundedQueue<QueuedRecord>(
      { maxItems: limits.maxRecords, maxBytes: limits.maxBytes },
      (r) => r.line.length + RECORD_OVERHEAD_BYTES,
    );
  }

  get length(): number {
    return this.queue.length;
  }

  get bytes(): number {
    return this.queue.bytes;
  }

  /** When the oldest waiting record arrived, if any. */
  get oldestReceivedAt(): number | undefined {
    return this.queue.peek()?.receivedAt;
  }

  /**
   * Queues `records`, received at `receivedAt`, each with its request class (same index). With `shedWhenFull` (the endpoint is failing) a record
   * that finds the queue full is refused at the door instead of evicting one that is barely older.
   * @returns how many records were lost to a full queue (refused or evicted)
   */
  admit(
    records: readonly IntakeRecord[],
    receivedAt: number,
    shedWhenFull: boolean,
    requestClasses: readonly string[] = [],
  ): number {
    let lost = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      // While the endpoint is down and the queue full, a new record would only evict one that is barely
      // older, and every such record lives long enough to be promoted to V8's old space, which is what
      // grew the sidecar's memory during outages. Shed it at the door instead.
      if (shedWhenFull && this.isFull(record.line.length)) {
        lost += 1;
        continue;
      }
      // Every field in one literal: one object of one shape per record, with no property array grown
      // behind it (this object is what the queue holds, and what survives the young generation).
      lost += this.queue.push({
        time: record.time,
        line: record.line,
        container: record.container,
        task: record.task,
        receivedAt,
        requestClass: requestClasses[i],
        tries: 0,
        outageRounds: 0,
      });
    }
    return lost;
  }

  /** The oldest records, up to `maxRecords` and `maxBytes` (at least one). */
  take(maxRecords: number, maxBytes: number): QueuedRecord[] {
    return this.queue.take(maxRecords, maxBytes);
  }

  /**
   * Puts records back at the front.
   * @returns how many of the oldest were dropped because they no longer fit
   */
  putBack(records: readonly QueuedRecord[]): number {
    return this.queue.unshiftAll(records);
  }

  /**
   * Whether every one of `records` fits now without evicting any waiting record, and with room left for
   * `reserved`: the records taken out in batches that may yet be put back.
   */
  hasRoomFor(records: readonly IntakeRecord[], reserved: Reserved = NOTHING_RESERVED): boolean {
    if (this.queue.length + reserved.records + records.length > this.limits.maxRecords) return false;
    return this.queue.bytes + reserved.bytes + queuedBytesOf(records) <= this.limits.maxBytes;
  }

  /** Whether no body can be taken now without evicting (with room kept for `reserved`). */
  fullWith(reserved: Reserved = NOTHING_RESERVED): boolean {
    return this.isFull(0, reserved);
  }

  /** Empties the queue. @returns how many records it held */
  clear(): number {
    return this.queue.clear().length;
  }

  private isFull(lineChars: number, reserved: Reserved = NOTHING_RESERVED): boolean {
    return (
      this.queue.length + reserved.records >= this.limits.maxRecords ||
      this.queue.bytes + reserved.bytes + lineChars + RECORD_OVERHEAD_BYTES > this.limits.maxBytes
    );
  }
}

/** Room held for records taken out of the queue in batches, which a failed call puts back. */
export interface Reserved {
  readonly records: number;
  readonly bytes: number;
}

const NOTHING_RESERVED: Reserved = { records: 0, bytes: 0 };

/** The queue bytes `records` take, as the queue counts them. */
export function queuedBytesOf(records: readonly { readonly line: string }[]): number {
  let bytes = 0;
  for (const record of records) bytes += record.line.length + RECORD_OVERHEAD_BYTES;
  return bytes;
}

/**
 * Charges a failed round to every record of a batch.
 * @returns the records that may be tried again, and how many have had all their rounds
 */
export function chargeRound(
  batch: readonly QueuedRecord[],
  round: Round,
): { readonly keep: QueuedRecord[]; readonly exhausted: number } {
  const keep: QueuedRecord[] = [];
  let exhausted = 0;
  for (const record of batch) {
    if (round === 'retry') record.tries += 1;
    if (round === 'outage') record.outageRounds += 1;
    if (record.tries >= MAX_ROUNDS || record.outageRounds >= MAX_OUTAGE_ROUNDS) exhausted += 1;
    else keep.push(record);
  }
  return { keep, exhausted };
}
