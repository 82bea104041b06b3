import { Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { PlatformWiring } from '../../wiring/index.ts';
import type { PlatformLogging } from './logging.ts';

/** Props of {@link Network}. */
export interface NetworkProps {
  /** The wiring's network: the declared VPC, and whether a Secrets Manager endpoint is needed. */
  readonly network: PlatformWiring['network'];
  /** Encrypted log groups (the flow log group is created through it). */
  readonly logging: PlatformLogging;
}

/**
 * Interface endpoints the platform creates when `network.vpcEndpoints` is on: every AWS API the
 * instances (ECS and CloudWatch agents), the tasks and the functions call, so a declaration with
 * `natGateways: 0` still works. Session Manager's `ssmmessages`/`ec2messages` are left out: nothing
 * here opens a shell on an instance.
 */
const INTERFACE_ENDPOINTS = {
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  CloudWatchLogs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  CloudWatchMonitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  SageMakerRuntime: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
  // The ECS agent: the API, its poll endpoint and telemetry.
  Ecs: ec2.InterfaceVpcEndpointAwsService.ECS,
  EcsAgent: ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
  EcsTelemetry: ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
  // The CloudWatch agent reads its configuration from SSM; declared SSM secrets are read through it too.
  Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  // ec2:DescribeTags (CloudWatch agent) and the remediation function's instance actions.
  Ec2: ec2.InterfaceVpcEndpointAwsService.EC2,
  Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
} as const;

/** An interface endpoint's name in {@link Network.interfaceEndpoints}. */
export type InterfaceEndpointName = keyof typeof INTERFACE_ENDPOINTS | 'SecretsManager';

/**
 * The VPC: public and private subnets in `network.availabilityZones` AZs, NAT gateways as declared
 * (one per AZ by default so an AZ outage never cuts the other AZ's egress; none is possible, the
 * private subnets are then isolated), VPC flow logs to an encrypted log group, and VPC endpoints
 * (S3 and DynamoDB gateways, the interface endpoints above) whose security group admits only the
 * consumers registered with {@link allowEndpointAccessFrom}.
 *
 * Egress is decided here too: a consumer's security group is created with `allowAllOutbound: false`
 * and gets HTTPS to the endpoints' group from {@link allowEndpointAccessFrom} (and to S3/DynamoDB from
 * {@link allowGatewayAccessFrom} where it calls them); nothing in the platform has all-protocol egress to 0.0.0.0/0.
 *
 * AZs are `Fn::Select`s over `Fn::GetAZs`, so synth needs no account and no context lookup.
 *
 * @example
 * const network = new Network(stack, 'Network', { network: manifest.platform.network, logging });
 * network.allowEndpointAccessFrom(capacity.instanceSecurityGroup);
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  /** Private subnets (one per AZ): instances, tasks, functions and the endpoint's ENIs. */
  readonly privateSubnets: ec2.SubnetSelection = { subnetGroupName: 'private' };
  /** Public subnets (one per AZ): the ALB and NAT gateways. */
  readonly publicSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PUBLIC };
  /** The interface endpoints' security group; undefined when endpoints are off. */
  readonly endpointSecurityGroup?: ec2.SecurityGroup;
  /** Interface endpoints by name (`EcrApi`, `EcrDocker`, `CloudWatchLogs`, `SageMakerRuntime`, `Ecs`, …). */
  readonly interfaceEndpoints: ReadonlyMap<InterfaceEndpointName, ec2.InterfaceVpcEndpoint>;
  /** A second group on the two ECR endpoints only, for consumers that need nothing else (the model). */
  readonly ecrEndpointSecurityGroup?: ec2.SecurityGroup;
  /** NAT gateways of the VPC (0 means the private subnets have no route to the internet). */
  readonly natGateways: number;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { network } = props;
    this.natGateways = network.natGateways;

    const availabilityZones = Array.from({ length: network.availabilityZones }, (_, i) =>
      Fn.select(i, Fn.getAzs()),
    );
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(network.cidr),
      availabilityZones,
      natGateways: network.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 22, mapPublicIpOnLaunch: false },
        {
          name: 'private',
          // Without NAT the private subnets have no default route: CDK calls that isolated.
          subnetType:
            network.natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: 20,
        },
      ],
    });
    const flowLogGroup = props.logging.createLogGroup(
      this,
      'FlowLogGroup',
      'vpc-flow-logs',
      network.flowLogRetentionDays,
    );
    const stack = Stack.of(this);
    // Confused-deputy guard: the flow-logs service may use the role only for this account's flow logs.
    const flowLogRole = new iam.Role(this, 'FlowLogRole', {
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({ service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' }),
          },
        },
      }),
      description: 'VPC flow logs: write to the flow log group',
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup, flowLogRole),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    const endpoints = new Map<InterfaceEndpointName, ec2.InterfaceVpcEndpoint>();
    if (network.vpcEndpoints) {
      // Gateway endpoints are free: S3 serves ECR image layers and the AL2023 package repositories;
      // DynamoDB holds the remediation ledger.
      this.vpc.addGatewayEndpoint('S3Endpoint', {
        service: ec2.GatewayVpcEndpointAwsService.S3,
        subnets: [this.privateSubnets],
      });
      this.vpc.addGatewayEndpoint('DynamoDbEndpoint', {
        service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
        subnets: [this.privateSubnets],
      });
      this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Interface VPC endpoints: HTTPS from registered platform consumers only',
        allowAllOutbound: false,
      });
      this.ecrEndpointSecurityGroup = new ec2.SecurityGroup(this, 'EcrEndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'ECR interface endpoints: HTTPS from the SageMaker model only',
        allowAllOutbound: false,
      });
      const ecrGroup = this.ecrEndpointSecurityGroup;
      const services: Array<[InterfaceEndpointName, ec2.InterfaceVpcEndpointAwsService]> = [
        ...(Object.entries(INTERFACE_ENDPOINTS) as Array<
          [InterfaceEndpointName, ec2.InterfaceVpcEndpointAwsService]
        >),
        ...(network.secretsManagerEndpoint
          ? [
              ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER] as [
                InterfaceEndpointName,
                ec2.InterfaceVpcEndpointAwsService,
              ],
            ]
          : []),
      ];
      for (const [name, service] of services) {
        endpoints.set(
          name,
          this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
            service,
            subnets: this.privateSubnets,
            securityGroups:
              name === 'EcrApi' || name === 'EcrDocker'
                ? [this.endpointSecurityGroup, ecrGroup]
                : [this.endpointSecurityGroup],
            // Ingress is granted per consumer (allowEndpointAccessFrom), never to the whole VPC CIDR.
            open: false,
            privateDnsEnabled: true,
          }),
        );
      }
    }
    this.interfaceEndpoints = endpoints;
  }

  /**
   * The NAT gateways' public addresses as /32 CIDRs (tokens): where requests from the private subnets
   * to an internet-facing address come from. Empty without NAT gateways.
   */
  natGatewayCidrs(): string[] {
    return this.vpc.publicSubnets.flatMap((subnet) => {
      const eip = subnet.node.tryFindChild('EIP') as ec2.CfnEIP | undefined;
      return eip ? [Fn.join('', [eip.ref, '/32'])] : [];
    });
  }

  /**
   * The platform's egress for `peers` (each a security group created with `allowAllOutbound: false`):
   * HTTPS to the interface endpoints' group (ingress there, egress on the peer). Without endpoints,
   * HTTPS through the NAT instead.
   */
  allowEndpointAccessFrom(...peers: ec2.IConnectable[]): void {
    for (const peer of peers) {
      if (this.endpointSecurityGroup) {
        peer.connections.allowTo(
          this.endpointSecurityGroup,
          ec2.Port.tcp(443),
          'HTTPS to VPC interface endpoints',
        );
      } else {
        peer.connections.allowToAnyIpv4(ec2.Port.tcp(443), 'HTTPS to AWS APIs through the NAT gateways');
      }
    }
  }

  /**
   * HTTPS to S3 and DynamoDB for `peers` that call them (the instances pull image layers and packages
   * from S3, the remediation function writes its DynamoDB ledger).
   *
   * Gateway endpoints are reached by route, not by security group, and their managed prefix-list id is
   * region-specific and only known through a lookup; synth is lookup-free, so the rule is HTTPS (tcp/443
   * only) to 0.0.0.0/0, and the route tables send S3 and DynamoDB addresses to the gateway endpoints.
   */
  allowGatewayAccessFrom(...peers: ec2.IConnectable[]): void {
    for (const peer of peers) {
      peer.connections.allowToAnyIpv4(
        ec2.Port.tcp(443),
        'HTTPS to S3 and DynamoDB (gateway endpoint routes)',
      );
    }
  }

  /**
   * Only what a SageMaker model in the VPC needs to start: HTTPS to the ECR endpoints (its image, through
   * their own group) and to S3 (image layers and model data).
   */
  allowModelPullsFrom(peer: ec2.IConnectable): void {
    if (this.ecrEndpointSecurityGroup) {
      peer.connections.allowTo(
        this.ecrEndpointSecurityGroup,
        ec2.Port.tcp(443),
        'HTTPS to the ECR endpoints',
      );
    }
    this.allowGatewayAccessFrom(peer);
  }
}
