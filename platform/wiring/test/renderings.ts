import type { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_SERVICE_RULE_PRIORITY } from '../../aws/constructs/edge.ts';
import type { LocalPlan } from '../../local/plan.ts';
import { type ContainerRole, DECLARED_DIFFERENCES, localOnlyVariableNames } from '../index.ts';

/**
 * The facts of a rendered task, read back from each renderer's output (a synthesised template, a
 * local plan) in one comparable form. The parity test compares these, never the wiring itself: a
 * renderer that adds a fact on its own shows up here.
 */
export interface ContainerFacts {
  readonly environment: readonly string[];
  readonly health: {
    interval: number;
    timeout: number;
    retries: number;
    startPeriod: number;
    path: string;
  } | null;
  readonly stopTimeoutSeconds: number | null;
  readonly listens: boolean;
}

export interface TaskFacts {
  /** Containers by name. */
  readonly containers: Record<string, ContainerFacts>;
  /** Grant kinds the task holds (IAM on AWS, the variables handed out locally). */
  readonly grants: readonly string[];
}

export interface RouteFacts {
  readonly rules: readonly { service: string; paths: readonly string[]; priority: number }[];
  /** The listener's default: a service, or a fixed response. */
  readonly default: { service: string } | { status: number; contentType: string; body: string } | null;
}

export interface Rendering {
  readonly tasks: Record<string, TaskFacts>;
  readonly routes: RouteFacts;
}

type Json = Record<string, unknown>;

/** Which grant an IAM action realises. */
const GRANT_OF_ACTION: Record<string, string> = {
  'sagemaker:InvokeEndpoint': 'invoke-model',
  'logs:FilterLogEvents': 'read-anomalies',
  'ecs:DescribeServices': 'read-service-state',
};

/** Which variables realise a grant locally (the process is handed the means, not a credential). */
const GRANT_OF_VARIABLE: Record<string, string> = {
  MODEL_ENDPOINT_NAME: 'invoke-model',
  ENDPOINT_NAME: 'invoke-model',
  ANOMALY_SOURCE: 'read-anomalies',
  SERVICES: 'read-service-state',
};

