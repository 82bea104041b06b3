import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import {
  type ApiWiring,
  type ModelWiring,
  type PlatformWiring,
  type TestRouteWiring,
  WiringInvariantError,
} from '../../wiring/index.ts';
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
import { ScheduledJobUnit } from '../constructs/scheduled-job.ts';
import { ServiceUnit, type ServiceUnitProps } from '../constructs/service.ts';
import { taskRolePath } from '../constructs/task-definition.ts';
import { renderServiceDirectory } from '../constructs/value-sources.ts';

/** The repository root: Dockerfiles and the model artifact directory are relative to it. */
const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Props of {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /** The platform as the wiring decides it (platform/wiring), derived once by the CLI. */
  readonly wiring: PlatformWiring;
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
  /** Scheduled jobs by name, in manifest order. */
  readonly jobs: ReadonlyMap<string, ScheduledJobUnit>;
  /** The SageMaker endpoint of the wired model; undefined without a declared model. */
  readonly inference?: InferenceEndpoint;
  /** `POST /predict` on {@link inference}; undefined without a declared model. */
  readonly predictionApi?: PredictionApi;
  /** CloudWatch agent and instance-log subscription to `log-scorer`; undefined without a declared model. */
  readonly logPipeline?: LogPipeline;
  readonly monitoring: Monitoring;
  readonly remediation: Remediation;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { wiring } = props;
    this.wiring = wiring;

    this.logging = new PlatformLogging(this, 'Logging', {
      platformName: wiring.platform,
      retentionDays: wiring.observability.logRetentionDays,
      retainLogs: retains(wiring, 'log-groups'),
    });
    this.notifications = new PlatformNotifications(this, 'Notifications', {
      platformName: wiring.platform,
      emails: wiring.observability.alarmEmails,
    });
    this.network = new Network(this, 'Network', { network: wiring.network, logging: this.logging });
    this.capacity = new Capacity(this, 'Capacity', {
      platformName: wiring.platform,
      capacity: wiring.capacity,
      vpc: this.network.vpc,
      subnets: this.network.privateSubnets,
      namespaceName: wiring.namespace,
      notificationTopic: this.notifications.topic,
    });
    const { testRoute } = wiring;
    this.edge = new Edge(this, 'Edge', {
      edge: wiring.edge,
      vpc: this.network.vpc,
      subnets: this.network.publicSubnets,
      tasks: wiring.tasks,
      routes: wiring.routes,
      deletionProtection: wiring.teardown.loadBalancerDeletionProtection,
      retainUserPool: retains(wiring, 'user-pool'),
      ...(wiring.testRoute
        ? { testRoute: { route: wiring.testRoute, sources: this.network.natGatewayCidrs() } }
        : {}),
      platformName: wiring.platform, // names the user pool, sign-in domain and web ACL
    });

    const images = new RegistryImages(this, wiring.platform, wiring.tasks, wiring.images);
    this.imageRepositories = images.repositories;
    // The lifecycle hook of every traffic-shifting deployment (none when every service rolls).
    this.deploymentGate = wiring.tasks.some((t) => t.deployment.gateStages.length > 0)
      ? new DeploymentGate(this, 'DeploymentGate', {
          platformName: wiring.platform,
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
    this.services = this.renderServices(wiring, images);
    this.jobs = this.renderJobs(wiring, images);

    const functions: lambda.IFunction[] = [];
    if (wiring.model && wiring.api) {
      const model = this.renderModel(wiring.model, wiring.api, props.rootDir ?? REPOSITORY_ROOT);
      this.inference = model.inference;
      this.predictionApi = model.predictionApi;
      this.logPipeline = model.logPipeline;
      functions.push(this.predictionApi.function.function, this.logPipeline.function.function);
    }
    this.monitoring = this.renderMonitoring(wiring);
    this.remediation = new Remediation(this, 'Remediation', {
      platformName: wiring.platform,
      settings: wiring.remediation,
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

  /** One {@link ServiceUnit} per wired task, each admitting its declared callers; by name, in wiring order. */
  private renderServices(wiring: PlatformWiring, images: RegistryImages): ReadonlyMap<string, ServiceUnit> {
    const clusterName = this.capacity.cluster.clusterName;
    const serviceDirectory = renderServiceDirectory(wiring.serviceDirectory, clusterName);
    const endpointArn = wiring.model
      ? this.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: wiring.model.name })
      : undefined;
    const units = new Map<string, ServiceUnit>();
    for (const task of wiring.tasks) {
      units.set(
        task.service,
        new ServiceUnit(this, `Service-${task.service}`, {
          task,
          rollbackPolicy: wiring.rollbackPolicy,
          cluster: this.capacity.cluster,
          capacityProvider: this.capacity.capacityProvider,
          subnets: this.network.privateSubnets,
          images: (image) => images.image(image),
          logging: this.logging,
          sources: this.taskSources(wiring, task.path, serviceDirectory),
          ...(endpointArn ? { endpointArn } : {}),
          alarmTopic: this.notifications.topic,
          rolePath: taskRolePath(wiring.platform),
          ...(this.deploymentGate ? { gate: this.deploymentGate.function.function } : {}),
          ...(task.targetGroup ? { targetGroup: this.edge.targetGroup(task.service) } : {}),
          ...(task.deployment.shiftsTraffic
            ? {
                alternate: {
                  targetGroup: this.edge.alternateTargetGroup(task.service)!,
                  rule: this.edge.rule(task.service),
                  ...(this.edge.testRule(task.service) ? { testRule: this.edge.testRule(task.service) } : {}),
                },
              }
            : {}),
        }),
      );
    }
    for (const task of wiring.tasks) {
      const unit = units.get(task.service)!;
      for (const caller of task.reachableFrom) {
        // A job's runs are admitted where the job is rendered (renderJobs).
        if (wiring.jobs.some((job) => job.job === caller)) continue;
        unit.allowFrom(units.get(caller)!);
      }
    }
    return units;
  }

  /** One {@link ScheduledJobUnit} per wired job, admitted by the services it talks to. */
  private renderJobs(wiring: PlatformWiring, images: RegistryImages): ReadonlyMap<string, ScheduledJobUnit> {
    const units = new Map<string, ScheduledJobUnit>();
    const serviceDirectory = renderServiceDirectory(
      wiring.serviceDirectory,
      this.capacity.cluster.clusterName,
    );
    for (const job of wiring.jobs) {
      const unit = new ScheduledJobUnit(this, `Job-${job.job}`, {
        job,
        cluster: this.capacity.cluster,
        capacityProvider: this.capacity.capacityProvider,
        subnets: this.network.privateSubnets,
        images: (image) => images.image(image),
        logging: this.logging,
        sources: this.taskSources(wiring, job.path, serviceDirectory),
        ...(wiring.model
          ? {
              endpointArn: this.formatArn({
                service: 'sagemaker',
                resource: 'endpoint',
                resourceName: wiring.model.name,
              }),
            }
          : {}),
        alarmTopic: this.notifications.topic,
        rolePath: taskRolePath(wiring.platform),
      });
      for (const callee of job.talksTo) this.services.get(callee)!.allowFrom(unit);
      units.set(job.job, unit);
    }
    return units;
  }

  /** Token values of the wiring's value sources, for a service's task or a job's run declared at `path`. */
  private taskSources(
    wiring: PlatformWiring,
    path: string,
    serviceDirectory: string,
  ): ServiceUnitProps['sources'] {
    return {
      region: this.region,
      clusterName: this.capacity.cluster.clusterName,
      anomalyLogGroup: this.logging.anomalyLogGroup,
      ...(this.deploymentGate ? { gateLogGroup: this.deploymentGate.logGroup } : {}),
      calleeUrl: (callee) => {
        const discovery = wiring.tasks.find((t) => t.service === callee)?.discovery;
        if (!discovery) throw new WiringInvariantError(path, `callee '${callee}' is not discoverable`);
        return `http://${discovery.name}.${wiring.namespace}:${discovery.port}`;
      },
      ...(wiring.model ? { modelEndpointName: wiring.model.name } : {}),
      serviceDirectory,
      serviceNames: wiring.tasks.map((t) => t.service),
      alarmNamePrefix: `${this.stackName}-`,
      // The ledger is made with the remediation, after the services: resolved at synth.
      remediationLedger: {
        tableName: Lazy.string({ produce: () => this.remediation.ledger.tableName }),
        tableArn: Lazy.string({ produce: () => this.remediation.ledger.tableArn }),
      },
    };
  }

  /** The SageMaker endpoint, the prediction API on it and the instance-log pipeline that scores through it. */
  private renderModel(
    model: ModelWiring,
    api: ApiWiring,
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
      platformName: this.wiring.platform,
      endpoint: inference,
      vpc: this.network.vpc,
      subnets: privateSubnets,
      logging: this.logging,
      api, // one key and usage plan per declared client
    });
    const userData = this.capacity.launchTemplate.userData;
    if (!userData)
      throw new WiringInvariantError(this.node.path, "the capacity's launch template has no user data");
    const logPipeline = new LogPipeline(this, 'LogPipeline', {
      platformName: this.wiring.platform,
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

  private renderMonitoring(wiring: PlatformWiring): Monitoring {
    return new Monitoring(this, 'Monitoring', {
      platformName: wiring.platform,
      clusterName: this.capacity.cluster.clusterName,
      autoScalingGroupName: this.capacity.autoScalingGroup.autoScalingGroupName,
      loadBalancerFullName: this.edge.loadBalancer.loadBalancerFullName,
      services: wiring.tasks.map((task) => ({
        name: task.service,
        serviceName: this.services.get(task.service)!.service.serviceName,
        maxTasks: task.scaling.maxTasks,
        anomalyScoring: task.scored,
        ...(task.targetGroup
          ? { targetGroupFullName: this.edge.targetGroup(task.service).targetGroupFullName }
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
      ...[...this.services.values(), ...this.jobs.values()].map((unit) => unit.securityGroup),
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
    const api = this.wiring.api;
    if (this.inference && this.predictionApi && api) {
      new CfnOutput(this, 'PredictUrl', {
        description: `${api.route.method} ${api.route.path}${api.keyRequired ? ' (x-api-key header required)' : ''}`,
        value: this.predictionApi.predictUrl,
      });
      new CfnOutput(this, 'ModelEndpointName', {
        description: 'The SageMaker endpoint the sidecars, log-scorer and predict invoke',
        value: this.inference.endpointName,
      });
    }
  }
}

/** Whether a teardown keeps `what` (the wiring's teardown lists what it keeps and why). */
function retains(
  wiring: PlatformWiring,
  what: PlatformWiring['teardown']['retained'][number]['what'],
): boolean {
  return wiring.teardown.retained.some((r) => r.what === what);
}
