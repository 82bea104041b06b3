import { APIGatewayProxyEventSchema } from '@aws-lambda-powertools/parser/schemas/api-gateway';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ApiError, type ErrorBody, toErrorResponse } from '../../contracts/errors.ts';
import {
  batchSize,
  PREDICTION_LIMITS,
  type PredictionRequest,
  type PredictionResponse,
} from '../../contracts/prediction.ts';
import { EndpointError } from '../../model/client/scoring-client.ts';
import { assertJsonContentType } from '../../runtime/json-body.ts';
import { parsePredictionRequest } from '../../runtime/prediction-request.ts';
import { assertAnswerFits, boundAnswer } from './answer-size.ts';

/** What {@link handlePredictEvent} needs from the outside world. */
export interface PredictDependencies {
  /** The shared scoring client (or anything with its `score`). */
  readonly scoring: { score(request: PredictionRequest, signal?: AbortSignal): Promise<PredictionResponse> };
  /** Receives failures the caller only sees as a 5xx. */
  readonly log: (message: string, detail: Record<string, unknown>) => void;
}

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;

// A base64 body is 4/3 of its bytes; anything longer cannot decode under the limit, so it is refused
// before decoding (API Gateway itself admits up to 10 MB).
const MAX_BASE64_CHARS = Math.ceil(PREDICTION_LIMITS.maxBodyBytes / 3) * 4;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `POST /predict` behind an API Gateway REST API (Lambda proxy integration): 200 with the
 * predictions (templates cut, functions/predict/answer-size.ts); 400/413/415 for a request the caller can
 * fix, 413 also when the answer could pass the 6 MB response limit; 502/504 when
 * the endpoint fails or times out. Never throws: every outcome is a proxy result in the error shape.
 *
 * @example
 * const result = await handlePredictEvent(event, { scoring, log: (m, d) => logger.error(m, d) });
 */
export async function handlePredictEvent(
  event: unknown,
  deps: PredictDependencies,
): Promise<APIGatewayProxyResult> {
  try {
    const request = parseProxyEvent(event);
    // Before the model runs: an answer past the response limit would be a 5xx, not the caller's 413.
    assertAnswerFits(request);
    const response = await deps.scoring.score(request);
    if (response.predictions.length !== batchSize(request)) {
      throw new EndpointError(
        'bad_response',
        `the endpoint returned ${response.predictions.length} predictions for ${batchSize(request)} inputs`,
      );
    }
    return respond(200, boundAnswer(response));
  } catch (error) {
    if (error instanceof EndpointError) {
      deps.log('model endpoint call failed', { failure: error.failure, error: error.message });
      const apiError = error.toApiError();
      return respond(apiError.status, apiError.toBody());
    }
    const { status, body } = toErrorResponse(error);
    if (status >= 500) deps.log('unexpected error', { error: String(error) });
    return respond(status, body);
  }
}

/**
 * Proxy event → prediction request. The event is checked with Powertools' API Gateway schema; the body
 * (after base64 decoding when API Gateway flagged it) goes through the shared contract parser.
 */
export function parseProxyEvent(event: unknown): PredictionRequest {
  const parsed = APIGatewayProxyEventSchema.safeParse(event);
  if (!parsed.success) {
    // Not something API Gateway sends: a wiring fault, not the caller's, hence no detail in the answer.
    throw new Error(`not an API Gateway proxy event: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
  }
  const proxy = parsed.data;
  if (proxy.httpMethod !== 'POST') {
    throw new ApiError('method_not_allowed', `${proxy.httpMethod} is not allowed; use POST`);
  }
  const contentType = headerOf(proxy.headers, 'content-type');
  // Content type first, so a binary upload is a 415 whatever its encoding.
  assertJsonContentType(contentType);
  return parsePredictionRequest(bodyText(proxy.body, proxy.isBase64Encoded), contentType);
}

function bodyText(body: string | null, isBase64Encoded: boolean): string {
  if (body === null) return '';
  if (!isBase64Encoded) return body;
  if (body.length > MAX_BASE64_CHARS) {
    throw new ApiError(
      'payload_too_large',
      `body is over ${PREDICTION_LIMITS.maxBodyBytes} bytes; the limit is ${PREDICTION_LIMITS.maxBodyBytes}`,
    );
  }
  if (body.length % 4 !== 0 || !BASE64.test(body)) {
    throw new ApiError('invalid_json', 'body is flagged base64-encoded but is not valid base64');
  }
  try {
    return utf8.decode(Buffer.from(body, 'base64'));
  } catch {
    throw new ApiError('invalid_json', 'body is not valid UTF-8');
  }
}

/** Header lookup as HTTP defines it: case-insensitive; API Gateway keeps the caller's spelling. */
function headerOf(
  headers: Record<string, string | undefined> | null | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

function respond(statusCode: number, body: PredictionResponse | ErrorBody): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}
