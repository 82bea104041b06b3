import { z } from 'zod';

/**
 * What ECS sends a lifecycle-hook Lambda (ECS developer guide, "Lambda hooks for Amazon ECS service
 * deployments" and "Lifecycle payloads"): the service, the target service revision, and the test and
 * production traffic weights keyed by service revision ARN; with the hook's `hookDetails` (the ones
 * configured on the service, or the ones this function returned on its previous IN_PROGRESS answer).
 *
 * The guide lists those fields as the payload's common fields; invocations carry them inside an
 * `executionDetails` object next to `executionId`, `lifecycleStage` and `resourceArn` (the service
 * deployment). Both layouts are accepted, so the gate does not depend on which one a region sends.
 */
const TrafficWeightsSchema = z.record(z.string(), z.coerce.number()).default({});

const ExecutionDetailsSchema = z.object({
  serviceArn: z
    .string()
    .regex(/^arn:[^:]+:ecs:[^:]*:\d*:service\/[^/]+\/[^/]+$/, 'must be an ECS service ARN'),
  targetServiceRevisionArn: z.string().startsWith('arn:'),
  testTrafficWeights: TrafficWeightsSchema,
  productionTrafficWeights: TrafficWeightsSchema,
});

export const LifecycleHookEventSchema = z.preprocess(
  (raw) => {
    if (typeof raw !== 'object' || raw === null) return raw;
    const { executionDetails, ...rest } = raw as Record<string, unknown>;
    return typeof executionDetails === 'object' && executionDetails !== null
      ? { ...rest, ...executionDetails }
      : raw;
  },
  ExecutionDetailsSchema.extend({
    executionId: z.string().optional(),
    lifecycleStage: z.string().optional(),
    resourceArn: z.string().optional(),
    hookDetails: z.record(z.string(), z.unknown()).nullish(),
  }),
);
export type LifecycleHookEvent = z.infer<typeof LifecycleHookEventSchema>;

/** The answer ECS expects; `hookDetails` comes back on the next invocation. */
export interface LifecycleHookResponse {
  readonly hookStatus: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';
  readonly callBackDelay?: number;
  readonly hookDetails?: Record<string, unknown>;
}

/** `arn:aws:ecs:eu-west-1:1:service/acme/frontend` → `{ cluster: 'acme', service: 'frontend' }`. */
export function serviceOf(serviceArn: string): { cluster: string; service: string } {
  const [, cluster = '', service = ''] = serviceArn.split(':').at(-1)?.split('/') ?? [];
  return { cluster, service };
}

/**
 * The revision being replaced: the other revision with the most production traffic (test traffic when
 * no other revision has production weight); null on a first deployment.
 */
export function baselineRevisionArn(event: LifecycleHookEvent): string | null {
  for (const weights of [event.productionTrafficWeights, event.testTrafficWeights]) {
    const others = Object.entries(weights).filter(([arn]) => arn !== event.targetServiceRevisionArn);
    others.sort((a, b) => b[1] - a[1]);
    if (others[0]) return others[0][0];
  }
  return null;
}
