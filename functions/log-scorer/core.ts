import { gunzipSync } from 'node:zlib';
import { CloudWatchLogEventSchema } from '@aws-lambda-powertools/parser/schemas/cloudwatch';
import { z } from 'zod';
import type { AnomalyRecord } from '../../contracts/anomaly.ts';
import {
  type LogEvent,
  PREDICTION_LIMITS,
  type PredictionRequest,
  type PredictionResponse,
} from '../../contracts/prediction.ts';
import { anomalyRecord, summarizeBatch } from '../../model/client/scoring-output.ts';

/**
 * The log-scorer's pure core: a CloudWatch Logs subscription event (gzip + base64) → raw log events
 * sent to the model endpoint in bounded batches (the model featurises server-side) → per-invocation
 * counts and the anomaly records to write. Bad log events are counted and reported, never fatal.
 */

/** A CloudWatch Logs subscription delivery decompresses to at most ~1 MB; anything past this is hostile. */
export const MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024;
/** Body budget of one InvokeEndpoint call, below SageMaker's 6 MB and the contract's 5 MiB. */
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

/** The decoded `awslogs.data` payload; log events are checked one by one, so one bad event is not fatal. */
const SubscriptionPayloadSchema = z.object({
  messageType: z.enum(['DATA_MESSAGE', 'CONTROL_MESSAGE']),
  owner: z.string(),
  logGroup: z.string(),
  logStream: z.string(),
  subscriptionFilters: z.array(z.string()),
  logEvents: z.array(z.unknown()),
});
export type SubscriptionPayload = z.infer<typeof SubscriptionPayloadSchema>;

const SubscriptionEventSchema = z.object({ awslogs: z.object({ data: z.base64().min(1) }) });

/** The event is not a CloudWatch Logs subscription delivery (nothing in it can be scored). */
export class UndecodableEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UndecodableEventError';
  }
}

/**
 * Decodes a subscription event. Throws {@link UndecodableEventError} when the envelope itself is
 * broken (the handler lets the invocation fail so the event reaches the on-failure destination).
 */
export function decodeSubscriptionEvent(event: unknown): SubscriptionPayload {
  const envelope = SubscriptionEventSchema.safeParse(event);
  if (!envelope.success) throw new UndecodableEventError('event has no base64 awslogs.data');
  let json: unknown;
  try {
    const raw = gunzipSync(Buffer.from(envelope.data.awslogs.data, 'base64'), {
      maxOutputLength: MAX_DECOMPRESSED_BYTES,
    });
    json = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new UndecodableEventError(`awslogs.data is not gzip-compressed JSON (${(error as Error).message})`);
  }
  const payload = SubscriptionPayloadSchema.safeParse(json);
  if (!payload.success) {
    const issue = payload.error.issues[0];
    throw new UndecodableEventError(
      `awslogs.data is not a subscription payload (${issue?.path.join('.') || '(root)'}: ${issue?.message})`,
    );
  }
  return payload.data;
}

/** What one scored delivery amounts to; the handler turns it into EMF metrics and record lines. */
export interface ScoringOutcome {
  readonly kind: 'scored';
  readonly service: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly scored: number;
  readonly anomalous: number;
  /** Highest score (0 when nothing was scored). */
  readonly maxScore: number;
  /** Mean score (0 when nothing was scored). */
  readonly meanScore: number;
  /** Sum of the scores (the EMF mean is taken from it). */
  readonly scoreSum: number;
  /** Anomalous lines, in delivery order. */
  readonly records: readonly AnomalyRecord[];
  /** Log events that could not be scored, with why (ids only: the events may be large). */
  readonly rejected: readonly { readonly id: string; readonly reason: string }[];
  /** Lines longer than the contract's message limit, scored on their first part. */
  readonly truncated: number;
}

