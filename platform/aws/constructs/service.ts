import { type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ServiceManifest } from '../../../config/index.ts';
import { LOG_ROUTER } from '../../../services/anomaly-sidecar/contract.ts';
import type { ContainerWiring, Grant, TaskWiring } from '../../wiring/index.ts';
import { guardRule } from '../validation.ts';
import { DeploymentAlarms } from './deployment-alarms.ts';
import type { PlatformLogging } from './logging.ts';
import { type AwsSources, renderEnvironment, renderSecrets } from './value-sources.ts';

/** Props of {@link ServiceUnit}. */
export interface ServiceUnitProps {
  /** The service's task as the wiring model decided it. */
  readonly task: TaskWiring;
  /** The service as the manifest declares it (scaling and the load balancer's health check). */
  readonly service: ServiceManifest;
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
  };
  /**
   * The deployment gate invoked at the wiring's gate stages.
   * @default - no lifecycle hook
   */
  readonly gate?: lambda.IFunction;
  /** Where the deployment alarms notify operators. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * One wired task on ECS: an `awsvpc` EC2 task definition whose containers, environment, ports, health
 * checks, stop timeouts, start order and grants are the wiring model's (platform/wiring) translated to
 * CloudFormation; an ECS service on the capacity provider, spread across AZs then bin-packed on memory,
 * with the circuit breaker rolling back, and CPU target-tracking autoscaling. Its security group has no
 * ingress until a caller is allowed with {@link allowFrom} (or the ALB target group attaches).
 *
 * @example
 * const backend = new ServiceUnit(stack, 'backend', { task, service, cluster, capacityProvider, subnets, images, logging, sources });
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
  readonly port: number;
  readonly wiring: TaskWiring;
  readonly deploymentAlarms: DeploymentAlarms;
  private readonly clusterLogicalId: string;

  constructor(scope: Construct, id: string, props: ServiceUnitProps) {
    super(scope, id);
    const { task, service } = props;
    this.wiring = task;
    this.port = service.port;
    this.clusterLogicalId = Stack.of(this).getLogicalId(props.cluster.node.defaultChild as CfnElement);

    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'TaskDefinition', {
      family: task.family,
      networkMode: ecs.NetworkMode.AWS_VPC,
    });
    this.taskRole = this.taskDefinition.taskRole;
    // The root filesystems are read-only; scratch space is a task-local volume, gone with the task.
    this.taskDefinition.addVolume({ name: 'tmp' });

    this.appLogGroup = props.logging.createLogGroup(this, 'AppLogGroup', `${service.name}/app`);
    this.routerLogGroup = props.logging.createLogGroup(this, 'RouterLogGroup', `${service.name}/log-router`);
    // Fluent Bit logs one "cannot be retried" line per chunk an output gives up on: the router's
    // drops, counted (1.9 has no metrics endpoint in this image's configuration to scrape instead).
    this.routerLogGroup.addMetricFilter('RouterDrops', {
      filterPattern: logs.FilterPattern.literal('"cannot be retried"'),
      metricNamespace: 'Platform/LogRouter',
      metricName: `ChunksDropped-${service.name}`,
      metricValue: '1',
      defaultValue: 0,
    });
    const sources: AwsSources = {
      ...props.sources,
      appLogGroup: this.appLogGroup,
      appLogStreamPrefix: `${service.name}/`,
    };

    const containers = new Map<string, ecs.ContainerDefinition>();
    for (const wiring of task.containers) {
      const container =
        wiring.role === 'log-router'
          ? this.addLogRouter(wiring, props.images(wiring.image), sources)
          : this.addContainer(wiring, props.images(wiring.image), sources);
      container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });
      containers.set(wiring.name, container);
    }
    for (const wiring of task.containers) {
      for (const before of wiring.startAfter) {
        containers.get(wiring.name)!.addContainerDependencies({
          container: containers.get(before)!,
          condition: ecs.ContainerDependencyCondition.START,
        });
      }
    }
    this.containers = containers;
    this.grant(
      task.containers.flatMap((c) => c.grants),
      sources,
      props.endpointArn,
    );

    // The execution role pulls images and writes the router's awslogs stream.
    this.executionRole = this.taskDefinition.obtainExecutionRole();
    Validations.of(this.executionRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions; image pulls themselves are scoped to the repositories.',
    });
    Validations.of(this.taskDefinition).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-ECS2',
        reason:
          'Environment carries only non-secret configuration (ports, service names, discovery URLs, the endpoint name, log group names); declared secrets are rendered as Secrets Manager / SSM references in `secrets`.',
      },
      {
        id: guardRule('ecs_task_definition_nonroot_user_check'),
        reason:
          'Only the FireLens log router runs as root: ECS FireLens requires Fluent Bit to run as root to create its log socket (aws/containers-roadmap#2122). App and sidecar run as 1000:1000 with read-only root filesystems.',
      },
    );

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: `${service.name} tasks: ingress only from declared callers`,
      // HTTPS to the VPC endpoints is added by the network (Network.allowEndpointAccessFrom), the
      // callee ports by allowFrom; never all protocols to 0.0.0.0/0.
      allowAllOutbound: false,
    });

    const scaling = service.scaling;
    const entry = containers.get(task.entryContainer)!;
    this.service = new ecs.Ec2Service(this, 'Service', {
      // Stable physical name: the deploy command and the workflow address services by declared name.
      serviceName: service.name,
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: scaling.minTasks,
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
      ...deploymentOptions(task, props.gate),
      enableExecuteCommand: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
      ...(props.targetGroup
        ? { healthCheckGracePeriod: Duration.seconds(service.healthCheck.startPeriodSeconds + 30) }
        : {}),
      ...(task.discoverable
        ? {
            cloudMapOptions: {
              name: service.name,
              dnsRecordType: servicediscovery.DnsRecordType.A,
              // Short TTL: callers see replaced tasks within seconds of a rollout.
              dnsTtl: Duration.seconds(10),
              container: entry,
              containerPort: service.port,
            },
          }
        : {}),
    });
    // A capacity provider strategy is rejected until the provider is associated with the cluster.
    this.service.node.addDependency(props.cluster);

    if (props.targetGroup) {
      // Registers the entry container's port and opens it to the ALB's group (and only to it).
      props.targetGroup.addTarget(
        this.service.loadBalancerTarget({
          containerName: task.entryContainer,
          containerPort: service.port,
          ...(props.alternate
            ? {
                alternateTarget: new ecs.AlternateTarget('AlternateTarget', {
                  alternateTargetGroup: props.alternate.targetGroup,
                  productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(
                    props.alternate.rule,
                  ),
                }),
              }
            : {}),
        }),
      );
    }
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
      throw new Error(
        `${this.node.path}: a ${task.deployment.strategy.strategy} deployment needs the alternate target group and listener rule. Fix: pass props.alternate (the Edge makes them for traffic-shifting web services).`,
      );
    }

    // The declared rollback alarms, watched by ECS for the whole deployment.
    this.deploymentAlarms = new DeploymentAlarms(this, 'DeploymentAlarms', {
      service: service.name,
      deployment: task.deployment,
      topic: props.alarmTopic,
      ...(props.targetGroup
        ? {
            loadBalancerFullName: props.targetGroup.firstLoadBalancerFullName,
            targetGroups: [props.targetGroup, ...(props.alternate ? [props.alternate.targetGroup] : [])],
          }
        : {}),
    });
    if (this.deploymentAlarms.alarms.length > 0) {
      this.service.enableDeploymentAlarms(
        this.deploymentAlarms.alarms.map((a) => a.alarmName),
        { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM },
      );
    }

    this.scaling = this.service.autoScaleTaskCount({
      minCapacity: scaling.minTasks,
      maxCapacity: scaling.maxTasks,
    });
    this.scaling.scaleOnCpuUtilization('CpuTargetTracking', {
      targetUtilizationPercent: scaling.targetCpuPercent,
      scaleInCooldown: Duration.seconds(scaling.scaleInCooldownSeconds),
      scaleOutCooldown: Duration.seconds(scaling.scaleOutCooldownSeconds),
    });
  }

  /** The service's name in the manifest. */
  get name(): string {
    return this.wiring.service;
  }

  /** The container named `name` in the wiring (`app`, `log_router`, `anomaly-sidecar`). */
  container(name: string): ecs.ContainerDefinition {
    const container = this.containers.get(name);
    if (!container) throw new Error(`${this.node.path}: no container '${name}'`);
    return container;
  }

  /** Admits `caller`'s tasks on this service's port; the only way an internal service gains ingress. */
  allowFrom(caller: ServiceUnit): void {
    // connections, not addIngressRule: also opens the caller's egress to this port.
    this.securityGroup.connections.allowFrom(
      caller.securityGroup,
      ec2.Port.tcp(this.port),
      `${caller.name} calls ${this.name}`,
    );
  }

  private addLogRouter(
    wiring: ContainerWiring,
    image: ecs.ContainerImage,
    sources: AwsSources,
  ): ecs.ContainerDefinition {
    return this.taskDefinition.addFirelensLogRouter(containerId(wiring), {
      ...this.commonOptions(wiring, image, sources),
      firelensConfig: {
        type: ecs.FirelensLogRouterType.FLUENTBIT,
        options: {
          enableECSLogMetadata: true,
          configFileType: ecs.FirelensConfigFileType.FILE,
          configFileValue: wiring.firelensConfigFile!,
        },
      },
      healthCheck: {
        command: [...LOG_ROUTER.healthCheckCommand],
        interval: Duration.seconds(LOG_ROUTER.healthCheck.intervalSeconds),
        timeout: Duration.seconds(LOG_ROUTER.healthCheck.timeoutSeconds),
        retries: LOG_ROUTER.healthCheck.retries,
        startPeriod: Duration.seconds(LOG_ROUTER.healthCheck.startPeriodSeconds),
      },
      // The router cannot log through itself: its own output goes to awslogs.
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.routerLogGroup, streamPrefix: this.wiring.service }),
    });
  }

  private addContainer(
    wiring: ContainerWiring,
    image: ecs.ContainerImage,
    sources: AwsSources,
  ): ecs.ContainerDefinition {
    const health = wiring.health;
    return this.taskDefinition.addContainer(containerId(wiring), {
      ...this.commonOptions(wiring, image, sources),
      ...(wiring.port?.exposed
        ? {
            portMappings: [
              { containerPort: wiring.port.number, protocol: ecs.Protocol.TCP, name: this.wiring.service },
            ],
          }
        : {}),
      ...(health
        ? {
            healthCheck: {
              command: [
                'CMD',
                'node',
                '-e',
                httpProbeScript(health.port, health.path, health.timeoutSeconds),
              ],
              interval: Duration.seconds(health.intervalSeconds),
              timeout: Duration.seconds(health.timeoutSeconds),
              retries: health.retries,
              startPeriod: Duration.seconds(health.startPeriodSeconds),
            },
          }
        : {}),
      ...(wiring.restart
        ? {
            enableRestartPolicy: true,
            restartAttemptPeriod: Duration.seconds(wiring.restart.attemptResetPeriodSeconds),
          }
        : {}),
      // FireLens: the task's router writes each record to CloudWatch Logs (and the app's to the sidecar).
      logging: ecs.LogDrivers.firelens({}),
    });
  }

  private commonOptions(wiring: ContainerWiring, image: ecs.ContainerImage, sources: AwsSources) {
    return {
      containerName: wiring.name,
      image,
      essential: wiring.essential,
      cpu: wiring.cpuUnits,
      ...(wiring.memoryReservationMiB === null ? {} : { memoryReservationMiB: wiring.memoryReservationMiB }),
      memoryLimitMiB: wiring.memoryLimitMiB,
      ...(wiring.user === null ? {} : { user: wiring.user }),
      readonlyRootFilesystem: wiring.readonlyRootFilesystem,
      environment: renderEnvironment(wiring.environment, sources, wiring.port?.number),
      secrets: renderSecrets(this, wiring.environment),
      stopTimeout: Duration.seconds(wiring.stopTimeoutSeconds),
    };
  }

  /** The task role's policy: exactly the wiring's grants, each on its own resources. */
  private grant(grants: readonly Grant[], sources: AwsSources, endpointArn: string | undefined): void {
    const seen = new Set<string>();
    for (const grant of grants) {
      const key = JSON.stringify(grant);
      if (seen.has(key)) continue;
      seen.add(key);
      switch (grant.kind) {
        case 'invoke-model':
          if (!endpointArn) throw new Error(`${this.node.path}: invoke-model needs the endpoint ARN`);
          this.taskDefinition.addToTaskRolePolicy(
            new iam.PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: [endpointArn] }),
          );
          break;
        case 'write-log-group':
          (grant.group === 'app' ? sources.appLogGroup : sources.anomalyLogGroup).grantWrite(this.taskRole);
          break;
        case 'read-anomalies':
          this.taskDefinition.addToTaskRolePolicy(
            new iam.PolicyStatement({
              actions: ['logs:FilterLogEvents'],
              resources: [sources.anomalyLogGroup.logGroupArn],
            }),
          );
          this.taskDefinition.addToTaskRolePolicy(
            new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
          );
          Validations.of(this.taskRole).acknowledge({
            id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
            reason: `cloudwatch:GetMetricData and cloudwatch:DescribeAlarms have no resource-level permissions; granted only to ${this.name} because it declares platformAccess.readAnomalies (the console: read-only metrics and alarm states).`,
          });
          break;
        case 'read-service-state': {
          const stack = Stack.of(this);
          const inCluster = {
            ArnEquals: {
              'ecs:cluster': stack.formatArn({
                service: 'ecs',
                resource: 'cluster',
                resourceName: sources.clusterName,
              }),
            },
          };
          this.taskDefinition.addToTaskRolePolicy(
            new iam.PolicyStatement({
              actions: ['ecs:DescribeServices'],
              resources: sources.serviceNames.map((name) =>
                stack.formatArn({
                  service: 'ecs',
                  resource: 'service',
                  resourceName: `${sources.clusterName}/${name}`,
                }),
              ),
            }),
          );
          // Tasks and container instances of this cluster only (their ARNs are not known in advance).
          Validations.of(this.taskRole).acknowledge(
            ...['task', 'container-instance'].map((kind) => ({
              id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region}:<AWS::AccountId>:${kind}/<${this.clusterLogicalId}>/*]`,
              reason: `The console lists the ${kind}s of its own cluster (ids unknown until they run): ${kind}/<cluster>/*, with an ecs:cluster condition.`,
            })),
          );
          this.taskDefinition.addToTaskRolePolicy(
            new iam.PolicyStatement({
              actions: ['ecs:ListTasks', 'ecs:ListContainerInstances'],
              resources: [
                stack.formatArn({ service: 'ecs', resource: 'cluster', resourceName: sources.clusterName }),
              ],
            }),
          );
          this.taskDefinition.addToTaskRolePolicy(
            new iam.PolicyStatement({
              actions: ['ecs:DescribeTasks', 'ecs:DescribeContainerInstances'],
              resources: [
                stack.formatArn({
                  service: 'ecs',
                  resource: 'task',
                  resourceName: `${sources.clusterName}/*`,
                }),
                stack.formatArn({
                  service: 'ecs',
                  resource: 'container-instance',
                  resourceName: `${sources.clusterName}/*`,
                }),
              ],
              conditions: inCluster,
            }),
          );
          // DescribeAlarms has no resource-level permissions.
          this.taskDefinition.addToTaskRolePolicy(
            new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }),
          );
          this.taskDefinition.addToTaskRolePolicy(
            new iam.PolicyStatement({
              actions: ['dynamodb:Scan'],
              resources: [sources.remediationLedger.tableArn],
            }),
          );
          break;
        }
      }
    }
  }
}

/** ECS's rendering of the wiring's deployment strategy and gate stages. */
function deploymentOptions(
  task: TaskWiring,
  gate: lambda.IFunction | undefined,
): Partial<ecs.Ec2ServiceProps> {
  const strategy = task.deployment.strategy;
  const hooks =
    gate && task.deployment.gateStages.length > 0
      ? {
          lifecycleHooks: [
            new ecs.DeploymentLifecycleLambdaTarget(gate, 'DeploymentGate', {
              lifecycleStages: task.deployment.gateStages.map((stage) => ecs.DeploymentLifecycleStage[stage]),
            }),
          ],
        }
      : {};
  switch (strategy.strategy) {
    case 'rolling':
      return { deploymentStrategy: ecs.DeploymentStrategy.ROLLING };
    case 'canary':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.CANARY,
        canaryConfiguration: {
          stepPercent: strategy.percent,
          stepBakeTime: Duration.minutes(strategy.bakeMinutes),
        },
        ...hooks,
      };
    case 'linear':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.LINEAR,
        linearConfiguration: {
          stepPercent: strategy.stepPercent,
          stepBakeTime: Duration.minutes(strategy.stepMinutes),
        },
        ...hooks,
      };
    case 'blue-green':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.BLUE_GREEN,
        bakeTime: Duration.minutes(strategy.bakeMinutes),
        ...hooks,
      };
  }
}

/** Construct ids of containers: stable, derived from the role (pinned by the template tests). */
function containerId(wiring: ContainerWiring): string {
  return { app: 'App', sidecar: 'AnomalySidecar', 'log-router': 'LogRouter' }[wiring.role];
}

/**
 * A container health check for images without curl or wget: Node's global fetch against
 * 127.0.0.1, exit 0 on 2xx, 1 on anything else (including a refused connection or a timeout).
 */
export function httpProbeScript(port: number, path: string, timeoutSeconds: number): string {
  // Abort a second before ECS' own timeout so the probe reports a failure rather than being killed.
  const timeoutMs = Math.max(1, timeoutSeconds - 1) * 1000;
  return `fetch('http://127.0.0.1:${port}${path}',{signal:AbortSignal.timeout(${timeoutMs})}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;
}
