import type { ServiceDirectoryEntry } from '../../../contracts/service-directory.ts';
import { apiRoutes, type LocalPlan } from '../../local/plan.ts';
import { breachedAlarm, rehearsalStages } from '../../local/rehearsal-stages.ts';
import type { DeploymentWiring, RollbackPolicyWiring } from '../index.ts';
import type { ContainerFacts, PartFacts, Rendering } from './renderings.ts';

/** Which variables realise a grant locally (the process is handed the means, not a credential). */
const GRANT_OF_VARIABLE: Record<string, string> = {
  MODEL_ENDPOINT_NAME: 'invoke-model',
  ENDPOINT_NAME: 'invoke-model',
  ANOMALY_SOURCE: 'read-anomalies',
  SERVICES: 'read-service-state',
};

/**
 * Reads the local rendering back from a plan and the runtime's own parts: every task's processes, the
 * local ALB's routes, the API Gateway's routes, the service directory the console is handed, and the
 * rehearsal's minimum volume (found by asking its alarm rule) and the stages it judges.
 */
export function localRendering(
  plan: LocalPlan,
  rules: readonly { service: string; paths: readonly string[]; priority: number }[],
  unmatched: { status: number; contentType: string; body: string },
): Rendering {
  const tasks: Record<string, { containers: Record<string, ContainerFacts>; grants: Set<string> }> = {};
  const parts: PartFacts = {};
  for (const p of plan.processes) {
    if (p.service && p.container) {
      const task = tasks[p.service] ?? { containers: {}, grants: new Set<string>() };
      tasks[p.service] = task;
      task.containers[p.container] = {
        environment: Object.keys(p.env).sort(),
        // A process that is healthy while it runs has no check on AWS either (ECS watches the process).
        health:
          p.health.kind === 'process'
            ? null
            : {
                interval: p.health.intervalMs / 1000,
                timeout: p.health.timeoutMs / 1000,
                retries: p.health.unhealthyThreshold,
                startPeriod: p.health.startPeriodMs / 1000,
                path:
                  p.health.kind === 'http'
                    ? new URL(p.health.url).pathname
                    : `command: ${[p.health.file, ...p.health.args].join(' ')}`,
              },
        stopTimeoutSeconds: p.stopTimeoutMs / 1000,
        listens: 'PORT' in p.env,
      };
      for (const name of Object.keys(p.env)) {
        const grant = GRANT_OF_VARIABLE[name];
        if (grant) task.grants.add(grant);
      }
      if (p.env.SERVICES) Object.assign(parts, directoryParts(JSON.parse(p.env.SERVICES)));
    }
    if (p.role === 'model' && plan.model) {
      parts.model = { name: plan.model.endpointName };
      parts['model health'] = p.health.kind === 'http' ? new URL(p.health.url).pathname : p.health.kind;
    }
  }
  const [route] = apiRoutes(plan.wiring);
  if (route) parts['api route'] = { method: route.method, path: route.resource };
  for (const task of plan.wiring.tasks) {
    parts[`task ${task.service}: gate stages`] = rehearsedGateStages(task.deployment);
  }
  Object.assign(parts, rehearsedPolicy(plan.wiring.rollbackPolicy));

  // Sign-in (`public`) has no local counterpart: the declared difference 'open-on-loopback'.
  const explicit = rules
    .filter((r) => r.priority !== 0)
    .map((r) => ({ service: r.service, paths: [...r.paths], priority: r.priority }));
  const fallbackRule = rules.find((r) => r.priority === 0);
  return {
    tasks: Object.fromEntries(
      Object.entries(tasks).map(([k, v]) => [k, { containers: v.containers, grants: [...v.grants].sort() }]),
    ),
    routes: { rules: explicit, default: fallbackRule ? { service: fallbackRule.service } : unmatched },
    parts,
  };
}

function directoryParts(entries: ServiceDirectoryEntry[]): PartFacts {
  return {
    directory: entries.map((e) => ({ name: e.name, kind: e.kind })),
    'directory health source': entries.map((e) => ({
      name: e.name,
      path: e.healthUrl ? new URL(e.healthUrl).pathname : null,
      sidecars: e.sidecarUrl !== undefined,
    })),
  };
}

/**
 * The rehearsal's minimum volume, found by asking its alarm rule with the policy the runtime hands it:
 * the fewest lines (requests) of a wholly anomalous (failing) revision that breach.
 */
function rehearsedPolicy(policy: RollbackPolicyWiring): PartFacts {
  const alarms = [
    { kind: 'anomaly-rate', percent: 5 },
    { kind: 'error-rate', percent: 5 },
  ] as const;
  const quiet = { scored: 0, anomalous: 0, requests: 0, errors: 0, healthy: true };
  const fewest = (sampleOf: (n: number) => typeof quiet) => {
    let low = 1;
    let high = 100_000;
    if (!breachedAlarm(alarms, sampleOf(high), policy.minimumVolume)) return null;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (breachedAlarm(alarms, sampleOf(middle), policy.minimumVolume)) high = middle;
      else low = middle + 1;
    }
    return low;
  };
  return {
    'rollback minimum volume': {
      lines: fewest((n) => ({ ...quiet, scored: n, anomalous: n })),
      requests: fewest((n) => ({ ...quiet, requests: n, errors: n })),
    },
  };
}

/** The lifecycle stages a rehearsal of `deployment` judges the new revision at (a rolling update has none). */
function rehearsedGateStages(deployment: DeploymentWiring): string[] {
  const stages = rehearsalStages(deployment).map((s) => s.stage);
  return [...new Set(stages)].filter((stage) => stage !== 'ROLLING_UPDATE');
}
