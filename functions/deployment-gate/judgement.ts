import { type JudgedRevision, type Judgement, MAX_JUDGED_COMPARISONS } from '../../contracts/judgement.ts';
import { GATE_RULES, type RevisionSample, wilsonBounds } from './comparison.ts';
import type { GateInput, GateVerdict } from './decision.ts';

/**
 * A verdict as the console shows it (contracts/judgement.ts): both revisions' rates with their bounds,
 * the minimum volume, the probes, the rule and the worst comparisons. The gate function logs it with
 * each decision; the local rehearsal writes it to its state file.
 */
export function judgementOf(
  input: GateInput,
  verdict: GateVerdict,
  context: { readonly stage: string; readonly trafficPercent: number; readonly at: number },
): Judgement {
  return {
    stage: context.stage,
    trafficPercent: context.trafficPercent,
    at: new Date(context.at).toISOString(),
    verdict: verdict.hookStatus,
    outcome: verdict.outcome,
    rule: verdict.rule,
    reason: verdict.reason,
    minimumVolume: { ...input.policy.minimumVolume },
    probes: {
      paths: [...(input.probes?.paths ?? [])],
      sent: input.probes?.sent ?? 0,
      answered: input.probes?.answered ?? 0,
    },
    revisions: [judged('new', input.current), ...(input.baseline ? [judged('old', input.baseline)] : [])],
    comparisons: verdict.comparisons
      .slice(0, MAX_JUDGED_COMPARISONS)
      .map(({ signal, scope, kind, detail }) => ({ signal, scope, kind, detail })),
  };
}

function judged(role: 'new' | 'old', sample: RevisionSample): JudgedRevision {
  const requests =
    sample.loadBalancer ??
    (sample.classes.some((c) => c.requests.total > 0)
      ? sample.classes.reduce(
          (sum, c) => ({ bad: sum.bad + c.requests.bad, total: sum.total + c.requests.total }),
          { bad: 0, total: 0 },
        )
      : null);
  return {
    role,
    revision: sample.revision,
    received: sample.lines.received,
    anomalies: rate(sample.lines.anomalous, sample.lines.scored),
    errors: requests ? rate(requests.bad, requests.total) : null,
  };
}

function rate(bad: number, total: number) {
  const { lower, upper } = wilsonBounds(bad, total, GATE_RULES.confidenceZ);
  return { bad, total, rate: total > 0 ? bad / total : 0, lower, upper };
}
