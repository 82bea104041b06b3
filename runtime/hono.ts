import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { ApiError, type ErrorCode, errorBody, toErrorResponse } from '../contracts/errors.ts';
import { readLimitedBody } from './body-limit.ts';
import { assertJsonContentType, parseJson, parseWith } from './json-body.ts';
import { CLIENT_CLOSED_REQUEST, clientClosed } from './request-log.ts';

/** Maps hono's own HTTPException statuses (body limit, method) onto the platform's error codes. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  502: 'bad_gateway',
  503: 'unavailable',
  504: 'gateway_timeout',
};

/**
 * The single `onError` of every hono app in the platform: ApiError and HTTPException become the
 * error shape; anything else is logged with `log` and answered as a generic 500. A failure because the
 * client hung up is neither: it is {@link CLIENT_CLOSED_REQUEST}, with no body (nobody reads it) and no
 * error logged.
 */
export function jsonErrorHandler(log: (error: unknown) => void = defaultLog): ErrorHandler {
  return function onApiError(error, c) {
    if (clientClosed(c, error)) return new Response(null, { status: CLIENT_CLOSED_REQUEST });
    if (error instanceof HTTPException && !(error instanceof ApiError)) {
      const code = CODE_BY_STATUS[error.status] ?? (error.status >= 500 ? 'internal' : 'invalid_request');
      const message = error.status >= 500 ? 'internal error' : error.message || code.replaceAll('_', ' ');
      return c.json(errorBody(code, message), error.status as ContentfulStatusCode);
    }
    const { status, body } = toErrorResponse(error);
    if (status === 500) log(error);
    return c.json(body, status);
  };
}

/** The `notFound` of every hono app: an unknown route is a 404 in the error shape. */
export function jsonNotFound(): NotFoundHandler {
  return function onNotFound(c) {
    return c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404);
  };
}

function defaultLog(error: unknown): void {
  console.error(JSON.stringify({ level: 'error', msg: 'unhandled error', error: String(error) }));
}

/** Options for {@link readJsonBody}. */
export interface ReadJsonOptions {
  /** Largest accepted body. @default 1 MiB */
  readonly maxBytes?: number;
}

/**
 * Reads a JSON request body and validates it with `schema`: 415 for a non-JSON content type, 413 past
 * `maxBytes` (counted while reading, body-limit.ts), 400 for bad JSON or a schema mismatch.
 */
export async function readJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  options: ReadJsonOptions = {},
): Promise<z.infer<S>> {
  return parseWith(schema, parseJson(await readJsonText(c, options.maxBytes ?? 1024 * 1024)));
}

/** Reads the raw body of a JSON request, enforcing content type and size (counted while reading). */
export async function readJsonText(c: Context, maxBytes: number): Promise<string> {
  assertJsonContentType(c.req.header('content-type'));
  return new TextDecoder().decode(await readLimitedBody(c, maxBytes));
}
