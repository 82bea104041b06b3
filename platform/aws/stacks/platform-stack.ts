import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { Manifest, ServiceManifest } from '../../../config/index.ts';
import { type PlatformWiring, type TestRouteWiring, wirePlatform } from '../../wiring/index.ts';
import { Capacity } from '../constructs/capacity.ts';
import { DeploymentGate } from '../constructs/deployment-gate.ts';
import { Edge } from '../constructs/edge.ts';
import { InferenceEndpoint } from '../constructs/inference.ts';
import { LogPipeline } from '../constructs/log-pipeline.ts';
import { PlatformLogging } from '../constructs/logging.ts';
import { Monitoring } from '../constructs/monitoring.ts';
import { Network } from '../constructs/network.ts';
import { PlatformNotifications } from '../constructs/notifications.ts';
import { PredictionApi } from '../constructs/prediction-api.ts';
import { RegistryImages } from '../constructs/registry-images.ts';
import { Remediation } from '../constructs/remediation.ts';
import { ServiceUnit } from '../constructs/service.ts';
import { taskRolePath } from '../constructs/task-definition.ts';

/** The repository root: Dockerfiles and the model artifact directory are relative to it. */
const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Props of {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /** The validated manifest (`declarePlatform().synth()`). */
  readonly manifest: Manifest;
  /**
   * Repository root the model image and artifact are built from.
   * @default - this checkout's root
   */
  readonly rootDir?: string;
}

/**
 * The platform: network, capacity, edge and one {@link ServiceUnit} per wired task (images from the
 * registry stack's repositories);
 * with a declared model, the SageMaker endpoint, the prediction API and the instance-log pipeline;
 * monitoring and remediation (GitHub's delivery roles are the bootstrap stack's). It only composes;
 * every decision lives in a construct.
 */
export class PlatformStack extends Stack {
  readonly manifest: Manifest;
  readonly logging: PlatformLogging;
  readonly notifications: PlatformNotifications;
  readonly network: Network;
  readonly capacity: Capacity;
  /** The registry stack's repositories this stack pulls from, by image name. */
  readonly imageRepositories: ReadonlyMap<string, ecr.IRepository>;
  /** The deployment lifecycle hook; undefined when no service's deployment shifts traffic. */
  readonly deploymentGate?: DeploymentGate;
  /** The wiring model every service was rendered from. */
  readonly wiring: PlatformWiring;
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

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { manifest } = props;
    const platform = manifest.platform;
    this.manifest = manifest;

    this.logging = new PlatformLogging(this, 'Logging', {
      platformName: platform.name,
      retentionDays: platform.observability.logRetentionDays,
      retainLogs: platform.teardown.retainLogs,
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
      namespaceName: wirePlatform(manifest).namespace,
      notificationTopic: this.notifications.topic,
      // HTTPS to the internet only for images from public registries (no VPC endpoint); every
      // platform image, the log router's included, comes from the registry stack's ECR repositories.
      internetImagePulls: manifest.services.some((s) => s.image.kind === 'registry'),
    });
    const testRoute = wirePlatform(manifest).testRoute;
    this.edge = new Edge(this, 'Edge', {
      edge: platform.edge,
      vpc: this.network.vpc,
      subnets: this.network.publicSubnets,
      services: manifest.services,
      routes: wirePlatform(manifest).routes,
      trafficShifted: new Set(
        wirePlatform(manifest)
          .tasks.filter((t) => t.deployment.shiftsTraffic)
          .map((t) => t.service),
      ),
      deletionProtection: platform.teardown.loadBalancerDeletionProtection,
      retainUserPool: platform.teardown.retainUserPool,
      ...(testRoute
        ? {
            testRoute: {
              route: testRoute,
              services: new Set(
                wirePlatform(manifest)
                  .tasks.filter((t) => t.deployment.testTraffic)
                  .map((t) => t.service),
              ),
              sources: this.network.natGatewayCidrs(),
            },
          }
        : {}),
      platformName: platform.name, // names the user pool, sign-in domain and web ACL
    });

    const images = new RegistryImages(this, platform.name, manifest, wirePlatform(manifest).images);
    this.imageRepositories = images.repositories;

