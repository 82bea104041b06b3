import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import type { RemediationRule, ServiceTarget } from '../../contracts/remediation-rules.ts';
import type { BudgetKind } from './ledger.ts';

/**
 * The pure decision core of remediation: which alarm event calls for which action, and what exactly
 * that action is given what the cluster looks like now. No I/O; every input is passed in.
 */

const AlarmStateSchema = z.object({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: z.string().optional(),
  timestamp: z.string().optional(),
});

const AlarmMetricSchema = z.object({
  id: z.string().optional(),
  metricStat: z
    .object({
      metric: z.object({
        namespace: z.string().optional(),
        name: z.string().optional(),
        dimensions: z.record(z.string(), z.string()).optional(),
      }),
    })
    .optional(),
});

/** EventBridge "CloudWatch Alarm State Change" (Powertools' EventBridge envelope, typed detail). */
export const AlarmStateChangeEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  detail: z.object({
    alarmName: z.string().min(1),
    state: AlarmStateSchema,
    previousState: AlarmStateSchema.optional(),
    configuration: z
      .object({ metrics: z.array(AlarmMetricSchema).optional() })
      .loose()
      .optional(),
  }),
});
export type AlarmStateChangeEvent = z.infer<typeof AlarmStateChangeEventSchema>;

/**
 * Why an event leads to no action at all (nothing is claimed, nobody is notified): not a transition
 * into ALARM, no rule, older than {@link MAX_EVENT_AGE_MS} (the asynchronous queue keeps events for
 * hours; acting on a 5-hour-old alarm acts on a cluster that has moved on), or its alarm is no longer in
 * ALARM when the function runs.
 */
export type SkipReason = 'not-in-alarm' | 'no-rule' | 'stale-event' | 'no-longer-in-alarm';

/** Events older than this are not acted on. */
export const MAX_EVENT_AGE_MS = 10 * 60_000;

/** The rule an alarm event selects, or why none applies. */
export type Plan =
  | { readonly kind: 'act'; readonly rule: RemediationRule; readonly instanceId?: string }
  | { readonly kind: 'skip'; readonly reason: SkipReason };

/**
 * Selects the rule for an alarm event. Only a transition into ALARM acts, and only while the event is
 * fresh.
 * An alarm on a single instance (an `InstanceId` dimension) names the instance to reboot.
 */
export function planFor(
  event: AlarmStateChangeEvent,
  rules: readonly RemediationRule[],
  nowMs: number,
): Plan {
  if (event.detail.state.value !== 'ALARM') return { kind: 'skip', reason: 'not-in-alarm' };
  const rule = rules.find((r) => r.alarmName === event.detail.alarmName);
  if (!rule) return { kind: 'skip', reason: 'no-rule' };
  const at = Date.parse(event.time);
  if (!Number.isFinite(at) || nowMs - at > MAX_EVENT_AGE_MS) return { kind: 'skip', reason: 'stale-event' };
  const instanceId = event.detail.configuration?.metrics
    ?.map((m) => m.metricStat?.metric.dimensions?.InstanceId)
    .find((id) => id !== undefined);
  return instanceId ? { kind: 'act', rule, instanceId } : { kind: 'act', rule };
}

/** A concrete action, with the resource it touches (the cooldown key). */
export type Action =
  | {
      readonly kind: 'set-desired-count';
      readonly service: ServiceTarget;
      readonly from: number;
      readonly desiredCount: number;
    }
  | {
      readonly kind: 'restart-unhealthy-tasks';
      readonly service: ServiceTarget;
      /** The alarm that asked for it (named in the stopped tasks' reason). */
      readonly alarm: string;
    }
  | {
      readonly kind: 'drain-and-reboot';
      readonly containerInstanceArn: string;
      readonly ec2InstanceId: string;
      readonly cpuPercent: number | null;
    };

/** Why a matching alarm leads to no action (the operator is told). */
export type NoActionReason =
  | 'at-maximum'
  | 'service-not-found'
  | 'last-active-instance'
  | 'instance-not-found'
  /** Another instance of the cluster is already draining: one reboot at a time per cluster. */
  | 'reboot-in-progress'
  /** A restart needs a server-side symptom (an alarm of {@link RemediationRule} `requireAlarms`) too. */
  | 'not-corroborated'
  /** The service's target-tracking policy is already scaling it out; a second actor would overshoot. */
  | 'target-tracking-scaling';

export type Decision =
  | { readonly kind: 'act'; readonly action: Action }
  | { readonly kind: 'none'; readonly reason: NoActionReason; readonly detail: string };

/**
 * The cooldown key of an action: one per ECS service, and one for every reboot of the cluster (a
 * per-instance cooldown let reboots of different instances follow each other at once).
 */
