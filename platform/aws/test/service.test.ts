import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { LOG_ROUTER_IMAGE } from '../../../contracts/sidecar.ts';
import { LOG_ROUTER_CONTAINER, ROLLBACK_POLICY } from '../../wiring/index.ts';

import { logicalIdOf, manifestFixture, synthPlatform } from './builder.ts';

interface ContainerJson {
  Name: string;
  Essential?: boolean;
  User?: string;
  ReadonlyRootFilesystem?: boolean;
  FirelensConfiguration?: { Type: string; Options?: Record<string, unknown> };
  LogConfiguration?: { LogDriver: string; Options?: Record<string, unknown> };
  Environment?: Array<{ Name: string; Value: unknown }>;
  HealthCheck?: { Command: string[] };
  Image?: unknown;
  RestartPolicy?: unknown;
}

describe('Services', () => {
  // GIVEN the repository's declaration (backend internal, frontend web talking to it) WHEN rendered
  const platform = synthPlatform();
  const { template } = platform;
  after(() => platform.dispose());
  const taskDefinitions = template.findResources('AWS::ECS::TaskDefinition');
  const containersOf = (family: string): ContainerJson[] => {
    const entry = Object.values(taskDefinitions).find((t) => t.Properties.Family === family);
    assert.ok(entry, `no task definition ${family}`);
    return entry.Properties.ContainerDefinitions as ContainerJson[];
  };
  const groupOf = (service: string) =>
    logicalIdOf(template, 'AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: `${service} tasks: ingress only from declared callers` },
    });
  const ingressTo = (group: string) =>
    Object.values(
      template.findResources('AWS::EC2::SecurityGroupIngress', {
        Properties: { GroupId: { 'Fn::GetAtt': [group, 'GroupId'] } },
      }),
    ).map((r) => r.Properties as Record<string, unknown>);

  it('renders one awsvpc EC2 task definition per service', () => {
    assert.deepEqual(
      Object.values(taskDefinitions)
        .map((t) => t.Properties.Family)
        .sort(),
      ['acme-backend', 'acme-frontend'],
    );
    template.allResourcesProperties('AWS::ECS::TaskDefinition', {
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['EC2'],
    });
  });

  for (const family of ['acme-backend', 'acme-frontend']) {
    it(`${family}: carries the FireLens router, the non-essential sidecar and the app logging through FireLens`, () => {
      const containers = containersOf(family);
      assert.deepEqual(
        containers.map((c) => c.Name),
        ['log_router', 'app', 'anomaly-sidecar'],
      );
      const [router, app, sidecar] = containers as [ContainerJson, ContainerJson, ContainerJson];
      assert.equal(router.Essential, true);
      assert.deepEqual(router.FirelensConfiguration, {
        Type: 'fluentbit',
        Options: {
          'enable-ecs-log-metadata': 'true',
          'config-file-type': 'file',
          'config-file-value': '/fluent-bit/etc/anomaly-sidecar.conf',
        },
      });
      // The router keeps its own awslogs and has the FireLens uptime check; everything else logs through it.
      assert.equal(router.LogConfiguration?.LogDriver, 'awslogs');
      assert.deepEqual(router.HealthCheck?.Command, [...LOG_ROUTER_CONTAINER.healthCheckCommand]);
      assert.equal(app.LogConfiguration?.LogDriver, 'awsfirelens');
      assert.equal(sidecar.Essential, false);
      assert.equal(sidecar.LogConfiguration?.LogDriver, 'awsfirelens');
      assert.deepEqual(sidecar.RestartPolicy, { Enabled: true, RestartAttemptPeriod: 60 });
      assert.match(sidecar.HealthCheck?.Command[3] ?? '', /^fetch\('http:\/\/127\.0\.0\.1:9880\/health'/);
      const env = Object.fromEntries((sidecar.Environment ?? []).map((e) => [e.Name, e.Value]));
      assert.equal(env.SERVICE_NAME, family.replace('acme-', ''));
      assert.equal(env.ENDPOINT_NAME, 'log-anomaly');
      // The service's declared alert budget (the endpoint's 0.001 by default) decides its anomalies.
      assert.equal(env.ANOMALY_BUDGET, '0.001');
      assert.deepEqual(env.CLUSTER_NAME, { Ref: logicalIdOf(template, 'AWS::ECS::Cluster') });
    });

    it(`${family}: runs app and sidecar as non-root on read-only root filesystems, with a curl-free health check`, () => {
      const [, app, sidecar] = containersOf(family) as [ContainerJson, ContainerJson, ContainerJson];
      for (const container of [app, sidecar]) {
        assert.equal(container.User, '1000:1000');
        assert.equal(container.ReadonlyRootFilesystem, true);
      }
      const port = family === 'acme-backend' ? 8081 : 8080;
      assert.deepEqual(app.HealthCheck?.Command.slice(0, 3), ['CMD', 'node', '-e']);
      assert.match(
        app.HealthCheck?.Command[3] ?? '',
        new RegExp(`^fetch\\('http://127\\.0\\.0\\.1:${port}/healthz'`),
      );
    });
  }

  it('injects the backend discovery URL into the frontend and registers the backend in Cloud Map', () => {
    const [, app] = containersOf('acme-frontend') as [ContainerJson, ContainerJson];
    const env = Object.fromEntries((app.Environment ?? []).map((e) => [e.Name, e.Value]));
    assert.equal(env.BACKEND_URL, 'http://backend.acme.internal:8081');
    template.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', { Name: 'acme.internal' });
    template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
      Name: 'backend',
      DnsConfig: Match.objectLike({ DnsRecords: [{ TTL: 10, Type: 'A' }] }),
    });
  });

  it('rolls back failed deployments, keeps full capacity during them and spreads across AZs', () => {
    for (const desired of [2]) {
      template.allResourcesProperties('AWS::ECS::Service', {
        DesiredCount: desired,
        DeploymentConfiguration: Match.objectLike({
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
          MinimumHealthyPercent: 100,
          MaximumPercent: 200,
        }),
        CapacityProviderStrategy: [
          { CapacityProvider: { Ref: logicalIdOf(template, 'AWS::ECS::CapacityProvider') }, Weight: 1 },
        ],
        PlacementStrategies: [
          { Type: 'spread', Field: 'attribute:ecs.availability-zone' },
          { Type: 'binpack', Field: 'MEMORY' },
        ],
        EnableExecuteCommand: false,
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      });
    }
  });

  it('scales each service on CPU with the declared bounds, target and cooldowns', () => {
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 2);
    template.allResourcesProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 6,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    template.allResourcesProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
        ScaleInCooldown: 120,
        ScaleOutCooldown: 60,
      },
    });
  });

  it('lets the backend be reached only from the frontend’s group, on its port', () => {
    const backend = groupOf('backend');
    assert.deepEqual(ingressTo(backend), [
      {
        IpProtocol: 'tcp',
        FromPort: 8081,
        ToPort: 8081,
        GroupId: { 'Fn::GetAtt': [backend, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [groupOf('frontend'), 'GroupId'] },
        Description: 'frontend calls backend',
      },
    ]);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'backend tasks: ingress only from declared callers',
      SecurityGroupIngress: Match.absent(),
    });
  });

  it('lets the frontend be reached only from the ALB’s group, on its port', () => {
    const frontend = groupOf('frontend');
    const alb = logicalIdOf(template, 'AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('^Internet-facing ALB') },
    });
    const rules = ingressTo(frontend);
    assert.equal(rules.length, 1);
    assert.deepEqual(rules[0]?.SourceSecurityGroupId, { 'Fn::GetAtt': [alb, 'GroupId'] });
    assert.equal(rules[0]?.FromPort, 8080);
    assert.equal(rules[0]?.ToPort, 8080);
  });

  it('gives only the service declaring platformAccess.readAnomalies the anomaly names and read access', () => {
    const [, backendApp] = containersOf('acme-backend') as [ContainerJson, ContainerJson];
    const env = Object.fromEntries((backendApp.Environment ?? []).map((e) => [e.Name, e.Value]));
    const anomalyGroup = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) =>
      id.startsWith('LoggingAnomalyLogGroup'),
    )!;
    const cluster = logicalIdOf(template, 'AWS::ECS::Cluster');
    assert.equal(env.ANOMALY_SOURCE, 'cloudwatch');
    assert.deepEqual(env.ANOMALY_LOG_GROUP, { Ref: anomalyGroup });
    // The service directory names each service's ECS service, whose counts give its health on AWS.
    assert.deepEqual(env.SERVICES, {
      'Fn::Join': [
        '',
        [
          '[{"name":"backend","kind":"internal","alertBudget":0.001,"ecs":{"cluster":"',
          { Ref: cluster },
          '","service":"backend"}},{"name":"frontend","kind":"web","alertBudget":0.001,"ecs":{"cluster":"',
          { Ref: cluster },
          '","service":"frontend"}}]',
        ],
      ],
    });
    // The prediction playground: the endpoint's name and InvokeEndpoint on it alone (503 on AWS before).
    assert.equal(env.MODEL_ENDPOINT_NAME, 'log-anomaly');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^ServicebackendTaskDefinitionTaskRoleDefaultPolicy'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'logs:FilterLogEvents',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [anomalyGroup, 'Arn'] },
          },
          { Action: 'cloudwatch:GetMetricData', Effect: 'Allow', Resource: '*' },
        ]),
      },
    });
    const [, frontendApp] = containersOf('acme-frontend') as [ContainerJson, ContainerJson];
    assert.equal(
      (frontendApp.Environment ?? []).some((e) => e.Name === 'ANOMALY_LOG_GROUP'),
      false,
    );
    const frontendPolicy = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: {
          PolicyName: Match.stringLikeRegexp('^ServicefrontendTaskDefinitionTaskRoleDefaultPolicy'),
        },
      }),
    )[0];
    assert.doesNotMatch(JSON.stringify(frontendPolicy), /GetMetricData|FilterLogEvents/);
  });

  it('lets the console list only the platform’s own alarms (issue 25: DescribeAlarms was on *)', () => {
    const [, backendApp] = containersOf('acme-backend') as [ContainerJson, ContainerJson];
    const env = Object.fromEntries((backendApp.Environment ?? []).map((e) => [e.Name, e.Value]));
    const stackName = platform.stack.stackName;
    assert.equal(env.ALARM_NAME_PREFIX, `${stackName}-`);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>,
    );
    const describeAlarms = statements.filter((s) =>
      JSON.stringify(s.Action).includes('cloudwatch:DescribeAlarms'),
    );
    assert.ok(describeAlarms.length > 0);
    for (const statement of describeAlarms) {
      assert.notEqual(statement.Resource, '*', 'DescribeAlarms takes the alarm resource type');
    }
    const backendPolicy = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: {
          PolicyName: Match.stringLikeRegexp('^ServicebackendTaskDefinitionTaskRoleDefaultPolicy'),
        },
      }),
    )[0]!.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    const backendAlarms = backendPolicy.find((s) => s.Action === 'cloudwatch:DescribeAlarms')!;
    assert.match(JSON.stringify(backendAlarms.Resource), new RegExp(`:alarm:${stackName}-\\*"\\]\\]\\}$`));
  });

  it('counts the router’s given-up chunks per path and alarms on any lost delivery (issue 25)', () => {
    for (const service of ['backend', 'frontend']) {
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        FilterPattern: '"cannot be retried" "output=cloudwatch_logs"',
        MetricTransformations: [
          Match.objectLike({
            MetricNamespace: 'Platform/LogRouter',
            MetricName: `DeliveryChunksDropped-${service}`,
          }),
        ],
      });
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        FilterPattern: '"would exceed total limit size" "plugin cloudwatch_logs"',
        MetricTransformations: [
          Match.objectLike({
            MetricNamespace: 'Platform/LogRouter',
            MetricName: `DeliveryChunksDropped-${service}`,
          }),
        ],
      });
      for (const pattern of [
        '"is not retried" "output=http"',
        '"would exceed total limit size" "plugin http"',
      ]) {
        template.hasResourceProperties('AWS::Logs::MetricFilter', {
          FilterPattern: pattern,
          MetricTransformations: [Match.objectLike({ MetricName: `ScoringChunksDropped-${service}` })],
        });
      }
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Platform/LogRouter',
        MetricName: `DeliveryChunksDropped-${service}`,
        Statistic: 'Sum',
        Period: 60,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('Notifications') })],
      });
    }
  });

  it('allows the task role to invoke only the model endpoint', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^ServicebackendTaskDefinitionTaskRoleDefaultPolicy'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'sagemaker:InvokeEndpoint',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':sagemaker:us-east-1:',
                  { Ref: 'AWS::AccountId' },
                  ':endpoint/log-anomaly',
                ],
              ],
            },
          },
        ]),
      },
    });
  });
});

