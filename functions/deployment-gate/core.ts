import type { Judgement } from '../../contracts/judgement.ts';
import {
  decideGate,
  type GateOutcome,
  type GatePolicy,
  type ProbeReport,
  type ScorerOutagePolicy,
} from './decision.ts';
import {
  baselineRevisionArn,
  type LifecycleHookEvent,
  LifecycleHookEventSchema,
  type LifecycleHookResponse,
  serviceOf,
} from './event.ts';
import { judgementOf } from './judgement.ts';
import type { ProbeResult } from './probes.ts';
import type { GateSources } from './sources.ts';

/** What a service declared for its releases (`deployment.probes`, `deployment.onScorerOutage`). */
export interface ServiceGateSettings {
  readonly probes: readonly string[];
  readonly onScorerOutage: ScorerOutagePolicy;
}

/** Everything {@link runGate} needs. */
export interface GateDependencies {
  readonly sources: GateSources;
  readonly now: () => number;
  /** The wiring's rollback policy: the minimum volume and the deadline. */
  readonly policy: Omit<GatePolicy, 'onScorerOutage'>;
  /** Per service, from the wiring. */
  readonly services: Readonly<Record<string, ServiceGateSettings>>;
  /**
   * Sends `count` probes over `paths` to the new revision through the test route (starting at path
   * `offset`); null when the platform has no test route (then POST_TEST_TRAFFIC_SHIFT has no traffic).
   */
  readonly probe: ((paths: readonly string[], count: number, offset: number) => Promise<ProbeResult>) | null;
}

/** One invocation's answer and what the handler logs and counts. */
export interface GateResult {
  readonly response: LifecycleHookResponse;
  readonly outcome: GateOutcome | 'no-test-traffic' | 'invalid-event' | 'retrying' | 'error';
  readonly reason: string;
  readonly service?: string;
  readonly lifecycleStage?: string;
  readonly targetRevision?: string;
  readonly baselineRevision?: string | null;
  /** What the console shows of this decision. */
  readonly judgement?: Judgement;
}

/** The key under which the gate keeps its stage's start and probe counts in `hookDetails`. */
export const GATE_STATE_KEY = 'deploymentGate';

/**
 * How far before a stage's first call its window starts: one EMF interval of the sidecars, so the lines
 * written just after the traffic shift (and flushed a minute later) are in it.
 */
export const WINDOW_LEAD_MS = 60_000;

/** Probes per stage at most, in minimum volumes of requests: enough to judge, never a load test. */
const PROBE_BUDGET_VOLUMES = 5;

/**
 * ECS lifecycle hook event → both revisions' samples over the stage's window → {@link decideGate} → the
 * hook answer; probes sent to the new revision while it lacks the minimum volume.
 *
 * An event that does not parse is answered FAILED: a gate that cannot read its input cannot vouch for a
 * release, and a rollback is visible where a silent pass is not. A failing AWS call (throttling, a
 * missing permission) is answered IN_PROGRESS until the deadline, then FAILED with the error.
 *
 * @example
 * const { response } = await runGate(event, { sources, now: Date.now, policy, services, probe: null });
 */
