import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../contracts/errors.ts';
import { BodyLimitError, type IntakeBudget, readBodyBounded } from './body-reader.ts';

/**
 * The body limit of every hono server of the platform, counted while the body is read. A declared
 * `Content-Length` past the limit is refused before a byte is read; any other body (chunked, or with a
 * `Content-Length` that understates it, as a `Request` built in-process may carry) is counted chunk by
 * chunk and refused as soon as it passes the limit, so nothing past the limit is ever held and a body
 * that never ends is answered anyway. Unlike hono's own `bodyLimit`, a declared length is never trusted to
 * skip the count, and the answer is the platform's error shape.
 */

/** Options for {@link bodyLimit}. */
export interface BodyLimitOptions {
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  /**
   * Bytes all bodies being read at once may hold; a body that finds it spent is a 503 with
   * `Retry-After: 1`.
   * @default - each body is bounded, not all of them together
   */
  readonly budget?: IntakeBudget;
}

/**
 * Reads the body within the limit and hands the handlers a copy they may read as usual
 * (`c.req.json()`, `c.req.text()`, a proxy forwarding it).
 *
 * @example
 * app.post('/api/predict', bodyLimit({ maxBytes: PREDICTION_LIMITS.maxBodyBytes }), handler);
 */
export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler {
  return async function limitBody(c, next) {
    if (c.req.raw.body === null) return next();
    const bytes = await readLimitedBody(c, options.maxBytes, options.budget);
    c.req.raw = new Request(c.req.raw, { body: bytes });
    try {
      await next();
    } finally {
      options.budget?.release(bytes.byteLength);
    }
  };
}

/**
 * The request's body, read within `maxBytes` (see {@link bodyLimit}). What is left of a refused body is
 * not read here: the server discards it within its own limits and keeps the connection, so the sender
 * reads the 413 rather than a reset (runtime/http-server.ts).
 * With a `budget`, the caller releases `bytes.byteLength` from it when done with the bytes.
 *
 * @throws ApiError 413 `payload_too_large` past `maxBytes`; 503 `unavailable` when `budget` is spent
 */
export async function readLimitedBody(
  c: Context,
  maxBytes: number,
  budget?: IntakeBudget,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = declaredLength(c.req.header('content-length'));
  if (declared !== undefined && declared > maxBytes) throw bodyTooLarge(maxBytes, declared);
  try {
    return await readBodyBounded(c.req.raw.body, maxBytes, budget);
  } catch (error) {
    const answer = bodyReadError(error, maxBytes);
    if (answer.code === 'unavailable') c.header('retry-after', '1');
    throw answer;
  }
}

/**
 * What a body that could not be read is answered with, whoever read it (a hono server, or a Node
 * server reading with `readIncomingBounded`): 413 past `maxBytes`, 503 when the shared budget is spent
 * (the caller adds `Retry-After: 1`), and 400 for a body cut short — the client went away, or the
 * server's request deadline cut it off mid-body: its failure, logged as a 4xx, never as an error of ours.
 */
export function bodyReadError(error: unknown, maxBytes: number): ApiError {
  if (error instanceof ApiError) return error;
  if (!(error instanceof BodyLimitError)) {
    return new ApiError('invalid_request', 'the request body ended before it was complete');
  }
  if (error.reason === 'busy') return new ApiError('unavailable', error.message);
  return bodyTooLarge(maxBytes);
}

/**
 * The 413 of a body past `maxBytes`: with its declared length when it declared one, else (refused while
 * counting) without, since the rest of it was never read.
 */
export function bodyTooLarge(maxBytes: number, declared?: number): ApiError {
  return new ApiError(
    'payload_too_large',
    declared === undefined
      ? `body is larger than the limit of ${maxBytes} bytes`
      : `body is ${declared} bytes; the limit is ${maxBytes}`,
  );
}

/** A `Content-Length` of decimal digits; anything else is no declaration (the count still applies). */
export function declaredLength(header: string | undefined): number | undefined {
  return header !== undefined && /^\d{1,15}$/.test(header.trim()) ? Number(header) : undefined;
}
