import type { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_SERVICE_RULE_PRIORITY } from '../../aws/constructs/edge.ts';
import type { ContainerFacts, PartFacts, Rendering, RouteFacts, TaskFacts } from './renderings.ts';

type Json = Record<string, unknown>;
type Resources = Record<string, { Type: string; Properties: Json }>;

/** Which grant an IAM action realises. */
const GRANT_OF_ACTION: Record<string, string> = {
  'sagemaker:InvokeEndpoint': 'invoke-model',
  'logs:FilterLogEvents': 'read-anomalies',
  'ecs:DescribeServices': 'read-service-state',
};

function probePath(command: unknown): string {
  const text = Array.isArray(command) ? command.join(' ') : String(command);
  const match = /127\.0\.0\.1:\d+(\/[^'"\s)]*)/.exec(text);
  return match?.[1] ?? '?';
}

/**
 * Reads the AWS rendering back from a synthesised template: every task's containers and grants, the
 * listener's routes, and the parts (scaling, target groups, gate stages, the service directory, the
 * model endpoint, the API, the rollback policy of the alarms and the gate).
 */
export function awsRendering(
  template: Template | { toJSON(): Json },
  families: Record<string, string>,
): Rendering {
  const resources = (template.toJSON() as { Resources: Resources }).Resources;
  const tasks: Record<string, TaskFacts> = {};
  const parts: PartFacts = {};
  for (const [service, family] of Object.entries(families)) {
    const definition = only(resources, 'AWS::ECS::TaskDefinition', (p) => p.Family === family, family);
    tasks[service] = { containers: containersOf(definition[1]), grants: grantsOf(resources, definition[1]) };
    Object.assign(parts, serviceParts(resources, service));
  }
  Object.assign(
    parts,
    directoryParts(resources),
    modelParts(resources),
    apiParts(resources),
    policyParts(resources),
  );
  return { tasks, routes: routesOf(resources), parts };
}

function only(
  resources: Resources,
  type: string,
  match: (p: Json) => boolean,
  what: string,
): [string, { Type: string; Properties: Json }] {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && match(r.Properties));
  if (found.length !== 1) throw new Error(`${found.length} ${type} for ${what}`);
  return found[0]!;
}

function containersOf(definition: { Properties: Json }): Record<string, ContainerFacts> {
  const containers: Record<string, ContainerFacts> = {};
  for (const c of definition.Properties.ContainerDefinitions as Json[]) {
    const env = ((c.Environment as { Name: string }[] | undefined) ?? []).map((e) => e.Name);
    const secrets = ((c.Secrets as { Name: string }[] | undefined) ?? []).map((e) => e.Name);
    const hc = c.HealthCheck as Json | undefined;
    // The log router's uptime check (a command, not an HTTP probe) has no local counterpart: the router is AWS's alone.
    const http = hc && (hc.Command as string[]).includes('node');
    containers[c.Name as string] = {
      environment: [...env, ...secrets].sort(),
      health: http
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
  return containers;
}

function grantsOf(resources: Resources, definition: { Properties: Json }): string[] {
  const roleRef = (definition.Properties.TaskRoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const grants = new Set<string>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    if (!(r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === roleRef)) continue;
    for (const statement of (r.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] })
      .Statement) {
      for (const action of [statement.Action].flat()) {
        const grant = GRANT_OF_ACTION[action];
        if (grant) grants.add(grant);
      }
    }
  }
  return [...grants].sort();
}

/** One service's scaling, target group (with the service's grace period) and gate stages. */
function serviceParts(resources: Resources, service: string): PartFacts {
  const [serviceId, ecsService] = only(
    resources,
    'AWS::ECS::Service',
    (p) => p.ServiceName === service,
    service,
  );
  const parts: PartFacts = {};
  const target = Object.entries(resources).find(
    ([, r]) =>
      r.Type === 'AWS::ApplicationAutoScaling::ScalableTarget' &&
      JSON.stringify(r.Properties.ResourceId).includes(`"${serviceId}","Name"`),
  );
  if (target) {
    const policy = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::ApplicationAutoScaling::ScalingPolicy' &&
        (r.Properties.ScalingTargetId as { Ref?: string }).Ref === target[0],
    )?.Properties.TargetTrackingScalingPolicyConfiguration as Json | undefined;
    parts[`task ${service}: scaling`] = {
      min: target[1].Properties.MinCapacity,
      max: target[1].Properties.MaxCapacity,
      targetCpu: policy?.TargetValue,
      scaleInCooldown: policy?.ScaleInCooldown,
      scaleOutCooldown: policy?.ScaleOutCooldown,
    };
  }
  const balancer = (ecsService.Properties.LoadBalancers as Json[] | undefined)?.[0];
  if (balancer) {
    const group = resources[(balancer.TargetGroupArn as { Ref: string }).Ref]!.Properties;
    const attributes = (group.TargetGroupAttributes as { Key: string; Value: string }[] | undefined) ?? [];
    parts[`task ${service}: target group`] = {
      port: group.Port,
      path: group.HealthCheckPath,
      interval: group.HealthCheckIntervalSeconds,
      timeout: group.HealthCheckTimeoutSeconds,
      healthy: group.HealthyThresholdCount,
      unhealthy: group.UnhealthyThresholdCount,
      codes: (group.Matcher as { HttpCode?: string } | undefined)?.HttpCode,
      deregistration: Number(attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value),
      grace: ecsService.Properties.HealthCheckGracePeriodSeconds,
    };
  }
  const hooks =
    ((ecsService.Properties.DeploymentConfiguration as Json | undefined)?.LifecycleHooks as
      | Json[]
      | undefined) ?? [];
  parts[`task ${service}: gate stages`] = [...new Set(hooks.flatMap((h) => h.LifecycleStages as string[]))];
  return parts;
}

