import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { ContainerWiring, HealthWiring } from '../../wiring/index.ts';
import { guardRule } from '../validation.ts';
import type { PlatformLogging } from './logging.ts';
import { renderGrants } from './task-grants.ts';
import { type AwsSources, renderEnvironment, renderSecrets } from './value-sources.ts';

/**
 * The IAM path of every task and execution role of platform `platform`: the bootstrap stack's
 * rollout role may pass exactly the roles under it, without knowing the platform stack's role names.
 */
export function taskRolePath(platform: string): string {
  return `/${platform}/tasks/`;
}

/** What a task definition is made of: a service's task or a scheduled job's run, as the wiring decides it. */
export interface WiredTaskDefinition {
  readonly family: string;
  /** The service's or job's name (its log groups and stream prefix). */
  readonly service: string;
  readonly containers: readonly ContainerWiring[];
}

/** Inputs of {@link renderTaskDefinition}. */
export interface TaskDefinitionProps {
  /** The service's task (or the job's run) as the wiring model decided it. */
  readonly task: WiredTaskDefinition;
  /** The image of each container, by the wiring's image name (`backend`, `sidecar`, `log-router`). */
  readonly images: (image: string) => ecs.ContainerImage;
  readonly logging: PlatformLogging;
  /** Token values of the wiring's value sources, except the service's own log group (made here). */
  readonly sources: Omit<AwsSources, 'appLogGroup' | 'appLogStreamPrefix'>;
  /** ARN of the model endpoint, when a container holds the `invoke-model` grant. */
  readonly endpointArn?: string;
  /** The cluster the task runs in (cdk-nag names its cluster-scoped wildcards by its logical id). */
  readonly cluster: ecs.ICluster;
  /** The IAM path of the task and execution roles ({@link taskRolePath}): the rollout role passes these only. */
  readonly rolePath: string;
}

/** A rendered task definition and what the service unit needs of it. */
export interface RenderedTaskDefinition {
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  /** Every container, by the wiring's container name. */
  readonly containers: ReadonlyMap<string, ecs.ContainerDefinition>;
  readonly appLogGroup: logs.LogGroup;
  readonly routerLogGroup: logs.LogGroup;
  /** Chunks the router gave up, and appends it refused, for CloudWatch Logs, per minute (Sum). */
  readonly deliveryDrops: cloudwatch.IMetric;
  readonly taskRole: iam.IRole;
  readonly executionRole: iam.IRole;
  /** A grant calls S3 or DynamoDB, reached through their gateway endpoints. */
  readonly reachesGatewayEndpoints: boolean;
}

/**
 * One wired task as an `awsvpc` EC2 task definition: its containers, environment, ports, health
 * checks, stop timeouts, start order and grants are the wiring model's (platform/wiring) translated to
 * CloudFormation, plus the service's app and router log groups. Constructs are made in `scope` (the
 * service unit), so their ids are the unit's.
 */
