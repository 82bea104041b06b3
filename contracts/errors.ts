import type { z } from 'zod';

/** One problem with the caller's input, addressed by a dotted path (`logs.3.message`). */
export interface ErrorIssue {
  readonly path: string;
  readonly message: string;
}

/** The one error body of the platform: `{"error":{"code","message","issues"?}}` (DESIGN.md, Contracts). */
export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly issues?: readonly ErrorIssue[];
  };
}

/** Stable, machine-readable error codes. The HTTP status is derived from the code, never chosen twice. */
export const ERROR_STATUS = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  header_too_large: 431,
  internal: 500,
  bad_gateway: 502,
  unavailable: 503,
  gateway_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

/**
 * An error whose message is safe to show the caller. Anything else that is thrown is reported as
 * `internal` with a generic message, so a stack trace or an internal detail never leaves a process.
 *
 * @example
 * throw new ApiError('payload_too_large', 'body is 7340032 bytes; the limit is 5242880');
 */
export class ApiError extends Error {
  readonly status: ErrorStatus;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: readonly ErrorIssue[],
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = ERROR_STATUS[code];
  }

  toBody(): ErrorBody {
    return errorBody(this.code, this.message, this.issues);
  }
}

/** Issues listed in one error body; the rest are counted in one more issue. */
export const MAX_ERROR_ISSUES = 20;
/** Characters of one message or path; a longer one is cut and says by how much. */
export const MAX_ERROR_TEXT_CHARS = 500;
/**
 * The longest error body, in characters: whatever the input (100k unknown keys, 5000 bad items), an
 * error answer stays small, so a caller cannot make a server build and send megabytes of complaint.
 */
export const MAX_ERROR_BODY_CHARS = 2 * MAX_ERROR_TEXT_CHARS * (MAX_ERROR_ISSUES + 2) + 1024;

/**
 * The error body, bounded: at most {@link MAX_ERROR_ISSUES} issues (then one counting the rest) and
 * {@link MAX_ERROR_TEXT_CHARS} per message and path.
 */
export function errorBody(code: ErrorCode, message: string, issues?: readonly ErrorIssue[]): ErrorBody {
  if (!issues || issues.length === 0) return { error: { code, message: cut(message) } };
  const listed = issues.slice(0, MAX_ERROR_ISSUES).map((issue) => ({
    path: cut(issue.path),
    message: cut(issue.message),
  }));
  if (issues.length > MAX_ERROR_ISSUES) {
    listed.push({ path: '(more)', message: `${issues.length - MAX_ERROR_ISSUES} more issues not listed` });
  }
  return { error: { code, message: cut(message), issues: listed } };
}

function cut(text: string): string {
  if (text.length <= MAX_ERROR_TEXT_CHARS) return text;
  const kept = MAX_ERROR_TEXT_CHARS - 40;
  return `${text.slice(0, kept)}… (${text.length - kept} more characters)`;
}

/** zod issues as `{path, message}` pairs; the root is reported as `(root)`. */
export function issuesFromZod(error: z.ZodError): ErrorIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
  }));
}

/** Builds the `invalid_request` error for a failed schema parse. */
export function invalidRequest(error: z.ZodError, message = 'request does not match the schema'): ApiError {
  return new ApiError('invalid_request', message, issuesFromZod(error));
}

/**
 * Maps anything thrown to a status and a safe body. Unknown errors become a generic 500; the caller
 * logs the original.
 */
export function toErrorResponse(error: unknown): { status: ErrorStatus; body: ErrorBody } {
  if (error instanceof ApiError) return { status: error.status, body: error.toBody() };
  return { status: 500, body: errorBody('internal', 'internal error') };
}
