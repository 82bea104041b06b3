import { ApiError } from '../../contracts/errors.ts';
import {
  ANSWER_LIMITS,
  type Prediction,
  type PredictionRequest,
  type PredictionResponse,
  vectorsOf,
} from '../../contracts/prediction.ts';

/**
 * The bound that keeps a prediction answer within {@link ANSWER_LIMITS} (contracts/prediction.ts). A log
 * line's answer carries its mined template, which masking can make three times longer than the line
 * (`1 2 3` → `<*> <*> <*>`), so a 5 MB request could be answered with 10 MB, past both SageMaker's and
 * Lambda's 6 MB response limits, a 5xx. The bound is computed from the request before the model runs; a
 * request whose answer could pass it is a 413 the caller fixes by splitting it.
 */

// One prediction without its template, as JSON: `{"score":<≤24>,"anomaly":false,"raw":<≤24>,"template":"",
// "reasons":[…]},` is 112 bytes plus `"reason",` per reason. Inside the proxy result's body string every
// quote is escaped once more: 12 in the fixed part, 2 per reason.
const PREDICTION_BYTES = 112 + ANSWER_LIMITS.maxReasons * (ANSWER_LIMITS.maxReasonChars + 3);
const PREDICTION_ENVELOPE_BYTES = 124 + ANSWER_LIMITS.maxReasons * (ANSWER_LIMITS.maxReasonChars + 5);
// The model block, the proxy result's status code and headers.
const FIXED_BYTES = 2048;
const REASON = /^[A-Za-z0-9:._-]+$/;

/** Bytes of one UTF-16 code unit inside a JSON string (`JSON.stringify` escaping). */
function escapedUnit(code: number): number {
  if (code === 0x22 || code === 0x5c) return 2; // \" \\
  if (code < 0x20)
    return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  // A surrogate half: a pair is 4 UTF-8 bytes, a lone one is escaped as \uXXXX.
  if (code >= 0xd800 && code <= 0xdfff) return 6;
  return 3;
}

/** The same unit escaped twice (the body is itself a string inside the proxy result). */
function doubleEscapedUnit(code: number): number {
  if (code === 0x22 || code === 0x5c) return 4; // \\\" \\\\
  if (code < 0x20) return escapedUnit(code) + 1; // one more backslash
  if (code >= 0xd800 && code <= 0xdfff) return 7;
  return escapedUnit(code);
}

/**
 * Upper bounds, in bytes, of the model's answer to `request` (untruncated templates) and of the
 * function's proxy result (templates cut to {@link ANSWER_LIMITS.maxTemplateChars}). A masked run of
 * characters becomes `<*>`, three plain bytes, so a template unit costs at most max(3, its own cost).
 */
export function answerBytesBound(request: PredictionRequest): { model: number; proxy: number } {
  if (!('logs' in request)) {
    const n = vectorsOf(request).length;
    return { model: FIXED_BYTES + n * PREDICTION_BYTES, proxy: FIXED_BYTES + n * PREDICTION_ENVELOPE_BYTES };
  }
  let model = FIXED_BYTES;
  let proxy = FIXED_BYTES;
  const cap = ANSWER_LIMITS.maxTemplateChars;
  for (const { message } of request.logs) {
    let template = 0;
    let envelope = 0;
    for (let i = 0; i < message.length; i += 1) {
      const code = message.charCodeAt(i);
      template += Math.max(3, escapedUnit(code));
      envelope += Math.max(3, doubleEscapedUnit(code));
    }
    model += PREDICTION_BYTES + template;
    proxy += PREDICTION_ENVELOPE_BYTES + Math.min(envelope, cap * 7);
  }
  return { model, proxy };
}

/**
 * Throws a 413 when the answer to `request` could pass {@link ANSWER_LIMITS.maxAnswerBytes}; called
 * after parsing and before the model runs.
 */
export function assertAnswerFits(request: PredictionRequest): void {
  const { model, proxy } = answerBytesBound(request);
  const bound = Math.max(model, proxy);
  if (bound > ANSWER_LIMITS.maxAnswerBytes) {
    throw new ApiError(
      'payload_too_large',
      `the answer to this request could reach ${bound} bytes (each log line's template can be up to three times its length); the limit is ${ANSWER_LIMITS.maxAnswerBytes}. Split the request into smaller batches.`,
    );
  }
}

/** One prediction as an answer carries it: known fields only, template cut, reasons short identifiers. */
export function boundPrediction(prediction: Prediction): Prediction {
  const bounded: Record<string, unknown> = { score: prediction.score, anomaly: prediction.anomaly };
  const raw = (prediction as { raw?: unknown }).raw;
  if (typeof raw === 'number' && Number.isFinite(raw)) bounded.raw = raw;
  if (typeof prediction.template === 'string') {
    bounded.template = prediction.template.slice(0, ANSWER_LIMITS.maxTemplateChars);
  }
  if (prediction.reasons) {
    bounded.reasons = prediction.reasons
      .filter((r) => r.length <= ANSWER_LIMITS.maxReasonChars && REASON.test(r))
      .slice(0, ANSWER_LIMITS.maxReasons);
  }
  return bounded as Prediction;
}

/** {@link boundPrediction} over a whole answer. */
export function boundAnswer(response: PredictionResponse): PredictionResponse {
  return { predictions: response.predictions.map(boundPrediction), model: response.model };
}
