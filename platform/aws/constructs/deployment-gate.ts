import { type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { PlatformWiring } from '../../wiring/index.ts';
import type { PlatformLogging } from './logging.ts';
import { PlatformFunction } from './platform-function.ts';

/** Props of {@link DeploymentGate}. */
export interface DeploymentGateProps {
  readonly platformName: string;
  /** The rollback policy and each traffic-shifting service's probes and scorer-outage policy. */
  readonly wiring: PlatformWiring;
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
  /** Where each decision is logged with its judgement (the console reads them back). */
  readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: DeploymentGateProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.logGroup = props.logging.createLogGroup(this, 'FunctionLogs', 'functions/deployment-gate');
    this.function = new PlatformFunction(this, 'Gate', {
      functionName: 'deployment-gate',
      description: `${props.platformName}: deployment lifecycle hook (new revision vs old: anomaly rate, 5xx)`,
      logGroup: this.logGroup,
      environment: {
        ...gateEnvironment(props.wiring, {
          loadBalancerFullName: props.loadBalancerFullName,
          anomalyLogGroup: props.logging.anomalyLogGroup.logGroupName,
        }),
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
    // The per-revision, per-request-class counts are the sidecars' EMF lines in the anomaly log group.
    this.function.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['logs:FilterLogEvents'],
        resources: [props.logging.anomalyLogGroup.logGroupArn],
      }),
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

/**
 * The gate function's environment (functions/deployment-gate/handler.ts), every value from the wiring:
 * the one minimum volume the alarms and the rehearsal read too, the stage deadline, and per
 * traffic-shifting service its probes and scorer-outage policy. `PROBE_BASE_URL` (the test route) is set
 * where the platform renders a test listener.
 */
export function gateEnvironment(
  wiring: PlatformWiring,
  resources: { readonly loadBalancerFullName: string; readonly anomalyLogGroup: string },
): Record<string, string> {
  const settings = Object.fromEntries(
    wiring.tasks
      .filter((t) => t.deployment.gateStages.length > 0)
      .map((t) => [t.service, { probes: t.deployment.probes, onScorerOutage: t.deployment.onScorerOutage }]),
  );
  return {
    LOAD_BALANCER_FULL_NAME: resources.loadBalancerFullName,
    ANOMALY_LOG_GROUP: resources.anomalyLogGroup,
    MIN_SCORED_LINES: String(wiring.rollbackPolicy.minimumVolume.lines),
    MIN_REQUESTS: String(wiring.rollbackPolicy.minimumVolume.requests),
    DEADLINE_SECONDS: String(wiring.rollbackPolicy.gateDeadlineSeconds),
    SERVICE_SETTINGS: JSON.stringify(settings),
  };
}
