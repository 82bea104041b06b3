import { z } from 'zod';

/**
 * One judgement of the deployment gate, as the console shows it: the new and the old revision side by
 * side with their rates and bounds, the minimum volume and what the probes supplied, the verdict and the
 * rule that gave it. The gate function logs it with every decision (the console reads it back from the
 * gate's log group on AWS); the local rehearsal writes it into the deployments state file.
 */

/** A rate with its confidence bounds (Wilson, at the gate's z). */
export const RateSchema = z.object({
  bad: z.number().nonnegative(),
  total: z.number().nonnegative(),
  rate: z.number().min(0).max(1),
  lower: z.number().min(0).max(1),
  upper: z.number().min(0).max(1),
});
export type Rate = z.infer<typeof RateSchema>;

/** One revision in a judgement. */
export const JudgedRevisionSchema = z.object({
  role: z.enum(['new', 'old']),
  /** `frontend:5`. */
  revision: z.string(),
  /** Lines its sidecar received (scored or not). */
  received: z.number().nonnegative(),
  /** Anomalous among scored lines. */
  anomalies: RateSchema,
  /** 5xx among requests (the load balancer's, or its request lines'); null when it has neither. */
  errors: RateSchema.nullable(),
});
export type JudgedRevision = z.infer<typeof JudgedRevisionSchema>;

/** One comparison behind the verdict (a signal on the whole revision or on one request class). */
export const JudgedComparisonSchema = z.object({
  signal: z.enum(['anomalies', 'errors']),
  scope: z.string(),
  kind: z.enum(['insufficient', 'ok', 'worse']),
  detail: z.string(),
});

export const JudgementSchema = z.object({
  /** The lifecycle stage (`POST_TEST_TRAFFIC_SHIFT`, `POST_PRODUCTION_TRAFFIC_SHIFT`). */
  stage: z.string(),
  /** Share of production traffic on the new revision during the stage, 0..100. */
  trafficPercent: z.number().min(0).max(100),
  /** ISO-8601. */
  at: z.string(),
  verdict: z.enum(['SUCCEEDED', 'FAILED', 'IN_PROGRESS']),
  outcome: z.string(),
  /** The rule that gave the verdict, in words. */
  rule: z.string(),
  reason: z.string(),
  minimumVolume: z.object({
    lines: z.number().int().nonnegative(),
    requests: z.number().int().nonnegative(),
  }),
  probes: z.object({
    paths: z.array(z.string()),
    sent: z.number().int().nonnegative(),
    answered: z.number().int().nonnegative(),
  }),
  revisions: z.array(JudgedRevisionSchema),
  /** The comparisons, worst first (at most {@link MAX_JUDGED_COMPARISONS}). */
  comparisons: z.array(JudgedComparisonSchema),
});
export type Judgement = z.infer<typeof JudgementSchema>;

/** Comparisons kept in a judgement: the worst ones, enough to see why. */
export const MAX_JUDGED_COMPARISONS = 12;
