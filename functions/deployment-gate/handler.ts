import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import { readEnvironment } from '../shared/environment.ts';
import { type GateDependencies, type GateResult, runGate } from './core.ts';
import type { LifecycleHookResponse } from './event.ts';
import { sendProbes } from './probes.ts';
import { AwsGateSources } from './sources.ts';

/** The namespace of the gate's own metrics (`GateDecisions` by `Outcome` and `HookStatus`). */
export const GATE_METRIC_NAMESPACE = 'Platform/DeploymentGate';

/**
 * How long a line takes to reach the counts the gate reads: the sidecar writes its EMF line once a
 * minute (its default EMF_INTERVAL_SECONDS), so a line is in CloudWatch Logs at most two intervals
 * later with delivery.
 */
export const DELIVERY_SECONDS = 120;

/** The message of the log line that carries each decision (the console reads them back by it). */
export const DECISION_MESSAGE = 'deployment gate decision';

const positive = z.coerce.number().int().min(1);

/** What each service declared for its releases, from the wiring. */
const ServiceSettingsSchema = z.record(
  z.string(),
  z.strictObject({
    probes: z.array(z.string().startsWith('/')),
    onScorerOutage: z.enum(['roll-back', 'judge-on-errors']),
  }),
);

/**
 * The `deployment-gate` function's environment, read once per cold start; every value comes from the
 * wiring's rollback policy (platform/wiring), which the alarms and the local rehearsal read too.
 * - `ANOMALY_LOG_GROUP`: where the sidecars write their EMF lines (the per-revision counts).
 * - `LOAD_BALANCER_FULL_NAME`: `app/<name>/<id>` of the platform's ALB; unset → no load-balancer signal.
 * - `MIN_SCORED_LINES`, `MIN_REQUESTS`: the minimum volume; `DEADLINE_SECONDS`: a stage's evaluation budget.
 * - `SERVICE_SETTINGS`: JSON, per service its probe paths and scorer-outage policy.
 * - `PROBE_BASE_URL`: the test route (test listener) that reaches the new revision; unset → no probes, and
 *   POST_TEST_TRAFFIC_SHIFT passes at once (the new revision has no traffic there to judge).
 */
export const GateEnvironmentSchema = z.object({
  ANOMALY_LOG_GROUP: z.string().min(1),
  LOAD_BALANCER_FULL_NAME: z
    .string()
    .regex(/^app\/[^/]+\/[^/]+$/, 'must be app/<name>/<id>')
    .optional(),
  MIN_SCORED_LINES: positive,
  MIN_REQUESTS: positive,
  DEADLINE_SECONDS: positive,
  SERVICE_SETTINGS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(ServiceSettingsSchema),
  PROBE_BASE_URL: z.url().optional(),
});
export type GateEnvironment = z.infer<typeof GateEnvironmentSchema>;

/** The parts of {@link GateDependencies} an environment describes. */
export function settingsOf(env: GateEnvironment): Pick<GateDependencies, 'policy' | 'services'> {
  return {
    policy: {
      minimumVolume: { lines: env.MIN_SCORED_LINES, requests: env.MIN_REQUESTS },
      deadlineSeconds: env.DEADLINE_SECONDS,
      deliverySeconds: DELIVERY_SECONDS,
    },
    services: env.SERVICE_SETTINGS,
  };
}

const env = readEnvironment(GateEnvironmentSchema);
const logger = new Logger({ serviceName: 'deployment-gate' });
const metrics = new Metrics({ namespace: GATE_METRIC_NAMESPACE, serviceName: 'deployment-gate' });
const sources = new AwsGateSources({
  ecs: new ECSClient({}),
  cloudwatch: new CloudWatchClient({}),
  logs: new CloudWatchLogsClient({}),
  anomalyLogGroup: env.ANOMALY_LOG_GROUP,
  loadBalancerFullName: env.LOAD_BALANCER_FULL_NAME ?? null,
});
const probeBaseUrl = env.PROBE_BASE_URL;
const deps: GateDependencies = {
  sources,
  now: Date.now,
  ...settingsOf(env),
  // Within the function's 30 s timeout: at most 4 in flight, 3 s each.
  probe: probeBaseUrl
    ? (paths, count, offset) => sendProbes({ baseUrl: probeBaseUrl }, paths, count, {}, offset)
    : null,
};

/** ECS deployment lifecycle hook (synchronous invocation by ECS) → `{ hookStatus, callBackDelay? }`. */
export async function handler(event: unknown): Promise<LifecycleHookResponse> {
  let result: GateResult;
  try {
    result = await runGate(event, deps);
  } catch (error) {
    // runGate answers every failure itself; reaching here is a bug, and ECS rolls back a failed hook.
    logger.error('deployment gate failed', { error: String(error) });
    result = { response: { hookStatus: 'FAILED' }, outcome: 'error', reason: String(error) };
  }
  // `service` is the logger's own key (the function's name); the deployed service is `ecsService`.
  const { response, service, ...decision } = result;
  const log = logFor(result);
  log(DECISION_MESSAGE, { hookStatus: response.hookStatus, ecsService: service, ...decision });
  metrics.addDimensions({ Outcome: result.outcome, HookStatus: response.hookStatus });
  metrics.addMetric('GateDecisions', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return response;
}

function logFor(result: GateResult): (message: string, extra: Record<string, unknown>) => void {
  if (result.outcome === 'invalid-event' || result.outcome === 'error') return logger.error.bind(logger);
  // A pass without the full evidence the gate exists for is worth a look.
  if (result.outcome === 'scorer-outage-judged-on-errors' || result.outcome === 'retrying') {
    return logger.warn.bind(logger);
  }
  return logger.info.bind(logger);
}
