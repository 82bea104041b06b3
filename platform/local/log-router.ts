import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { FireLensRecord } from '../../contracts/firelens.ts';
import { SIDECAR_INTAKE_TOKEN_HEADER } from '../../contracts/sidecar.ts';

/**
 * The local FireLens: reads each process's stdout/stderr line by line, prints it prefixed by service,
 * and forwards it to the service's anomaly sidecar in Fluent Bit's `http` output format. Forwarding is
 * off the printing path: a slow or dead sidecar costs dropped (and counted) records, never a blocked
 * child.
 */

/** Docker's json-file driver (and so FireLens) splits log lines at 16 KiB; so do we. */
export const MAX_LINE_CHARS = 16 * 1024;

/**
 * Splits a byte stream into lines (`\n` or `\r\n`), holding a partial line until its end arrives and
 * cutting lines longer than `maxChars` into pieces, so one huge write cannot grow memory without bound.
 *
 * @example
 * const split = new LineSplitter();
 * split.push(Buffer.from('a\nb')); // ['a']
 * split.end();                      // ['b']
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly maxChars = MAX_LINE_CHARS) {}

  push(chunk: Buffer | string): string[] {
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const parts = text.split('\n');
    this.pending = parts.pop() ?? '';
    const lines: string[] = [];
    for (const part of parts) lines.push(...this.cut(part.endsWith('\r') ? part.slice(0, -1) : part));
    while (this.pending.length > this.maxChars) {
      lines.push(this.pending.slice(0, this.maxChars));
      this.pending = this.pending.slice(this.maxChars);
    }
    return lines;
  }

  /** The stream ended: whatever is pending is the last line. */
  end(): string[] {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    return rest === '' ? [] : this.cut(rest);
  }

  private cut(line: string): string[] {
    if (line.length <= this.maxChars) return [line];
    const pieces: string[] = [];
    for (let i = 0; i < line.length; i += this.maxChars) pieces.push(line.slice(i, i + this.maxChars));
    return pieces;
  }
}

/** One record as Fluent Bit's `http` output sends it (contracts/firelens.ts). */
export type FluentBitRecord = FireLensRecord;

/** Counters of one forwarder, printed at shutdown and served for the benchmark. */
export interface ForwarderStats {
  /** Records accepted by the sidecar. */
  forwarded: number;
  /** Records dropped because the buffer was full (sidecar down or too slow). */
  dropped: number;
  /** Records the sidecar refused with a 4xx (a retry cannot help). */
  rejected: number;
  /** Failed POSTs (network error, timeout, 5xx); their records stay buffered for a retry. */
  failedPosts: number;
  /** Records waiting now. */
  buffered: number;
}

/** Options of a {@link SidecarForwarder}. */
export interface SidecarForwarderOptions {
  /** The sidecar's intake, e.g. `http://127.0.0.1:40123/logs`. */
  readonly url: string;
  /** The task's intake token, sent in `x-intake-token` as FireLens's http output sends it. */
  readonly token: string;
  /** Most records held while the sidecar is slow or down; older ones are dropped first. @default 10000 */
  readonly maxBuffered?: number;
  /** Most records per POST. @default 500 */
  readonly maxBatch?: number;
  /** Time a record may wait for companions before a flush (Fluent Bit's `flush`). @default {@link ROUTER_FLUSH_MS} */
  readonly flushIntervalMs?: number;
  /** Deadline of one POST. @default 2000 */
  readonly timeoutMs?: number;
  /** Pause after a failed POST before the next try. @default 500 */
  readonly retryDelayMs?: number;
  /** Told once when records start being dropped and once when delivery resumes. */
  readonly onTrouble?: (message: string) => void;
}

/** The longest a record waits in the router for companions before it is sent on (Fluent Bit's `flush`). */
export const ROUTER_FLUSH_MS = 100;

/**
 * Batches records and POSTs them to one sidecar, one request at a time, from a bounded buffer.
 * `push` never waits: when the buffer is full the oldest record is dropped and counted.
 *
 * @example
 * const forwarder = new SidecarForwarder({ url: 'http://127.0.0.1:9880/logs', token: intakeToken });
 * forwarder.push({ date: Date.now() / 1000, log: 'hello', container_name: 'backend', source: 'stdout',
 *   ecs_task_arn: 'arn:aws:ecs:local:000000000000:task/acme/1234', ecs_cluster: 'acme' });
 * await forwarder.close();
 */
export class SidecarForwarder {
  readonly url: string;
  private readonly token: string;
  private readonly maxBuffered: number;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly onTrouble: (message: string) => void;
  private buffer: FluentBitRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private troubled = false;
  private closed = false;
  private readonly counters = { forwarded: 0, dropped: 0, rejected: 0, failedPosts: 0 };

  constructor(options: SidecarForwarderOptions) {
    this.url = options.url;
    this.token = options.token;
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.maxBatch = options.maxBatch ?? 500;
    this.flushIntervalMs = options.flushIntervalMs ?? ROUTER_FLUSH_MS;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.onTrouble = options.onTrouble ?? (() => {});
  }

  get stats(): ForwarderStats {
    return { ...this.counters, buffered: this.buffer.length };
  }

