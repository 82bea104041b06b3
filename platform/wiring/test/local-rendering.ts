import type { ServiceDirectoryEntry } from '../../../contracts/service-directory.ts';
import {
  type DeploymentDriver,
  REHEARSAL_MS_PER_MINUTE,
  type RevisionSample,
  RollbackJudge,
  runLocalDeployment,
} from '../../local/deployments.ts';
import { apiRoutes, type LocalPlan } from '../../local/plan.ts';
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
 * rehearsal's rollback policy and gate stages, found by running its judge and its deployments.
 */
export async function localRendering(
  plan: LocalPlan,
  rules: readonly { service: string; paths: readonly string[]; priority: number }[],
  unmatched: { status: number; contentType: string; body: string },
): Promise<Rendering> {
  const tasks: Record<string, { containers: Record<string, ContainerFacts>; grants: Set<string> }> = {};
  const parts: PartFacts = {};
  for (const p of plan.processes) {
    if (p.service && p.container) {
      const task = tasks[p.service] ?? { containers: {}, grants: new Set<string>() };
      tasks[p.service] = task;
      task.containers[p.container] = {
        environment: Object.keys(p.env).sort(),
        health: {
          interval: p.health.intervalMs / 1000,
          timeout: p.health.timeoutMs / 1000,
          retries: p.health.unhealthyThreshold,
          startPeriod: p.health.startPeriodMs / 1000,
          path: new URL(p.health.url).pathname,
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
      parts['model health'] = new URL(p.health.url).pathname;
    }
  }
  const [route] = apiRoutes(plan.wiring);
  if (route) parts['api route'] = { method: route.method, path: route.resource };
  for (const task of plan.wiring.tasks) {
    parts[`task ${task.service}: gate stages`] = await rehearsedGateStages(
      task.deployment,
      plan.wiring.rollbackPolicy,
    );
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
 * The rehearsal's rollback policy, found by asking its judge: the fewest lines (requests) of a wholly
 * anomalous (failing) revision that roll it back, and in how many consecutive periods.
 */
function rehearsedPolicy(policy: RollbackPolicyWiring): PartFacts {
  const periodMs = (policy.periodSeconds / 60) * REHEARSAL_MS_PER_MINUTE;
  const periodsToRollBack = (sample: RevisionSample): number | null => {
    const judge = new RollbackJudge(
      [
        { kind: 'anomaly-rate', percent: 5 },
        { kind: 'error-rate', percent: 5 },
      ],
      policy,
      0,
    );
    for (let period = 0; period < 20; period++) {
      if (judge.observe(sample, period * periodMs)) return period + 1;
    }
    return null;
  };
  const quiet = { scored: 0, anomalous: 0, requests: 0, errors: 0, healthy: true };
  const fewest = (sampleOf: (n: number) => RevisionSample) => {
    let low = 1;
    let high = 100_000;
    if (periodsToRollBack(sampleOf(high)) === null) return null;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (periodsToRollBack(sampleOf(middle)) === null) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  return {
    'rollback minimum volume': {
      lines: fewest((n) => ({ ...quiet, scored: n, anomalous: n })),
      requests: fewest((n) => ({ ...quiet, requests: n, errors: n })),
    },
    'rollback evaluation periods': periodsToRollBack({ ...quiet, scored: 100_000, anomalous: 100_000 }),
  };
}

/** The lifecycle stages a rehearsal of `deployment` judges the new revision at, on a virtual clock. */
async function rehearsedGateStages(
  deployment: DeploymentWiring,
  policy: RollbackPolicyWiring,
): Promise<string[]> {
  let now = 0;
  const stages: string[] = [];
  const quiet: RevisionSample = { scored: 0, anomalous: 0, requests: 0, errors: 0, healthy: true };
  const driver: DeploymentDriver = {
    currentRevision: { id: 1, label: 'probe:1' },
    startRevision: async () => ({ id: 2, label: 'probe:2' }),
    shift: () => {},
    sample: async () => quiet,
    requests: () => 0,
    stopRevision: async () => {},
    sleep: async (ms) => {
      now += ms;
    },
    now: () => now,
    progress: (line) => {
      const stage = / gate ([A-Z_]+):/.exec(line)?.[1];
      if (stage) stages.push(stage);
    },
    report: () => {},
  };
  await runLocalDeployment('probe', deployment, policy, {}, driver);
  return stages;
}
