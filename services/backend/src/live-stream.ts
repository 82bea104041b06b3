import { LIVE_STREAM_EVENTS, type LiveDropped, type LiveEvent } from '../../../contracts/console-ops.ts';
import { ApiError } from '../../../contracts/errors.ts';
import type { LiveFeed } from './live-feed.ts';

/** What the streams read from the feed: its current state and its changes. */
export type LiveSource = Pick<LiveFeed, 'snapshot' | 'subscribe'>;

/**
 * The bounds of `GET /api/events`. Memory is bounded by construction: frames are serialised once and
 * shared by every stream, and a stream holds at most `maxQueuedBytes` of them, so all streams together
 * pin at most about `maxQueuedBytes` of live frames plus one snapshot each (≤ `maxFrameBytes` per view).
 */
export interface LiveStreamLimits {
  /** Streams one backend process serves; the next gets 503 with `Retry-After`. */
  readonly maxStreams: number;
  /** Streams per identity (a user's tabs); the next gets 429 with `Retry-After`. */
  readonly maxStreamsPerIdentity: number;
  /** Bytes waiting for one reader; past this it is dropped (told, then closed). */
  readonly maxQueuedBytes: number;
  /** Largest frame of anomaly records: a big batch is split, the snapshot keeps the newest that fit. */
  readonly maxFrameBytes: number;
  /** A comment line this often keeps idle-timeout proxies (the ALB's default is 60 s) from closing a quiet stream. */
  readonly heartbeatMs: number;
  /** How soon a console's EventSource reconnects after the stream ends. */
  readonly retryMs: number;
  /** A dropped reader that does not take its last frame within this is disconnected. */
  readonly dropGraceMs: number;
  /** `Retry-After` of a refused stream, in seconds. */
  readonly retryAfterSeconds: number;
}

/**
 * Sized for the backend task (512 MiB): 1000 streams cost about 40 MiB of sockets and stream state, and
 * the frames they share at most 1 MiB plus one snapshot per stream. A browser tab holds one stream;
 * 16 per identity leaves room for an operator's tabs and reconnects that overlap.
 */
export const LIVE_STREAM_LIMITS: LiveStreamLimits = {
  maxStreams: 1000,
  maxStreamsPerIdentity: 16,
  maxQueuedBytes: 1024 * 1024,
  maxFrameBytes: 64 * 1024,
  heartbeatMs: 15_000,
  retryMs: 2000,
  dropGraceMs: 10_000,
  retryAfterSeconds: 5,
};

/** What {@link LiveStreams.open} needs besides the identity. */
export interface OpenStreamOptions {
  /** Cuts the connection; called when a dropped reader does not take its last frame in time. */
  readonly disconnect?: () => void;
}

const encoder = new TextEncoder();
/** Streams handed their frames per turn of the event loop. */
const WAKE_SLICE = 4;
const HEARTBEAT = encoder.encode(': heartbeat\n\n');

/** A refusal: the HTTP error and how long the caller should wait. */
export class StreamRefused extends ApiError {
  constructor(
    code: 'too_many_requests' | 'unavailable',
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(code, message);
  }
}

/**
 * The fan-out behind `GET /api/events`: one subscription to the {@link LiveFeed} for every stream of the
 * process, each event serialised once into frames every stream shares, a bounded queue per stream, and
 * caps per process and per identity. A reader that stops reading is dropped once its queue is full: it
 * gets a `dropped` event (when it reads again), the stream ends, and EventSource reconnects, which
 * sends the current state.
 *
 * @example
 * const streams = new LiveStreams(feed);
 * app.get('/api/events', (c) => new Response(streams.open(identityOf(c)), { headers: SSE_HEADERS }));
 */
export class LiveStreams {
  private readonly feed: LiveSource;
  private readonly limits: LiveStreamLimits;
  private readonly streams = new Set<Stream>();
  private readonly perIdentity = new Map<string, number>();
  /** Frames of the feed's events, computed once per event object (the feed replaces them on change). */
  private readonly liveFrames = new WeakMap<LiveEvent, readonly Uint8Array[]>();
  private readonly snapshotFrames = new WeakMap<LiveEvent, readonly Uint8Array[]>();
  private readonly readyFrame: Uint8Array;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private nextId = 0;
  /** Streams with new frames whose socket has not been handed them yet. */
  private readonly toWake = new Set<Stream>();
  private waking = false;

