import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { declarePlatform } from '../../../config/declaration.ts';
import {
  Image,
  type InternalService,
  type Manifest,
  type Platform,
  WorkerService,
} from '../../../config/index.ts';
import { logicalIdOf, synthPlatform } from './builder.ts';

/** This repository's declaration plus two workers: `mailer` (calls the backend, healthy while up), `indexer` (a health command). */
export function withWorkers(): Manifest {
  const app = declarePlatform();
  const platform = app.node.findChild('acme') as Platform;
  const backend = platform.node.findChild('backend') as InternalService;
  new WorkerService(platform, 'mailer', {
    image: Image.fromDockerfile('mailer/Dockerfile', { entry: 'mailer/main.ts' }),
    talksTo: [backend],
    scaling: { min: 1, max: 3, targetCpuPercent: 70 },
  });
  new WorkerService(platform, 'indexer', {
    image: Image.fromRegistry('ghcr.io/shop/indexer@sha256:0123456789abcdef'),
    healthCheck: { command: ['test', '-f', '/tmp/alive'], intervalSeconds: 20, retries: 2 },
    anomaly: { enabled: false },
  });
  return app.synth();
}

interface ContainerJson {
  Name: string;
  PortMappings?: unknown[];
  HealthCheck?: { Command: string[]; Interval: number; Retries: number };
  LogConfiguration?: { LogDriver: string };
}

describe('Workers on ECS', () => {
  // GIVEN the declaration with two workers WHEN rendered (and checked against the CloudFormation spec by the builder)
  const platform = synthPlatform({ manifest: withWorkers() });
  const { template } = platform;
  after(() => platform.dispose());
  const serviceNamed = (name: string) => {
    const found = Object.values(template.findResources('AWS::ECS::Service')).find(
      (s) => s.Properties.ServiceName === name,
    );
    assert.ok(found, `no ECS service ${name}`);
    return found.Properties;
  };
  const containersOf = (family: string): ContainerJson[] => {
    const entry = Object.values(template.findResources('AWS::ECS::TaskDefinition')).find(
      (t) => t.Properties.Family === family,
    );
    assert.ok(entry, `no task definition ${family}`);
    return entry.Properties.ContainerDefinitions as ContainerJson[];
  };
  const workerGroup = (name: string) =>
    logicalIdOf(template, 'AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: `${name} tasks: a worker, no ingress` },
    });

  it('runs each worker as an ECS service on the EC2 capacity provider, awsvpc in the private subnets', () => {
    for (const name of ['mailer', 'indexer']) {
      const service = serviceNamed(name);
      assert.deepEqual(service.CapacityProviderStrategy, [
        { CapacityProvider: { Ref: logicalIdOf(template, 'AWS::ECS::CapacityProvider') }, Weight: 1 },
      ]);
      assert.equal(service.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp, 'DISABLED');
      const privateSubnets = Object.keys(
        template.findResources('AWS::EC2::Subnet', {
          Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]) },
        }),
      ).sort();
      assert.ok(privateSubnets.length >= 2);
      assert.deepEqual(
        service.NetworkConfiguration.AwsvpcConfiguration.Subnets.map((s: { Ref: string }) => s.Ref).sort(),
        privateSubnets,
      );
    }
  });

  it('gives a worker no port, no load balancer, no Cloud Map name and a group with no ingress', () => {
    const mailer = serviceNamed('mailer');
    assert.equal(mailer.LoadBalancers, undefined);
    assert.equal(mailer.ServiceRegistries, undefined);
    assert.equal(mailer.HealthCheckGracePeriodSeconds, undefined);
    const app = containersOf('acme-mailer').find((c) => c.Name === 'app');
    assert.equal(app?.PortMappings, undefined);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'mailer tasks: a worker, no ingress',
      SecurityGroupIngress: Match.absent(),
    });
    const ingress = template.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: { GroupId: { 'Fn::GetAtt': [workerGroup('mailer'), 'GroupId'] } },
    });
    assert.deepEqual(Object.keys(ingress), []);
  });

  it('lets the backend admit the worker that talksTo it, on its port, and hands the worker its URL', () => {
    const backend = logicalIdOf(template, 'AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: 'backend tasks: ingress only from declared callers' },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [backend, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [workerGroup('mailer'), 'GroupId'] },
      FromPort: 8081,
      ToPort: 8081,
      Description: 'mailer calls backend',
    });
    const app = containersOf('acme-mailer').find((c) => c.Name === 'app') as ContainerJson & {
      Environment: Array<{ Name: string; Value: unknown }>;
    };
    const env = Object.fromEntries(app.Environment.map((e) => [e.Name, e.Value]));
    assert.equal(env.BACKEND_URL, 'http://backend.acme.internal:8081');
    assert.equal(env.PORT, undefined);
  });

  it('routes the worker’s logs through FireLens to its sidecar, which is left out when scoring is off', () => {
    assert.deepEqual(
      containersOf('acme-mailer').map((c) => [c.Name, c.LogConfiguration?.LogDriver]),
      [
        ['log_router', 'awslogs'],
        ['app', 'awsfirelens'],
        ['anomaly-sidecar', 'awsfirelens'],
      ],
    );
    assert.deepEqual(
      containersOf('acme-indexer').map((c) => c.Name),
      ['log_router', 'app'],
    );
  });

  it('checks health by the declared command, or not at all (ECS replaces a task whose process exits)', () => {
    const mailer = containersOf('acme-mailer').find((c) => c.Name === 'app');
    assert.equal(mailer?.HealthCheck, undefined);
    const indexer = containersOf('acme-indexer').find((c) => c.Name === 'app');
    assert.deepEqual(indexer?.HealthCheck, {
      Command: ['CMD', 'test', '-f', '/tmp/alive'],
      Interval: 20,
      Timeout: 5,
      Retries: 2,
      StartPeriod: 15,
    });
  });

  it('deploys rolling, with the circuit breaker and the anomaly-rate alarm rolling back (no HTTP alarms)', () => {
    const config = serviceNamed('mailer').DeploymentConfiguration;
    assert.equal(config.Strategy, 'ROLLING');
    assert.deepEqual(config.DeploymentCircuitBreaker, { Enable: true, Rollback: true });
    assert.equal(config.Alarms.Enable, true);
    assert.equal(config.Alarms.Rollback, true);
    assert.equal(config.Alarms.AlarmNames.length, 1);
    const alarmId = config.Alarms.AlarmNames[0].Ref as string;
    const alarm = template.toJSON().Resources[alarmId];
    assert.equal(alarm.Type, 'AWS::CloudWatch::Alarm');
    assert.match(alarm.Properties.AlarmDescription, /^mailer: anomaly rate ≥ 5 % during a deployment/);
  });

  it('scales the worker on CPU between its declared bounds', () => {
    const mailer = logicalIdOf(template, 'AWS::ECS::Service', { Properties: { ServiceName: 'mailer' } });
    const targets = Object.entries(
      template.findResources('AWS::ApplicationAutoScaling::ScalableTarget', {
        Properties: { MinCapacity: 1, MaxCapacity: 3 },
      }),
    );
    assert.equal(targets.length, 1);
    assert.match(JSON.stringify(targets[0]![1].Properties.ResourceId), new RegExp(mailer));
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      ScalingTargetId: { Ref: targets[0]![0] },
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 70,
      }),
    });
  });
});
