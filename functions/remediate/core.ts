import type { RemediationRule } from '../../contracts/remediation-rules.ts';
import type { ActionReport } from './actions.ts';
import {
  type Action,
  AlarmStateChangeEventSchema,
  budgetOf,
  type Decision,
  decideReboot,
  decideScaleOut,
  describeAction,
  type InstanceView,
  type Plan,
  planFor,
  resourceKeyOf,
} from './decision.ts';
import type { ClaimResult, RemediationLedger } from './ledger.ts';

/** The cluster operations the core uses (ClusterOperations, or a fake). */
export interface RemediationOperations {
  desiredCount(serviceName: string): Promise<number | undefined>;
  /** The current state (`OK`, `ALARM`, `INSUFFICIENT_DATA`) of each named alarm that exists. */
  alarmStates(alarmNames: readonly string[]): Promise<Map<string, string>>;
  /** Whether the service's target-tracking policy is scaling it out right now (its high alarm in ALARM). */
  targetTrackingScaling(serviceName: string): Promise<boolean>;
  instances(): Promise<InstanceView[]>;
  cpuByInstance(instanceIds: readonly string[]): Promise<Map<string, number>>;
  execute(action: Action): Promise<ActionReport>;
  notify(subject: string, message: Record<string, unknown>): Promise<void>;
}

/** Everything {@link remediate} needs. */
export interface RemediationDependencies {
  readonly rules: readonly RemediationRule[];
  readonly operations: RemediationOperations;
  readonly ledger: RemediationLedger;
  /** Decide, claim and notify, but change nothing. */
  readonly dryRun: boolean;
  readonly now: () => number;
}

/** What an invocation did. */
export type RemediationOutcome =
  | { readonly outcome: 'invalid-event'; readonly detail: string }
  | { readonly outcome: 'skipped'; readonly reason: Extract<Plan, { kind: 'skip' }>['reason'] }
  | { readonly outcome: 'no-action'; readonly reason: Extract<Decision, { kind: 'none' }>['reason'] }
  | { readonly outcome: Exclude<ClaimResult, 'claimed'>; readonly action: string }
  | { readonly outcome: 'dry-run'; readonly action: string }
  | {
      readonly outcome: 'acted';
      readonly action: string;
      readonly completed: boolean;
      readonly detail: string;
    };

/**
 * Alarm state change → freshness and current alarm state → decision → claim (idempotency, cooldown,
 * per-kind sliding budget) → action → notice.
 *
 * Actions are at most once: the claim is written before acting, so a failed action is not repeated by a
 * retry; it is reported on the topic and rethrown, and the function's on-failure destination keeps the
 * event (the function is configured without automatic retries).
 *
 * @example
 * const result = await remediate(event, { rules, operations, ledger, dryRun: false, now: Date.now });
 */
export async function remediate(event: unknown, deps: RemediationDependencies): Promise<RemediationOutcome> {
  const parsed = AlarmStateChangeEventSchema.safeParse(event);
  if (!parsed.success) {
    // The EventBridge rule only matches alarm state changes; anything else is a wiring fault.
    const issue = parsed.error.issues[0];
    return { outcome: 'invalid-event', detail: `${issue?.path.join('.') || '(root)'}: ${issue?.message}` };
  }
  const alarm = parsed.data;
  const plan = planFor(alarm, deps.rules, deps.now());
  if (plan.kind === 'skip') return { outcome: 'skipped', reason: plan.reason };
  // The event may have waited in the asynchronous queue: act only on an alarm that is still in ALARM.
  const symptoms = plan.rule.action === 'restart-unhealthy-tasks' ? plan.rule.requireAlarms : [];
  const states = await deps.operations.alarmStates([plan.rule.alarmName, ...symptoms]);
  if (states.get(plan.rule.alarmName) !== 'ALARM')
    return { outcome: 'skipped', reason: 'no-longer-in-alarm' };

  const decision = await decide(plan, deps, symptoms, states);
  const base = {
    alarm: alarm.detail.alarmName,
    alarmReason: alarm.detail.state.reason,
    eventId: alarm.id,
    rule: plan.rule.action,
    dryRun: deps.dryRun,
  };
  if (decision.kind === 'none') {
    if ((await deps.ledger.claimEvent(alarm.id, deps.now())) === 'duplicate') {
      return { outcome: 'duplicate', action: `none (${decision.reason})` };
    }
    await deps.operations.notify(`Remediation: no action for ${alarm.detail.alarmName}`, {
      ...base,
      outcome: 'no-action',
      reason: decision.reason,
      detail: decision.detail,
    });
    return { outcome: 'no-action', reason: decision.reason };
  }

  const { action } = decision;
  const described = describeAction(action);
  const claim = await deps.ledger.claimAction(alarm.id, resourceKeyOf(action), budgetOf(action), deps.now());
  if (claim !== 'claimed') return { outcome: claim, action: described };

  if (deps.dryRun) {
    await deps.operations.notify(`Remediation (dry run): ${described}`, {
      ...base,
      outcome: 'dry-run',
      action: described,
    });
    return { outcome: 'dry-run', action: described };
  }
  let report: ActionReport;
  try {
    report = await deps.operations.execute(action);
  } catch (error) {
    await deps.operations.notify(`Remediation FAILED: ${described}`, {
      ...base,
      outcome: 'failed',
      action: described,
      error: `${(error as Error).name}: ${(error as Error).message}`,
    });
    throw error;
  }
  await deps.operations.notify(`Remediation${report.completed ? '' : ' (incomplete)'}: ${described}`, {
    ...base,
    outcome: report.completed ? 'acted' : 'incomplete',
    action: described,
    detail: report.detail,
  });
  return { outcome: 'acted', action: described, completed: report.completed, detail: report.detail };
}

async function decide(
  plan: Extract<Plan, { kind: 'act' }>,
  deps: RemediationDependencies,
  symptoms: readonly string[],
  states: ReadonlyMap<string, string>,
): Promise<Decision> {
  const { rule } = plan;
  switch (rule.action) {
    case 'scale-out': {
      const desired = await deps.operations.desiredCount(rule.service.serviceName);
      const tracking =
        rule.service.targetTracking &&
        (await deps.operations.targetTrackingScaling(rule.service.serviceName));
      return decideScaleOut(rule.service, desired, tracking);
    }
    case 'restart-unhealthy-tasks':
      if (symptoms.length > 0 && !symptoms.some((name) => states.get(name) === 'ALARM')) {
        return {
          kind: 'none',
          reason: 'not-corroborated',
          detail: `${rule.service.name}: none of ${symptoms.join(', ')} is in ALARM; a restart needs a server-side symptom`,
        };
      }
      return {
        kind: 'act',
        action: { kind: 'restart-unhealthy-tasks', service: rule.service, alarm: rule.alarmName },
      };
    case 'reboot-instance': {
      const instances = await deps.operations.instances();
      const cpu = await deps.operations.cpuByInstance(instances.map((i) => i.ec2InstanceId));
      return decideReboot(instances, cpu, plan.instanceId);
    }
  }
}