/** What {@link scoreSubscriptionEvent} needs. */
export interface LogScorerDependencies {
  readonly scoring: { score(request: PredictionRequest, signal?: AbortSignal): Promise<PredictionResponse> };
  /** Maps a log group to the service name records and metrics carry. */
  readonly serviceOf: (logGroup: string) => string;
  /** A score at or above this is an anomaly; without it, the model's own decision. */
  readonly threshold?: number;
}

/**
 * Scores one subscription delivery. Control messages (CloudWatch's delivery probe) are ignored.
 * Endpoint failures propagate as `EndpointError` (model/client) before anything is emitted, so a retried
 * invocation does not count the same lines twice.
 *
 * @example
 * const outcome = await scoreSubscriptionEvent(event, { scoring, serviceOf: () => 'instances' });
 */
export async function scoreSubscriptionEvent(
  event: unknown,
  deps: LogScorerDependencies,
): Promise<ScoringOutcome | { readonly kind: 'control' }> {
  const payload = decodeSubscriptionEvent(event);
  if (payload.messageType === 'CONTROL_MESSAGE') return { kind: 'control' };

  const rejected: { id: string; reason: string }[] = [];
  const accepted: { id: string; event: LogEvent }[] = [];
  let truncated = 0;
  payload.logEvents.forEach((raw, index) => {
    const parsed = CloudWatchLogEventSchema.safeParse(raw);
    if (!parsed.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      rejected.push({
        id: typeof id === 'string' ? id : `#${index}`,
        reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; '),
      });
      return;
    }
    const { id, timestamp, message } = parsed.data;
    if (!Number.isFinite(timestamp)) {
      rejected.push({ id, reason: 'timestamp: must be a finite number' });
      return;
    }
    const tooLong = message.length > PREDICTION_LIMITS.maxMessageChars;
    if (tooLong) truncated++;
    accepted.push({
      id,
      event: {
        timestamp,
        // CloudWatch allows 256 KiB events; the head of a line carries its level and template.
        message: tooLong ? message.slice(0, PREDICTION_LIMITS.maxMessageChars) : message,
        logStream: payload.logStream.slice(0, PREDICTION_LIMITS.maxNameChars),
        logGroup: payload.logGroup.slice(0, PREDICTION_LIMITS.maxNameChars),
      },
    });
  });

  const service = deps.serviceOf(payload.logGroup);
  const records: AnomalyRecord[] = [];
  let anomalous = 0;
  let maxScore = 0;
  let scoreSum = 0;
  // The endpoint's answer is checked (one prediction per event) by the scoring client.
  for (const chunk of chunksOf(accepted)) {
    const response = await deps.scoring.score({ logs: chunk.map((c) => c.event) });
    const summary = summarizeBatch(response.predictions, deps.threshold);
    anomalous += summary.anomalous;
    maxScore = Math.max(maxScore, summary.maxScore);
    scoreSum += summary.scoreSum;
    summary.flags.forEach((flagged, i) => {
      if (!flagged) return;
      const { id, event: logEvent } = chunk[i]!;
      records.push(
        anomalyRecord({
          // CloudWatch's id of the scored log event: unique, and the same if a delivery is retried.
          id,
          service,
          task: payload.logStream,
          line: logEvent.message,
          eventTime: logEvent.timestamp as number,
          prediction: response.predictions[i]!,
        }),
      );
    });
  }
  return {
    kind: 'scored',
    service,
    logGroup: payload.logGroup,
    logStream: payload.logStream,
    scored: accepted.length,
    anomalous,
    maxScore,
    meanScore: accepted.length > 0 ? scoreSum / accepted.length : 0,
    scoreSum,
    records,
    rejected,
    truncated,
  };
}

/** Splits events into requests within the contract's batch limit and {@link MAX_CHUNK_BYTES}. */
export function chunksOf<T extends { event: LogEvent }>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    // Serialised size, escapes included (a line of control characters grows sixfold in JSON).
    const size = Buffer.byteLength(JSON.stringify(item.event), 'utf8') + 1;
    if (
      current.length > 0 &&
      (current.length >= PREDICTION_LIMITS.maxBatch || bytes + size > MAX_CHUNK_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
