import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ERROR_STATUS, type ErrorCode, errorBody } from '../contracts/errors.ts';

/**
 * Timeouts and limits of every HTTP server of the platform (the backend, the frontend server, the model
 * server, the anomaly sidecar, and the local runtime's ALB, API Gateway, Lambda host, control endpoint
 * and sidecar aggregate), written once. Node's defaults leave a slow client in control: a request may
 * take 300 s to arrive, an idle connection is never closed, and `@hono/node-server` resets a connection
 * whose unread body takes more than 500 ms to drain (an 11 MB body got a reset instead of its 413).
 *
 * @example
 * const limits = httpServerLimits({ maxBodyBytes: PREDICTION_LIMITS.maxBodyBytes });
 * // @hono/node-server's own clean-up off: Node discards the unread body (see guardServer).
 * const listener = getRequestListener(app.fetch, { autoCleanupIncoming: false });
 * const server = serveHttp({ listener, port: 8081, hostname: '127.0.0.1', limits });
 */

/** Timeouts and limits of one server; build them with {@link httpServerLimits}. */
export interface HttpServerLimits {
  /** Time for a request's headers to arrive, from the connection or the previous request. */
  readonly headersTimeoutMs: number;
  /** Time for a whole request to arrive, body included; past it the server answers 408 and closes. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept between requests. */
  readonly keepAliveTimeoutMs: number;
  /** A connection on which no byte moves either way for this long is closed (a reader that stopped). */
  readonly idleTimeoutMs: number;
  /** Bytes of request line and headers (431 past it). */
  readonly maxHeaderBytes: number;
  /** Connections held at once; more are closed on arrival. */
  readonly maxConnections: number;
  /** Bytes read and discarded of a body the server answered without reading (a 413); then it closes. */
  readonly maxDiscardBytes: number;
}

/**
 * The slowest upload a server waits for: 512 KiB/s (4 Mbit/s) brings the largest body of the platform
 * (a 5 MiB prediction request) in 10 s.
 */
export const MIN_UPLOAD_BYTES_PER_SECOND = 512 * 1024;
/** Browsers, the ALB, API Gateway and Fluent Bit send a request's headers at once. */
const HEADERS_TIMEOUT_MS = 10_000;
/** Node's own keep-alive default: callers on the same host or VPC reconnect cheaply. */
const KEEP_ALIVE_TIMEOUT_MS = 5000;
/**
 * Four times the live stream's heartbeat (15 s): a reader that takes nothing for a minute has stopped.
 * Also longer than the keep-alive timeouts, which Node applies between requests instead.
 */
const IDLE_TIMEOUT_MS = 60_000;
/** Node's default; enough for every caller but a browser behind an ALB with its session cookies. */
const MAX_HEADER_BYTES = 16 * 1024;
/** How often Node checks the header and request deadlines (its default, 30 s, would let them run long). */
const DEADLINE_CHECK_MS = 1000;

/** What a server serves, from which its limits follow. */
export interface HttpServerLimitsOptions {
  /** The largest body any of its routes accepts (its contract's limit). */
  readonly maxBodyBytes: number;
  /**
   * Between requests on one connection. Behind a load balancer it must outlast the balancer's own idle
   * timeout, or the balancer sends a request on a connection the server is closing (a 502).
   * @default 5000
   */
  readonly keepAliveTimeoutMs?: number;
  /** @default 16384 */
  readonly maxHeaderBytes?: number;
  /** @default 1024 */
  readonly maxConnections?: number;
  /** @default 60000 */
  readonly idleTimeoutMs?: number;
}

/**
 * A server's limits from what it serves: headers within 10 s, the whole request within that plus the
 * largest body at {@link MIN_UPLOAD_BYTES_PER_SECOND}.
 */
export function httpServerLimits(options: HttpServerLimitsOptions): HttpServerLimits {
  const bodyMs = Math.ceil((options.maxBodyBytes / MIN_UPLOAD_BYTES_PER_SECOND) * 1000);
  return {
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: HEADERS_TIMEOUT_MS + bodyMs,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    maxHeaderBytes: options.maxHeaderBytes ?? MAX_HEADER_BYTES,
    maxConnections: options.maxConnections ?? 1024,
    // A client that sent too much (an 11 MB body to a 5 MiB limit) finishes sending and reads its 413
    // on a kept connection; closing earlier resets it before it reads the answer. Eight times the
    // limit is no longer a mistake.
    maxDiscardBytes: 8 * options.maxBodyBytes,
  };
}

/** `node:http` server options for `limits` (the ones only settable at creation). */
export function httpServerOptions(limits: HttpServerLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    connectionsCheckingInterval: Math.min(DEADLINE_CHECK_MS, limits.headersTimeoutMs),
  };
}

/**
 * Applies the rest of `limits` to a created server: keep-alive and idle timeouts, the connection cap,
 * answers in the platform's error shape for what Node refuses before any handler runs (a request
 * timeout is `408 request_timeout`, oversized headers `431 header_too_large`, a malformed request
 * `400 invalid_request`), and a bound on the unread body Node discards after an early answer.
 */
export function guardServer(server: Server, limits: HttpServerLimits): void {
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs);
  server.maxConnections = limits.maxConnections;
  server.on('clientError', answerClientError);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.once('finish', () => discardRest(req, limits.maxDiscardBytes));
  });
}

/**
 * A server with `limits` around `listener`, listening on `hostname:port`. A hono app's listener is
 * `getRequestListener(app.fetch, { autoCleanupIncoming: false })`: @hono/node-server's own clean-up
 * resets a connection whose unread body takes over 500 ms to drain (an 11 MB body got a reset instead
 * of its 413); with it off, Node discards the body within `maxDiscardBytes` and the request deadline.
 */
export function serveHttp(
  options: {
    readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
    readonly port: number;
    readonly hostname: string;
    readonly limits: HttpServerLimits;
  },
  onListen?: (info: AddressInfo) => void,
): Server {
  const server = createLimitedServer(options.limits, options.listener);
  server.listen(options.port, options.hostname, () => onListen?.(server.address() as AddressInfo));
  return server;
}

/** A `node:http` server with `limits` around a plain request listener. */
export function createLimitedServer(
  limits: HttpServerLimits,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const server = createServer(httpServerOptions(limits), listener);
  guardServer(server, limits);
  return server;
}

const CLIENT_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', message: 'the request did not arrive in time' },
  HPE_HEADER_OVERFLOW: { code: 'header_too_large', message: 'the request headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { code: 'payload_too_large', message: 'the chunk extensions are too large' },
};

/** What Node refuses before a handler runs, answered in the error shape; then the connection closes. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[error.code ?? ''] ?? {
    code: 'invalid_request',
    message: 'the request is malformed',
  };
  const body = JSON.stringify(errorBody(known.code, known.message));
  const status = ERROR_STATUS[known.code];
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // The answer goes out with a FIN; a client that keeps sending is cut off shortly after.
  setTimeout(() => socket.destroy(), 1000).unref();
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

/**
 * After an answer that left the body unread (a 413 on the declared length, a 404), Node reads and
 * discards the rest so the connection can carry the next request; past `maxBytes` it is closed.
 */
function discardRest(req: IncomingMessage, maxBytes: number): void {
  if (req.complete || req.destroyed) return;
  let discarded = 0;
  // The web stream @hono/node-server made of the body listens too, and pauses the body whenever its
  // own queue is full: nobody reads it any more, so it lets go (as Node's own `_dump` does).
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.byteLength;
    if (discarded > maxBytes) req.socket.destroy();
  });
  req.resume();
}
