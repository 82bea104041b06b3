import { type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RollbackPolicyWiring } from '../../wiring/index.ts';
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
  /** The wiring's rollback policy: the gate judges no rate below its minimum volume. */
  readonly policy: RollbackPolicyWiring;
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
      // The gate's handler reads its thresholds from here (functions/deployment-gate/handler.ts).
      environment: {
        LOAD_BALANCER_FULL_NAME: props.loadBalancerFullName,
        MIN_SCORED_LINES: String(props.policy.minimumVolume.lines),
        MIN_REQUESTS: String(props.policy.minimumVolume.requests),
      },
      // ECS calls the hook again after each IN_PROGRESS; one call reads a few metrics.
      timeout: Duration.seconds(30),
      memoryMiB: 256,
      vpc: props.vpc,
      subnets: props.subnets,
    });
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