export function resourceKeyOf(action: Action): string {
  return action.kind === 'drain-and-reboot' ? 'cluster/reboot' : `service/${action.service.serviceName}`;
}

/** The budget an action spends: one per kind, so redeploys can never starve a scale-out. */
export function budgetOf(action: Action): BudgetKind {
  switch (action.kind) {
    case 'set-desired-count':
      return 'scale-out';
    case 'restart-unhealthy-tasks':
      return 'redeploy';
    case 'drain-and-reboot':
      return 'reboot';
  }
}

/**
 * Raises the desired count by the rule's step, never past the declared maximum, and not while the
 * service's target-tracking policy is scaling it out: two actors adding tasks overshoot, and target
 * tracking then scales the extra tasks in again (the fight issue 14 saw).
 */
export function decideScaleOut(
  service: ServiceTarget,
  desiredCount: number | undefined,
  targetTrackingScaling = false,
): Decision {
  if (desiredCount === undefined) {
    return {
      kind: 'none',
      reason: 'service-not-found',
      detail: `ECS service ${service.serviceName} not found`,
    };
  }
  if (desiredCount >= service.maxTasks) {
    return {
      kind: 'none',
      reason: 'at-maximum',
      detail: `${service.name} already wants ${desiredCount} tasks; its declared maximum is ${service.maxTasks}`,
    };
  }
  if (targetTrackingScaling) {
    return {
      kind: 'none',
      reason: 'target-tracking-scaling',
      detail: `${service.name}: its target-tracking policy is in ALARM and already adding tasks (${desiredCount} wanted)`,
    };
  }
  return {
    kind: 'act',
    action: {
      kind: 'set-desired-count',
      service,
      from: desiredCount,
      desiredCount: Math.min(service.maxTasks, desiredCount + service.stepTasks),
    },
  };
}

/** A container instance as the decision sees it. */
export interface InstanceView {
  readonly containerInstanceArn: string;
  readonly ec2InstanceId: string;
  readonly status: string;
  readonly agentConnected: boolean;
}

/**
 * Picks the instance to drain and reboot: the one the alarm names, else the busiest by CPU. Never the
 * last ACTIVE, connected instance: draining it would stop every task with nowhere to move them.
 */
export function decideReboot(
  instances: readonly InstanceView[],
  cpuByInstance: ReadonlyMap<string, number>,
  namedInstanceId?: string,
): Decision {
  const draining = instances.find((i) => i.status === 'DRAINING');
  if (draining) {
    return {
      kind: 'none',
      reason: 'reboot-in-progress',
      detail: `${draining.ec2InstanceId} is already draining; one reboot at a time per cluster`,
    };
  }
  const healthy = instances.filter((i) => i.status === 'ACTIVE' && i.agentConnected);
  const candidates = namedInstanceId ? healthy.filter((i) => i.ec2InstanceId === namedInstanceId) : healthy;
  if (candidates.length === 0) {
    return {
      kind: 'none',
      reason: 'instance-not-found',
      detail: namedInstanceId
        ? `instance ${namedInstanceId} is not an ACTIVE, connected container instance of the cluster`
        : 'the cluster has no ACTIVE, connected container instance',
    };
  }
  if (healthy.length < 2) {
    return {
      kind: 'none',
      reason: 'last-active-instance',
      detail: `only ${healthy.length} ACTIVE instance in the cluster; draining it would leave tasks nowhere to run`,
    };
  }
  const cpu = (i: InstanceView) => cpuByInstance.get(i.ec2InstanceId) ?? -1;
  // Highest CPU first; ties (or no metrics) fall back to the instance id, so the choice is stable.
  const chosen = [...candidates].sort(
    (a, b) => cpu(b) - cpu(a) || a.ec2InstanceId.localeCompare(b.ec2InstanceId),
  )[0]!;
  return {
    kind: 'act',
    action: {
      kind: 'drain-and-reboot',
      containerInstanceArn: chosen.containerInstanceArn,
      ec2InstanceId: chosen.ec2InstanceId,
      cpuPercent: cpuByInstance.get(chosen.ec2InstanceId) ?? null,
    },
  };
}

/** One line describing an action, for notices and logs. */
export function describeAction(action: Action): string {
  switch (action.kind) {
    case 'set-desired-count':
      return `raise ${action.service.name} (${action.service.serviceName}) from ${action.from} to ${action.desiredCount} tasks (max ${action.service.maxTasks})`;
    case 'restart-unhealthy-tasks':
      return `restart the unhealthy tasks of ${action.service.name} (${action.service.serviceName})`;
    case 'drain-and-reboot':
      return `drain and reboot ${action.ec2InstanceId}${action.cpuPercent === null ? '' : ` (CPU ${action.cpuPercent.toFixed(1)}%)`}`;
  }
}