export function renderTaskDefinition(scope: Construct, props: TaskDefinitionProps): RenderedTaskDefinition {
  const { task } = props;
  const taskDefinition = new ecs.Ec2TaskDefinition(scope, 'TaskDefinition', {
    family: task.family,
    networkMode: ecs.NetworkMode.AWS_VPC,
  });
  const taskRole = taskDefinition.taskRole;
  (taskRole.node.defaultChild as iam.CfnRole).path = props.rolePath;
  // The root filesystems are read-only; scratch space is a task-local volume, gone with the task.
  taskDefinition.addVolume({ name: 'tmp' });

  const appLogGroup = props.logging.createLogGroup(scope, 'AppLogGroup', `${task.service}/app`);
  const routerLogGroup = props.logging.createLogGroup(scope, 'RouterLogGroup', `${task.service}/log-router`);
  // The router's drops, counted per path from its own log (one line per chunk or refused append):
  // - past its Retry_Limit a cloudwatch_logs output gives a chunk up ("cannot be retried …
  //   output=cloudwatch_logs");
  // - past an output's storage.total_limit_size new data is refused for it ("would exceed total limit
  //   size in plugin <output>"), Fluent Bit 1.9's only bound on an overloaded router (extra.conf);
  // - the http output to the sidecar makes one attempt ("is not retried … output=http").
  // Lost delivery is alarmed by the service unit; the http output's drops are scoring the sidecar shed.
  const routerDrops = (id: string, metricName: string, patterns: readonly (readonly string[])[]) =>
    patterns.map((terms, i) =>
      routerLogGroup.addMetricFilter(i === 0 ? id : `${id}${i + 1}`, {
        filterPattern: logs.FilterPattern.allTerms(...terms),
        metricNamespace: 'Platform/LogRouter',
        metricName,
        metricValue: '1',
        defaultValue: 0,
      }),
    )[0]!;
  const deliveryDrops = routerDrops('RouterDeliveryDrops', `DeliveryChunksDropped-${task.service}`, [
    ['cannot be retried', 'output=cloudwatch_logs'],
    ['would exceed total limit size', 'plugin cloudwatch_logs'],
  ]).metric({ statistic: 'Sum', period: Duration.minutes(1) });
  routerDrops('RouterScoringDrops', `ScoringChunksDropped-${task.service}`, [
    ['is not retried', 'output=http'],
    ['would exceed total limit size', 'plugin http'],
  ]);
  let intakeToken: secretsmanager.Secret | undefined;
  const sources: AwsSources = {
    ...props.sources,
    appLogGroup,
    appLogStreamPrefix: `${task.service}/`,
    intakeToken: () => {
      intakeToken ??= intakeTokenSecret(scope, task.service);
      return intakeToken;
    },
  };

  const renderer = new ContainerRenderer(scope, taskDefinition, task, sources, routerLogGroup);
  const containers = new Map<string, ecs.ContainerDefinition>();
  for (const wiring of task.containers) {
    const image = props.images(wiring.image);
    const container =
      wiring.role === 'log-router' ? renderer.logRouter(wiring, image) : renderer.container(wiring, image);
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

  // The task role's policy: exactly the wiring's grants, each on its own resources.
  const stack = Stack.of(scope);
  const grants = renderGrants(
    task.containers.flatMap((c) => c.grants),
    {
      stack,
      sources,
      endpointArn: props.endpointArn,
      service: task.service,
      clusterLogicalId: stack.getLogicalId(props.cluster.node.defaultChild as CfnElement),
      path: scope.node.path,
    },
  );
  for (const grant of grants) {
    for (const statement of grant.statements) {
      taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement(statement));
    }
    grant.writes?.grantWrite(taskRole);
    if (grant.acknowledgements.length > 0) Validations.of(taskRole).acknowledge(...grant.acknowledgements);
  }

  // The execution role pulls images and writes the router's awslogs stream.
  const executionRole = taskDefinition.obtainExecutionRole();
  (executionRole.node.defaultChild as iam.CfnRole).path = props.rolePath;
  Validations.of(executionRole).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason:
      'ecr:GetAuthorizationToken has no resource-level permissions; image pulls themselves are scoped to the repositories.',
  });
  Validations.of(taskDefinition).acknowledge(
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
  return {
    taskDefinition,
    containers,
    appLogGroup,
    routerLogGroup,
    deliveryDrops,
    taskRole,
    executionRole,
    reachesGatewayEndpoints: grants.some((grant) => grant.gatewayEgress === true),
  };
}

/** Renders the wiring's containers into one task definition. */
class ContainerRenderer {
  constructor(
    private readonly scope: Construct,
    private readonly taskDefinition: ecs.Ec2TaskDefinition,
    private readonly task: WiredTaskDefinition,
    private readonly sources: AwsSources,
    private readonly routerLogGroup: logs.ILogGroup,
  ) {}

