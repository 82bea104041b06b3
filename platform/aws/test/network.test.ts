import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PlatformLogging } from '../constructs/logging.ts';
import { Network } from '../constructs/network.ts';
import { logicalIdOf, manifestFixture, synthPlatform } from './builder.ts';

describe('Network', () => {
  // GIVEN the repository's declaration (2 AZs, 2 NAT gateways, endpoints on) WHEN rendered
  const platform = synthPlatform();
  const { template } = platform;
  after(() => platform.dispose());

  it('places one public and one private subnet in each of the two AZs', () => {
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    for (const index of [0, 1]) {
      const az = { 'Fn::Select': [index, { 'Fn::GetAZs': '' }] };
      for (const type of ['Public', 'Private']) {
        template.hasResourceProperties('AWS::EC2::Subnet', {
          AvailabilityZone: az,
          Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: type }]),
        });
      }
    }
    // Public subnets never hand out public IPs themselves (only the ALB and NAT gateways are public).
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
  });

  it('runs one NAT gateway per AZ by default', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  it('writes flow logs of all traffic to a KMS-encrypted log group with the declared retention', () => {
    const group = logicalIdOf(template, 'AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 90 },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: Match.absent(),
      RetentionInDays: 90,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LoggingKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: { Ref: group },
    });
  });

  it('creates the S3 gateway and the ECR, Logs and SageMaker runtime interface endpoints', () => {
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 5);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    for (const service of ['ecr.api', 'ecr.dkr', 'logs', 'sagemaker.runtime']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        ServiceName: `com.amazonaws.us-east-1.${service}`,
      });
    }
  });

  it('admits only the instances, the service tasks and the platform functions to the endpoints, on 443', () => {
    const endpointGroup = logicalIdOf(template, 'AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('^Interface VPC endpoints') },
    });
    const rules = Object.values(
      template.findResources('AWS::EC2::SecurityGroupIngress', {
        Properties: { GroupId: { 'Fn::GetAtt': [endpointGroup, 'GroupId'] } },
      }),
    ).map(
      (r) =>
        r.Properties as {
          FromPort: number;
          ToPort: number;
          SourceSecurityGroupId: { 'Fn::GetAtt': string[] };
        },
    );
    const sources = rules.map((r) => r.SourceSecurityGroupId['Fn::GetAtt'][0]).sort();
    assert.equal(rules.length, 6);
    assert.ok(rules.every((r) => r.FromPort === 443 && r.ToPort === 443));
    assert.deepEqual(
      sources.map((id) => id?.replace(/[0-9A-F]{8}$/, '')),
      [
        'CapacityInstanceSecurityGroup',
        'LogPipelineLogScorerSecurityGroup',
        'PredictionApiPredictSecurityGroup',
        'RemediationRemediateSecurityGroup',
        'ServicebackendSecurityGroup',
        'ServicefrontendSecurityGroup',
      ],
    );
    // No CIDR-wide rule on the endpoint group.
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Interface VPC endpoints'),
      SecurityGroupIngress: Match.absent(),
    });
  });
});

describe('Network validation', () => {
  const build = (change: Partial<ReturnType<typeof manifestFixture>['platform']['network']>) => () => {
    const stack = new Stack(new App(), 'Test');
    const logging = new PlatformLogging(stack, 'Logging', { platformName: 'acme', retentionDays: 30 });
    new Network(stack, 'Network', { network: { ...manifestFixture().platform.network, ...change }, logging });
  };

  it('rejects zero NAT gateways, naming the image that needs them', () => {
    assert.throws(build({ natGateways: 0 }), {
      message:
        'Test/Network: network.natGateways (0) must be ≥ 1. Fix: keep at least one NAT gateway; the ECS and CloudWatch agents (ECS, SSM, CloudWatch APIs) and the remediation function (ECS, EC2, SNS, DynamoDB, CloudWatch) call APIs this platform declares no VPC endpoint for.',
    });
  });

  it('rejects more NAT gateways than AZs', () => {
    assert.throws(build({ natGateways: 3 }), {
      message:
        'Test/Network: network.natGateways (3) must be ≤ availabilityZones (2). Fix: use at most one NAT gateway per AZ.',
    });
  });

  it('spans three AZs when three are declared, with one NAT gateway when one is declared', () => {
    const stack = new Stack(new App(), 'Test');
    const logging = new PlatformLogging(stack, 'Logging', { platformName: 'acme', retentionDays: 30 });
    new Network(stack, 'Network', {
      network: { ...manifestFixture().platform.network, availabilityZones: 3, natGateways: 1 },
      logging,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::Subnet', 6);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.hasResourceProperties('AWS::EC2::Subnet', {
      AvailabilityZone: { 'Fn::Select': [2, { 'Fn::GetAZs': '' }] },
    });
  });
});
