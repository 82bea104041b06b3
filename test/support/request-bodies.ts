import { connect } from 'node:net';

/**
 * Request bodies that misbehave, for the body-limit tests of every server: a body sent slowly in chunks
 * over a real socket that need not ever end, and an in-process body that counts how much of it was read.
 */

/** What a server answered to {@link sendChunkedSlowly}. */
export interface ChunkedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Body bytes written before the answer arrived (the sender stops writing once it does). */
  readonly bytesSent: number;
  /** Whether the terminating chunk had been written when the answer arrived. */
  readonly ended: boolean;
}

/** Options for {@link sendChunkedSlowly}. */
export interface ChunkedBody {
  /** Body bytes to send in all. */
  readonly bytes: number;
  readonly chunkBytes: number;
  /** Pause between chunks. */
  readonly pauseMs: number;
  /** Write the terminating chunk after the last one; without it the body never ends. */
  readonly end: boolean;
  readonly headers?: Readonly<Record<string, string>>;
  /** Give up (reject) when no answer came by then. @default 30 s */
  readonly deadlineMs?: number;
}

/**
 * POSTs a `Transfer-Encoding: chunked` body (no `Content-Length`; unframed when `headers` declare one) of
 * `x` bytes to `http://127.0.0.1:port`,
 * a chunk every `pauseMs`, and resolves with the answer as soon as one arrives, whether or not the body
 * has ended. Rejects past the deadline, naming how much was sent.
 *
 * @example
 * const answer = await sendChunkedSlowly(port, '/api/predict', { bytes: limit + 1, chunkBytes: 65536, pauseMs: 5, end: false });
 * assert.equal(answer.status, 413);
 */
export function sendChunkedSlowly(port: number, path: string, body: ChunkedBody): Promise<ChunkedAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let sent = 0;
    let ended = false;
    let answered = false;
    let received = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const finish = (error?: Error, answer?: ChunkedAnswer) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer!);
    };
    const deadline = setTimeout(
      () =>
        finish(
          new Error(`no answer within ${body.deadlineMs ?? 30_000} ms; ${sent} of ${body.bytes} bytes sent`),
        ),
      body.deadlineMs ?? 30_000,
    );
    // With a declared Content-Length the bytes go unframed; otherwise chunked.
    const chunked = body.headers?.['content-length'] === undefined;
    const head = Object.entries({
      host: `127.0.0.1:${port}`,
      'content-type': 'application/json',
      ...(chunked ? { 'transfer-encoding': 'chunked' } : {}),
      ...body.headers,
    })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    const writeNext = () => {
      if (answered) return;
      if (sent >= body.bytes) {
        if (body.end && chunked) socket.write('0\r\n\r\n', () => (ended = true));
        else if (body.end) ended = true;
        return;
      }
      const size = Math.min(body.chunkBytes, body.bytes - sent);
      socket.write(chunked ? `${size.toString(16)}\r\n${'x'.repeat(size)}\r\n` : 'x'.repeat(size));
      sent += size;
      timer = setTimeout(writeNext, body.pauseMs);
    };
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
      writeNext();
    });
    socket.on('data', (data) => {
      received = Buffer.concat([received, data]);
      const answer = parseAnswer(received);
      if (answer) finish(undefined, { ...answer, bytesSent: sent, ended });
    });
    // A server that closes after answering may reset a socket still being written to; the answer, if
    // it was read, has already settled the promise.
    socket.on('error', (error) => finish(new Error(`${error.message}; ${sent} bytes sent, no answer read`)));
    socket.on('close', () => finish(new Error(`connection closed; ${sent} bytes sent, no answer read`)));
  });
}

/** A complete HTTP/1.1 answer with a `Content-Length` body, or undefined while more is needed. */
function parseAnswer(data: Buffer): Omit<ChunkedAnswer, 'bytesSent' | 'ended'> | undefined {
  const split = data.indexOf('\r\n\r\n');
  if (split < 0) return undefined;
  const [statusLine, ...lines] = data.subarray(0, split).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = data.subarray(split + 4);
  if (body.length < length) return undefined;
  return {
    status: Number(statusLine?.split(' ')[1]),
    headers,
    body: body.subarray(0, length).toString('utf8'),
  };
}

/** A body that counts what was read of it. */
export interface CountedBody {
  readonly stream: ReadableStream<Uint8Array>;
  /** Bytes handed to the reader so far. */
  pulled(): number;
}

/**
 * An in-process body of `bytes` bytes in `chunkBytes` chunks, produced only as it is read. With `end`
 * false it never ends: after the last chunk a read waits until the stream is cancelled.
 */
export function countedBody(bytes: number, chunkBytes: number, end: boolean): CountedBody {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled >= bytes) {
          if (end) controller.close();
          // Otherwise never settle: the body has more to come that never comes.
          else return new Promise<void>(() => {});
          return;
        }
        const size = Math.min(chunkBytes, bytes - pulled);
        pulled += size;
        controller.enqueue(new Uint8Array(size).fill(0x78));
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

/**
 * A `Request` whose `Content-Length` says `declared` whatever the body holds: hono's `app.request` and any
 * in-process caller can build one, so a body limit must count what it reads, not trust the header.
 */
export function requestDeclaring(url: string, body: ReadableStream<Uint8Array>, declared: number): Request {
  return new Request(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'content-length': String(declared) },
    duplex: 'half',
  } as RequestInit);
}
