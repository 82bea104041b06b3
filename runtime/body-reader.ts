import type { Readable } from 'node:stream';
/**
 * Reads a request body with its limits enforced while reading: nothing past `maxBytes` is ever held,
 * and, where a server passes one, the bytes held by every body being read at once are bounded by one
 * {@link IntakeBudget}, so the connection limit times the body limit never has to fit in memory (issue 14:
 * a chunked 200 MiB body took the sidecar to 720 MiB before its 413). The body limit of every hono server
 * (body-limit.ts) and the sidecar's intake read through it.
 */

/** Why a body was refused while reading it. */
export type BodyLimitReason = 'too_large' | 'busy';

export class BodyLimitError extends Error {
  constructor(
    readonly reason: BodyLimitReason,
    message: string,
  ) {
    super(message);
    this.name = 'BodyLimitError';
  }
}

/**
 * Bytes that bodies being read (and decompressed) may hold at once, across all connections.
 *
 * @example
 * const budget = new IntakeBudget(16 * 1024 * 1024);
 * if (budget.tryReserve(n)) { try { … } finally { budget.release(n); } }
 */
export class IntakeBudget {
  private held = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes reserved right now. */
  get reserved(): number {
    return this.held;
  }

  tryReserve(bytes: number): boolean {
    if (this.held + bytes > this.maxBytes) return false;
    this.held += bytes;
    return true;
  }

  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}

/** The budget of a server that bounds each body but not all of them together. */
const UNBOUNDED = new (class extends IntakeBudget {
  override tryReserve(): boolean {
    return true;
  }
  override release(): void {}
})(Number.POSITIVE_INFINITY);

/**
 * Reads `stream` into one buffer, reserving each chunk in `budget` (when given) as it arrives. On any
 * refusal the stream is cancelled (the rest is never read into memory) and what was reserved is
 * released; on success the caller owns the reservation of `bytes.byteLength` and releases it when done.
 *
 * @throws BodyLimitError `too_large` past `maxBytes`, `busy` when the shared budget is exhausted
 */
export async function readBodyBounded(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  budget: IntakeBudget = UNBOUNDED,
): Promise<Uint8Array<ArrayBuffer>> {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const refuse = async (error: BodyLimitError): Promise<never> => {
    budget.release(total);
    chunks.length = 0;
    // The rest is left unread, not cancelled (cancelling closes the connection, and a sender still
    // writing reads a reset instead of the answer): the server discards it within its limits
    // (runtime/http-server.ts: bytes and the request deadline) and keeps the connection.
    reader.releaseLock();
    throw error;
  };
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (error) {
      budget.release(total);
      throw error;
    }
    if (next.done) break;
    const chunk = next.value;
    if (total + chunk.byteLength > maxBytes) {
      await refuse(
        new BodyLimitError('too_large', `body is over ${maxBytes} bytes; the limit is ${maxBytes}`),
      );
    }
    if (!budget.tryReserve(chunk.byteLength)) {
      await refuse(
        new BodyLimitError('busy', 'the server is reading as many bodies as its memory allows; retry'),
      );
    }
    total += chunk.byteLength;
    chunks.push(chunk);
  }
  if (chunks.length === 1 && chunks[0]!.byteOffset === 0) return chunks[0] as Uint8Array<ArrayBuffer>;
  // The copy is reserved too: both exist until the chunks are collected.
  if (!budget.tryReserve(total)) {
    await refuse(
      new BodyLimitError('busy', 'the server is reading as many bodies as its memory allows; retry'),
    );
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  budget.release(total);
  return out;
}

/**
 * {@link readBodyBounded} for a Node request read directly (a server behind `@hono/node-server` has it
 * as `c.env.incoming`): the same limits, budget and ownership, without the web `Request` and stream the
 * server would otherwise build around it. The sidecar reads every body this way: building them was a
 * measurable share of its CPU per line. A request that ends early (the client went away) is an error.
 *
 * @throws BodyLimitError `too_large` past `maxBytes`, `busy` when the shared budget is exhausted
 */
export function readIncomingBounded(
  incoming: Readable,
  maxBytes: number,
  budget: IntakeBudget = UNBOUNDED,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const stop = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const refuse = (error: Error) => {
      stop();
      // The rest is not read here: the server discards it within its limits once the answer is out
      // (runtime/http-server.ts), so the sender reads the answer rather than a reset.
      incoming.pause();
      budget.release(total);
      chunks.length = 0;
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      if (total + chunk.byteLength > maxBytes) {
        refuse(new BodyLimitError('too_large', `body is over ${maxBytes} bytes; the limit is ${maxBytes}`));
        return;
      }
      if (!budget.tryReserve(chunk.byteLength)) {
        refuse(
          new BodyLimitError('busy', 'the server is reading as many bodies as its memory allows; retry'),
        );
        return;
      }
      total += chunk.byteLength;
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      if (chunks.length === 1) {
        const only = chunks[0]!;
        resolve(new Uint8Array(only.buffer, only.byteOffset, only.byteLength) as Uint8Array<ArrayBuffer>);
        return;
      }
      // Joining holds the chunks and their copy at once: the copy is reserved too while it is made.
      if (!budget.tryReserve(total)) {
        budget.release(total);
        reject(
          new BodyLimitError('busy', 'the server is reading as many bodies as its memory allows; retry'),
        );
        return;
      }
      const out = Buffer.concat(chunks, total);
      budget.release(total);
      resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength) as Uint8Array<ArrayBuffer>);
    };
    const onError = (error: Error) => {
      stop();
      budget.release(total);
      reject(error);
    };
    const onClose = () => onError(new Error('the request ended before its body'));
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}