function probePath(command: unknown): string {
  const text = Array.isArray(command) ? command.join(' ') : String(command);
  const match = /127\.0\.0\.1:\d+(\/[^'"\s)]*)/.exec(text);
  return match?.[1] ?? '?';
}

/** Reads the AWS rendering of every task and the listener's routes from a synthesised template. */
export function awsRendering(
  template: Template | { toJSON(): Json },
  families: Record<string, string>,
): Rendering {
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: Json }> };
  const resources = json.Resources;
  const tasks: Record<string, TaskFacts> = {};
  for (const [service, family] of Object.entries(families)) {
    const entry = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::ECS::TaskDefinition' && r.Properties.Family === family,
    );
    if (!entry) throw new Error(`no task definition ${family}`);
    const [, definition] = entry;
    const containers: Record<string, ContainerFacts> = {};
    for (const c of definition.Properties.ContainerDefinitions as Json[]) {
      const env = ((c.Environment as { Name: string }[] | undefined) ?? []).map((e) => e.Name);
      const secrets = ((c.Secrets as { Name: string }[] | undefined) ?? []).map((e) => e.Name);
      const hc = c.HealthCheck as Json | undefined;
      containers[c.Name as string] = {
        environment: [...env, ...secrets].sort(),
        health:
          hc && !String((hc.Command as string[]).join(' ')).includes('8877')
            ? {
                interval: hc.Interval as number,
                timeout: hc.Timeout as number,
                retries: hc.Retries as number,
                startPeriod: hc.StartPeriod as number,
                path: probePath(hc.Command),
              }
            : null,
        stopTimeoutSeconds: (c.StopTimeout as number | undefined) ?? null,
        listens: env.includes('PORT'),
      };
    }
    const roleRef = (definition.Properties.TaskRoleArn as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];
    const grants = new Set<string>();
    for (const r of Object.values(resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      const roles = (r.Properties.Roles as { Ref: string }[]).map((x) => x.Ref);
      if (!roles.includes(roleRef)) continue;
      const doc = r.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] };
      for (const statement of doc.Statement) {
        for (const action of [statement.Action].flat()) {
          const grant = GRANT_OF_ACTION[action];
          if (grant) grants.add(grant);
        }
      }
    }
    tasks[service] = { containers, grants: [...grants].sort() };
  }

  const targetService = (ref: unknown): string => {
    const id = (ref as { Ref: string }).Ref;
    const match = /TargetGroup/.exec(id)
      ? /Edge([a-z][a-z0-9]*?)TargetGroup/.exec(id.replace(/-/g, ''))
      : null;
    if (!match) throw new Error(`target group ${id} names no service`);
    return match[1]!;
  };
  const forwardOf = (actions: Json[]) => actions.find((a) => a.Type === 'forward');
  /** A forward's service: its single target group, or the first (primary) of a weighted forward. */
  const forwardService = (forward: Json | undefined) => {
    const weighted = (forward?.ForwardConfig as { TargetGroups?: Json[] } | undefined)?.TargetGroups;
    return targetService(forward?.TargetGroupArn ?? weighted?.[0]?.TargetGroupArn);
  };
  // The listener that serves traffic: the production port (443, or 80 on an HTTP-only edge) whose
  // default action is not a redirect; the test route's listener (rollout.test.ts) is not a route.
  const listeners = Object.entries(resources).filter(
    ([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::Listener',
  );
  const [servingId, serving] =
    listeners.find(
      ([, l]) =>
        [443, 80].includes(l.Properties.Port as number) &&
        !(l.Properties.DefaultActions as Json[]).some((a) => a.Type === 'redirect'),
    ) ?? [];
  const rules = Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::ElasticLoadBalancingV2::ListenerRule' &&
        (r.Properties.ListenerArn as { Ref: string }).Ref === servingId,
    )
    .map((r) => {
      const forward = forwardOf(r.Properties.Actions as Json[]);
      const conditions = r.Properties.Conditions as {
        Field: string;
        PathPatternConfig?: { Values: string[] };
      }[];
      return {
        service: forwardService(forward),
        paths: conditions.flatMap((c) => c.PathPatternConfig?.Values ?? []),
        priority: r.Properties.Priority as number,
      };
    })
    .sort((a, b) => a.priority - b.priority);
  // The `/*` service is a rule evaluated last (ECS shifts traffic on rules, not default actions).
  const catchAll = rules.find((r) => r.priority === DEFAULT_SERVICE_RULE_PRIORITY);
  let fallback: RouteFacts['default'] = null;
  if (serving) {
    const actions = serving.Properties.DefaultActions as Json[];
    const forward = forwardOf(actions);
    const fixed = actions.find((a) => a.Type === 'fixed-response')?.FixedResponseConfig as Json | undefined;
    fallback = forward
      ? { service: forwardService(forward) }
      : fixed
        ? {
            status: Number(fixed.StatusCode),
            contentType: fixed.ContentType as string,
            body: fixed.MessageBody as string,
          }
        : null;
  }
  return {
    tasks,
    routes: {
      rules: rules.filter((r) => r !== catchAll),
      default: catchAll ? { service: catchAll.service } : fallback,
    },
  };
}