  constructor(feed: LiveSource, limits: LiveStreamLimits = LIVE_STREAM_LIMITS) {
    this.feed = feed;
    this.limits = limits;
    this.readyFrame = encoder.encode(
      `event: ${LIVE_STREAM_EVENTS.ready}\ndata: {}\nretry: ${limits.retryMs}\n\n`,
    );
  }

  /** Streams held now. */
  get size(): number {
    return this.streams.size;
  }

  /**
   * A new stream for `identity`: `ready`, the current state, then every change. Throws
   * {@link StreamRefused} past a cap.
   */
  open(identity: string, options: OpenStreamOptions = {}): ReadableStream<Uint8Array> {
    if (this.streams.size >= this.limits.maxStreams) {
      throw new StreamRefused(
        'unavailable',
        `this backend serves ${this.limits.maxStreams} live streams already; try again shortly`,
        this.limits.retryAfterSeconds,
      );
    }
    const held = this.perIdentity.get(identity) ?? 0;
    if (held >= this.limits.maxStreamsPerIdentity) {
      throw new StreamRefused(
        'too_many_requests',
        `${held} live streams are open for this identity (the limit is ${this.limits.maxStreamsPerIdentity}); close a console tab`,
        this.limits.retryAfterSeconds,
      );
    }
    const stream = new Stream(identity, this.limits, options.disconnect, (s) => this.release(s));
    this.streams.add(stream);
    this.perIdentity.set(identity, held + 1);
    stream.push(this.readyFrame);
    for (const event of this.feed.snapshot()) {
      for (const frame of this.framesOf(event, true)) stream.push(frame);
    }
    if (this.streams.size === 1) this.start();
    return stream.body;
  }

  /** Ends every stream (process shutdown). */
  close(): void {
    for (const stream of [...this.streams]) stream.end();
    this.stop();
  }

  private start(): void {
    // The feed polls only while someone listens; its snapshot already went to the first stream.
    let initial = true;
    this.unsubscribe = this.feed.subscribe((event) => {
      if (!initial) this.broadcast(this.framesOf(event, false));
    });
    initial = false;
    this.heartbeat = setInterval(() => this.broadcast([HEARTBEAT]), this.limits.heartbeatMs);
    this.heartbeat.unref();
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /**
   * Queues the frames on every stream at once, but hands them to the sockets a slice of streams per
   * turn of the event loop: writing to a thousand sockets in one go would hold every other request
   * (`GET /api/services`) behind it.
   */
  private broadcast(frames: readonly Uint8Array[]): void {
    for (const stream of this.streams) {
      for (const frame of frames) stream.push(frame, false);
      this.toWake.add(stream);
    }
    if (this.toWake.size > 0 && !this.waking) {
      this.waking = true;
      setImmediate(() => this.wakeSlice());
    }
  }

  private wakeSlice(): void {
    let woken = 0;
    for (const stream of this.toWake) {
      this.toWake.delete(stream);
      stream.wakeReader();
      if (++woken === WAKE_SLICE) break;
    }
    if (this.toWake.size > 0) setImmediate(() => this.wakeSlice());
    else this.waking = false;
  }

  private release(stream: Stream): void {
    if (!this.streams.delete(stream)) return;
    this.toWake.delete(stream);
    const held = (this.perIdentity.get(stream.identity) ?? 1) - 1;
    if (held > 0) this.perIdentity.set(stream.identity, held);
    else this.perIdentity.delete(stream.identity);
    if (this.streams.size === 0) this.stop();
  }

  /**
   * The frames of one event, serialised once. A snapshot's anomalies keep the newest records that fit
   * one frame (the console reads the full list over HTTP); a live batch is split into frames of whole
   * records. The feed's snapshot event and its broadcast events are distinct objects, so one cache each.
   */
  private framesOf(event: LiveEvent, snapshot: boolean): readonly Uint8Array[] {
    const cache = snapshot ? this.snapshotFrames : this.liveFrames;
    const cached = cache.get(event);
    if (cached) return cached;
    const frames =
      event.type === 'anomalies'
        ? this.anomalyFrames(event.data, snapshot)
        : [this.frame(event.type, JSON.stringify(event.data))];
    cache.set(event, frames);
    return frames;
  }

  private anomalyFrames(
    data: Extract<LiveEvent, { type: 'anomalies' }>['data'],
    snapshot: boolean,
  ): Uint8Array[] {
    const tail = `],"unavailable":${JSON.stringify(data.unavailable)}}`;
    const budget = this.limits.maxFrameBytes - Buffer.byteLength(tail) - 64;
    const batches: string[][] = [[]];
    let size = 0;
    for (const record of data.records) {
      const json = JSON.stringify(record);
      const bytes = Buffer.byteLength(json) + 1;
      const batch = batches[batches.length - 1]!;
      if (batch.length > 0 && size + bytes > budget) {
        if (snapshot) break;
        batches.push([json]);
        size = bytes;
      } else {
        batch.push(json);
        size += bytes;
      }
    }
    return batches.map((batch) => this.frame('anomalies', `{"records":[${batch.join(',')}${tail}`));
  }

  private frame(type: string, json: string): Uint8Array {
    this.nextId += 1;
    return encoder.encode(`id: ${this.nextId}\nevent: ${type}\ndata: ${json}\n\n`);
  }
}

/** One reader's stream: a queue of shared frames, pulled as the socket takes them. */
class Stream {
  readonly body: ReadableStream<Uint8Array>;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private wake: (() => void) | undefined;
  private state: 'open' | 'dropping' | 'ended' = 'open';
  private graceTimer: NodeJS.Timeout | undefined;
  private cancelled = false;

