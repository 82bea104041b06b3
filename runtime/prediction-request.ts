import { ApiError } from '../contracts/errors.ts';
import {
  LogsRequestSchema,
  PREDICTION_LIMITS,
  type PredictionRequest,
  VectorRequestSchema,
} from '../contracts/prediction.ts';
import { assertBodySize, assertJsonContentType, parseJson, parseWith } from './json-body.ts';

/**
 * Reading a prediction request (contracts/prediction.ts) off the wire, the same way wherever it arrives:
 * the model server's `POST /invocations`, the `predict` function and the console's prediction proxy.
 */

/**
 * Parses a raw prediction request: 415 for a non-JSON content type, 413 past the byte or batch limit,
 * 400 for bad JSON or a body that does not match {@link PredictionRequestSchema}.
 *
 * @example
 * const request = parsePredictionRequest('{"data":[1,2,3,4]}', 'application/json');
 */
export function parsePredictionRequest(
  body: string,
  contentType: string | undefined | null,
): PredictionRequest {
  assertJsonContentType(contentType);
  assertBodySize(Buffer.byteLength(body, 'utf8'), PREDICTION_LIMITS.maxBodyBytes);
  const value = parseJson(body);
  assertBatchLimit(value);
  return parsePredictionValue(value);
}

/**
 * Validates an already-parsed request. Dispatches on the `data` / `logs` key first, so a wrong vector
 * length is reported as `data: must have exactly 4 numbers`, not as a vague union mismatch.
 */
export function parsePredictionValue(value: unknown): PredictionRequest {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    if ('data' in value) return parseWith(VectorRequestSchema, value);
    if ('logs' in value) return parseWith(LogsRequestSchema, value);
  }
  throw new ApiError('invalid_request', "body must be a JSON object with a 'data' or a 'logs' field", [
    { path: '(root)', message: 'expected {"data":[…]} or {"logs":[…]}' },
  ]);
}

/** The batch limit is a 413 (the caller must split the request), not a schema 400. */
function assertBatchLimit(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const key of ['data', 'logs'] as const) {
    const items = record[key];
    if (!Array.isArray(items)) continue;
    // `{"data":[n,n,n,n]}` is one vector, not four items.
    const count = key === 'data' && !Array.isArray(items[0]) ? 1 : items.length;
    if (count > PREDICTION_LIMITS.maxBatch) {
      throw new ApiError(
        'payload_too_large',
        `${key} holds ${count} items; the limit is ${PREDICTION_LIMITS.maxBatch} per request`,
      );
    }
  }
}
