import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import { readEnvironment } from '../shared/environment.ts';
import { type GateResult, runGate } from './core.ts';
import { DEFAULT_GATE_POLICY, type GatePolicy } from './decision.ts';
import type { LifecycleHookResponse } from './event.ts';
import { AwsGateSources } from './sources.ts';

/** The namespace of the gate's own metrics (`GateDecisions` by `Outcome` and `HookStatus`). */
export const GATE_METRIC_NAMESPACE = 'Platform/DeploymentGate';

const count = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const rate = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);

/**
 * The `deployment-gate` function's environment, read once per cold start. Every threshold defaults to
 * {@link DEFAULT_GATE_POLICY} (decision.ts documents each).
 * - `LOAD_BALANCER_FULL_NAME`: `app/<name>/<id>` of the platform's ALB; unset → the 5xx signal is skipped.
 * - `WINDOW_SECONDS`: how far back both revisions are measured (default 600).
 * - `MIN_SCORED_LINES`, `MIN_REQUESTS`, `ABSOLUTE_MARGIN`, `RELATIVE_MARGIN`, `Z_CRITICAL`,
 *   `ANOMALY_RATE_CEILING`, `ERROR_RATE_CEILING`, `NO_DATA_DEADLINE_SECONDS`, `CALL_BACK_DELAY_SECONDS`,
 *   `ON_NO_DATA` (`SUCCEEDED` | `FAILED`).
 */
export const GateEnvironmentSchema = z.object({
  LOAD_BALANCER_FULL_NAME: z
    .string()
    .regex(/^app\/[^/]+\/[^/]+$/, 'must be app/<name>/<id>')
    .optional(),
  WINDOW_SECONDS: z.coerce.number().int().min(60).default(600),
  MIN_SCORED_LINES: count(DEFAULT_GATE_POLICY.minScoredLines),
  MIN_REQUESTS: count(DEFAULT_GATE_POLICY.minRequests),
  ABSOLUTE_MARGIN: rate(DEFAULT_GATE_POLICY.absoluteMargin),
  RELATIVE_MARGIN: z.coerce.number().min(0).default(DEFAULT_GATE_POLICY.relativeMargin),
  Z_CRITICAL: z.coerce.number().min(0).default(DEFAULT_GATE_POLICY.zCritical),
  ANOMALY_RATE_CEILING: rate(DEFAULT_GATE_POLICY.anomalyRateCeiling),
  ERROR_RATE_CEILING: rate(DEFAULT_GATE_POLICY.errorRateCeiling),
  NO_DATA_DEADLINE_SECONDS: z.coerce.number().int().min(0).default(DEFAULT_GATE_POLICY.noDataDeadlineSeconds),
  // ECS re-invokes an IN_PROGRESS hook after callBackDelay seconds; the guide's example uses 60.
  CALL_BACK_DELAY_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(900)
    .default(DEFAULT_GATE_POLICY.callBackDelaySeconds),
  ON_NO_DATA: z.enum(['SUCCEEDED', 'FAILED']).default(DEFAULT_GATE_POLICY.onNoData),
});

/** The policy an environment describes. */
export function policyOf(env: z.infer<typeof GateEnvironmentSchema>): GatePolicy {
  return {
    minScoredLines: env.MIN_SCORED_LINES,
    minRequests: env.MIN_REQUESTS,
    absoluteMargin: env.ABSOLUTE_MARGIN,
    relativeMargin: env.RELATIVE_MARGIN,
    zCritical: env.Z_CRITICAL,
    anomalyRateCeiling: env.ANOMALY_RATE_CEILING,
    errorRateCeiling: env.ERROR_RATE_CEILING,
    noDataDeadlineSeconds: env.NO_DATA_DEADLINE_SECONDS,
    callBackDelaySeconds: env.CALL_BACK_DELAY_SECONDS,
    onNoData: env.ON_NO_DATA,
  };
}

const env = readEnvironment(GateEnvironmentSchema);
const policy = policyOf(env);
const logger = new Logger({ serviceName: 'deployment-gate' });
const metrics = new Metrics({ namespace: GATE_METRIC_NAMESPACE, serviceName: 'deployment-gate' });
const sources = new AwsGateSources({
  ecs: new ECSClient({}),
  cloudwatch: new CloudWatchClient({}),
  loadBalancerFullName: env.LOAD_BALANCER_FULL_NAME ?? null,
});

/** ECS deployment lifecycle hook (synchronous invocation by ECS) → `{ hookStatus, callBackDelay? }`. */
export async function handler(event: unknown): Promise<LifecycleHookResponse> {
  let result: GateResult;
  try {
    result = await runGate(event, { sources, now: Date.now, windowSeconds: env.WINDOW_SECONDS, policy });
  } catch (error) {
    // runGate answers every failure itself; reaching here is a bug, and ECS rolls back a failed hook.
    logger.error('deployment gate failed', { error: String(error) });
    result = { response: { hookStatus: 'FAILED' }, outcome: 'error', reason: String(error) };
  }
  // `service` is the logger's own key (the function's name); the deployed service is `ecsService`.
  const { response, service, ...decision } = result;
  const log = logFor(result);
  log('deployment gate decision', { hookStatus: response.hookStatus, ecsService: service, ...decision });
  metrics.addDimensions({ Outcome: result.outcome, HookStatus: response.hookStatus });
  metrics.addMetric('GateDecisions', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return response;
}

function logFor(result: GateResult): (message: string, extra: Record<string, unknown>) => void {
  if (result.outcome === 'invalid-event' || result.outcome === 'error') return logger.error.bind(logger);
  // A pass without the evidence the gate exists for is worth a look.
  if (
    result.outcome === 'no-data-passed' ||
    result.outcome === 'passed-partial-data' ||
    result.outcome === 'retrying'
  ) {
    return logger.warn.bind(logger);
  }
  return logger.info.bind(logger);
}
