import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  type RollbackPolicyWiring,
  type ScalingWiring,
  type TaskWiring,
  WiringInvariantError,
} from '../../wiring/index.ts';
import { DeploymentAlarms } from './deployment-alarms.ts';
import { deploymentOptions, renderLifecycleHooks } from './deployment-options.ts';
import type { PlatformLogging } from './logging.ts';
import { renderTaskDefinition } from './task-definition.ts';
import type { AwsSources } from './value-sources.ts';

/** Where a task of the platform runs and what it is rendered from: a service's and a scheduled job's. */
export interface TaskPlacementProps {
  readonly cluster: ecs.ICluster;
  /** The capacity provider the service's tasks are placed on. */
  readonly capacityProvider: ecs.AsgCapacityProvider;
  /** Private subnets of every AZ (awsvpc ENIs). */
  readonly subnets: ec2.SubnetSelection;
  /** The image of each container, by the wiring's image name (`backend`, `sidecar`, `log-router`). */
  readonly images: (image: string) => ecs.ContainerImage;
  readonly logging: PlatformLogging;
  /** Token values of the wiring's value sources, except the service's own log group (made here). */
  readonly sources: Omit<AwsSources, 'appLogGroup' | 'appLogStreamPrefix'>;
  /** ARN of the model endpoint, when a container holds the `invoke-model` grant. */
  readonly endpointArn?: string;
  /** Where operators are notified (deployment alarms; a job's failed runs). */
  readonly alarmTopic: sns.ITopic;
  /** The IAM path of the task and execution roles (taskRolePath of the platform). */
  readonly rolePath: string;
}

/** Props of {@link ServiceUnit}. */
export interface ServiceUnitProps extends TaskPlacementProps {
  /** The service's task as the wiring model decided it. */
  readonly task: TaskWiring;
  /** The wiring's rollback policy, read by the deployment alarms. */
  readonly rollbackPolicy: RollbackPolicyWiring;
  /**
   * The ALB target group (web services); the service registers its entry container with it.
   * @default - not behind the ALB
   */
  readonly targetGroup?: elbv2.ApplicationTargetGroup;
  /**
   * Traffic-shifting deployments (the wiring's `deployment.shiftsTraffic`): the alternate target group
   * and the production listener rule ECS moves traffic on.
   * @default - none (rolling)
   */
  readonly alternate?: {
    readonly targetGroup: elbv2.ApplicationTargetGroup;
    readonly rule: elbv2.ApplicationListenerRule;
    /** The test route's rule (the wiring's `testTraffic`). @default - no test traffic */
    readonly testRule?: elbv2.ApplicationListenerRule;
  };
  /**
   * The deployment gate invoked at the wiring's gate stages.
   * @default - no lifecycle hook
   */
  readonly gate?: lambda.IFunction;
}

/**
 * One wired task on ECS: an `awsvpc` EC2 task definition whose containers, environment, ports, health
 * checks, stop timeouts, start order and grants are the wiring model's (platform/wiring) translated to
 * CloudFormation; an ECS service on the capacity provider, spread across AZs then bin-packed on memory,
 * with the circuit breaker rolling back, and CPU target-tracking autoscaling. Its security group has no
 * ingress until a caller is allowed with {@link allowFrom} (or the ALB target group attaches).
 *
 * @example
 * const backend = new ServiceUnit(stack, 'backend', { task, rollbackPolicy, cluster, capacityProvider, subnets, images, logging, sources, alarmTopic });
 * backend.allowFrom(frontend);
 */