    const wiring = wirePlatform(manifest);
    this.wiring = wiring;
    // The lifecycle hook of every traffic-shifting deployment (none when every service rolls).
    this.deploymentGate = wiring.tasks.some((t) => t.deployment.gateStages.length > 0)
      ? new DeploymentGate(this, 'DeploymentGate', {
          platformName: platform.name,
          wiring,
          cluster: this.capacity.cluster,
          loadBalancerFullName: this.edge.loadBalancer.loadBalancerFullName,
          logging: this.logging,
          vpc: this.network.vpc,
          subnets: this.network.privateSubnets,
          ...(testRoute && this.edge.testListener
            ? { testRoute: { baseUrl: this.testRouteUrl(testRoute), port: testRoute.port } }
            : {}),
        })
      : undefined;
    this.services = this.renderServices(manifest, wiring, images);

    const functions: lambda.IFunction[] = [];
    if (manifest.model) {
      const model = this.renderModel(manifest.model, wiring, props.rootDir ?? REPOSITORY_ROOT);
      this.inference = model.inference;
      this.predictionApi = model.predictionApi;
      this.logPipeline = model.logPipeline;
      functions.push(this.predictionApi.function.function, this.logPipeline.function.function);
    }
    this.monitoring = this.renderMonitoring(manifest);
    this.remediation = new Remediation(this, 'Remediation', {
      platformName: platform.name,
      settings: platform.remediation,
      cluster: this.capacity.cluster,
      vpc: this.network.vpc,
      subnets: this.network.privateSubnets,
      autoScalingGroupName: this.capacity.autoScalingGroup.autoScalingGroupName,
      topic: this.notifications.topic,
      topicKey: this.notifications.key,
      logging: this.logging,
      targets: this.monitoring.remediationTargets,
    });
    functions.push(this.remediation.function.function);
    if (this.deploymentGate) functions.push(this.deploymentGate.function.function);
    this.monitoring.monitorFunctions(functions);