describe('The intake token: only the task’s router may post to its sidecar (containers of an awsvpc task share localhost)', () => {
  // GIVEN the repository's declaration WHEN rendered
  const platform = synthPlatform();
  const { template } = platform;
  after(() => platform.dispose());
  const taskDefinitions = Object.values(template.findResources('AWS::ECS::TaskDefinition'));

  for (const family of ['acme-backend', 'acme-frontend']) {
    it(`${family}: the router and the sidecar read the same generated secret; the app gets nothing`, () => {
      const entry = taskDefinitions.find((t) => t.Properties.Family === family)!;
      const containers = entry.Properties.ContainerDefinitions as (ContainerJson & {
        Secrets?: { Name: string; ValueFrom: unknown }[];
      })[];
      const tokenOf = (name: string) =>
        containers.find((c) => c.Name === name)?.Secrets?.find((s) => s.Name === 'INTAKE_TOKEN')?.ValueFrom;
      const router = tokenOf('log_router');
      assert.ok(router, 'the router has no INTAKE_TOKEN secret');
      assert.deepEqual(tokenOf('anomaly-sidecar'), router);
      const app = containers.find((c) => c.Name === 'app')!;
      assert.equal(tokenOf('app'), undefined);
      assert.ok(!(app.Environment ?? []).some((e) => e.Name === 'INTAKE_TOKEN'));
      for (const container of containers) {
        assert.ok(
          !(container.Environment ?? []).some((e) => e.Name === 'INTAKE_TOKEN'),
          'never in plain environment',
        );
      }
      // The reference is a Secrets Manager secret of this stack, generated (no value in the template).
      const secretId = (router as { Ref: string }).Ref;
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: {
          GenerateSecretString: Match.objectLike({ PasswordLength: 48, ExcludePunctuation: true }),
        },
      });
      assert.ok(
        template.findResources('AWS::SecretsManager::Secret')[secretId],
        `${secretId} is not a secret of the stack`,
      );
    });
  }

  it('only the execution roles may read the tokens; no task role can', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const readers = policies.filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('secretsmanager:GetSecretValue'),
    );
    assert.ok(readers.length >= 2);
    for (const policy of readers) {
      for (const role of policy.Properties.Roles as { Ref: string }[]) {
        assert.match(role.Ref, /ExecutionRole/, `${role.Ref} may read a secret`);
      }
    }
  });
});

