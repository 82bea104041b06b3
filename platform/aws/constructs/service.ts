import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { SecretManifest, ServiceManifest } from '../../../config/index.ts';
import { LOG_ROUTER, SIDECAR_CONTAINER, SIDECAR_ENV } from '../../../services/anomaly-sidecar/contract.ts';
import { guardRule } from '../validation.ts';
import type { PlatformLogging } from './logging.ts';

/**
 * The plain FireLens router image, pinned, for services whose logs are not scored: aws-for-fluent-bit
 * 3.x (Amazon Linux 2023; 2.x reached end of life on 2026-06-30). Scored services run the router image
 * built from `services/anomaly-sidecar/fluent-bit/Dockerfile` (the same base plus the sidecar output).
 */
export const FLUENT_BIT_IMAGE = 'public.ecr.aws/aws-observability/aws-for-fluent-bit:3.2.1';

/** The uid:gid of `node` in node:20-bookworm-slim, which every service image runs as. */
export const APP_USER = '1000:1000';

/** Container names inside every task definition. */
export const CONTAINER_NAMES = {
  app: 'app',
  logRouter: LOG_ROUTER.name,
  sidecar: SIDECAR_CONTAINER.name,
} as const;

/** Anomaly scoring settings for a service's sidecar. */
export interface AnomalySidecarOptions {
  /** The sidecar image. */
  readonly image: ecs.ContainerImage;
  /** The SageMaker endpoint the sidecar invokes; the task role may invoke only this one. */
  readonly endpointName: string;
  /**
   * The FireLens router image with the sidecar's custom configuration baked in (contract: LOG_ROUTER):
   * it writes app logs to CloudWatch Logs and to the sidecar's intake.
   */
  readonly logRouterImage: ecs.ContainerImage;
  /** Receives the sidecar's output (EMF metrics, anomaly records). */
  readonly logGroup: logs.ILogGroup;
}

/** Props of {@link ServiceUnit}. */
export interface ServiceUnitProps {
  /** Platform name; the task-definition family is `<platform>-<service>` (the deploy command uses it). */
  readonly platformName: string;
  /** The service as the manifest declares it. */
  readonly service: ServiceManifest;
  readonly cluster: ecs.ICluster;
  /** The capacity provider the service's tasks are placed on. */
  readonly capacityProvider: ecs.AsgCapacityProvider;
  /** Private subnets of every AZ (awsvpc ENIs). */
  readonly subnets: ec2.SubnetSelection;
  /** The application image. */
  readonly image: ecs.ContainerImage;
  readonly logging: PlatformLogging;
  /**
   * Environment entries added by the platform, e.g. `BACKEND_URL` for each service this one talks to.
   * @default - none
   */
  readonly platformEnvironment?: Readonly<Record<string, string>>;
  /**
   * The ALB target group (web services); the service registers its app container with it.
   * @default - not behind the ALB
   */
  readonly targetGroup?: elbv2.ApplicationTargetGroup;
  /**
   * Register in the cluster's Cloud Map namespace as `<name>.<namespace>` (services others call).
   * @default false
   */
  readonly discoverable?: boolean;
  /**
   * The anomaly sidecar; required when `service.anomaly.enabled`.
   * @default - no sidecar (only valid when anomaly scoring is off for this service)
   */
  readonly anomaly?: AnomalySidecarOptions;
  /**
   * What `service.platformAccess.readAnomalies` grants: read access to the anomaly log group and the
   * anomaly metrics, and their names in the environment; required when that flag is set.
   * @default - no platform access
   */
  readonly anomalyReader?: AnomalyReaderOptions;
}

/** Inputs of the `platformAccess.readAnomalies` grant (an operations console reading anomaly data). */
export interface AnomalyReaderOptions {
  /** The anomaly log group the sidecars write to. */
  readonly logGroup: logs.ILogGroup;
  /** Names of the platform's services, for the console's `SERVICES` list. */
  readonly serviceNames: readonly string[];
}

/**
 * One manifest service on ECS: an `awsvpc` EC2 task definition with the app container (non-root,
 * read-only root filesystem, health check without curl, stop timeout, secrets as references), a
 * FireLens log router and the non-essential anomaly sidecar; an ECS service on the capacity provider,
 * spread across AZs then bin-packed on memory, with the deployment circuit breaker rolling back, and
 * CPU target-tracking autoscaling. Its security group has no ingress until a caller is allowed with
 * {@link allowFrom} (or the ALB target group attaches).
 *
 * @example
 * const backend = new ServiceUnit(stack, 'backend', { service, cluster, capacityProvider, subnets, image, logging, discoverable: true, anomaly });
 * backend.allowFrom(frontend);
 */