  constructor(
    readonly identity: string,
    private readonly limits: LiveStreamLimits,
    private readonly disconnect: (() => void) | undefined,
    private readonly onRelease: (stream: Stream) => void,
  ) {
    // highWaterMark 0: nothing is pulled ahead of the socket, so the queue below is all there is.
    this.body = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.pull(controller),
        cancel: () => {
          this.cancelled = true;
          this.finish();
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Queues `frame`; `wake: false` leaves handing it to the socket to the caller ({@link wakeReader}). */
  push(frame: Uint8Array, wake = true): void {
    if (this.state !== 'open') return;
    if (this.queuedBytes + frame.byteLength > this.limits.maxQueuedBytes) {
      this.drop(
        `the stream fell ${this.queuedBytes + frame.byteLength} bytes behind (the limit is ${this.limits.maxQueuedBytes})`,
      );
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.byteLength;
    if (wake) this.wakeReader();
  }

  /** Ends the stream after what is queued (shutdown). */
  end(): void {
    if (this.state === 'open') this.state = 'ended';
    this.onRelease(this);
    this.wakeReader();
  }

  private drop(reason: string): void {
    const data: LiveDropped = { reason };
    // What was queued is discarded at once; the reader gets one small frame, then the end.
    this.queue = [encoder.encode(`event: ${LIVE_STREAM_EVENTS.dropped}\ndata: ${JSON.stringify(data)}\n\n`)];
    this.queuedBytes = this.queue[0]!.byteLength;
    this.state = 'dropping';
    this.onRelease(this);
    this.graceTimer = setTimeout(() => this.disconnect?.(), this.limits.dropGraceMs);
    this.graceTimer.unref();
    this.wakeReader();
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (this.queue.length === 0 && this.state === 'open') {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    if (this.cancelled) return;
    const frame = this.queue.shift();
    if (frame) {
      this.queuedBytes -= frame.byteLength;
      controller.enqueue(frame);
      return;
    }
    this.finish();
    controller.close();
  }

  wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The reader went away (or took the last frame): release everything. */
  private finish(): void {
    this.state = 'ended';
    this.queue = [];
    this.queuedBytes = 0;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.onRelease(this);
    this.wakeReader();
  }
}
