import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { declarePlatform } from '../../../config/declaration.ts';
import {
  Image,
  type InternalService,
  type Manifest,
  type Platform,
  Schedule,
  ScheduledJob,
} from '../../../config/index.ts';
import type { Json } from '../../../test/support/template-json.ts';
import { logicalIdOf, synthPlatform } from './builder.ts';

/** This repository's declaration plus a nightly job that calls the backend. */
function withJob(): Manifest {
  const app = declarePlatform();
  const platform = app.node.findChild('acme') as Platform;
  const backend = platform.node.findChild('backend') as InternalService;
  new ScheduledJob(platform, 'report', {
    image: Image.fromDockerfile('report/Dockerfile', { entry: 'report/main.ts' }),
    schedule: Schedule.cron('0 3 * * ? *'),
    timeZone: 'Europe/Paris',
    timeoutSeconds: 1800,
    retries: 3,
    talksTo: [backend],
  });
  return app.synth();
}

interface ContainerJson {
  Name: string;
  Essential?: boolean;
  Command?: string[];
  PortMappings?: unknown[];
  HealthCheck?: unknown;
  LogConfiguration?: { LogDriver: string };
}

describe('A scheduled job on AWS', () => {
  // GIVEN the declaration with a job WHEN rendered (checked against the CloudFormation spec by the builder)
  const platform = synthPlatform({ manifest: withJob() });
  const { template } = platform;
  after(() => platform.dispose());
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, Json> }
  >;
  const scheduleId = logicalIdOf(template, 'AWS::Scheduler::Schedule');
  const schedule = resources[scheduleId]!.Properties;
  const taskDefinitionId = logicalIdOf(template, 'AWS::ECS::TaskDefinition', {
    Properties: { Family: 'acme-report' },
  });
  const containers = resources[taskDefinitionId]!.Properties.ContainerDefinitions as ContainerJson[];
  const jobGroup = logicalIdOf(template, 'AWS::EC2::SecurityGroup', {
    Properties: { GroupDescription: 'report runs: a scheduled job, no ingress' },
  });

  it('schedules the declared cron in its time zone, on time, with no ECS service', () => {
    assert.equal(schedule.ScheduleExpression, 'cron(0 3 * * ? *)');
    assert.equal(schedule.ScheduleExpressionTimezone, 'Europe/Paris');
    assert.deepEqual(schedule.FlexibleTimeWindow, { Mode: 'OFF' });
    assert.equal(
      Object.values(template.findResources('AWS::ECS::Service')).some(
        (s) => s.Properties.ServiceName === 'report',
      ),
      false,
    );
  });

  it('targets ECS RunTask in the cluster: the family (latest revision), the EC2 capacity provider, private awsvpc', () => {
    const target = schedule.Target;
    assert.deepEqual(target.Arn, { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::ECS::Cluster'), 'Arn'] });
    const ecs = target.EcsParameters;
    assert.deepEqual(ecs.TaskDefinitionArn, {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':ecs:us-east-1:',
          { Ref: 'AWS::AccountId' },
          ':task-definition/acme-report',
        ],
      ],
    });
    assert.equal(ecs.TaskCount, 1);
    assert.equal(ecs.LaunchType, undefined);
    assert.deepEqual(ecs.CapacityProviderStrategy, [
      { CapacityProvider: { Ref: logicalIdOf(template, 'AWS::ECS::CapacityProvider') }, Weight: 1 },
    ]);
    const network = ecs.NetworkConfiguration.AwsvpcConfiguration;
    assert.equal(network.AssignPublicIp, 'DISABLED');
    assert.deepEqual(network.SecurityGroups, [{ 'Fn::GetAtt': [jobGroup, 'GroupId'] }]);
    const privateSubnets = Object.keys(
      template.findResources('AWS::EC2::Subnet', {
        Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]) },
      }),
    ).sort();
    assert.deepEqual(network.Subnets.map((s: { Ref: string }) => s.Ref).sort(), privateSubnets);
    assert.ok(
      resources[scheduleId] &&
        JSON.stringify(template.toJSON().Resources[scheduleId].DependsOn).includes(taskDefinitionId),
    );
  });

  it('retries a start that failed within the time left before the next run, then dead-letters it', () => {
    const target = schedule.Target;
    // A daily cron in Paris, 1800 s timeout: the shortest day is 23 h (the spring clock change), so a start
    // may be late by at most 82 800 − 1 800 s.
    assert.deepEqual(target.RetryPolicy, { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 81_000 });
    const queue = (schedule.Target.DeadLetterConfig.Arn['Fn::GetAtt'] as string[])[0]!;
    assert.equal(resources[queue]?.Type, 'AWS::SQS::Queue');
    assert.deepEqual(resources[queue]?.Properties.RedriveAllowPolicy, { redrivePermission: 'denyAll' });
    assert.deepEqual(resources[queue]?.Properties.KmsMasterKeyId, {
      'Fn::GetAtt': [
        logicalIdOf(template, 'AWS::KMS::Key', {
          Properties: { Description: 'acme: CloudWatch Logs encryption' },
        }),
        'Arn',
      ],
    });
  });

  it("gives Scheduler a role that may only RunTask the job's family in this cluster and pass the run's two roles", () => {
    const roleId = schedule.Target.RoleArn['Fn::GetAtt'][0] as string;
    const role = resources[roleId]!.Properties;
    assert.deepEqual(role.AssumeRolePolicyDocument.Statement, [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    const policy = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
    )!.Properties.PolicyDocument.Statement as Array<Record<string, Json>>;
    const runTask = policy.find((s) => s.Action === 'ecs:RunTask')!;
    assert.equal(runTask.Resource.length, 2);
    assert.match(JSON.stringify(runTask.Resource[0]), /task-definition\/acme-report"\]\]\}$/);
    assert.match(JSON.stringify(runTask.Resource[1]), /task-definition\/acme-report:\*"\]\]\}$/);
    assert.deepEqual(runTask.Condition, {
      ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::ECS::Cluster'), 'Arn'] } },
    });
    const passRole = policy.find((s) => s.Action === 'iam:PassRole')!;
    assert.deepEqual(passRole.Condition, {
      StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
    const taskDefinition = resources[taskDefinitionId]!.Properties;
    assert.deepEqual(passRole.Resource, [taskDefinition.TaskRoleArn, taskDefinition.ExecutionRoleArn]);
    const queue = schedule.Target.DeadLetterConfig.Arn;
    assert.deepEqual(
      policy.slice(2).map((s) => ({ Action: s.Action, Resource: s.Resource })),
      [
        { Action: 'sqs:SendMessage', Resource: queue },
        {
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: {
            'Fn::GetAtt': [
              logicalIdOf(template, 'AWS::KMS::Key', {
                Properties: { Description: 'acme: CloudWatch Logs encryption' },
              }),
              'Arn',
            ],
          },
        },
      ],
    );
  });

  it('runs its own task: FireLens router, app (no port), scoring sidecar, and the deadline ending the run at its timeout', () => {
    assert.deepEqual(
      containers.map((c) => [c.Name, c.Essential, c.LogConfiguration?.LogDriver]),
      [
        ['log_router', true, 'awslogs'],
        ['app', true, 'awsfirelens'],
        ['anomaly-sidecar', false, 'awsfirelens'],
        ['deadline', true, 'awsfirelens'],
      ],
    );
    const app = containers.find((c) => c.Name === 'app')!;
    assert.equal(app.PortMappings, undefined);
    assert.equal(app.HealthCheck, undefined);
    const deadline = containers.find((c) => c.Name === 'deadline')!;
    assert.deepEqual(deadline.Command?.slice(0, 2), ['node', '-e']);
    assert.match(deadline.Command![2]!, /setTimeout\(.*process\.exit\(124\)\},1800000\)/);
    assert.match(deadline.Command![2]!, /process\.on\('SIGTERM',\(\)=>process\.exit\(0\)\)/);
    const taskDefinition = resources[taskDefinitionId]!.Properties;
    assert.equal(taskDefinition.NetworkMode, 'awsvpc');
    assert.deepEqual(taskDefinition.RequiresCompatibilities, ['EC2']);
  });

  it('raises the failed-run alarm on a non-zero exit, a timeout or a run that never started', () => {
    const ruleId = logicalIdOf(template, 'AWS::Events::Rule', {
      Properties: { Description: 'report: a run failed (non-zero exit, timed out, or never started)' },
    });
    const rule = resources[ruleId]!.Properties;
    assert.deepEqual(rule.EventPattern.source, ['aws.ecs']);
    assert.deepEqual(rule.EventPattern['detail-type'], ['ECS Task State Change']);
    assert.deepEqual(rule.EventPattern.detail.group, ['family:acme-report']);
    assert.deepEqual(rule.EventPattern.detail.lastStatus, ['STOPPED']);
    assert.deepEqual(rule.EventPattern.detail.$or, [
      { containers: { exitCode: [{ numeric: ['>', 0] }] } },
      { stopCode: ['TaskFailedToStart'] },
    ]);
    assert.deepEqual(rule.Targets[0].Arn, { Ref: logicalIdOf(template, 'AWS::SNS::Topic') });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Events',
      MetricName: 'TriggeredRules',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: ruleId } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: logicalIdOf(template, 'AWS::SNS::Topic') }],
    });
  });

  it('lets the backend admit the runs of the job that talks to it, and hands a run its URL', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      SourceSecurityGroupId: { 'Fn::GetAtt': [jobGroup, 'GroupId'] },
      FromPort: 8081,
      Description: 'report calls backend',
    });
    const app = containers.find((c) => c.Name === 'app') as ContainerJson & {
      Environment: Array<{ Name: string; Value: unknown }>;
    };
    assert.equal(
      app.Environment.find((e) => e.Name === 'BACKEND_URL')?.Value,
      'http://backend.acme.internal:8081',
    );
  });
});

describe("a team's declaration with a worker and a job through the validation gate", () => {
  it('passes cdk-nag (AwsSolutions) and cfn-guard, as `synth` runs them', async () => {
    // GIVEN a team's declaration using every kind WHEN synthesised with the gate on THEN nothing is refused.
    const { declarePlatform: declareShop } = await import('../../test/fixtures/shop.declaration.ts');
    const synthesised = synthPlatform({ manifest: declareShop().synth(), validate: true });
    try {
      assert.ok(synthesised.stack.jobs.get('nightly-report'));
      assert.equal(synthesised.stack.services.get('mailer')?.wiring.kind, 'worker');
    } finally {
      synthesised.dispose();
    }
  });
});