export class ServiceUnit extends Construct {
  readonly service: ecs.Ec2Service;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly appContainer: ecs.ContainerDefinition;
  readonly logRouter: ecs.FirelensLogRouter;
  readonly sidecarContainer?: ecs.ContainerDefinition;
  readonly securityGroup: ec2.SecurityGroup;
  /** The app's logs (FireLens → CloudWatch Logs). */
  readonly appLogGroup: logs.LogGroup;
  /** The log router's own logs. */
  readonly routerLogGroup: logs.LogGroup;
  readonly taskRole: iam.IRole;
  /** Pulls the images and writes the awslogs streams; the deploy role passes it with the task role. */
  readonly executionRole: iam.IRole;
  readonly scaling: ecs.ScalableTaskCount;
  /** `http://<name>.<namespace>:<port>` when discoverable. */
  readonly discoveryUrl?: string;
  readonly port: number;
  private readonly spec: ServiceManifest;

  constructor(scope: Construct, id: string, props: ServiceUnitProps) {
    super(scope, id);
    const { service } = props;
    this.spec = service;
    this.port = service.port;
    const stack = Stack.of(this);
    if (service.anomaly.enabled && !props.anomaly) {
      throw new Error(
        `${this.node.path}: anomaly.enabled (true) needs the anomaly sidecar options. Fix: pass props.anomaly, or declare the service with anomaly scoring off.`,
      );
    }
    const sidecar = service.anomaly.enabled ? props.anomaly : undefined;

    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'TaskDefinition', {
      family: `${props.platformName}-${service.name}`,
      networkMode: ecs.NetworkMode.AWS_VPC,
    });
    this.taskRole = this.taskDefinition.taskRole;
    // The root filesystems are read-only; scratch space is a task-local volume, gone with the task.
    this.taskDefinition.addVolume({ name: 'tmp' });

    this.appLogGroup = props.logging.createLogGroup(this, 'AppLogGroup', `${service.name}/app`);
    this.routerLogGroup = props.logging.createLogGroup(this, 'RouterLogGroup', `${service.name}/log-router`);

