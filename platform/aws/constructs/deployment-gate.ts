import { type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { PlatformLogging } from './logging.ts';
import { PlatformFunction } from './platform-function.ts';

/** Props of {@link DeploymentGate}. */
export interface DeploymentGateProps {
  readonly platformName: string;
  /** The gate reads only this cluster's service revisions. */
  readonly cluster: ecs.ICluster;
  /** The ALB's full name (`app/…/…`), for the per-revision 5xx signal. */
  readonly loadBalancerFullName: string;
  readonly logging: PlatformLogging;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /**
   * Where the gate sends probes to a new revision: the test route's base URL (`PROBE_BASE_URL`) and
   * its port, which the gate's group may reach (through the NAT gateways, the only sources the test
   * listener admits).
   * @default - no test route: no probes
   */
  readonly testRoute?: { readonly baseUrl: string; readonly port: number };
}

/**
 * The deployment gate: the ECS lifecycle hook (functions/deployment-gate) that, after test and
 * production traffic shift, compares the new revision's anomaly rate and 5xx with the old revision's
 * and answers FAILED to roll the deployment back. Its decision is logged and counted.
 */
export class DeploymentGate extends Construct {
  readonly function: PlatformFunction;

  constructor(scope: Construct, id: string, props: DeploymentGateProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.function = new PlatformFunction(this, 'Gate', {
      functionName: 'deployment-gate',
      description: `${props.platformName}: deployment lifecycle hook (new revision vs old: anomaly rate, 5xx)`,
      logGroup: props.logging.createLogGroup(this, 'FunctionLogs', 'functions/deployment-gate'),
      environment: {
        LOAD_BALANCER_FULL_NAME: props.loadBalancerFullName,
        ...(props.testRoute ? { PROBE_BASE_URL: props.testRoute.baseUrl } : {}),
      },
      // ECS calls the hook again after each IN_PROGRESS; one call reads a few metrics.
      timeout: Duration.seconds(30),
      memoryMiB: 256,
      vpc: props.vpc,
      subnets: props.subnets,
    });
    if (props.testRoute) {
      this.function.securityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(props.testRoute.port),
        "Probes to the test route (the internet-facing ALB's test listener, through the NAT gateways)",
      );
    }
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    this.function.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeServiceRevisions'],
        resources: [
          stack.formatArn({
            service: 'ecs',
            resource: 'service-revision',
            resourceName: `${props.cluster.clusterName}/*`,
          }),
        ],
      }),
    );
    this.function.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    );
    Validations.of(this.function.role).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          "cloudwatch:GetMetricData has no resource-level permissions; the gate only reads the revisions' anomaly and ALB metrics.",
      },
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${region}:<AWS::AccountId>:service-revision/<${stack.getLogicalId(props.cluster.node.defaultChild as CfnElement)}>/*]`,
        reason:
          "Service-revision ids are created by each deployment; the gate may describe only this cluster's (service-revision/<cluster>/*).",
      },
    );
  }
}