describe('Services without anomaly scoring', () => {
  // GIVEN the frontend declared with scoring off WHEN rendered
  const platform = synthPlatform({
    manifest: manifestFixture((m) => {
      const frontend = m.services.find((s) => s.name === 'frontend')!;
      frontend.anomaly.enabled = false;
    }),
  });
  after(() => platform.dispose());

  it('keeps the FireLens router with its CloudWatch-only config, and drops the sidecar', () => {
    const entry = Object.values(platform.template.findResources('AWS::ECS::TaskDefinition')).find(
      (t) => t.Properties.Family === 'acme-frontend',
    );
    const containers = entry?.Properties.ContainerDefinitions as ContainerJson[];
    assert.deepEqual(
      containers.map((c) => c.Name),
      ['log_router', 'app'],
    );
    assert.deepEqual(containers[0]?.FirelensConfiguration?.Options, {
      'enable-ecs-log-metadata': 'true',
      'config-file-type': 'file',
      'config-file-value': LOG_ROUTER_IMAGE.configFiles.plain,
    });
    const routerEnv = Object.fromEntries((containers[0]?.Environment ?? []).map((e) => [e.Name, e.Value]));
    assert.equal(routerEnv.ANOMALY_LOG_GROUP_NAME, undefined);
    assert.equal(routerEnv.APP_LOG_STREAM_PREFIX, 'frontend/');
    assert.equal(containers[1]?.LogConfiguration?.LogDriver, 'awsfirelens');
  });
});