  /** The FireLens router: its own awslogs output (it cannot log through itself). */
  logRouter(wiring: ContainerWiring, image: ecs.ContainerImage): ecs.ContainerDefinition {
    return this.taskDefinition.addFirelensLogRouter(containerId(wiring), {
      ...this.commonOptions(wiring, image),
      firelensConfig: {
        type: ecs.FirelensLogRouterType.FLUENTBIT,
        options: {
          enableECSLogMetadata: true,
          configFileType: ecs.FirelensConfigFileType.FILE,
          configFileValue: wiring.firelensConfigFile!,
        },
      },
      ...healthCheck(wiring.health),
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.routerLogGroup, streamPrefix: this.task.service }),
    });
  }

  /** An app or sidecar container, logging through FireLens. */
  container(wiring: ContainerWiring, image: ecs.ContainerImage): ecs.ContainerDefinition {
    return this.taskDefinition.addContainer(containerId(wiring), {
      ...this.commonOptions(wiring, image),
      ...(wiring.port?.exposed
        ? {
            portMappings: [
              { containerPort: wiring.port.number, protocol: ecs.Protocol.TCP, name: this.task.service },
            ],
          }
        : {}),
      ...healthCheck(wiring.health),
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

  private commonOptions(wiring: ContainerWiring, image: ecs.ContainerImage) {
    return {
      containerName: wiring.name,
      image,
      essential: wiring.essential,
      cpu: wiring.cpuUnits,
      ...(wiring.memoryReservationMiB === null ? {} : { memoryReservationMiB: wiring.memoryReservationMiB }),
      memoryLimitMiB: wiring.memoryLimitMiB,
      ...(wiring.user === null ? {} : { user: wiring.user }),
      readonlyRootFilesystem: wiring.readonlyRootFilesystem,
      environment: renderEnvironment(wiring.environment, this.sources, wiring.port?.number),
      secrets: renderSecrets(this.scope, wiring.environment, this.sources),
      stopTimeout: Duration.seconds(wiring.stopTimeoutSeconds),
      ...(wiring.command ? { command: [...wiring.command] } : {}),
      ...(wiring.entryPoint ? { entryPoint: [...wiring.entryPoint] } : {}),
      ...(wiring.tmpfs ? { linuxParameters: this.tmpfs(wiring, wiring.tmpfs) } : {}),
    };
  }

  /**
   * The declared writable paths as tmpfs mounts (ECS `linuxParameters.tmpfs`, supported on the EC2
   * launch type, not on Fargate): the root filesystem stays read-only. No setuid files or devices there.
   */
  private tmpfs(wiring: ContainerWiring, mounts: NonNullable<ContainerWiring['tmpfs']>): ecs.LinuxParameters {
    const parameters = new ecs.LinuxParameters(this.scope, `${containerId(wiring)}LinuxParameters`);
    parameters.addTmpfs(
      ...mounts.map((m) => ({
        containerPath: m.path,
        size: m.sizeMiB,
        mountOptions: [ecs.TmpfsMountOption.NOSUID, ecs.TmpfsMountOption.NODEV],
      })),
    );
    return parameters;
  }
}

/** ECS's container health check for the wiring's: its probe as a command, its timing as is. */
function healthCheck(health: HealthWiring | null): { healthCheck?: ecs.HealthCheck } {
  // A worker without a declared command: ECS watches the essential container's process itself.
  if (!health || health.probe.kind === 'process') return {};
  const probe = health.probe;
  const command =
    probe.kind === 'http'
      ? ['CMD', 'node', '-e', httpProbeScript(probe.port, probe.path, health.timeoutSeconds)]
      : [...probe.command];
  return {
    healthCheck: {
      command,
      interval: Duration.seconds(health.intervalSeconds),
      timeout: Duration.seconds(health.timeoutSeconds),
      retries: health.retries,
      startPeriod: Duration.seconds(health.startPeriodSeconds),
    },
  };
}

/**
 * The secret the task's router and sidecar share (the wiring's `intake-token`): generated by
 * CloudFormation, so its value is in no template, and read by the execution role when a task starts.
 */
function intakeTokenSecret(scope: Construct, service: string): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, 'IntakeToken', {
    description: `${service}: the token its tasks' log router sends to their anomaly sidecar`,
    generateSecretString: { passwordLength: 48, excludePunctuation: true },
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SMG4',
    reason:
      "The intake token only authenticates the task's log router to its sidecar on the task's own loopback; both read it when a task starts, so a new value takes effect with the next deployment, and it grants nothing outside the task. A rotation Lambda would add a function and permissions for no gain.",
  });
  return secret;
}

/** Construct ids of containers: stable, derived from the role (pinned by the template tests). */
function containerId(wiring: ContainerWiring): string {
  return { app: 'App', sidecar: 'AnomalySidecar', 'log-router': 'LogRouter', deadline: 'Deadline' }[
    wiring.role
  ];
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
