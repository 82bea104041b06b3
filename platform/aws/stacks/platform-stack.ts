import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { ImageManifest, Manifest, ServiceManifest } from '../../../config/index.ts';
import { LOG_ROUTER, SIDECAR_CONTAINER } from '../../../services/anomaly-sidecar/contract.ts';
import { Capacity } from '../constructs/capacity.ts';
import { DeliveryRole } from '../constructs/delivery-role.ts';
import { Edge } from '../constructs/edge.ts';
import { InferenceEndpoint } from '../constructs/inference.ts';
import { LogPipeline } from '../constructs/log-pipeline.ts';
import { PlatformLogging } from '../constructs/logging.ts';
import { Monitoring } from '../constructs/monitoring.ts';
import { Network } from '../constructs/network.ts';
import { PlatformNotifications } from '../constructs/notifications.ts';
import { PredictionApi } from '../constructs/prediction-api.ts';
import { type ImageRepositorySpec, Registry } from '../constructs/registry.ts';
import { Remediation } from '../constructs/remediation.ts';
import { ServiceUnit } from '../constructs/service.ts';

/** The repository root: Dockerfiles and the model artifact directory are relative to it. */
const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The anomaly sidecar image: not a manifest service, but part of every task that scores its logs.
 * Named like its Dockerfile (`Dockerfile.sidecar`), as the deploy workflow pushes it (`<prefix>sidecar`).
 */
export const SIDECAR_IMAGE: ImageRepositorySpec = {
  name: 'sidecar',
  dockerfile: SIDECAR_CONTAINER.dockerfile,
};

/** The model image's repository, named like its Dockerfile as the deploy workflow pushes it (`<prefix>model`). */
export const MODEL_IMAGE_NAME = 'model';

/** The FireLens router image of scored tasks: aws-for-fluent-bit plus the sidecar output configuration. */
export const LOG_ROUTER_IMAGE: ImageRepositorySpec = {
  name: 'log-router',
  dockerfile: LOG_ROUTER.dockerfile,
};

/** Props of {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /** The validated manifest (`declarePlatform().synth()`). */
  readonly manifest: Manifest;
  /** Tag of the Dockerfile-built images the task definitions start from (the deploy command rolls new ones). */
  readonly imageTag: string;
  /**
   * ALB deletion protection.
   * @default true
   */
  readonly loadBalancerDeletionProtection?: boolean;
  /**
   * Repository root the model image and artifact are built from.
   * @default - this checkout's root
   */
  readonly rootDir?: string;
}

/**
 * The platform: network, capacity, registry, edge and one {@link ServiceUnit} per manifest service;
 * with a declared model, the SageMaker endpoint, the prediction API and the instance-log pipeline;
 * monitoring and remediation; with declared delivery, the GitHub OIDC roles. It only composes; every
 * decision lives in a construct.
 */
export class PlatformStack extends Stack {
  readonly manifest: Manifest;
  readonly logging: PlatformLogging;
  readonly notifications: PlatformNotifications;
  readonly network: Network;
  readonly capacity: Capacity;
  readonly registry: Registry;
  readonly edge: Edge;
  /** Services by manifest name, in manifest order. */
  readonly services: ReadonlyMap<string, ServiceUnit>;
  /** The SageMaker endpoint named `manifest.model.name`; undefined without a declared model. */
  readonly inference?: InferenceEndpoint;
  /** `POST /predict` on {@link inference}; undefined without a declared model. */
  readonly predictionApi?: PredictionApi;
  /** CloudWatch agent and instance-log subscription to `log-scorer`; undefined without a declared model. */
  readonly logPipeline?: LogPipeline;
  readonly monitoring: Monitoring;
  readonly remediation: Remediation;
  /** GitHub OIDC deploy and infrastructure roles; undefined without `platform.delivery`. */
  readonly delivery?: DeliveryRole;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { manifest } = props;
    const platform = manifest.platform;
    this.manifest = manifest;

    this.logging = new PlatformLogging(this, 'Logging', {
      platformName: platform.name,
      retentionDays: platform.observability.logRetentionDays,
    });
    this.notifications = new PlatformNotifications(this, 'Notifications', {
      platformName: platform.name,
      ...(platform.observability.alarmEmail ? { email: platform.observability.alarmEmail } : {}),
    });
    this.network = new Network(this, 'Network', {
      network: platform.network,
      logging: this.logging,
      // issue 13: a Secrets Manager endpoint only when a declared secret needs it.
      secretsManagerEndpoint: manifest.services.some((s) =>
        Object.values(s.secrets).some((secret) => secret.source === 'secretsmanager'),
      ),
    });
    this.capacity = new Capacity(this, 'Capacity', {
      platformName: platform.name,
      capacity: platform.capacity,
      vpc: this.network.vpc,
      subnets: this.network.privateSubnets,
      namespaceName: `${platform.name}.internal`,
      notificationTopic: this.notifications.topic,
      // issue 13: HTTPS to the internet only for images from public registries (no VPC endpoint).
      internetImagePulls: manifest.services.some(
        (s) => s.image.kind === 'registry' || !(s.anomaly.enabled && manifest.model),
      ),
    });
    this.registry = new Registry(this, 'Registry', {
      platformName: platform.name,
      images: imagesToBuild(manifest),
    });
    this.edge = new Edge(this, 'Edge', {
      edge: platform.edge,
      vpc: this.network.vpc,
      subnets: this.network.publicSubnets,
      services: manifest.services,
      deletionProtection: props.loadBalancerDeletionProtection ?? true,
      platformName: platform.name, // issue 13: names the user pool, sign-in domain and web ACL
    });

