import { connect } from 'node:net';
import { stackTrace } from './fixtures/stack-trace.ts';

/**
 * A log driver at volume: writes numbered lines to the router over the Fluentd forward protocol as
 * Docker's fluentd driver (the awsfirelens driver) does — one `[tag, time, record]` message per line,
 * many messages per write — at RATE lines/s for SECONDS. Like the driver it holds at most BUFFER_LINES
 * lines the router has not yet read (its `log-driver-buffer-limit`, 1,048,576 by default on ECS) and
 * drops past that, counting them: a router that reads slower than the app writes loses lines here,
 * exactly where the driver would lose them. Runs as its own process (the app's side of the task).
 *
 * Env: FORWARD_PORT (the router's forward port), RATE, SECONDS, BUFFER_LINES, BLOCKING=1 (Docker's
 * default mode: the app waits for room instead of losing lines), TAG, STACK_EVERY (every Nth
 * emission is a 12-line stack trace instead of one line; 0 = never). Prints one JSON line when done:
 * {"offered","written","dropped","stackTraces","seconds"} — `offered` counts lines, a stack trace 12.
 * Line n reads `… seq=n …`, so the receiving side can check that every line arrived exactly once.
 */

const PORT = Number(process.env.FORWARD_PORT);
const RATE = Number(process.env.RATE ?? 100_000);
const SECONDS = Number(process.env.SECONDS ?? 30);
const BUFFER_LINES = Number(process.env.BUFFER_LINES ?? 1_048_576);
const TAG = process.env.TAG ?? 'app-firelens-0123';
const STACK_EVERY = Number(process.env.STACK_EVERY ?? 0);
/** Docker's default log mode: the app waits for room in the buffer instead of losing lines. */
const BLOCKING = process.env.BLOCKING === '1';
const TICK_MS = 10;
/**
 * Lines per socket write. A tick that runs late (this process shares a core with the stand-ins) owes
 * many lines at once; handed to the socket in slices, each settled before the next is counted, only
 * what the kernel has not taken is in the driver's buffer, as with the driver writing line by line.
 * One write per tick counted a whole catch-up burst as buffered and dropped lines the router would have
 * read (bench:router at 200k lines/s: the router idle in epoll_wait while the driver "dropped" 1.5M).
 */
const SLICE_LINES = 2_000;

/** Encodes forward-protocol messages into one buffer (msgpack, only the shapes used here). */
class MessageWriter {
  private buf = Buffer.allocUnsafe(1 << 20);
  private at = 0;

  reset(): void {
    this.at = 0;
  }
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.at));
  }
  /** `[tag, EventTime, {container_id, container_name, source, log}]`, as the driver sends a line. */
  message(tag: string, seconds: number, nanos: number, log: string): void {
    this.ensure(256 + log.length * 3);
    this.byte(0x93);
    this.str(tag);
    // EventTime: ext type 0, 8 bytes (seconds, nanoseconds), what the driver sends with sub-second precision.
    this.byte(0xd7);
    this.byte(0x00);
    this.at = this.buf.writeUInt32BE(seconds, this.at);
    this.at = this.buf.writeUInt32BE(nanos, this.at);
    this.byte(0x84);
    this.str('container_id');
    this.str('8f03e41243824aea923aca126495f665-2531612879');
    this.str('container_name');
    this.str('app');
    this.str('source');
    this.str('stdout');
    this.str('log');
    this.str(log);
  }
  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
  private byte(b: number): void {
    this.buf[this.at++] = b;
  }
  private str(s: string): void {
    const length = Buffer.byteLength(s);
    if (length < 32) this.byte(0xa0 | length);
    else if (length < 256) {
      this.byte(0xd9);
      this.byte(length);
    } else {
      this.byte(0xda);
      this.at = this.buf.writeUInt16BE(length, this.at);
    }
    this.at += this.buf.write(s, this.at);
  }
}

function main(): void {
  const socket = connect(PORT, '127.0.0.1');
  socket.setNoDelay(true);
  const writer = new MessageWriter();
  const counts = { offered: 0, written: 0, dropped: 0, stackTraces: 0 };
  /** Lines written to the socket that the router has not read yet (the driver's buffer). */
  const pending: { bytes: number; lines: number }[] = [];
  let pendingLines = 0;
  let flushedBytes = 0;
  let writtenBytes = 0;
  let seq = 0;
  let emissions = 0;
  const started = performance.now();

  const settle = () => {
    // What left the socket's user-space buffer has been taken by the kernel; count it as read.
    const inKernel = writtenBytes - socket.writableLength;
    while (pending.length > 0 && flushedBytes + pending[0]!.bytes <= inKernel) {
      const done = pending.shift()!;
      flushedBytes += done.bytes;
      pendingLines -= done.lines;
    }
  };

  socket.once('connect', () => {
    let due = 0;
    const tick = setInterval(() => {
      const elapsed = (performance.now() - started) / 1000;
      const target = Math.min(RATE * elapsed, RATE * SECONDS);
      settle();
      writer.reset();
      let lines = 0;
      const hand = () => {
        if (lines === 0) return;
        const chunk = writer.take();
        pending.push({ bytes: chunk.length, lines });
        pendingLines += lines;
        writtenBytes += chunk.length;
        counts.written += lines;
        socket.write(chunk);
        writer.reset();
        lines = 0;
        settle();
      };
      const now = Date.now();
      const seconds = Math.floor(now / 1000);
      const nanos = (now % 1000) * 1e6;
      while (due < target) {
        emissions += 1;
        const group =
          STACK_EVERY > 0 && emissions % STACK_EVERY === 0
            ? stackTrace(seq)
            : [
                `${new Date(now).toISOString()} INFO request served in ${seq % 9} ms path=/api/items/${seq % 311} seq=${seq}`,
              ];
        if (BLOCKING && pendingLines + lines + group.length > BUFFER_LINES) {
          // Blocking: the app's write waits (this tick ends; the lines come later).
          emissions -= 1;
          break;
        }
        if (group.length > 1) counts.stackTraces += 1;
        due += group.length;
        counts.offered += group.length;
        if (pendingLines + lines + group.length > BUFFER_LINES) {
          // Non-blocking: the driver's buffer is full and the lines are lost.
          counts.dropped += group.length;
          seq += 1;
          continue;
        }
        for (const log of group) writer.message(TAG, seconds, nanos, log);
        lines += group.length;
        seq += 1;
        if (lines >= SLICE_LINES) hand();
      }
      hand();
      if (elapsed >= SECONDS && due >= RATE * SECONDS) {
        clearInterval(tick);
        socket.end(() => {
          process.stdout.write(
            `${JSON.stringify({ ...counts, seconds: (performance.now() - started) / 1000 })}\n`,
          );
          process.exit(0);
        });
      }
    }, TICK_MS);
  });
  socket.on('error', (error) => {
    process.stderr.write(`forward-load: ${error.message}\n`);
    process.exit(1);
  });
}

main();