/** The service directory a console task receives, its tokens (the cluster's name) left as `<token>`. */
function directoryParts(resources: Resources): PartFacts {
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::ECS::TaskDefinition') continue;
    for (const c of r.Properties.ContainerDefinitions as Json[]) {
      const variable = ((c.Environment as { Name: string; Value: unknown }[] | undefined) ?? []).find(
        (e) => e.Name === 'SERVICES',
      );
      if (!variable) continue;
      const entries = JSON.parse(joined(variable.Value)) as {
        name: string;
        kind: string;
        ecs?: { service: string };
      }[];
      // On AWS the health source is the ECS service of the same name (the declared difference
      // 'directory-health-source'); any other service would be a renderer's own decision.
      return {
        directory: entries.map((e) => ({
          name: e.name,
          kind: e.kind,
          ...(e.ecs?.service === e.name ? {} : { ecsService: e.ecs?.service ?? null }),
        })),
      };
    }
  }
  return {};
}

function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return '"<token>"';
  return join[1].map((part) => (typeof part === 'string' ? part : '<token>')).join(join[0]);
}

function modelParts(resources: Resources): PartFacts {
  const endpoint = Object.values(resources).find((r) => r.Type === 'AWS::SageMaker::Endpoint');
  if (!endpoint) return {};
  const config = Object.values(resources).find((r) => r.Type === 'AWS::SageMaker::EndpointConfig')!;
  const variant = (config.Properties.ProductionVariants as Json[])[0]!;
  return {
    model: { name: endpoint.Properties.EndpointName },
    'model instances': { type: variant.InstanceType, count: variant.InitialInstanceCount },
  };
}

