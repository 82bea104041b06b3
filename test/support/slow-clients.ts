import { connect, type Socket } from 'node:net';

/**
 * Raw TCP clients that misbehave the way the attacks did, for the server-limit tests of every
 * server (loopback only; the caller bounds count and time).
 */

/** What came back on one raw connection, and when the server closed it. */
export interface RawExchange {
  /** Everything the server sent, as text. */
  readonly received: string;
  /** Milliseconds from connecting until the server closed (or reset) the connection. */
  readonly closedAfterMs: number;
  readonly reset: boolean;
}

/**
 * Sends `head` and then one byte of body every `byteEveryMs`, until the server closes the connection
 * or `giveUpMs` passes (then the result says the server never closed it: `closedAfterMs` = Infinity).
 */
export function slowUpload(
  url: string,
  options: {
    readonly path: string;
    readonly declaredBytes: number;
    readonly byteEveryMs: number;
    readonly giveUpMs: number;
    readonly headers?: Record<string, string>;
  },
): Promise<RawExchange> {
  const extra = Object.entries(options.headers ?? { 'content-type': 'application/json' })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return exchange(url, options.giveUpMs, (socket) => {
    socket.write(
      `POST ${options.path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: ${options.declaredBytes}\r\n${extra}\r\n`,
    );
    const timer = setInterval(() => {
      if (socket.writable) socket.write(' ');
    }, options.byteEveryMs);
    socket.once('close', () => clearInterval(timer));
  });
}

/** Connects and sends nothing at all. */
export function silentConnection(url: string, giveUpMs: number): Promise<RawExchange> {
  return exchange(url, giveUpMs, () => undefined);
}

/** Sends `request` as is (a request with huge headers, for instance) and reads the answer. */
export function rawRequest(url: string, request: string, giveUpMs: number): Promise<RawExchange> {
  return exchange(url, giveUpMs, (socket) => socket.write(request));
}

function exchange(url: string, giveUpMs: number, drive: (socket: Socket) => void): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    let received = '';
    let reset = false;
    const socket = connect({ host: hostname, port: Number(port) });
    const giveUp = setTimeout(() => {
      socket.destroy();
      resolve({ received, closedAfterMs: Number.POSITIVE_INFINITY, reset });
    }, giveUpMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
    });
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ received, closedAfterMs: Date.now() - started, reset });
    });
    socket.on('connect', () => drive(socket));
  });
}

/** The status and JSON body of a raw HTTP answer (the first one on the connection). */
export function parseAnswer(text: string): { status: number; body: unknown } | undefined {
  const match = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
  if (!match) return undefined;
  const length = Number(/content-length: (\d+)/i.exec(match[2]!)?.[1] ?? Number.NaN);
  const raw = Number.isFinite(length) ? match[3]!.slice(0, length) : match[3]!;
  try {
    return { status: Number(match[1]), body: JSON.parse(raw) };
  } catch {
    return { status: Number(match[1]), body: raw };
  }
}

/**
 * POSTs `bytes` of body with Node's HTTP client, as a console or API client would, and reports what it
 * got: the status and body, or the error (a reset is what the issue saw for 6 MB and 11 MB bodies).
 */
export async function postLargeBody(
  url: string,
  bytes: number,
  options: { readonly chunked?: boolean; readonly headers?: Readonly<Record<string, string>> } = {},
): Promise<{ status: number; body: unknown } | { error: string }> {
  const { request } = await import('node:http');
  const body = Buffer.alloc(bytes, 0x20);
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...options.headers,
          ...(options.chunked ? {} : { 'content-length': bytes }),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: text });
          }
        });
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.on('socket', (socket) => socket.on('error', () => undefined));
    if (options.chunked) {
      for (let at = 0; at < bytes; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
      req.end();
    } else {
      req.end(body);
    }
  });
}