    this.openEndpoints();
    this.renderOutputs();
  }

  /**
   * The test route's base URL: HTTPS by the console's domain (the certificate's name), or, on an
   * HTTP-only edge, by the ALB's own DNS name.
   */
  private testRouteUrl(route: TestRouteWiring): string {
    const host =
      route.protocol === 'HTTPS' && this.edge.domainName
        ? this.edge.domainName
        : this.edge.loadBalancer.loadBalancerDnsName;
    return `${route.protocol.toLowerCase()}://${host}:${route.port}`;
  }

  /** One {@link ServiceUnit} per wired task, each admitting its declared callers; by name, in manifest order. */
  private renderServices(
    manifest: Manifest,
    wiring: PlatformWiring,
    images: RegistryImages,
  ): ReadonlyMap<string, ServiceUnit> {
    const clusterName = this.capacity.cluster.clusterName;
    const serviceDirectory = JSON.stringify(
      wiring.tasks.map((task) => ({
        name: task.service,
        kind: task.kind,
        ...(task.alertBudget !== undefined ? { alertBudget: task.alertBudget } : {}),
        ecs: { cluster: clusterName, service: task.service },
      })),
    );
    const endpointArn = manifest.model
      ? this.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: manifest.model.name })
      : undefined;
    const units = new Map<string, ServiceUnit>();
    for (const task of wiring.tasks) {
      const service = manifest.services.find((s) => s.name === task.service)!;
      units.set(
        service.name,
        new ServiceUnit(this, `Service-${service.name}`, {
          task,
          service,
          cluster: this.capacity.cluster,
          capacityProvider: this.capacity.capacityProvider,
          subnets: this.network.privateSubnets,
          images: (image) => images.image(image),
          logging: this.logging,
          sources: {
            region: this.region,
            clusterName,
            anomalyLogGroup: this.logging.anomalyLogGroup,
            ...(this.deploymentGate ? { gateLogGroup: this.deploymentGate.logGroup } : {}),
            calleeUrl: (callee) => {
              const port = manifest.services.find((s) => s.name === callee)!.port;
              return `http://${callee}.${wiring.namespace}:${port}`;
            },
            ...(manifest.model ? { modelEndpointName: manifest.model.name } : {}),
            serviceDirectory,
            serviceNames: wiring.tasks.map((t) => t.service),
            alarmNamePrefix: `${this.stackName}-`,
            // The ledger is made with the remediation, after the services: resolved at synth.
            remediationLedger: {
              tableName: Lazy.string({ produce: () => this.remediation.ledger.tableName }),
              tableArn: Lazy.string({ produce: () => this.remediation.ledger.tableArn }),
            },
          },
          ...(endpointArn ? { endpointArn } : {}),
          alarmTopic: this.notifications.topic,
          rollbackPolicy: wiring.rollbackPolicy,
          rolePath: taskRolePath(manifest.platform.name),
          ...(this.deploymentGate ? { gate: this.deploymentGate.function.function } : {}),
          ...(service.kind === 'web' ? { targetGroup: this.edge.targetGroup(service.name) } : {}),
          ...(task.deployment.shiftsTraffic
            ? {
                alternate: {
                  targetGroup: this.edge.alternateTargetGroup(service.name)!,
                  rule: this.edge.rule(service.name),
                  ...(this.edge.testRule(service.name) ? { testRule: this.edge.testRule(service.name) } : {}),
                },
              }
            : {}),
        }),
      );
    }
    for (const task of wiring.tasks) {
      const unit = units.get(task.service)!;
      for (const caller of task.reachableFrom) unit.allowFrom(units.get(caller)!);
    }
    return new Map(manifest.services.map((s) => [s.name, units.get(s.name)!]));
  }

  /** The SageMaker endpoint, the prediction API on it and the instance-log pipeline that scores through it. */
  private renderModel(
    model: NonNullable<Manifest['model']>,
    wiring: PlatformWiring,
    rootDir: string,
  ): { inference: InferenceEndpoint; predictionApi: PredictionApi; logPipeline: LogPipeline } {
    const privateSubnets = this.network.privateSubnets;
    const inference = new InferenceEndpoint(this, 'Inference', {
      model,
      rootDir,
      vpc: this.network.vpc,
      subnets: privateSubnets,
      logging: this.logging, // issue 13: the endpoint's log group, with retention and KMS
    });
    const predictionApi = new PredictionApi(this, 'PredictionApi', {
      platformName: this.manifest.platform.name,
      endpoint: inference,
      vpc: this.network.vpc,
      subnets: privateSubnets,
      logging: this.logging,
      clients: model.apiClients, // one key and usage plan per declared client
      wiring: wiring.prediction!,
      accountLoggingRole: this.manifest.platform.account.apiGatewayLoggingRole,
    });
    const userData = this.capacity.launchTemplate.userData;
    if (!userData) throw new Error(`${this.node.path}: the capacity's launch template has no user data.`);
    const logPipeline = new LogPipeline(this, 'LogPipeline', {
      platformName: this.manifest.platform.name,
      logging: this.logging,
      endpoint: inference,
      vpc: this.network.vpc,
      subnets: privateSubnets,
      instanceRole: this.capacity.instanceRole,
      instanceUserData: userData,
      budget: model.budget,
    });
    return { inference, predictionApi, logPipeline };
  }

  private renderMonitoring(manifest: Manifest): Monitoring {
    const scored = (service: ServiceManifest) => service.anomaly.enabled && manifest.model !== null;
    return new Monitoring(this, 'Monitoring', {
      platformName: manifest.platform.name,
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
  }

  /** VPC endpoint access for every consumer; S3/DynamoDB gateways only for their callers (issue 13). */
  private openEndpoints(): void {
    this.network.allowEndpointAccessFrom(
      this.capacity.instanceSecurityGroup,
      ...[...this.services.values()].map((unit) => unit.securityGroup),
      ...[this.predictionApi, this.logPipeline, this.remediation, this.deploymentGate].flatMap((unit) =>
        unit ? [unit.function.securityGroup] : [],
      ),
    );
    // S3/DynamoDB gateways: the instances (image layers), remediation (its ledger) and every task whose
    // grants read through them (the console's backend reads the ledger). The model only ECR and S3.
    this.network.allowGatewayAccessFrom(
      this.capacity.instanceSecurityGroup,
      this.remediation.function.securityGroup,
      ...[...this.services.values()]
        .filter((unit) => unit.reachesGatewayEndpoints)
        .map((u) => u.securityGroup),
    );
    if (this.inference) this.network.allowModelPullsFrom(this.inference.securityGroup);
  }

  private renderOutputs(): void {
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