function apiParts(resources: Resources): PartFacts {
  const methods = Object.values(resources).filter(
    (r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.HttpMethod !== 'OPTIONS',
  );
  if (methods.length === 0) return {};
  const method = methods[0]!.Properties;
  const resource = resources[(method.ResourceId as { Ref: string }).Ref]!.Properties;
  const stage = Object.values(resources).find((r) => r.Type === 'AWS::ApiGateway::Stage')!;
  const model = Object.values(resources).find((r) => r.Type === 'AWS::ApiGateway::Model')!;
  const plans = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::UsagePlan');
  return {
    'api route': { method: method.HttpMethod, path: `/${resource.PathPart}` },
    'api stage': stage.Properties.StageName,
    'api keys': plans.map((p) => {
      const throttle = p.Properties.Throttle as { RateLimit: number; BurstLimit: number };
      return {
        name: String(p.Properties.UsagePlanName).replace(/^.*-prediction-/, ''),
        rate: throttle.RateLimit,
        burst: throttle.BurstLimit,
        quota: (p.Properties.Quota as { Limit: number }).Limit,
        required: method.ApiKeyRequired,
      };
    }),
    'api schema': model.Properties.Schema,
  };
}

/** The rollback policy as the deployment alarms and the gate's environment render it. */
function policyParts(resources: Resources): PartFacts {
  const lines = new Set<number>();
  const requests = new Set<number>();
  const periods = new Set<number>();
  for (const r of Object.values(resources)) {
    if (
      r.Type === 'AWS::CloudWatch::Alarm' &&
      String(r.Properties.AlarmDescription).includes('during a deployment')
    ) {
      periods.add(r.Properties.EvaluationPeriods as number);
      for (const m of (r.Properties.Metrics as { Expression?: string }[] | undefined) ?? []) {
        const scored = /^IF\(scored >= (\d+),/.exec(m.Expression ?? '');
        if (scored) lines.add(Number(scored[1]));
        const asked = /^IF\(\([^)]*\)\) >= (\d+),/.exec(m.Expression ?? '');
        if (asked) requests.add(Number(asked[1]));
      }
    }
    const variables = (r.Properties?.Environment as { Variables?: Record<string, string> } | undefined)
      ?.Variables;
    if (r.Type === 'AWS::Lambda::Function' && variables?.MIN_SCORED_LINES) {
      lines.add(Number(variables.MIN_SCORED_LINES));
      requests.add(Number(variables.MIN_REQUESTS));
    }
  }
  const one = (values: Set<number>) =>
    values.size === 1 ? [...values][0] : [...values].sort((a, b) => a - b);
  return {
    'rollback minimum volume': {
      lines: one(lines),
      ...(requests.size > 0 ? { requests: one(requests) } : {}),
    },
    'rollback evaluation periods': one(periods),
  };
}

function routesOf(resources: Resources): RouteFacts {
  const targetService = (ref: unknown): string => {
    const id = (ref as { Ref: string }).Ref;
    const match = /Edge([a-z][a-z0-9]*?)TargetGroup/.exec(id.replace(/-/g, ''));
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
  const [servingId, serving] =
    Object.entries(resources).find(
      ([, l]) =>
        l.Type === 'AWS::ElasticLoadBalancingV2::Listener' &&
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
      const conditions = r.Properties.Conditions as { PathPatternConfig?: { Values: string[] } }[];
      return {
        service: forwardService(forward),
        paths: conditions.flatMap((c) => c.PathPatternConfig?.Values ?? []),
        priority: r.Properties.Priority as number,
      };
    })
    .sort((a, b) => a.priority - b.priority);
  // The `/*` service is a rule evaluated last (ECS shifts traffic on rules, not default actions).
  const catchAll = rules.find((r) => r.priority === DEFAULT_SERVICE_RULE_PRIORITY);
  const actions = (serving?.Properties.DefaultActions as Json[] | undefined) ?? [];
  const forward = forwardOf(actions);
  const fixed = actions.find((a) => a.Type === 'fixed-response')?.FixedResponseConfig as Json | undefined;
  const fallback: RouteFacts['default'] = forward
    ? { service: forwardService(forward) }
    : fixed
      ? {
          status: Number(fixed.StatusCode),
          contentType: fixed.ContentType as string,
          body: fixed.MessageBody as string,
        }
      : null;
  return {
    rules: rules.filter((r) => r !== catchAll),
    default: catchAll ? { service: catchAll.service } : fallback,
  };
}
