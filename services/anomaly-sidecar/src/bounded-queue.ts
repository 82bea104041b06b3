/**
 * A FIFO bounded both in items and in bytes, that never refuses a push: when a bound is reached the
 * OLDEST items are dropped and reported, because for anomaly scoring the newest lines matter most and
 * intake must never wait for the endpoint (issue 5, resilience). A ring buffer keeps push and shift O(1).
 */

/** Options for {@link BoundedQueue}. */
export interface BoundedQueueOptions {
  /** Most items held. */
  readonly maxItems: number;
  /** Most bytes held (as reported by `sizeOf`). */
  readonly maxBytes: number;
}

/**
 * @example
 * const queue = new BoundedQueue<string>({ maxItems: 2, maxBytes: 1024 }, (s) => s.length);
 * queue.push('a'); queue.push('b');
 * queue.push('c'); // 1: 'a' was dropped
 * queue.take(10, 1024); // ['b', 'c']
 */
export class BoundedQueue<T> {
  readonly maxItems: number;
  readonly maxBytes: number;
  private readonly sizeOf: (item: T) => number;
  private ring: (T | undefined)[];
  private sizes: Float64Array;
  private head = 0;
  private count = 0;
  private byteCount = 0;

  constructor(options: BoundedQueueOptions, sizeOf: (item: T) => number) {
    if (!(options.maxItems >= 1) || !(options.maxBytes >= 1)) {
      throw new RangeError('BoundedQueue: maxItems and maxBytes must be at least 1');
    }
    this.maxItems = options.maxItems;
    this.maxBytes = options.maxBytes;
    this.sizeOf = sizeOf;
    // Grows by doubling up to maxItems, so an idle sidecar does not hold a 20k-slot array.
    const initial = Math.min(options.maxItems, 1024);
    this.ring = new Array<T | undefined>(initial);
    this.sizes = new Float64Array(initial);
  }

  get length(): number {
    return this.count;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** The oldest item, without removing it. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.ring[this.head];
  }

  /**
   * Appends an item, first dropping the oldest until it fits.
   * @returns how many items were dropped (an item larger than `maxBytes` on its own drops only itself)
   */
  push(item: T): number {
    const size = this.sizeOf(item);
    if (size > this.maxBytes) return 1;
    let dropped = 0;
    while (this.count > 0 && (this.count >= this.maxItems || this.byteCount + size > this.maxBytes)) {
      this.dropOldest();
      dropped += 1;
    }
    if (this.count === this.ring.length) this.grow();
    const index = (this.head + this.count) % this.ring.length;
    this.ring[index] = item;
    this.sizes[index] = size;
    this.count += 1;
    this.byteCount += size;
    return dropped;
  }

  /**
   * Puts items back at the FRONT, oldest first (a batch the endpoint could not take yet). Items that no
   * longer fit are the oldest of all, so they are the ones dropped.
   * @returns how many items were dropped
   */
  unshiftAll(items: readonly T[]): number {
    let dropped = 0;
    for (let i = items.length - 1; i >= 0; i--) {
      const item = items[i]!;
      const size = this.sizeOf(item);
      if (this.count >= this.maxItems || this.byteCount + size > this.maxBytes) {
        // Everything still to put back is older than what is queued: drop those, keep the newer ones.
        dropped += i + 1;
        break;
      }
      if (this.count === this.ring.length) this.grow();
      this.head = (this.head - 1 + this.ring.length) % this.ring.length;
      this.ring[this.head] = item;
      this.sizes[this.head] = size;
      this.count += 1;
      this.byteCount += size;
    }
    return dropped;
  }

  /** Removes and returns up to `maxItems` oldest items whose sizes add up to at most `maxBytes` (at least one). */
  take(maxItems: number, maxBytes: number): T[] {
    const out: T[] = [];
    let bytes = 0;
    while (this.count > 0 && out.length < maxItems) {
      const size = this.sizes[this.head]!;
      if (out.length > 0 && bytes + size > maxBytes) break;
      out.push(this.shiftOne());
      bytes += size;
    }
    return out;
  }

  /** Removes everything. */
  clear(): T[] {
    return this.take(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  private dropOldest(): void {
    this.shiftOne();
  }

  private shiftOne(): T {
    const item = this.ring[this.head] as T;
    this.ring[this.head] = undefined;
    this.byteCount -= this.sizes[this.head]!;
    this.head = (this.head + 1) % this.ring.length;
    this.count -= 1;
    return item;
  }

  private grow(): void {
    const capacity = Math.min(this.maxItems, this.ring.length * 2);
    const ring = new Array<T | undefined>(capacity);
    const sizes = new Float64Array(capacity);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % this.ring.length;
      ring[i] = this.ring[from];
      sizes[i] = this.sizes[from]!;
    }
    this.ring = ring;
    this.sizes = sizes;
    this.head = 0;
  }
}