    const imageOf = (name: string, image: ImageManifest): ecs.ContainerImage =>
      image.kind === 'registry'
        ? ecs.ContainerImage.fromRegistry(image.uri)
        : ecs.ContainerImage.fromEcrRepository(this.registry.repository(name), props.imageTag);

    // Callees first, so a caller's environment can carry their URLs.
    const units = new Map<string, ServiceUnit>();
    for (const service of calleesFirst(manifest.services)) {
      const platformEnvironment: Record<string, string> = {};
      for (const callee of service.talksTo) {
        const url = units.get(callee)?.discoveryUrl;
        if (!url) throw new Error(`${service.path}: talksTo '${callee}' is not rendered before its caller.`);
        platformEnvironment[`${callee.toUpperCase().replaceAll('-', '_')}_URL`] = url;
      }
      units.set(
        service.name,
        new ServiceUnit(this, `Service-${service.name}`, {
          platformName: platform.name,
          service,
          cluster: this.capacity.cluster,
          capacityProvider: this.capacity.capacityProvider,
          subnets: this.network.privateSubnets,
          image: imageOf(service.name, service.image),
          logging: this.logging,
          platformEnvironment,
          discoverable: service.reachableFrom.length > 0,
          ...(service.platformAccess.readAnomalies
            ? {
                anomalyReader: {
                  logGroup: this.logging.anomalyLogGroup,
                  serviceNames: manifest.services.map((s) => s.name),
                },
              }
            : {}),
          ...(service.kind === 'web' ? { targetGroup: this.edge.targetGroup(service.name) } : {}),
          ...(service.anomaly.enabled && manifest.model
            ? {
                anomaly: {
                  image: ecs.ContainerImage.fromEcrRepository(
                    this.registry.repository(SIDECAR_IMAGE.name),
                    props.imageTag,
                  ),
                  endpointName: manifest.model.name,
                  logRouterImage: ecs.ContainerImage.fromEcrRepository(
                    this.registry.repository(LOG_ROUTER_IMAGE.name),
                    props.imageTag,
                  ),
                  logGroup: this.logging.anomalyLogGroup,
                },
              }
            : {}),
        }),
      );
    }
    for (const unit of units.values()) {
      for (const caller of manifest.services.find((s) => s.name === unit.name)?.reachableFrom ?? []) {
        const callerUnit = units.get(caller);
        if (callerUnit) unit.allowFrom(callerUnit);
      }
    }
    this.services = new Map(manifest.services.map((s) => [s.name, units.get(s.name)!]));

    const privateSubnets = this.network.privateSubnets;
    const functions: lambda.IFunction[] = [];
    if (manifest.model) {
      this.inference = new InferenceEndpoint(this, 'Inference', {
        model: manifest.model,
        rootDir: props.rootDir ?? REPOSITORY_ROOT,
        vpc: this.network.vpc,
        subnets: privateSubnets,
        logging: this.logging, // issue 13: the endpoint's log group, with retention and KMS
      });
      this.predictionApi = new PredictionApi(this, 'PredictionApi', {
        platformName: platform.name,
        endpoint: this.inference,
        vpc: this.network.vpc,
        subnets: privateSubnets,
        logging: this.logging,
        clients: manifest.model.apiClients, // issue 13: one key and usage plan per declared client
      });
      const userData = this.capacity.launchTemplate.userData;
      if (!userData) throw new Error(`${this.node.path}: the capacity's launch template has no user data.`);
      this.logPipeline = new LogPipeline(this, 'LogPipeline', {
        platformName: platform.name,
        logging: this.logging,
        endpoint: this.inference,
        vpc: this.network.vpc,
        subnets: privateSubnets,
        instanceRole: this.capacity.instanceRole,
        instanceUserData: userData,
      });
      functions.push(this.predictionApi.function.function, this.logPipeline.function.function);
    }

