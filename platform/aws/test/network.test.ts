import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Json } from '../../../test/support/template-json.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { PlatformLogging } from '../constructs/logging.ts';
import { Network } from '../constructs/network.ts';
import { logicalIdOf, manifestFixture, synthPlatform } from './builder.ts';

/** Every egress rule of the template (inline or its own resource) as `group: protocol → destination:ports`. */
export function egressRules(
  template: Template,
): Array<{ group: string; protocol: string; to: string; ports: string }> {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const rules: Array<{ group: string; protocol: string; to: string; ports: string }> = [];
  const describe = (group: string, rule: Json) => {
    const to =
      rule.CidrIp ??
      rule.CidrIpv6 ??
      rule.DestinationPrefixListId ??
      JSON.stringify(rule.DestinationSecurityGroupId);
    rules.push({
      group,
      protocol: String(rule.IpProtocol),
      to,
      ports: `${rule.FromPort ?? '*'}-${rule.ToPort ?? '*'}`,
    });
  };
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::EC2::SecurityGroup')
      for (const rule of r.Properties.SecurityGroupEgress ?? []) describe(id, rule);
    if (r.Type === 'AWS::EC2::SecurityGroupEgress')
      describe(JSON.stringify(r.Properties.GroupId), r.Properties);
  }
  return rules;
}

/** Egress rules that allow every protocol (or every port) to the whole internet. */
export function openEgress(template: Template): string[] {
  return egressRules(template)
    .filter(
      (r) => (r.to === '0.0.0.0/0' || r.to === '::/0') && (r.protocol === '-1' || r.ports === '0-65535'),
    )
    .map((r) => `${r.group}: ${r.protocol} → ${r.to}`);
}

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

  it('creates the S3 and DynamoDB gateways and an interface endpoint for every AWS API the platform calls', () => {
    const interfaces = [
      'ecr.api',
      'ecr.dkr',
      'logs',
      'monitoring',
      'sagemaker.runtime',
      'ecs',
      'ecs-agent',
      'ecs-telemetry',
      'ssm',
      'ec2',
      'sns',
      'sts',
    ];
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2 + interfaces.length);
    for (const gateway of ['s3', 'dynamodb']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${gateway}`]] },
      });
    }
    for (const service of interfaces) {
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
    // Instances, two services, four functions (predict, log-scorer, remediate, the deployment gate).
    assert.equal(rules.length, 7);
    // The ECR endpoints' own group admits the SageMaker model only.
    const ecrGroup = logicalIdOf(template, 'AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('^ECR interface endpoints') },
    });
    const ecrSources = Object.values(
      template.findResources('AWS::EC2::SecurityGroupIngress', {
        Properties: { GroupId: { 'Fn::GetAtt': [ecrGroup, 'GroupId'] } },
      }),
    ).map((r) => (r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0] as string).replace(/[0-9A-F]{8}$/, ''));
    assert.deepEqual(ecrSources, ['InferenceSecurityGroup']);
    assert.ok(rules.every((r) => r.FromPort === 443 && r.ToPort === 443));
    assert.deepEqual(
      sources.map((id) => id?.replace(/[0-9A-F]{8}$/, '')),
      [
        'CapacityInstanceSecurityGroup',
        'DeploymentGateSecurityGroup',
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

  it('allows no all-protocol egress to 0.0.0.0/0 anywhere: instances, services, functions, the model', () => {
    assert.deepEqual(openEgress(template), []);
    // What does leave for 0.0.0.0/0 is one port each: HTTPS from the ALB to the sign-in IdP, HTTPS to
    // S3/DynamoDB (gateway endpoint routes) for the instances, the model, the remediation function and
    // the backend (the remediation ledger), and the deployment gate's probes to the test route's port.
    const toAnywhere = egressRules(template).filter((r) => r.to === '0.0.0.0/0');
    assert.deepEqual(
      toAnywhere.map((r) => [r.group.replace(/[0-9A-F]{8}$/, ''), r.protocol, r.ports]).sort(),
      [
        ['CapacityInstanceSecurityGroup', 'tcp', '443-443'],
        ['DeploymentGateSecurityGroup', 'tcp', '8443-8443'],
        ['EdgeSecurityGroup', 'tcp', '443-443'],
        ['InferenceSecurityGroup', 'tcp', '443-443'],
        ['RemediationRemediateSecurityGroup', 'tcp', '443-443'],
        ['ServicebackendSecurityGroup', 'tcp', '443-443'],
      ],
    );
    // The frontend and the other functions reach AWS through the interface endpoints only.
    for (const group of [
      'ServicefrontendSecurityGroup',
      'PredictionApiPredictSecurityGroup',
      'LogPipelineLogScorerSecurityGroup',
    ]) {
      const mine = egressRules(template).filter((r) => r.group.includes(group));
      assert.ok(mine.length > 0, group);
      assert.ok(
        mine.every((r) => r.to !== '0.0.0.0/0'),
        `${group}: ${JSON.stringify(mine)}`,
      );
    }
  });

  it('lets the backend reach the DynamoDB gateway: it reads the remediation ledger (read-service-state)', () => {
    const ledgerReaders = egressRules(template).filter(
      (r) => r.group.startsWith('ServicebackendSecurityGroup') && r.to === '0.0.0.0/0',
    );
    assert.deepEqual(
      ledgerReaders.map((r) => [r.protocol, r.ports]),
      [['tcp', '443-443']],
    );
    // … and the gateway serves the private subnets it runs in.
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
      RouteTableIds: Match.arrayWith([
        { Ref: Match.stringLikeRegexp('^NetworkVpcprivateSubnet1RouteTable') },
      ]),
    });
  });

  it('catches a planted all-protocol egress rule', () => {
    const stack = new Stack(new App(), 'Planted');
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      natGateways: 0,
      subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    new ec2.SecurityGroup(stack, 'Wide', { vpc, allowAllOutbound: true });
    assert.equal(openEgress(Template.fromStack(stack)).length, 1);
  });
});

describe('Network without NAT gateways', () => {
  // GIVEN natGateways: 0 WHEN the whole platform is rendered THEN it works through the endpoints alone
  const platform = synthPlatform({
    manifest: manifestFixture((m) => {
      m.platform.network.natGateways = 0;
    }),
  });
  after(() => platform.dispose());

  it('renders isolated private subnets (no NAT, no default route) that still hold the instances, tasks and functions', () => {
    platform.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    platform.template.hasResourceProperties('AWS::EC2::Subnet', {
      Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Isolated' }]),
    });
    assert.deepEqual(openEgress(platform.template), []);
    platform.template.resourceCountIs('AWS::EC2::VPCEndpoint', 14);
  });
});

describe('Network of a declared shape', () => {
  it('spans three AZs when three are declared, with one NAT gateway when one is declared', () => {
    const stack = new Stack(new App(), 'Test');
    const logging = new PlatformLogging(stack, 'Logging', { platformName: 'acme', retentionDays: 30 });
    new Network(stack, 'Network', {
      network: { ...wirePlatform(manifestFixture()).network, availabilityZones: 3, natGateways: 1 },
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
