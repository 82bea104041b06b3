import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { createSageMakerRuntimeClient, ScoringClient } from '../../model/client/scoring-client.ts';
import { readEnvironment } from '../shared/environment.ts';
import { handlePredictEvent } from './core.ts';

/**
 * The `predict` function's environment, read once per cold start.
 * - `MODEL_ENDPOINT_NAME`: the SageMaker endpoint (required).
 * - `MODEL_ENDPOINT_URL`: a SageMaker-runtime-compatible base URL (the local runtime's model server);
 *   unset on AWS, where the regional endpoint is used.
 * - `MODEL_TIMEOUT_MS`: deadline of one InvokeEndpoint call (default 2000; the API Gateway integration
 *   allows 29 s, the function's own timeout must exceed this).
 */
export const PredictEnvironmentSchema = z.object({
  MODEL_ENDPOINT_NAME: z.string().min(1),
  MODEL_ENDPOINT_URL: z.url().optional(),
  MODEL_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
});

const env = readEnvironment(PredictEnvironmentSchema);
const logger = new Logger({ serviceName: 'predict' });
const scoring = new ScoringClient({
  endpointName: env.MODEL_ENDPOINT_NAME,
  runtime: createSageMakerRuntimeClient({ endpointUrl: env.MODEL_ENDPOINT_URL }),
  timeoutMs: env.MODEL_TIMEOUT_MS,
});

/** API Gateway (REST, Lambda proxy) → `POST /predict`. */
export const handler = (event: unknown): Promise<APIGatewayProxyResult> =>
  handlePredictEvent(event, { scoring, log: (message, detail) => logger.error(message, detail) });