    const scored = (service: ServiceManifest) => service.anomaly.enabled && manifest.model !== null;
    this.monitoring = new Monitoring(this, 'Monitoring', {
      platformName: platform.name,
      clusterName: this.capacity.cluster.clusterName,
      autoScalingGroupName: this.capacity.autoScalingGroup.autoScalingGroupName,
      loadBalancerFullName: this.edge.loadBalancer.loadBalancerFullName,
      services: manifest.services.map((service) => ({
        name: service.name,
        serviceName: this.services.get(service.name)!.service.serviceName,
        maxTasks: service.scaling.maxTasks,
        anomalyScoring: scored(service),
        ...(service.kind === 'web'
          ? { targetGroupFullName: this.edge.targetGroup(service.name).targetGroupFullName }
          : {}),
      })),
      ...(this.inference ? { endpoint: this.inference } : {}),
      topic: this.notifications.topic,
    });
    this.remediation = new Remediation(this, 'Remediation', {
      platformName: platform.name,
      settings: platform.remediation,
      cluster: this.capacity.cluster,
      vpc: this.network.vpc,
      subnets: privateSubnets,
      autoScalingGroupName: this.capacity.autoScalingGroup.autoScalingGroupName,
      topic: this.notifications.topic,
      topicKey: this.notifications.key,
      logging: this.logging,
      targets: this.monitoring.remediationTargets,
    });
    functions.push(this.remediation.function.function);
    this.monitoring.monitorFunctions(functions);

    this.network.allowEndpointAccessFrom(
      this.capacity.instanceSecurityGroup,
      ...[...this.services.values()].map((unit) => unit.securityGroup),
      ...[this.predictionApi, this.logPipeline, this.remediation].flatMap((unit) =>
        unit ? [unit.function.securityGroup] : [],
      ),
    );
    // issue 13: S3/DynamoDB (gateway endpoints) only for their callers; the model only ECR and S3.
    this.network.allowGatewayAccessFrom(
      this.capacity.instanceSecurityGroup,
      this.remediation.function.securityGroup,
    );
    if (this.inference) this.network.allowModelPullsFrom(this.inference.securityGroup);

    if (platform.delivery) {
      const [owner = '', name = ''] = platform.delivery.githubRepository.split('/');
      const units = [...this.services.values()];
      this.delivery = new DeliveryRole(this, 'Delivery', {
        repository: { owner, name },
        branch: platform.delivery.branch,
        environment: platform.delivery.environment,
        repositories: [...this.registry.all.values()],
        cluster: this.capacity.cluster,
        services: units.map((unit) => unit.service),
        passRoles: units.flatMap((unit): iam.IRole[] => [unit.taskRole, unit.executionRole]),
      });
      // issue 13: the push role (branch) and the rollout role (protected environment only) are separate.
      new CfnOutput(this, 'PushRoleArn', {
        description: 'vars.AWS_PUSH_ROLE_ARN of the deploy workflow: pushes images (main branch)',
        value: this.delivery.pushRole.roleArn,
      });
      new CfnOutput(this, 'RolloutRoleArn', {
        description:
          'vars.AWS_ROLLOUT_ROLE_ARN of the deploy workflow: registers task definitions, rolls out services (protected environment)',
        value: this.delivery.rolloutRole.roleArn,
      });
      new CfnOutput(this, 'InfrastructureRoleArn', {
        description:
          'vars.AWS_INFRA_ROLE_ARN of the deploy workflow: cdk deploy from the protected environment',
        value: this.delivery.infrastructureRole.roleArn,
      });
    }
    new CfnOutput(this, 'ClusterName', {
      description: 'vars.ECS_CLUSTER of the deploy workflow',
      value: this.capacity.cluster.clusterName,
    });
    if (this.inference && this.predictionApi) {
      new CfnOutput(this, 'PredictUrl', {
        description: 'POST /predict (x-api-key header required)',
        value: this.predictionApi.predictUrl,
      });
      new CfnOutput(this, 'ModelEndpointName', {
        description: 'The SageMaker endpoint the sidecars, log-scorer and predict invoke',
        value: this.inference.endpointName,
      });
    }
  }
}

/** Orders services so every callee precedes its callers; throws on a cycle, naming it. */
export function calleesFirst(services: readonly ServiceManifest[]): ServiceManifest[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered: ServiceManifest[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (service: ServiceManifest, chain: string[]): void => {
    if (state.get(service.name) === 'done') return;
    if (state.get(service.name) === 'visiting') {
      throw new Error(
        `${service.path}: talksTo forms a cycle (${[...chain, service.name].join(' → ')}). Fix: remove one of the calls; a cycle cannot be rendered with discovery URLs.`,
      );
    }
    state.set(service.name, 'visiting');
    for (const callee of service.talksTo) {
      const target = byName.get(callee);
      if (target) visit(target, [...chain, service.name]);
    }
    state.set(service.name, 'done');
    ordered.push(service);
  };
  for (const service of services) visit(service, []);
  return ordered;
}

/** Every Dockerfile-built image: the services', the sidecar's and its log router's when any service is scored, the model's. */
export function imagesToBuild(manifest: Manifest): ImageRepositorySpec[] {
  const images: ImageRepositorySpec[] = [];
  for (const service of manifest.services) {
    if (service.image.kind === 'dockerfile')
      images.push({ name: service.name, dockerfile: service.image.dockerfile });
  }
  if (manifest.services.some((s) => s.anomaly.enabled)) images.push(SIDECAR_IMAGE, LOG_ROUTER_IMAGE);
  if (manifest.model?.image.kind === 'dockerfile') {
    images.push({ name: MODEL_IMAGE_NAME, dockerfile: manifest.model.image.dockerfile });
  }
  return images;
}
