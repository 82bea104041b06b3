import { Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { PlatformManifest } from '../../../config/index.ts';
import type { PlatformLogging } from './logging.ts';

/** Props of {@link Network}. */
export interface NetworkProps {
  /** `manifest.platform.network`. */
  readonly network: PlatformManifest['network'];
  /** Encrypted log groups (the flow log group is created through it). */
  readonly logging: PlatformLogging;
}

/** Interface endpoints the platform creates when `network.vpcEndpoints` is on. */
const INTERFACE_ENDPOINTS = {
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  CloudWatchLogs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  SageMakerRuntime: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
} as const;

/**
 * The VPC: public and private subnets in `network.availabilityZones` AZs, NAT gateways as declared
 * (one per AZ by default so an AZ outage never cuts the other AZ's egress), VPC flow logs to an
 * encrypted log group, and optionally VPC endpoints (ECR, S3, CloudWatch Logs, SageMaker runtime)
 * whose security group admits only the consumers registered with {@link allowEndpointAccessFrom}.
 *
 * AZs are `Fn::Select`s over `Fn::GetAZs`, so synth needs no account and no context lookup.
 *
 * @example
 * const network = new Network(stack, 'Network', { network: manifest.platform.network, logging });
 * network.allowEndpointAccessFrom(capacity.instanceSecurityGroup);
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  /** Private subnets (one per AZ): instances and tasks. */
  readonly privateSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  /** Public subnets (one per AZ): the ALB and NAT gateways. */
  readonly publicSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PUBLIC };
  /** The interface endpoints' security group; undefined when endpoints are off. */
  readonly endpointSecurityGroup?: ec2.SecurityGroup;
  /** Interface endpoints by name (`EcrApi`, `EcrDocker`, `CloudWatchLogs`, `SageMakerRuntime`). */
  readonly interfaceEndpoints: ReadonlyMap<string, ec2.InterfaceVpcEndpoint>;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { network } = props;
    if (network.natGateways < 1) {
      // The endpoints below cover image pulls, logs and scoring only; the rest of the platform's AWS
      // calls leave through the NAT.
      throw new Error(
        `${this.node.path}: network.natGateways (${network.natGateways}) must be ≥ 1. Fix: keep at least one NAT gateway; the ECS and CloudWatch agents (ECS, SSM, CloudWatch APIs) and the remediation function (ECS, EC2, SNS, DynamoDB, CloudWatch) call APIs this platform declares no VPC endpoint for.`,
      );
    }
    if (network.natGateways > network.availabilityZones) {
      throw new Error(
        `${this.node.path}: network.natGateways (${network.natGateways}) must be ≤ availabilityZones (${network.availabilityZones}). Fix: use at most one NAT gateway per AZ.`,
      );
    }

    const availabilityZones = Array.from({ length: network.availabilityZones }, (_, i) =>
      Fn.select(i, Fn.getAzs()),
    );
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(network.cidr),
      availabilityZones,
      natGateways: network.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 22, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
    });
    const flowLogGroup = props.logging.createLogGroup(
      this,
      'FlowLogGroup',
      'vpc-flow-logs',
      network.flowLogRetentionDays,
    );
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    const endpoints = new Map<string, ec2.InterfaceVpcEndpoint>();
    if (network.vpcEndpoints) {
      // S3 gateway endpoint: ECR image layers are served from S3; free, and keeps pulls off the NAT.
      this.vpc.addGatewayEndpoint('S3Endpoint', {
        service: ec2.GatewayVpcEndpointAwsService.S3,
        subnets: [this.privateSubnets],
      });
      this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Interface VPC endpoints: HTTPS from registered platform consumers only',
        allowAllOutbound: false,
      });
      for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
        endpoints.set(
          name,
          this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
            service,
            subnets: this.privateSubnets,
            securityGroups: [this.endpointSecurityGroup],
            // Ingress is granted per consumer (allowEndpointAccessFrom), never to the whole VPC CIDR.
            open: false,
            privateDnsEnabled: true,
          }),
        );
      }
    }
    this.interfaceEndpoints = endpoints;
  }

  /** Lets `peers` reach the interface endpoints on 443; a no-op when endpoints are off. */
  allowEndpointAccessFrom(...peers: ec2.IConnectable[]): void {
    const group = this.endpointSecurityGroup;
    if (!group) return;
    for (const peer of peers) {
      group.connections.allowFrom(peer, ec2.Port.tcp(443), 'HTTPS to VPC interface endpoints');
    }
  }
}
