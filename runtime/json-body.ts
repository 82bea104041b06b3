import type { z } from 'zod';
import { ApiError, invalidRequest } from '../contracts/errors.ts';

/**
 * Framework-free checks for a JSON request body, shared by the hono servers and the Lambda handlers,
 * so a malformed request gets the same status and message wherever it arrives.
 */

/** 415 unless the media type is `application/json` or a `+json` type. */
export function assertJsonContentType(contentType: string | undefined | null): void {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json' && !mediaType?.endsWith('+json')) {
    throw new ApiError(
      'unsupported_media_type',
      `content type must be application/json; got ${contentType ? `'${contentType}'` : 'none'}`,
    );
  }
}

/** 413 when `bytes` exceeds `maxBytes`. */
export function assertBodySize(bytes: number, maxBytes: number): void {
  if (bytes > maxBytes) {
    throw new ApiError('payload_too_large', `body is ${bytes} bytes; the limit is ${maxBytes}`);
  }
}

/** JSON.parse that reports a syntax error as a 400 `invalid_json`. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError('invalid_json', `body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Validates a parsed value with `schema`, throwing a 400 `invalid_request` listing every issue. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(parsed.error);
  return parsed.data;
}