export class ServiceUnit extends Construct {
  readonly service: ecs.Ec2Service;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  /** Every container, by the wiring's container name. */
  readonly containers: ReadonlyMap<string, ecs.ContainerDefinition>;
  readonly securityGroup: ec2.SecurityGroup;
  /** The app's logs (FireLens → CloudWatch Logs). */
  readonly appLogGroup: logs.LogGroup;
  /** The log router's own logs. */
  readonly routerLogGroup: logs.LogGroup;
  readonly taskRole: iam.IRole;
  /** Pulls the images and writes the router's awslogs stream; the deploy role passes it with the task role. */
  readonly executionRole: iam.IRole;
  readonly scaling: ecs.ScalableTaskCount;
  /** A grant calls S3 or DynamoDB: the group needs HTTPS routed to their gateway endpoints. */
  readonly reachesGatewayEndpoints: boolean;
  /** The entry container's port; null for a worker, which listens on none. */
  readonly port: number | null;
  readonly wiring: TaskWiring;
  readonly deploymentAlarms: DeploymentAlarms;
  /** Any app logs the router gave up or refused for CloudWatch Logs (issue 25). */
  readonly logDeliveryLossAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ServiceUnitProps) {
    super(scope, id);
    const { task } = props;
    this.wiring = task;
    const entry = task.containers.find((c) => c.name === task.entryContainer);
    if (!entry) throw new WiringInvariantError(this.node.path, 'no entry container');
    if (!entry.port && task.kind !== 'worker')
      throw new WiringInvariantError(this.node.path, 'the entry container listens on no port');
    this.port = entry.port?.number ?? null;

    const rendered = renderTaskDefinition(this, {
      task,
      images: props.images,
      logging: props.logging,
      sources: props.sources,
      cluster: props.cluster,
      rolePath: props.rolePath,
      ...(props.endpointArn ? { endpointArn: props.endpointArn } : {}),
    });
    this.taskDefinition = rendered.taskDefinition;
    this.containers = rendered.containers;
    this.appLogGroup = rendered.appLogGroup;
    this.routerLogGroup = rendered.routerLogGroup;
    this.taskRole = rendered.taskRole;
    this.executionRole = rendered.executionRole;
    this.reachesGatewayEndpoints = rendered.reachesGatewayEndpoints;
    const containers = rendered.containers;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description:
        task.kind === 'worker'
          ? `${task.service} tasks: a worker, no ingress`
          : `${task.service} tasks: ingress only from declared callers`,
      // HTTPS to the VPC endpoints is added by the network (Network.allowEndpointAccessFrom), the
      // callee ports by allowFrom; never all protocols to 0.0.0.0/0.
      allowAllOutbound: false,
    });

    this.service = new ecs.Ec2Service(this, 'Service', {
      // Stable physical name: the deploy command and the workflow address services by declared name.
      serviceName: task.service,
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: task.scaling.minTasks,
      capacityProviderStrategies: [
        { capacityProvider: props.capacityProvider.capacityProviderName, weight: 1 },
      ],
      placementStrategies: [
        ecs.PlacementStrategy.spreadAcross(ecs.BuiltInAttributes.AVAILABILITY_ZONE),
        ecs.PlacementStrategy.packedByMemory(),
      ],
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      ...deploymentOptions(task),
      enableExecuteCommand: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
      ...(props.targetGroup && task.targetGroup
        ? { healthCheckGracePeriod: Duration.seconds(task.targetGroup.healthCheckGracePeriodSeconds) }
        : {}),
      ...(task.discovery
        ? {
            cloudMapOptions: {
              name: task.discovery.name,
              dnsRecordType: servicediscovery.DnsRecordType.A,
              dnsTtl: Duration.seconds(task.discovery.dnsTtlSeconds),
              container: containers.get(task.entryContainer)!,
              containerPort: task.discovery.port,
            },
          }
        : {}),
    });
    // A capacity provider strategy is rejected until the provider is associated with the cluster.
    this.service.node.addDependency(props.cluster);
    const cfnService = this.service.node.defaultChild as ecs.CfnService;
    // The family, not this template's revision: ECS runs the family's latest ACTIVE revision, which is
    // the last one the deploy command released, so a CloudFormation update of the service (which sends
    // every property again) never rolls it back to the images this template first started with.
    cfnService.addPropertyOverride('TaskDefinition', task.family);
    cfnService.node.addDependency(this.taskDefinition);
    const hooks = renderLifecycleHooks(this.service, task, props.gate);
    if (hooks.length > 0) cfnService.addPropertyOverride('DeploymentConfiguration.LifecycleHooks', hooks);

    if (props.targetGroup) this.registerTarget(props.targetGroup, props.alternate);
    this.acknowledgeDeploymentRoles(props);
    this.deploymentAlarms = this.renderDeploymentAlarms(props);
    // Lost delivery is never normal: one chunk given up in a minute alarms the operators.
    this.logDeliveryLossAlarm = new cloudwatch.Alarm(this, 'LogDeliveryLoss', {
      alarmDescription: `${task.service}: the log router gave up or refused app logs for CloudWatch Logs (its log group says which: "cannot be retried … output=cloudwatch_logs", or "would exceed total limit size in plugin cloudwatch_logs" when overloaded)`,
      metric: rendered.deliveryDrops,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.logDeliveryLossAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
    this.scaling = this.renderScaling(task.scaling);
  }

  /** Registers the entry container's port and opens it to the ALB's group (and only to it). */
  private registerTarget(
    targetGroup: elbv2.ApplicationTargetGroup,
    alternate: ServiceUnitProps['alternate'],
  ): void {
    targetGroup.addTarget(
      this.service.loadBalancerTarget({
        containerName: this.wiring.entryContainer,
        containerPort: this.listeningPort(),
        ...(alternate
          ? {
              alternateTarget: new ecs.AlternateTarget('AlternateTarget', {
                alternateTargetGroup: alternate.targetGroup,
                productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(alternate.rule),
                ...(alternate.testRule
                  ? {
                      testListener: ecs.ListenerRuleConfiguration.applicationListenerRule(alternate.testRule),
                    }
                  : {}),
              }),
            }
          : {}),
      }),
    );
  }

  /** The roles ECS assumes during a deployment (calling the gate, moving traffic), acknowledged. */
  private acknowledgeDeploymentRoles(props: ServiceUnitProps): void {
    const { task } = props;
    if (props.gate && task.deployment.gateStages.length > 0) {
      const gateId = Stack.of(this).getLogicalId(props.gate.node.defaultChild as CfnElement);
      Validations.of(this).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${gateId}.Arn>:*]`,
        reason:
          "The role ECS assumes to call the deployment gate (CDK's DeploymentLifecycleLambdaTarget) may invoke that one function and its versions (<function ARN>:*), nothing else.",
      });
    }
    if (props.alternate) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]',
        reason:
          "The role ECS assumes to move traffic between the two target groups (CDK's AlternateTarget): AWS's managed policy made for exactly that, which AWS updates with the ELB actions ECS needs; a hand-written copy would break deployments when ECS adds one.",
      });
    }
    if (task.deployment.shiftsTraffic && !props.alternate) {
      throw new WiringInvariantError(
        this.node.path,
        `a ${task.deployment.strategy.strategy} deployment needs the alternate target group and listener rule (the Edge makes them for traffic-shifting web services)`,
      );
    }
  }

  /** The declared rollback alarms, watched by ECS for the whole deployment. */
  private renderDeploymentAlarms(props: ServiceUnitProps): DeploymentAlarms {
    const alarms = new DeploymentAlarms(this, 'DeploymentAlarms', {
      service: props.task.service,
      deployment: props.task.deployment,
      policy: props.rollbackPolicy,
      topic: props.alarmTopic,
      ...(props.targetGroup
        ? {
            loadBalancerFullName: props.targetGroup.firstLoadBalancerFullName,
            targetGroups: [props.targetGroup, ...(props.alternate ? [props.alternate.targetGroup] : [])],
          }
        : {}),
    });
    if (alarms.alarms.length > 0) {
      this.service.enableDeploymentAlarms(
        alarms.alarms.map((a) => a.alarmName),
        { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM },
      );
    }
    return alarms;
  }

  /** CPU target tracking between the declared task counts. */
  private renderScaling(scaling: ScalingWiring): ecs.ScalableTaskCount {
    const count = this.service.autoScaleTaskCount({
      minCapacity: scaling.minTasks,
      maxCapacity: scaling.maxTasks,
    });
    count.scaleOnCpuUtilization('CpuTargetTracking', {
      targetUtilizationPercent: scaling.targetCpuPercent,
      scaleInCooldown: Duration.seconds(scaling.scaleInCooldownSeconds),
      scaleOutCooldown: Duration.seconds(scaling.scaleOutCooldownSeconds),
    });
    return count;
  }

  /** The port callers and the ALB reach; a worker has none, and the wiring gives it no callers. */
  private listeningPort(): number {
    if (this.port === null)
      throw new WiringInvariantError(this.node.path, 'a worker listens on no port, so nothing reaches it');
    return this.port;
  }

  /** The service's name in the manifest. */
  get name(): string {
    return this.wiring.service;
  }

  /** The container named `name` in the wiring (`app`, `log_router`, `anomaly-sidecar`). */
  container(name: string): ecs.ContainerDefinition {
    const container = this.containers.get(name);
    if (!container) throw new WiringInvariantError(this.node.path, `no container '${name}'`);
    return container;
  }

  /** Admits `caller`'s tasks on this service's port; the only way an internal service gains ingress. */
  allowFrom(caller: { readonly securityGroup: ec2.ISecurityGroup; readonly name: string }): void {
    // connections, not addIngressRule: also opens the caller's egress to this port.
    this.securityGroup.connections.allowFrom(
      caller.securityGroup,
      ec2.Port.tcp(this.listeningPort()),
      `${caller.name} calls ${this.name}`,
    );
  }
}
