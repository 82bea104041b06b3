import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import type { ImageManifest, Manifest, ServiceManifest } from '../../../config/index.ts';
import { LOG_ROUTER, SIDECAR_CONTAINER } from '../../../services/anomaly-sidecar/contract.ts';
import { Capacity } from '../constructs/capacity.ts';
import { Edge } from '../constructs/edge.ts';
import { PlatformLogging } from '../constructs/logging.ts';
import { Network } from '../constructs/network.ts';
import { PlatformNotifications } from '../constructs/notifications.ts';
import { type ImageRepositorySpec, Registry } from '../constructs/registry.ts';
import { ServiceUnit } from '../constructs/service.ts';

/** The anomaly sidecar image: not a manifest service, but part of every task that scores its logs. */
export const SIDECAR_IMAGE: ImageRepositorySpec = {
  name: SIDECAR_CONTAINER.name,
  dockerfile: SIDECAR_CONTAINER.dockerfile,
};

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
}

/**
 * The platform core: network, capacity, registry, edge and one {@link ServiceUnit} per manifest
 * service. It only composes; every decision lives in a construct. Serverless units (inference,
 * prediction API, log pipeline, remediation, monitoring) compose onto the fields exposed here.
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
    this.network = new Network(this, 'Network', { network: platform.network, logging: this.logging });
    this.capacity = new Capacity(this, 'Capacity', {
      platformName: platform.name,
      capacity: platform.capacity,
      vpc: this.network.vpc,
      subnets: this.network.privateSubnets,
      namespaceName: `${platform.name}.internal`,
      notificationTopic: this.notifications.topic,
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

    this.network.allowEndpointAccessFrom(
      this.capacity.instanceSecurityGroup,
      ...[...this.services.values()].map((unit) => unit.securityGroup),
    );
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
    images.push({ name: manifest.model.name, dockerfile: manifest.model.image.dockerfile });
  }
  return images;
}
