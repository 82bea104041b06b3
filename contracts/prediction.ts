import { z } from 'zod';

/**
 * The prediction contract (DESIGN.md, Contracts): what `POST /invocations`, `POST /predict` and the
 * console's prediction proxy accept and return. One home; every server and handler imports it.
 */

/** The seed's four features: UNIX timestamp, message length, log-stream index, log-group name length. */
export const SEED_FEATURE_COUNT = 4;

/**
 * Limits, documented once. Bodies stay under SageMaker's 6 MB real-time InvokeEndpoint payload limit
 * and Lambda's 6 MB synchronous payload limit.
 */
export const PREDICTION_LIMITS = {
  /** Largest request body, in bytes. */
  maxBodyBytes: 5 * 1024 * 1024,
  /** Most vectors or log events in one request. */
  maxBatch: 5000,
  /** Longest log message, in characters. */
  maxMessageChars: 64 * 1024,
  /** Longest log stream or log group name (CloudWatch Logs allows 512). */
  maxNameChars: 512,
} as const;

/**
 * How big a prediction answer may get. A log line's answer carries its mined template, which masking can
 * make three times longer than the line (`1 2 3` → `<*> <*> <*>`), so a request's answer is bounded
 * before the model runs (functions/predict/answer-size.ts) and a request whose answer could pass
 * `maxAnswerBytes` is a 413 the caller fixes by splitting it.
 */
export const ANSWER_LIMITS = {
  /**
   * Largest answer, in bytes: below Lambda's 6 MB (6,291,456 bytes) synchronous response payload,
   * which counts the proxy result (body escaped inside JSON, headers), and SageMaker's 6 MB response.
   */
  maxAnswerBytes: 6_000_000,
  /** Templates in an answer are cut to this many UTF-16 code units. */
  maxTemplateChars: 256,
  /** Most reasons kept per prediction; each is a short ASCII identifier. */
  maxReasons: 8,
  maxReasonChars: 64,
} as const;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
export const FeatureVectorSchema = z
  .array(finite)
  .length(SEED_FEATURE_COUNT, `must have exactly ${SEED_FEATURE_COUNT} numbers`);
export type FeatureVector = z.infer<typeof FeatureVectorSchema>;

export const VectorRequestSchema = z.strictObject({
  data: z.union([
    FeatureVectorSchema,
    z.array(FeatureVectorSchema).min(1, 'must hold at least one vector').max(PREDICTION_LIMITS.maxBatch),
  ]),
});

/** A timestamp as epoch milliseconds or an ISO-8601 string. */
export const TimestampSchema = z.union([
  z.number().refine(Number.isFinite, 'must be a finite number'),
  z
    .string()
    .max(64)
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 date'),
]);

export const LogEventSchema = z.strictObject({
  timestamp: TimestampSchema,
  message: z.string().max(PREDICTION_LIMITS.maxMessageChars),
  logStream: z.string().max(PREDICTION_LIMITS.maxNameChars).optional(),
  logGroup: z.string().max(PREDICTION_LIMITS.maxNameChars).optional(),
});
export type LogEvent = z.infer<typeof LogEventSchema>;

export const LogsRequestSchema = z.strictObject({
  logs: z.array(LogEventSchema).min(1, 'must hold at least one event').max(PREDICTION_LIMITS.maxBatch),
});

export const PredictionRequestSchema = z.union([VectorRequestSchema, LogsRequestSchema]);
export type PredictionRequest = z.infer<typeof PredictionRequestSchema>;
export type VectorRequest = z.infer<typeof VectorRequestSchema>;
export type LogsRequest = z.infer<typeof LogsRequestSchema>;

/** One scored input, in request order. */
export const PredictionSchema = z.looseObject({
  /**
   * Anomaly score in 0..1: a conformal p-value on one scale, `u/(u + 3)` with `u = −log10 p`, so 0.5
   * is p = 0.001 and a budget is a threshold (contracts/alert-budget.ts).
   */
  score: z.number().min(0).max(1),
  /** `score >= model.threshold`. */
  anomaly: z.boolean(),
  /** The mined template of a raw log line, when the input was a log event. */
  template: z.string().optional(),
  /** Why the line scored as it did (e.g. `new-template`, `rare-template`, `severity:FATAL`). */
  reasons: z.array(z.string()).optional(),
});
export type Prediction = z.infer<typeof PredictionSchema>;

export const ModelInfoSchema = z.looseObject({
  name: z.string(),
  version: z.string(),
  /** The score of the artifact's budget: `anomaly` is `score >= threshold` (contracts/alert-budget.ts). */
  threshold: z.number(),
  /** The artifact's alert budget: the share of normal lines it flags. */
  budget: z.number().optional(),
  /**
   * The finest budget its training lines support, `1/(n + 1)`: a caller's smaller budget falls back to
   * it (`effectiveBudget`), as the artifact's own does.
   */
  minBudget: z.number().optional(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

export const PredictionResponseSchema = z.strictObject({
  predictions: z.array(PredictionSchema),
  model: ModelInfoSchema,
});
export type PredictionResponse = z.infer<typeof PredictionResponseSchema>;

/**
 * Whether a parsed JSON value is a {@link PredictionResponse}: exactly what PredictionResponseSchema
 * accepts (a test holds the two together), checked in place. A scorer checks every answer of its endpoint
 * and a sidecar gets one per 500 lines: the schema's parse copies each prediction, which was a tenth of
 * the sidecar's allocations. The schema stays the one description of the shape, and says what is wrong
 * when this answers false.
 */
export function isPredictionResponse(value: unknown): value is PredictionResponse {
  if (!isRecord(value)) return false;
  for (const key in value) if (key !== 'predictions' && key !== 'model') return false;
  const { predictions, model } = value;
  if (!Array.isArray(predictions) || !isRecord(model)) return false;
  if (typeof model.name !== 'string' || typeof model.version !== 'string' || !isFiniteNumber(model.threshold))
    return false;
  if (model.budget !== undefined && !isFiniteNumber(model.budget)) return false;
  if (model.minBudget !== undefined && !isFiniteNumber(model.minBudget)) return false;
  for (const prediction of predictions) {
    if (!isRecord(prediction)) return false;
    const { score, anomaly, template, reasons } = prediction;
    if (typeof score !== 'number' || !(score >= 0 && score <= 1) || typeof anomaly !== 'boolean')
      return false;
    if (template !== undefined && typeof template !== 'string') return false;
    if (reasons !== undefined) {
      if (!Array.isArray(reasons)) return false;
      for (const reason of reasons) if (typeof reason !== 'string') return false;
    }
  }
  return true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Normalises a request to a batch: `{data:[n,n,n,n]}` becomes a batch of one. */
export function vectorsOf(request: VectorRequest): FeatureVector[] {
  const { data } = request;
  return isSingleVector(data) ? [data] : data;
}

function isSingleVector(data: VectorRequest['data']): data is FeatureVector {
  return typeof data[0] === 'number';
}

/** How many inputs a request holds (the batch size its response will have). */
export function batchSize(request: PredictionRequest): number {
  return 'logs' in request ? request.logs.length : vectorsOf(request).length;
}
