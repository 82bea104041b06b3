import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { MAX_BUDGET } from '../../contracts/alert-budget.ts';
import {
  createSageMakerRuntimeClient,
  EndpointError,
  ScoringClient,
} from '../../model/client/scoring-client.ts';
import { readEnvironment } from '../shared/environment.ts';
import { scoreSubscriptionEvent, UndecodableEventError } from './core.ts';
import { emitOutcome } from './emit.ts';

/**
 * The `log-scorer` function's environment, read once per cold start.
 * - `MODEL_ENDPOINT_NAME` (required), `MODEL_ENDPOINT_URL` (local endpoints only), `MODEL_TIMEOUT_MS`
 *   (default 5000: batches are larger than a prediction request's).
 * - `DEFAULT_SERVICE`: the service name records and metrics carry (e.g. `instances` for the instance
 *   system logs).
 * - `SERVICE_BY_LOG_GROUP`: optional JSON object mapping a log group name to a service name, for
 *   subscriptions on more than one log group.
 * - `ANOMALY_BUDGET`: the alert budget of the lines it scores (the model endpoint's declared `budget`),
 *   turned into a threshold as the sidecar turns its service's (`alertThreshold`).
 * - `ANOMALY_THRESHOLD`: optional score (0..1) at or above which a line is an anomaly; overrides the
 *   budget. Without either, the model's own decision.
 */
export const LogScorerEnvironmentSchema = z.object({
  MODEL_ENDPOINT_NAME: z.string().min(1),
  MODEL_ENDPOINT_URL: z.url().optional(),
  MODEL_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  DEFAULT_SERVICE: z.string().min(1),
  ANOMALY_BUDGET: z.coerce.number().gt(0).max(MAX_BUDGET).optional(),
  ANOMALY_THRESHOLD: z.coerce.number().min(0).max(1).optional(),
  SERVICE_BY_LOG_GROUP: z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return z.record(z.string(), z.string().min(1)).parse(JSON.parse(text));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object of log group → service name' });
        return z.NEVER;
      }
    }),
});

const env = readEnvironment(LogScorerEnvironmentSchema);
const logger = new Logger({ serviceName: 'log-scorer' });
const scoring = new ScoringClient({
  endpointName: env.MODEL_ENDPOINT_NAME,
  runtime: createSageMakerRuntimeClient({ endpointUrl: env.MODEL_ENDPOINT_URL }),
  timeoutMs: env.MODEL_TIMEOUT_MS,
});
const serviceOf = (logGroup: string) => env.SERVICE_BY_LOG_GROUP[logGroup] ?? env.DEFAULT_SERVICE;
const writeLine = (line: string) => {
  process.stdout.write(`${line}\n`);
};

/** What an invocation did, returned for the caller's (and the tests') benefit. */
export type LogScorerResult =
  | { readonly status: 'control' }
  | {
      readonly status: 'scored';
      readonly scored: number;
      readonly anomalous: number;
      readonly rejected: number;
    };

/**
 * CloudWatch Logs subscription → scores → EMF + anomaly records. Asynchronous invocation: a thrown
 * error (undecodable envelope, endpoint down) makes Lambda retry and then hand the event to the
 * on-failure destination, so no delivery is dropped silently.
 */
export async function handler(event: unknown): Promise<LogScorerResult> {
  try {
    const outcome = await scoreSubscriptionEvent(event, {
      scoring,
      serviceOf,
      ...(env.ANOMALY_BUDGET !== undefined ? { budget: env.ANOMALY_BUDGET } : {}),
      ...(env.ANOMALY_THRESHOLD !== undefined ? { threshold: env.ANOMALY_THRESHOLD } : {}),
    });
    if (outcome.kind === 'control') return { status: 'control' };
    emitOutcome(outcome, writeLine);
    if (outcome.rejected.length > 0 || outcome.truncated > 0) {
      logger.warn('log events rejected or truncated', {
        logGroup: outcome.logGroup,
        logStream: outcome.logStream,
        rejected: outcome.rejected.slice(0, 10),
        rejectedCount: outcome.rejected.length,
        truncated: outcome.truncated,
      });
    }
    return {
      status: 'scored',
      scored: outcome.scored,
      anomalous: outcome.anomalous,
      rejected: outcome.rejected.length,
    };
  } catch (error) {
    if (error instanceof UndecodableEventError)
      logger.error('undecodable subscription event', { error: error.message });
    else if (error instanceof EndpointError) {
      logger.error('model endpoint call failed', { failure: error.failure, error: error.message });
    } else logger.error('unexpected error', { error: String(error) });
    throw error;
  }
}