    const appLogStreamPrefix = `${service.name}/`;
    this.logRouter = this.taskDefinition.addFirelensLogRouter('LogRouter', {
      containerName: CONTAINER_NAMES.logRouter,
      image: sidecar ? sidecar.logRouterImage : ecs.ContainerImage.fromRegistry(FLUENT_BIT_IMAGE),
      // Essential: without the router the app's log driver has nowhere to write.
      essential: LOG_ROUTER.essential,
      cpu: LOG_ROUTER.cpuUnits,
      memoryReservationMiB: LOG_ROUTER.memoryReservationMiB,
      memoryLimitMiB: LOG_ROUTER.memoryReservationMiB * 2,
      readonlyRootFilesystem: true,
      firelensConfig: {
        type: ecs.FirelensLogRouterType.FLUENTBIT,
        options: {
          enableECSLogMetadata: true,
          ...(sidecar
            ? { configFileType: ecs.FirelensConfigFileType.FILE, configFileValue: LOG_ROUTER.configFilePath }
            : {}),
        },
      },
      // Read by the baked-in configuration's CloudWatch Logs output.
      ...(sidecar
        ? {
            environment: {
              [LOG_ROUTER.env.region]: stack.region,
              [LOG_ROUTER.env.logGroupName]: this.appLogGroup.logGroupName,
              [LOG_ROUTER.env.logStreamPrefix]: appLogStreamPrefix,
            },
          }
        : {}),
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.routerLogGroup, streamPrefix: service.name }),
    });
    this.logRouter.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });

    this.appContainer = this.taskDefinition.addContainer('App', {
      containerName: CONTAINER_NAMES.app,
      image: props.image,
      essential: true,
      cpu: service.cpuUnits,
      memoryLimitMiB: service.memoryMiB,
      user: APP_USER,
      readonlyRootFilesystem: true,
      portMappings: [{ containerPort: service.port, protocol: ecs.Protocol.TCP, name: service.name }],
      environment: {
        ...service.environment,
        ...props.platformEnvironment,
        PORT: String(service.port),
        HOST: '0.0.0.0',
      },
      secrets: this.renderSecrets(service.secrets),
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          httpProbeScript(service.port, service.healthCheck.path, service.healthCheck.timeoutSeconds),
        ],
        interval: Duration.seconds(service.healthCheck.intervalSeconds),
        timeout: Duration.seconds(service.healthCheck.timeoutSeconds),
        retries: service.healthCheck.unhealthyThreshold,
        startPeriod: Duration.seconds(service.healthCheck.startPeriodSeconds),
      },
      stopTimeout: Duration.seconds(service.stopTimeoutSeconds),
      // FireLens. Scored services: the router's baked-in configuration sends each record to CloudWatch
      // Logs and to the sidecar. Others: the CloudWatch Logs output is generated from these options.
      // Either way the router writes with the task role (granted below).
      logging: ecs.LogDrivers.firelens(
        sidecar
          ? {}
          : {
              options: {
                Name: 'cloudwatch_logs',
                region: stack.region,
                log_group_name: this.appLogGroup.logGroupName,
                log_stream_prefix: appLogStreamPrefix,
                auto_create_group: 'false',
              },
            },
      ),
    });
    this.appContainer.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });
    this.appContainer.addContainerDependencies({
      container: this.logRouter,
      condition: ecs.ContainerDependencyCondition.START,
    });
    this.appLogGroup.grantWrite(this.taskDefinition.taskRole);
    // The execution role pulls images and writes the router's and sidecar's awslogs streams.
    this.executionRole = this.taskDefinition.obtainExecutionRole();
    Validations.of(this.executionRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions; image pulls themselves are scoped to the repositories.',
    });
    if (sidecar) {
      const limits = service.anomaly.sidecar;
      this.sidecarContainer = this.taskDefinition.addContainer('AnomalySidecar', {
        containerName: CONTAINER_NAMES.sidecar,
        image: sidecar.image,
        // Non-essential: a sidecar crash or a failing endpoint never stops the app.
        essential: SIDECAR_CONTAINER.essential,
        cpu: limits.cpuUnits,
        memoryReservationMiB: limits.memoryMiB,
        // The hard limit kills the sidecar, never the app, if a bug defeats its own bounds.
        memoryLimitMiB: Math.max(limits.memoryMiB * 2, SIDECAR_CONTAINER.memoryLimitFloorMiB),
        user: SIDECAR_CONTAINER.user,
        readonlyRootFilesystem: SIDECAR_CONTAINER.readonlyRootFilesystem,
        // No port mapping: only the router in the same task reaches it, over 127.0.0.1.
        environment: {
          [SIDECAR_ENV.port]: String(SIDECAR_CONTAINER.port),
          [SIDECAR_ENV.host]: '127.0.0.1',
          [SIDECAR_ENV.serviceName]: service.name,
          [SIDECAR_ENV.clusterName]: props.cluster.clusterName,
          [SIDECAR_ENV.endpointName]: sidecar.endpointName,
          [SIDECAR_ENV.logGroupName]: this.appLogGroup.logGroupName,
          AWS_REGION: stack.region,
          ...(service.anomaly.threshold === null
            ? {}
            : { [SIDECAR_ENV.anomalyThreshold]: String(service.anomaly.threshold) }),
        },
        healthCheck: {
          command: [...SIDECAR_CONTAINER.healthCheckCommand],
          interval: Duration.seconds(SIDECAR_CONTAINER.healthCheck.intervalSeconds),
          timeout: Duration.seconds(SIDECAR_CONTAINER.healthCheck.timeoutSeconds),
          retries: SIDECAR_CONTAINER.healthCheck.retries,
          startPeriod: Duration.seconds(SIDECAR_CONTAINER.healthCheck.startPeriodSeconds),
        },
        stopTimeout: Duration.seconds(SIDECAR_CONTAINER.stopTimeoutSeconds),
        logging: ecs.LogDrivers.awsLogs({ logGroup: sidecar.logGroup, streamPrefix: service.name }),
      });
      this.sidecarContainer.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });
      this.taskDefinition.addToTaskRolePolicy(
        new iam.PolicyStatement({
          actions: [...SIDECAR_CONTAINER.iamActions],
          resources: [
            stack.formatArn({
              service: 'sagemaker',
              resource: 'endpoint',
              resourceName: sidecar.endpointName,
            }),
          ],
        }),
      );
    }

    Validations.of(this.taskDefinition).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-ECS2',
        reason:
          'Environment carries only non-secret configuration (ports, service names, discovery URLs, the endpoint name); declared secrets are rendered as Secrets Manager / SSM references in `secrets`.',
      },
      {
        id: guardRule('ecs_task_definition_nonroot_user_check'),
        reason:
          'Only the FireLens log router runs as root: ECS FireLens requires Fluent Bit to run as root to create its log socket (aws/containers-roadmap#2122). App and sidecar run as 1000:1000 with read-only root filesystems.',
      },
    );

    if (service.platformAccess.readAnomalies) this.grantAnomalyReads(service, props.anomalyReader);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: `${service.name} tasks: ingress only from declared callers`,
      // HTTPS to the VPC endpoints is added by the network (Network.allowEndpointAccessFrom), the
      // callee ports by allowFrom; never all protocols to 0.0.0.0/0.
      allowAllOutbound: false,
    });

    const scaling = service.scaling;
    if (scaling.minTasks > scaling.maxTasks) {
      throw new Error(
        `${this.node.path}: scaling.minTasks (${scaling.minTasks}) must be ≤ maxTasks (${scaling.maxTasks}). Fix: raise maxTasks or lower minTasks.`,
      );
    }
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
      enableExecuteCommand: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
      ...(props.targetGroup
        ? { healthCheckGracePeriod: Duration.seconds(service.healthCheck.startPeriodSeconds + 30) }
        : {}),
      ...(props.discoverable
        ? {
            cloudMapOptions: {
              name: service.name,
              dnsRecordType: servicediscovery.DnsRecordType.A,
              // Short TTL: callers see replaced tasks within seconds of a rollout.
              dnsTtl: Duration.seconds(10),
              container: this.appContainer,
              containerPort: service.port,
            },
          }
        : {}),
    });
    // A capacity provider strategy is rejected until the provider is associated with the cluster.
    this.service.node.addDependency(props.cluster);

    if (props.discoverable) {
      const namespace = props.cluster.defaultCloudMapNamespace;
      if (!namespace) {
        throw new Error(
          `${this.node.path}: discoverable (true) needs a default Cloud Map namespace on the cluster. Fix: give Capacity a namespaceName.`,
        );
      }
      this.discoveryUrl = `http://${service.name}.${namespace.namespaceName}:${service.port}`;
    }

    if (props.targetGroup) {
      // Registers the app container's port and opens it to the ALB's group (and only to it).
      props.targetGroup.addTarget(
        this.service.loadBalancerTarget({ containerName: CONTAINER_NAMES.app, containerPort: service.port }),
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
    return this.spec.name;
  }

  /** Admits `caller`'s tasks on this service's port; the only way an internal service gains ingress. */
  allowFrom(caller: ServiceUnit): void {
    // connections, not addIngressRule: also opens the caller's egress to this port (issue 13).
    this.securityGroup.connections.allowFrom(
      caller.securityGroup,
      ec2.Port.tcp(this.port),
      `${caller.name} calls ${this.spec.name}`,
    );
  }

  private grantAnomalyReads(service: ServiceManifest, reader: AnomalyReaderOptions | undefined): void {
    if (!reader) {
      throw new Error(
        `${this.node.path}: platformAccess.readAnomalies (true) needs props.anomalyReader. Fix: pass the anomaly log group and the service names.`,
      );
    }
    this.appContainer.addEnvironment('ANOMALY_SOURCE', 'cloudwatch');
    this.appContainer.addEnvironment('ANOMALY_LOG_GROUP', reader.logGroup.logGroupName);
    this.appContainer.addEnvironment(
      'SERVICES',
      JSON.stringify(reader.serviceNames.map((name) => ({ name }))),
    );
    this.taskDefinition.addToTaskRolePolicy(
      new iam.PolicyStatement({
        actions: ['logs:FilterLogEvents'],
        resources: [reader.logGroup.logGroupArn],
      }),
    );
    this.taskDefinition.addToTaskRolePolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    );
    Validations.of(this.taskDefinition.taskRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: `cloudwatch:GetMetricData has no resource-level permissions or namespace condition; granted only to ${service.name} because it declares platformAccess.readAnomalies (read-only metrics).`,
    });
  }

  private renderSecrets(secrets: Readonly<Record<string, SecretManifest>>): Record<string, ecs.Secret> {
    const rendered: Record<string, ecs.Secret> = {};
    for (const [variable, secret] of Object.entries(secrets)) {
      if (secret.source === 'secretsmanager') {
        const ref = secretsmanager.Secret.fromSecretNameV2(this, `Secret${variable}`, secret.secretName);
        rendered[variable] = ecs.Secret.fromSecretsManager(ref, secret.field);
      } else {
        const ref = ssm.StringParameter.fromSecureStringParameterAttributes(this, `Parameter${variable}`, {
          parameterName: secret.parameterName,
        });
        rendered[variable] = ecs.Secret.fromSsmParameter(ref);
      }
    }
    return rendered;
  }
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