  push(record: FluentBitRecord): void {
    if (this.closed) return;
    if (this.buffer.length >= this.maxBuffered) {
      this.buffer.shift();
      this.counters.dropped += 1;
      if (!this.troubled) {
        this.troubled = true;
        this.onTrouble(`log buffer full (${this.maxBuffered} records); dropping the oldest until it drains`);
      }
    }
    this.buffer.push(record);
    this.schedule(this.buffer.length >= this.maxBatch ? 0 : this.flushIntervalMs);
  }

  /** Sends what is buffered (one last try) and stops. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
    if (this.buffer.length > 0) await this.flush();
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.inFlight || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  private flush(): Promise<void> {
    const batch = this.buffer.slice(0, this.maxBatch);
    if (batch.length === 0) return Promise.resolve();
    this.inFlight = this.post(batch).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async post(batch: FluentBitRecord[]): Promise<void> {
    let retryAfter = 0;
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIDECAR_INTAKE_TOKEN_HEADER]: this.token },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.arrayBuffer();
      if (response.ok) {
        this.remove(batch);
        this.counters.forwarded += batch.length;
        if (this.troubled) {
          this.troubled = false;
          this.onTrouble(`log delivery resumed (${this.counters.dropped} records dropped so far)`);
        }
      } else if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        // The sidecar refused the records themselves; resending them would loop forever.
        this.remove(batch);
        this.counters.rejected += batch.length;
        this.onTrouble(`sidecar refused ${batch.length} records with HTTP ${response.status}`);
      } else {
        this.counters.failedPosts += 1;
        retryAfter = this.retryDelayMs;
      }
    } catch {
      this.counters.failedPosts += 1;
      retryAfter = this.retryDelayMs;
    }
    if (retryAfter > 0 && !this.troubled && !this.closed) {
      this.troubled = true;
      this.onTrouble(`sidecar unreachable at ${this.url}; buffering up to ${this.maxBuffered} records`);
    }
    if (this.buffer.length > 0 && !this.closed) {
      this.inFlight = undefined;
      this.schedule(retryAfter || (this.buffer.length >= this.maxBatch ? 0 : this.flushIntervalMs));
    }
  }

  /** Removes a sent batch: it is the buffer's head unless drops pushed some of it out meanwhile. */
  private remove(batch: FluentBitRecord[]): void {
    const sent = new Set(batch);
    let n = 0;
    while (n < this.buffer.length && sent.has(this.buffer[n]!)) n += 1;
    this.buffer.splice(0, n);
  }
}

/** ANSI colours cycled over services when printing to a terminal. */
const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

/** A line printer that prefixes each line with its source, padded and coloured (when a TTY). */
export class PrefixPrinter implements LinePrinter {
  private readonly colourOf = new Map<string, number>();
  private width = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly colour = out.isTTY === true && process.env.NO_COLOR === undefined,
  ) {}

  /** Reserves the prefix width for the longest label, so columns line up. */
  register(label: string): void {
    this.width = Math.max(this.width, label.length);
    if (!this.colourOf.has(label)) this.colourOf.set(label, COLOURS[this.colourOf.size % COLOURS.length]!);
  }

  print(label: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    this.register(label);
    const prefix = `${label.padEnd(this.width)} |`;
    if (this.colour) {
      const code = this.colourOf.get(label)!;
      const body = stream === 'stderr' ? `\x1b[2m${line}\x1b[0m` : line;
      this.out.write(`\x1b[${code}m${prefix}\x1b[0m ${body}\n`);
    } else {
      this.out.write(`${prefix} ${line}\n`);
    }
  }
}

/** Something that prints a labelled line. */
export interface LinePrinter {
  print(label: string, line: string, stream?: 'stdout' | 'stderr'): void;
}

/** Where one process's output goes. */
export interface LogRoute {
  /** Printed prefix, e.g. `backend` or `backend/sidecar`. */
  readonly label: string;
  readonly printer: LinePrinter;
  /** Set for app containers; sidecars and platform processes are printed only. */
  readonly forwarder?: SidecarForwarder;
  /** FireLens fields of the records. */
  readonly containerName: string;
  readonly taskArn: string;
  readonly cluster: string;
}

/** Routes one line of a container's output: printed, and forwarded as a FireLens record. */
export function routeLine(route: LogRoute, line: string, source: 'stdout' | 'stderr'): void {
  route.printer.print(route.label, line, source);
  route.forwarder?.push({
    date: Date.now() / 1000,
    log: line,
    container_name: route.containerName,
    source,
    ecs_task_arn: route.taskArn,
    ecs_cluster: route.cluster,
  });
}

/**
 * Reads a child's stdout and stderr line by line and routes every line, as FireLens forwards a
 * container's output: one record per line (the sidecar joins a multi-line event into one record before
 * scoring, the same for these records as for FireLens's). Returns a promise that resolves when both
 * streams have ended.
 */
export function routeProcessOutput(stdout: Readable, stderr: Readable, route: LogRoute): Promise<void> {
  const pipe = (stream: Readable, source: 'stdout' | 'stderr') =>
    new Promise<void>((resolve) => {
      const splitter = new LineSplitter();
      const emit = (lines: string[]) => {
        for (const line of lines) routeLine(route, line, source);
      };
      stream.on('data', (chunk: Buffer) => emit(splitter.push(chunk)));
      stream.once('close', () => {
        emit(splitter.end());
        resolve();
      });
      stream.once('error', () => resolve());
    });
  return Promise.all([pipe(stdout, 'stdout'), pipe(stderr, 'stderr')]).then(() => undefined);
}
