import { z } from 'zod';

/**
 * The remediation rules: which alarm triggers which action on which service. Written by the AWS
 * renderer into the `remediate` function's `REMEDIATION_RULES` environment variable (alarm names are
 * resolved at deploy time) and read back by the function through this schema, so writer and reader
 * share one definition.
 */

export const REMEDIATION_ACTIONS = ['scale-out', 'restart-unhealthy-tasks', 'reboot-instance'] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];

export const ServiceTargetSchema = z.strictObject({
  /** The declared service name (for notices). */
  name: z.string().min(1),
  /** The ECS service name in the cluster. */
  serviceName: z.string().min(1),
  /** The declared maximum task count; scale-out never goes past it. */
  maxTasks: z.number().int().min(1),
  /** Tasks added per scale-out. */
  stepTasks: z.number().int().min(1).default(1),
  /**
   * Whether an Application Auto Scaling target-tracking policy scales the service (every platform
   * service has one); remediation then never adds tasks while that policy is scaling out.
   */
  targetTracking: z.boolean().default(false),
});
export type ServiceTarget = z.infer<typeof ServiceTargetSchema>;

export const RemediationRuleSchema = z.discriminatedUnion('action', [
  z.strictObject({
    alarmName: z.string().min(1),
    action: z.literal('scale-out'),
    service: ServiceTargetSchema,
  }),
  z.strictObject({
    alarmName: z.string().min(1),
    action: z.literal('restart-unhealthy-tasks'),
    service: ServiceTargetSchema,
    /**
     * Server-side symptoms, at least one of which must be in ALARM for the restart to happen (target
     * 5xx, unhealthy targets, memory). An anomaly rate alone can be driven by anyone who can make the
     * service log errors; a restart on it alone is an outage anyone can order.
     */
    requireAlarms: z.array(z.string().min(1)).default([]),
  }),
  z.strictObject({ alarmName: z.string().min(1), action: z.literal('reboot-instance') }),
]);
export type RemediationRule = z.infer<typeof RemediationRuleSchema>;
/** What the CDK construct writes (defaults not yet applied). */
export type RemediationRuleInput = z.input<typeof RemediationRuleSchema>;

export const RemediationRulesSchema = z.array(RemediationRuleSchema).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  for (const [i, rule] of rules.entries()) {
    if (seen.has(rule.alarmName)) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'alarmName'],
        message: `alarm ${rule.alarmName} has two rules`,
      });
    }
    seen.add(rule.alarmName);
  }
});
