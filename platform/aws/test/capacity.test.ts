import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { logicalIdOf, synthPlatform, userDataText } from './builder.ts';

describe('Capacity', () => {
  // GIVEN the repository's declaration (t3.medium + t3a.medium, 2–6 instances) WHEN rendered
  const platform = synthPlatform();
  const { template } = platform;
  after(() => platform.dispose());
  const asg = logicalIdOf(template, 'AWS::AutoScaling::AutoScalingGroup');
  const launchTemplate = logicalIdOf(template, 'AWS::EC2::LaunchTemplate');

  it('turns on enhanced Container Insights', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
    });
  });

  it('binds the capacity provider to the ASG with managed scaling and draining, no termination protection', () => {
    template.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: {
        AutoScalingGroupArn: { Ref: asg },
        ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100 }),
        // Protected instances make a stack deletion hang (aws-cdk #18179); draining moves tasks first.
        ManagedTerminationProtection: 'DISABLED',
        ManagedDraining: 'ENABLED',
      },
    });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      NewInstancesProtectedFromScaleIn: Match.absent(),
    });
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: [{ Ref: logicalIdOf(template, 'AWS::ECS::CapacityProvider') }],
      DefaultCapacityProviderStrategy: [
        { CapacityProvider: { Ref: logicalIdOf(template, 'AWS::ECS::CapacityProvider') }, Weight: 1 },
      ],
    });
  });

  it('spans both AZs’ private subnets from the launch template, with both declared instance types', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '2',
      MaxSize: '6',
      AvailabilityZones: [
        { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
        { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] },
      ],
      VPCZoneIdentifier: [
        { Ref: Match.stringLikeRegexp('^NetworkVpcprivateSubnet1') },
        { Ref: Match.stringLikeRegexp('^NetworkVpcprivateSubnet2') },
      ],
      MixedInstancesPolicy: {
        InstancesDistribution: Match.objectLike({ OnDemandPercentageAboveBaseCapacity: 100 }),
        LaunchTemplate: {
          LaunchTemplateSpecification: Match.objectLike({ LaunchTemplateId: { Ref: launchTemplate } }),
          Overrides: [{ InstanceType: 't3.medium' }, { InstanceType: 't3a.medium' }],
        },
      },
      NotificationConfigurations: [
        Match.objectLike({ TopicARN: { Ref: Match.stringLikeRegexp('^NotificationsTopic') } }),
      ],
    });
  });

  it('requires IMDSv2 with hop limit 1, encrypts the gp3 root volume and assigns no public IP', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: Match.objectLike({
          HttpTokens: 'required',
          HttpPutResponseHopLimit: 1,
          HttpEndpoint: 'enabled',
        }),
        BlockDeviceMappings: [
          {
            DeviceName: '/dev/xvda',
            Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3', VolumeSize: 30 }),
          },
        ],
        NetworkInterfaces: [Match.objectLike({ AssociatePublicIpAddress: false, DeviceIndex: 0 })],
        Monitoring: { Enabled: true },
        // The ECS-optimised AL2023 AMI, resolved from SSM at deploy time (no synth-time lookup).
        ImageId: {
          Ref: Match.stringLikeRegexp(
            '^SsmParameterValueawsserviceecsoptimizedamiamazonlinux2023recommended',
          ),
        },
      }),
    });
  });

  it('configures the ECS agent to block task access to IMDS and to use task roles', () => {
    const resource = template.findResources('AWS::EC2::LaunchTemplate')[launchTemplate]!;
    const text = userDataText(
      (resource.Properties as { LaunchTemplateData: { UserData: unknown } }).LaunchTemplateData.UserData,
    );
    const lines = text.split('\n');
    assert.ok(lines.includes("echo 'ECS_AWSVPC_BLOCK_IMDS=true' >> /etc/ecs/ecs.config"), text);
    assert.ok(lines.includes("echo 'ECS_ENABLE_TASK_IAM_ROLE=true' >> /etc/ecs/ecs.config"), text);
    assert.ok(lines.includes('echo ECS_CLUSTER=<ref> >> /etc/ecs/ecs.config'), text);
  });

  it('gives the instances a group without ingress', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'acme ECS container instances (no ingress; HTTPS to AWS endpoints)',
      SecurityGroupIngress: Match.absent(),
    });
    const group = logicalIdOf(template, 'AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: 'acme ECS container instances (no ingress; HTTPS to AWS endpoints)' },
    });
    assert.deepEqual(
      Object.keys(
        template.findResources('AWS::EC2::SecurityGroupIngress', {
          Properties: { GroupId: { 'Fn::GetAtt': [group, 'GroupId'] } },
        }),
      ),
      [],
    );
  });

  it('lets the instance role write only its own log group (no logs:PutLogEvents on *)', () => {
    const role = logicalIdOf(template, 'AWS::IAM::Role', {
      Properties: { Description: Match.stringLikeRegexp('^acme ECS container instances') },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) =>
        (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: role })),
      )
      .flatMap(
        (p) =>
          p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
      );
    const logWrites = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('logs:')));
    assert.deepEqual(
      logWrites.map((s) => s.Resource),
      [
        {
          'Fn::GetAtt': [
            Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) =>
              id.startsWith('LogPipelineInstanceLogs'),
            )!,
            'Arn',
          ],
        },
      ],
    );
    // The ECS agent keeps its scoped statements.
    assert.ok(statements.some((s) => [s.Action].flat().includes('ecs:RegisterContainerInstance')));
    assert.ok(
      statements.some((s) => [s.Action].flat().includes('ecs:DiscoverPollEndpoint') && s.Resource === '*'),
    );
  });
});
