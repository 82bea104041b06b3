import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { declarePlatform } from '../../../config/declaration.ts';
import { type PlatformWiring, wirePlatform } from '../../wiring/index.ts';
import { InferenceEndpoint, type ScoringEndpoint } from '../constructs/inference.ts';
import { LogPipeline } from '../constructs/log-pipeline.ts';
import { PlatformLogging } from '../constructs/logging.ts';
import { Monitoring } from '../constructs/monitoring.ts';
import { PlatformNotifications } from '../constructs/notifications.ts';
import { PredictionApi } from '../constructs/prediction-api.ts';
import { Remediation } from '../constructs/remediation.ts';
import { addPolicyValidation } from '../validation.ts';

export const ROOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The shared GIVEN of the serverless construct tests: the inputs the platform core would provide. */
export interface ServerlessFixture {
  readonly app: App;
  readonly stack: Stack;
  /** This repository's declaration, wired. */
  readonly wiring: PlatformWiring;
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly instanceRole: iam.Role;
  readonly userData: ec2.UserData;
  readonly logging: PlatformLogging;
  readonly notifications: PlatformNotifications;
  readonly outdir: string;
  dispose(): void;
}

/** A small stack with a VPC, a cluster, an instance role and user data, logging and the operator topic. */
export function serverlessFixture(options: { validate?: boolean } = {}): ServerlessFixture {
  const outdir = mkdtempSync(join(tmpdir(), 'serverless-test-'));
  const app = new App({ outdir, context: { '@aws-cdk/core:appMode': 'inmemory' } });
  if (options.validate) addPolicyValidation(app);
  const stack = new Stack(app, 'Serverless', { env: { region: 'us-east-1' } });
  const wiring = wirePlatform(declarePlatform().synth());
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, clusterName: 'acme-cluster' });
  const instanceRole = new iam.Role(stack, 'InstanceRole', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
  });
  const userData = ec2.UserData.forLinux();
  const logging = new PlatformLogging(stack, 'Logging', { platformName: 'acme', retentionDays: 30 });
  const notifications = new PlatformNotifications(stack, 'Notifications', { platformName: 'acme' });
  return {
    app,
    stack,
    wiring,
    vpc,
    cluster,
    instanceRole,
    userData,
    logging,
    notifications,
    outdir,
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** Every serverless unit composed the way the stack will compose them. */
export function composeServerless(f: ServerlessFixture) {
  const { model, api } = f.wiring;
  if (!model || !api) throw new Error('the repository declaration declares no model endpoint');
  const inference = new InferenceEndpoint(f.stack, 'Inference', {
    model,
    rootDir: ROOT_DIR,
    vpc: f.vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    logging: f.logging,
  });
  const predictionApi = new PredictionApi(f.stack, 'PredictionApi', {
    platformName: 'acme',
    api,
    endpoint: inference,
    logging: f.logging,
    vpc: f.vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  });
  const logPipeline = new LogPipeline(f.stack, 'LogPipeline', {
    platformName: 'acme',
    logging: f.logging,
    endpoint: inference,
    instanceRole: f.instanceRole,
    vpc: f.vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    instanceUserData: f.userData,
  });
  const monitoring = new Monitoring(f.stack, 'Monitoring', {
    platformName: 'acme',
    clusterName: f.cluster.clusterName,
    autoScalingGroupName: 'acme-asg',
    loadBalancerFullName: 'app/acme/0123456789abcdef',
    services: f.wiring.tasks.map((t) => ({
      name: t.service,
      serviceName: `acme-${t.service}`,
      maxTasks: t.scaling.maxTasks,
      anomalyScoring: t.scored,
      ...(t.targetGroup ? { targetGroupFullName: `targetgroup/acme-${t.service}/0123456789abcdef` } : {}),
    })),
    endpoint: inference,
    topic: f.notifications.topic,
  });
  const remediation = new Remediation(f.stack, 'Remediation', {
    platformName: 'acme',
    settings: f.wiring.remediation,
    cluster: f.cluster,
    vpc: f.vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    autoScalingGroupName: 'acme-asg',
    topic: f.notifications.topic,
    topicKey: f.notifications.key,
    logging: f.logging,
    targets: monitoring.remediationTargets,
  });
  monitoring.monitorFunctions([
    predictionApi.function.function,
    logPipeline.function.function,
    remediation.function.function,
  ]);
  return {
    inference,
    predictionApi,
    logPipeline,
    monitoring,
    remediation,
    template: () => Template.fromStack(f.stack),
  };
}

/** A stand-in endpoint for units that only need a name and an invoke grant (no image asset to stage). */
export function fakeEndpoint(stack: Stack, endpointName = 'log-anomaly'): ScoringEndpoint {
  const endpointArn = stack.formatArn({
    service: 'sagemaker',
    resource: 'endpoint',
    resourceName: endpointName,
  });
  return {
    endpointName,
    grantInvoke: (grantee) =>
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['sagemaker:InvokeEndpoint'],
        resourceArns: [endpointArn],
      }),
  };
}

export const PRIVATE = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } as const;

/** The prediction API of this repository's declaration. */
export const API_WIRING = wirePlatform(declarePlatform().synth()).api!;