/** Reads the local rendering of every task from a plan, and the local ALB's routes. */
export function localRendering(
  plan: LocalPlan,
  rules: readonly { service: string; paths: readonly string[]; priority: number }[],
  unmatched: { status: number; contentType: string; body: string },
): Rendering {
  const tasks: Record<string, { containers: Record<string, ContainerFacts>; grants: Set<string> }> = {};
  for (const p of plan.processes) {
    if (!p.service || !p.container) continue;
    const task = tasks[p.service] ?? { containers: {}, grants: new Set<string>() };
    tasks[p.service] = task;
    const url = new URL(p.health.url);
    task.containers[p.container] = {
      environment: Object.keys(p.env).sort(),
      health: {
        interval: p.health.intervalMs / 1000,
        timeout: p.health.timeoutMs / 1000,
        retries: p.health.unhealthyThreshold,
        startPeriod: p.health.startPeriodMs / 1000,
        path: url.pathname,
      },
      stopTimeoutSeconds: p.stopTimeoutMs / 1000,
      listens: 'PORT' in p.env,
    };
    for (const name of Object.keys(p.env)) {
      const grant = GRANT_OF_VARIABLE[name];
      if (grant) task.grants.add(grant);
    }
  }
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
  };
}

/**
 * Every difference between the two renderings that {@link DECLARED_DIFFERENCES} does not name, one
 * line each. Empty means parity.
 */
export function undeclaredDifferences(
  aws: Rendering,
  local: Rendering,
  roles: Record<string, ContainerRole>,
): string[] {
  const found: string[] = [];
  const awsOnly = new Set<ContainerRole>(
    DECLARED_DIFFERENCES.flatMap((d) => ('awsOnlyContainers' in d ? [...d.awsOnlyContainers] : [])),
  );
  const services = new Set([...Object.keys(aws.tasks), ...Object.keys(local.tasks)]);
  for (const service of services) {
    const a = aws.tasks[service];
    const l = local.tasks[service];
    if (!a || !l) {
      found.push(`${service}: rendered only ${a ? 'on AWS' : 'locally'}`);
      continue;
    }
    const names = new Set([...Object.keys(a.containers), ...Object.keys(l.containers)]);
    for (const name of names) {
      const role = roles[name];
      if (!role) {
        found.push(`${service}/${name}: a container the wiring does not name`);
        continue;
      }
      const ac = a.containers[name];
      const lc = l.containers[name];
      if (!lc && ac && awsOnly.has(role)) continue;
      if (!ac || !lc) {
        found.push(`${service}/${name}: container rendered only ${ac ? 'on AWS' : 'locally'}`);
        continue;
      }
      const localOnly = localOnlyVariableNames(role);
      const localEnv = lc.environment.filter((n) => !localOnly.has(n));
      for (const n of ac.environment.filter((x) => !localEnv.includes(x)))
        found.push(`${service}/${name}: ${n} only on AWS`);
      for (const n of localEnv.filter((x) => !ac.environment.includes(x)))
        found.push(`${service}/${name}: ${n} only locally`);
      if (JSON.stringify(ac.health) !== JSON.stringify(lc.health)) {
        found.push(
          `${service}/${name}: health ${JSON.stringify(ac.health)} on AWS, ${JSON.stringify(lc.health)} locally`,
        );
      }
      if (ac.stopTimeoutSeconds !== lc.stopTimeoutSeconds) {
        found.push(
          `${service}/${name}: stop timeout ${ac.stopTimeoutSeconds}s on AWS, ${lc.stopTimeoutSeconds}s locally`,
        );
      }
      if (ac.listens !== lc.listens)
        found.push(`${service}/${name}: listens ${ac.listens} on AWS, ${lc.listens} locally`);
    }
    if (JSON.stringify(a.grants) !== JSON.stringify(l.grants)) {
      found.push(
        `${service}: grants ${a.grants.join(',') || 'none'} on AWS, ${l.grants.join(',') || 'none'} locally`,
      );
    }
  }
  if (JSON.stringify(aws.routes.rules) !== JSON.stringify(local.routes.rules)) {
    found.push(
      `routes: ${JSON.stringify(aws.routes.rules)} on AWS, ${JSON.stringify(local.routes.rules)} locally`,
    );
  }
  if (JSON.stringify(aws.routes.default) !== JSON.stringify(local.routes.default)) {
    found.push(
      `default route: ${JSON.stringify(aws.routes.default)} on AWS, ${JSON.stringify(local.routes.default)} locally`,
    );
  }
  return found;
}
