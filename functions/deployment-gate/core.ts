import {
  DEFAULT_GATE_POLICY,
  decideGate,
  type GateOutcome,
  type GatePolicy,
  type SignalVerdict,
} from './decision.ts';
import {
  baselineRevisionArn,
  type LifecycleHookEvent,
  LifecycleHookEventSchema,
  type LifecycleHookResponse,
  serviceOf,
} from './event.ts';
import type { GateSources } from './sources.ts';

/** Everything {@link runGate} needs. */
export interface GateDependencies {
  readonly sources: GateSources;
  readonly now: () => number;
  /** How far back both revisions are measured, ending now. */
  readonly windowSeconds: number;
  readonly policy?: GatePolicy;
}

/** One invocation's answer and what the handler logs and counts. */
export interface GateResult {
  readonly response: LifecycleHookResponse;
  readonly outcome: GateOutcome | 'invalid-event' | 'retrying' | 'error';
  readonly reason: string;
  readonly service?: string;
  readonly lifecycleStage?: string;
  readonly targetRevision?: string;
  readonly baselineRevision?: string | null;
  readonly signals?: readonly SignalVerdict[];
}

/** The key under which the gate keeps its first-invocation time in `hookDetails` between invocations. */
export const GATE_STATE_KEY = 'deploymentGate';

/**
 * ECS lifecycle hook event → both revisions' samples → {@link decideGate} → the hook answer.
 *
 * An event that does not parse is answered FAILED: a gate that cannot read its input cannot vouch for a
 * release, and a rollback is visible where a silent pass is not. A failing AWS call (throttling, a
 * missing permission) is answered IN_PROGRESS until the policy's deadline, then FAILED with the error.
 *
 * @example
 * const { response } = await runGate(event, { sources, now: Date.now, windowSeconds: 600 });
 */
export async function runGate(event: unknown, deps: GateDependencies): Promise<GateResult> {
  const policy = deps.policy ?? DEFAULT_GATE_POLICY;
  const parsed = LifecycleHookEventSchema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      response: { hookStatus: 'FAILED' },
      outcome: 'invalid-event',
      reason: `not an ECS lifecycle hook event: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    };
  }
  const hook = parsed.data;
  const now = deps.now();
  const startedAt = startedAtOf(hook) ?? now;
  const elapsedSeconds = (now - startedAt) / 1000;
  const { service } = serviceOf(hook.serviceArn);
  const baselineArn = baselineRevisionArn(hook);
  const context = {
    service,
    ...(hook.lifecycleStage ? { lifecycleStage: hook.lifecycleStage } : {}),
    targetRevision: hook.targetServiceRevisionArn,
    baselineRevision: baselineArn,
  };
  const carry = { ...(hook.hookDetails ?? {}), [GATE_STATE_KEY]: { key: stateKey(hook), startedAt } };

  try {
    const arns = [hook.targetServiceRevisionArn, ...(baselineArn ? [baselineArn] : [])];
    const revisions = await deps.sources.describeRevisions(arns);
    const target = revisions.find((r) => r.serviceRevisionArn === hook.targetServiceRevisionArn);
    if (!target) throw new Error(`service revision ${hook.targetServiceRevisionArn} was not found`);
    const old = baselineArn ? revisions.find((r) => r.serviceRevisionArn === baselineArn) : undefined;
    const window = { startMs: now - deps.windowSeconds * 1000, endMs: now };
    const current = await deps.sources.sample({ service, revision: target, ...window });
    const baseline = old ? await deps.sources.sample({ service, revision: old, ...window }) : null;
    const verdict = decideGate({ current, baseline, elapsedSeconds, policy });
    return {
      ...context,
      response: {
        hookStatus: verdict.hookStatus,
        ...(verdict.hookStatus === 'IN_PROGRESS'
          ? { callBackDelay: verdict.callBackDelay ?? policy.callBackDelaySeconds, hookDetails: carry }
          : {}),
      },
      outcome: verdict.outcome,
      reason: verdict.reason,
      signals: verdict.signals,
    };
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (elapsedSeconds < policy.noDataDeadlineSeconds) {
      return {
        ...context,
        response: {
          hookStatus: 'IN_PROGRESS',
          callBackDelay: policy.callBackDelaySeconds,
          hookDetails: carry,
        },
        outcome: 'retrying',
        reason: `could not read the revisions' metrics (${detail}); asking again`,
      };
    }
    return {
      ...context,
      response: { hookStatus: 'FAILED' },
      outcome: 'error',
      reason: `could not read the revisions' metrics by the deadline: ${detail}`,
    };
  }
}

// One deployment runs the gate at two stages; each stage's deadline counts from its own first call.
// Not keyed by executionId: whether ECS keeps it across IN_PROGRESS re-invocations is not documented,
// and a key that changed every call would push the deadline out for ever.
function stateKey(hook: LifecycleHookEvent): string {
  return `${hook.resourceArn ?? hook.targetServiceRevisionArn}|${hook.lifecycleStage ?? ''}`;
}

function startedAtOf(hook: LifecycleHookEvent): number | undefined {
  const state = hook.hookDetails?.[GATE_STATE_KEY] as { key?: unknown; startedAt?: unknown } | undefined;
  return state?.key === stateKey(hook) && typeof state.startedAt === 'number' ? state.startedAt : undefined;
}