describe('First deploy: images and names', () => {
  const platform = synthPlatform();
  after(() => platform.dispose());
  const images = Object.values(platform.template.findResources('AWS::ECS::TaskDefinition')).flatMap((t) =>
    (t.Properties.ContainerDefinitions as ContainerJson[]).map((c) => JSON.stringify(c.Image)),
  );

  it('pulls every task image from a repository of the bootstrap stack, named by its release parameter', () => {
    platform.template.resourceCountIs('AWS::ECR::Repository', 0);
    assert.ok(images.length >= 6);
    for (const image of images) {
      assert.match(image, /^"\{\{resolve:ssm:\/acme\/release\/(backend|frontend|sidecar|log-router)\}\}"$/);
    }
  });

  it('gives no log group a fixed name, so a deleted and re-created stack does not collide with retained ones', () => {
    for (const [id, group] of Object.entries(platform.template.findResources('AWS::Logs::LogGroup'))) {
      const name = group.Properties.LogGroupName as unknown;
      // Names AWS services choose themselves (e.g. /aws/sagemaker/Endpoints/…) are the only fixed ones.
      if (typeof name === 'string') assert.match(name, /^\/aws\//, id);
    }
  });
});

describe('Deployments (the declaration: frontend canary 10 % / 5 min, backend rolling)', () => {
  const platform = synthPlatform();
  const { template } = platform;
  after(() => platform.dispose());
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, read by path in the assertions
  type CfnProperties = Record<string, any>;
  const serviceNamed = (name: string): CfnProperties =>
    Object.values(template.findResources('AWS::ECS::Service')).find((s) => s.Properties.ServiceName === name)!
      .Properties;

  it('renders the frontend as an ECS canary with the declared percent and bake, its alarms rolling back', () => {
    const config = serviceNamed('frontend').DeploymentConfiguration;
    assert.equal(config.Strategy, 'CANARY');
    assert.deepEqual(config.CanaryConfiguration, { CanaryPercent: 10, CanaryBakeTimeInMinutes: 5 });
    assert.equal(config.Alarms.Enable, true);
    assert.equal(config.Alarms.Rollback, true);
    assert.equal(config.Alarms.AlarmNames.length, 3);
  });

  it('shifts the canary between the production and an alternate target group on the /* listener rule', () => {
    const lb = serviceNamed('frontend').LoadBalancers[0];
    const ids = Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
    const production = ids.find((id) => /^EdgefrontendTargetGroup/.test(id));
    const alternate = ids.find((id) => /^EdgefrontendAlternateTargetGroup/.test(id));
    assert.deepEqual(lb.TargetGroupArn, { Ref: production });
    assert.deepEqual(lb.AdvancedConfiguration.AlternateTargetGroupArn, { Ref: alternate });
    const rule = (priority: number, port: number) =>
      Object.entries(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).find(
        ([, r]) =>
          r.Properties.Priority === priority &&
          template.toJSON().Resources[r.Properties.ListenerArn.Ref].Properties.Port === port,
      )?.[0];
    assert.deepEqual(lb.AdvancedConfiguration.ProductionListenerRule, { Ref: rule(50_000, 443) });
    assert.deepEqual(lb.AdvancedConfiguration.TestListenerRule, { Ref: rule(50_000, 8443) });
  });

  it('calls the deployment gate after test and production traffic shift (the canary only)', () => {
    const hooks = serviceNamed('frontend').DeploymentConfiguration.LifecycleHooks;
    assert.equal(hooks.length, 1);
    assert.deepEqual(hooks[0].LifecycleStages, ['POST_TEST_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT']);
    const gate = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) =>
      id.startsWith('DeploymentGateFunction'),
    );
    assert.deepEqual(hooks[0].HookTargetArn, { 'Fn::GetAtt': [gate, 'Arn'] });
    assert.equal(serviceNamed('backend').DeploymentConfiguration.LifecycleHooks, undefined);
  });

  it('keeps the backend rolling, rolled back on its anomaly rate only (internal: no load balancer metrics)', () => {
    const config = serviceNamed('backend').DeploymentConfiguration;
    assert.equal(config.Strategy, 'ROLLING');
    assert.equal(config.Alarms.AlarmNames.length, 1);
    assert.deepEqual(config.DeploymentCircuitBreaker, { Enable: true, Rollback: true });
  });

  it("measures rates only above the wiring's minimum volume, over its evaluation periods, in valid metric math", () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      String(a.Properties.AlarmDescription).includes('during a deployment'),
    );
    assert.equal(alarms.length, 4);
    const expressionOf = (description: string) => {
      const alarm = alarms.find((a) => String(a.Properties.AlarmDescription).startsWith(description))!;
      assert.equal(alarm.Properties.EvaluationPeriods, ROLLBACK_POLICY.evaluationPeriods);
      assert.equal(alarm.Properties.DatapointsToAlarm, ROLLBACK_POLICY.evaluationPeriods);
      assert.equal(alarm.Properties.TreatMissingData, 'notBreaching');
      return (alarm.Properties.Metrics as { Expression?: string }[]).find((m) => m.Expression)!.Expression;
    };
    const { lines, requests } = ROLLBACK_POLICY.minimumVolume;
    assert.equal(
      expressionOf('backend: anomaly rate'),
      `IF(scored >= ${lines}, 100 * anomalous / scored, 0)`,
    );
    assert.equal(
      expressionOf('frontend: 5xx'),
      `IF((FILL(r0, 0) + FILL(r1, 0)) >= ${requests}, 100 * (FILL(e0, 0) + FILL(e1, 0)) / (FILL(r0, 0) + FILL(r1, 0)), 0)`,
    );
  });

  it('hands the gate the same minimum volume through its environment (functions/deployment-gate reads it)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('deployment lifecycle hook'),
      Environment: {
        Variables: Match.objectLike({
          MIN_SCORED_LINES: String(ROLLBACK_POLICY.minimumVolume.lines),
          MIN_REQUESTS: String(ROLLBACK_POLICY.minimumVolume.requests),
        }),
      },
    });
  });

  it("lets the console backend read the gate's logged decisions: GATE_LOG_GROUP and logs:FilterLogEvents on that group", () => {
    const backend = Object.values(template.findResources('AWS::ECS::TaskDefinition')).find(
      (t) => t.Properties.Family === 'acme-backend',
    )!;
    const containers = backend.Properties.ContainerDefinitions as {
      Name: string;
      Environment: { Name: string; Value: unknown }[];
    }[];
    const app = containers.find((c) => c.Name === 'app')!;
    const group = (prefix: string) =>
      Object.keys(template.findResources('AWS::Logs::LogGroup')).find((key) => key.startsWith(prefix));
    const gateGroup = group('DeploymentGateFunctionLogs');
    assert.ok(gateGroup);
    assert.deepEqual(app.Environment.find((e) => e.Name === 'GATE_LOG_GROUP')?.Value, { Ref: gateGroup });
    const role = backend.Properties.TaskRoleArn['Fn::GetAtt'][0] as string;
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]);
    assert.deepEqual(
      statements.filter((st) => st.Action === 'logs:FilterLogEvents').map((st) => st.Resource),
      [{ 'Fn::GetAtt': [group('LoggingAnomalyLogGroup'), 'Arn'] }, { 'Fn::GetAtt': [gateGroup, 'Arn'] }],
    );
  });

  it("gives the gate its environment from the wiring: minimum volume, deadline, each service's probes and outage policy, the anomaly log group it may read", () => {
    const [id, gate] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([key]) =>
      key.startsWith('DeploymentGateFunction'),
    )!;
    const env = gate.Properties.Environment.Variables as Record<string, unknown>;
    assert.equal(env.MIN_SCORED_LINES, String(ROLLBACK_POLICY.minimumVolume.lines));
    assert.equal(env.MIN_REQUESTS, String(ROLLBACK_POLICY.minimumVolume.requests));
    assert.equal(env.DEADLINE_SECONDS, String(ROLLBACK_POLICY.gateDeadlineSeconds));
    assert.deepEqual(JSON.parse(String(env.SERVICE_SETTINGS)), {
      frontend: { probes: ['/healthz', '/'], onScorerOutage: 'judge-on-errors' },
    });
    const anomalyGroup = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((key) =>
      key.startsWith('LoggingAnomalyLogGroup'),
    );
    assert.deepEqual(env.ANOMALY_LOG_GROUP, { Ref: anomalyGroup });
    const role = gate.Properties.Role['Fn::GetAtt'][0] as string;
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]);
    assert.deepEqual(
      statements.find((st) => st.Action === 'logs:FilterLogEvents')?.Resource,
      { 'Fn::GetAtt': [anomalyGroup, 'Arn'] },
      id,
    );
  });
});