export async function runGate(event: unknown, deps: GateDependencies): Promise<GateResult> {
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
  const state = stateOf(hook) ?? { key: stateKey(hook), startedAt: now, sent: 0, answered: 0 };
  const elapsedSeconds = (now - state.startedAt) / 1000;
  const { service } = serviceOf(hook.serviceArn);
  const baselineArn = baselineRevisionArn(hook);
  const stage = hook.lifecycleStage ?? 'UNKNOWN_STAGE';
  const context = {
    service,
    lifecycleStage: stage,
    targetRevision: hook.targetServiceRevisionArn,
    baselineRevision: baselineArn,
  };
  const settings: ServiceGateSettings = deps.services[service] ?? {
    probes: [],
    onScorerOutage: 'judge-on-errors',
  };

  // Without a test route the new revision serves nothing before production traffic shifts.
  if (stage === 'POST_TEST_TRAFFIC_SHIFT' && deps.probe === null) {
    return {
      ...context,
      response: { hookStatus: 'SUCCEEDED' },
      outcome: 'no-test-traffic',
      reason:
        'the platform has no test route, so the new revision has no traffic at this stage; it is judged after production traffic shifts',
    };
  }

  const carry = (next: typeof state) => ({ ...(hook.hookDetails ?? {}), [GATE_STATE_KEY]: next });
  try {
    const arns = [hook.targetServiceRevisionArn, ...(baselineArn ? [baselineArn] : [])];
    const revisions = await deps.sources.describeRevisions(arns);
    const target = revisions.find((r) => r.serviceRevisionArn === hook.targetServiceRevisionArn);
    if (!target) throw new Error(`service revision ${hook.targetServiceRevisionArn} was not found`);
    const old = baselineArn ? revisions.find((r) => r.serviceRevisionArn === baselineArn) : undefined;
    const window = { startMs: state.startedAt - WINDOW_LEAD_MS, endMs: now };
    const [current, baseline] = await Promise.all([
      deps.sources.sample({ service, revision: target, ...window }),
      old ? deps.sources.sample({ service, revision: old, ...window }) : Promise.resolve(null),
    ]);
    const probes: ProbeReport = { paths: settings.probes, sent: state.sent, answered: state.answered };
    const input = {
      current,
      baseline,
      elapsedSeconds,
      policy: { ...deps.policy, onScorerOutage: settings.onScorerOutage },
      probes,
    };
    const verdict = decideGate(input);
    let next = state;
    const budget = PROBE_BUDGET_VOLUMES * deps.policy.minimumVolume.requests;
    if (verdict.needsProbes && deps.probe && settings.probes.length > 0 && state.sent < budget) {
      const batch = Math.min(deps.policy.minimumVolume.requests, budget - state.sent);
      const result = await deps.probe(settings.probes, batch, state.sent);
      next = { ...state, sent: state.sent + result.sent, answered: state.answered + result.answered };
    }
    const trafficPercent = hook.productionTrafficWeights[hook.targetServiceRevisionArn] ?? 0;
    return {
      ...context,
      response: {
        hookStatus: verdict.hookStatus,
        ...(verdict.hookStatus === 'IN_PROGRESS'
          ? { callBackDelay: verdict.callBackDelay, hookDetails: carry(next) }
          : {}),
      },
      outcome: verdict.outcome,
      reason: verdict.reason,
      judgement: judgementOf(
        { ...input, probes: { ...probes, sent: next.sent, answered: next.answered } },
        verdict,
        { stage, trafficPercent, at: now },
      ),
    };
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (elapsedSeconds < deps.policy.deadlineSeconds) {
      return {
        ...context,
        response: { hookStatus: 'IN_PROGRESS', callBackDelay: 30, hookDetails: carry(state) },
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

interface GateState {
  readonly key: string;
  readonly startedAt: number;
  /** Probes sent and answered so far in this stage. */
  readonly sent: number;
  readonly answered: number;
}

// One deployment runs the gate at two stages; each stage's deadline counts from its own first call.
// Not keyed by executionId: whether ECS keeps it across IN_PROGRESS re-invocations is not documented,
// and a key that changed every call would push the deadline out for ever.
function stateKey(hook: LifecycleHookEvent): string {
  return `${hook.resourceArn ?? hook.targetServiceRevisionArn}|${hook.lifecycleStage ?? ''}`;
}

function stateOf(hook: LifecycleHookEvent): GateState | undefined {
  const state = hook.hookDetails?.[GATE_STATE_KEY] as Partial<Record<keyof GateState, unknown>> | undefined;
  if (state?.key !== stateKey(hook) || typeof state.startedAt !== 'number') return undefined;
  const count = (value: unknown) => (typeof value === 'number' && value >= 0 ? value : 0);
  return {
    key: state.key,
    startedAt: state.startedAt,
    sent: count(state.sent),
    answered: count(state.answered),
  };
}
