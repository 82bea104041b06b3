import { Duration, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { type PlatformWiring, WiringInvariantError } from '../../wiring/index.ts';
import { guardRule } from '../validation.ts';

/** Props of {@link Capacity}. */
export interface CapacityProps {
  readonly platformName: string;
  /**
   * The wiring's capacity: the declared instances, and whether they pull images from public registries
   * (HTTPS to the internet, which needs NAT gateways; everything else they call goes through VPC endpoints).
   */
  readonly capacity: PlatformWiring['capacity'];
  readonly vpc: ec2.IVpc;
  /** Where the instances run: the private subnets of every AZ. */
  readonly subnets: ec2.SubnetSelection;
  /** Private DNS (Cloud Map) namespace for service discovery, e.g. `acme.internal`. */
  readonly namespaceName: string;
  /** Receives Auto Scaling launch/terminate/failure notifications. */
  readonly notificationTopic: sns.ITopic;
}

/**
 * ECS agent settings appended to `/etc/ecs/ecs.config` (the cluster name is added by the cluster).
 * `ECS_AWSVPC_BLOCK_IMDS` keeps `awsvpc` tasks off the instance metadata service, so a task can never
 * borrow the instance role; task credentials come from the agent's task-role endpoint instead.
 */
export const ECS_AGENT_CONFIG: Readonly<Record<string, string>> = {
  ECS_AWSVPC_BLOCK_IMDS: 'true',
  ECS_ENABLE_TASK_IAM_ROLE: 'true',
  ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST: 'false',
  ECS_ENABLE_CONTAINER_METADATA: 'true',
  // Pulled images are immutable-tagged; re-pulling on every task start only adds latency.
  ECS_IMAGE_PULL_BEHAVIOR: 'prefer-cached',
  ECS_CONTAINER_STOP_TIMEOUT: '120s',
};

/**
 * The cluster and its EC2 capacity: an ECS cluster with Container Insights (enhanced), and an Auto
 * Scaling group across the private subnets of every AZ, launched from a template (ECS-optimised
 * Amazon Linux 2023 resolved from SSM at deploy time, IMDSv2 only with hop limit 1, encrypted gp3
 * root volume, no public IPs, detailed monitoring) with a mixed-instances policy over the declared
 * instance types, registered as the cluster's capacity provider with managed scaling and managed
 * draining (no managed termination protection, so a teardown never hangs on protected instances).
 *
 * @example
 * const capacity = new Capacity(stack, 'Capacity', { platformName: 'acme', capacity: manifest.platform.capacity, vpc, subnets, notificationTopic });
 */
export class Capacity extends Construct {
  readonly cluster: ecs.Cluster;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly capacityProvider: ecs.AsgCapacityProvider;
  readonly launchTemplate: ec2.LaunchTemplate;
  /** The instances' group: no ingress (tasks use their own ENIs and groups). */
  readonly instanceSecurityGroup: ec2.SecurityGroup;
  readonly instanceRole: iam.Role;

  constructor(scope: Construct, id: string, props: CapacityProps) {
    super(scope, id);
    const { capacity } = props;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      // Stable physical name (the platform's): the deploy workflow's ECS_CLUSTER variable names it.
      clusterName: props.platformName,
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });
    // Services that others call register here as `<service>.<namespace>` (A records, awsvpc task IPs).
    this.cluster.addDefaultCloudMapNamespace({
      name: props.namespaceName,
      type: servicediscovery.NamespaceType.DNS_PRIVATE,
      vpc: props.vpc,
    });

    this.instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: `${props.platformName} ECS container instances (no ingress; HTTPS to AWS endpoints)`,
      // Egress is added by the network (VPC endpoints, S3); never all protocols to 0.0.0.0/0.
      allowAllOutbound: false,
    });
    if (capacity.internetImagePulls) {
      this.instanceSecurityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'HTTPS to public container registries (images declared with Image.fromRegistry)',
      );
    }
    this.instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `${props.platformName} ECS container instances; the cluster adds scoped ECS agent permissions`,
    });

    const userData = ec2.UserData.forLinux();
    userData.addCommands(
      ...Object.entries(ECS_AGENT_CONFIG).map(
        ([key, value]) => `echo '${key}=${value}' >> /etc/ecs/ecs.config`,
      ),
    );
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      // Resolved from the public SSM parameter at deploy time: no lookup at synth, always the current AMI.
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(),
      userData,
      // The cluster adds the ECS agent's statements to the ASG's role, among them logs:PutLogEvents on
      // every log group (CDK keeps it for the awslogs driver of bridge-mode tasks). Here the task
      // execution roles write task logs, so the cluster gets an immutable view and the agent's
      // statements are written below, without logs on '*'.
      role: this.instanceRole.withoutPolicyUpdates(),
      securityGroup: this.instanceSecurityGroup,
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpPutResponseHopLimit: 1,
      httpEndpoint: true,
      instanceMetadataTags: false,
      detailedMonitoring: true,
      associatePublicIpAddress: false,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(capacity.rootVolumeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    const [first, ...rest] = capacity.instanceTypes;
    if (!first || rest.length === 0) {
      throw new WiringInvariantError(this.node.path, 'a mixed-instances policy needs two instance types');
    }
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'AutoScalingGroup', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      minCapacity: capacity.minInstances,
      maxCapacity: capacity.maxInstances,
      mixedInstancesPolicy: {
        launchTemplate: this.launchTemplate,
        // Order is priority: the first declared type is preferred, the others absorb capacity shortages.
        launchTemplateOverrides: capacity.instanceTypes.map((type) => ({
          instanceType: new ec2.InstanceType(type),
        })),
        instancesDistribution: {
          onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
          onDemandPercentageAboveBaseCapacity: 100,
        },
      },
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
      // Replaced instances are drained by the capacity provider (managed draining), not by a hook.
      notifications: [{ topic: props.notificationTopic }],
      groupMetrics: [autoscaling.GroupMetrics.all()],
      capacityRebalance: false,
    });

    // The AZs explicitly, besides the subnets: Control Tower's multi-AZ control (CT.AUTOSCALING.PR.1)
    // reads AvailabilityZones; they are the private subnets' own AZs, so the two always agree.
    const asgResource = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    asgResource.availabilityZones = props.vpc.selectSubnets(props.subnets).availabilityZones;
    Validations.of(this.autoScalingGroup).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-EC26',
        reason:
          'The root volume is encrypted gp3 in the launch template (asserted in capacity.test.ts); the rule cannot follow MixedInstancesPolicy.LaunchTemplate and reports an evaluation error instead.',
      },
      {
        id: guardRule('autoscaling_group_nitro_encryption_in_transit_override_check'),
        reason:
          'Instance types are declared in the manifest (burstable t3/t3a by default, for cost). Traffic between tasks stays inside the VPC on private subnets; declare Nitro in-transit-encryption types (e.g. m6i/m6a) where that is required.',
      },
    );

    this.capacityProvider = new ecs.AsgCapacityProvider(this, 'CapacityProvider', {
      autoScalingGroup: this.autoScalingGroup,
      // AMAZON_LINUX_2 is CDK's name for "Amazon Linux user data" (ECS_CLUSTER in ecs.config); it covers AL2023.
      machineImageType: ecs.MachineImageType.AMAZON_LINUX_2,
      enableManagedScaling: true,
      targetCapacityPercent: capacity.targetCapacityPercent,
      // Off: with it, every instance carries scale-in protection, and deleting the stack hangs on an
      // Auto Scaling group that cannot terminate them (aws-cdk #18179). Managed draining still moves
      // an instance's tasks before the group terminates it.
      enableManagedTerminationProtection: false,
      enableManagedDraining: true,
    });
    this.cluster.addAsgCapacityProvider(this.capacityProvider);
    // The ECS agent's permissions (CDK's scoped form of AmazonEC2ContainerServiceforEC2Role), minus logs.
    this.instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ecs:DeregisterContainerInstance',
          'ecs:RegisterContainerInstance',
          // CDK's ecs:Submit*, spelled out: the three state reports the agent sends.
          'ecs:SubmitAttachmentStateChanges',
          'ecs:SubmitContainerStateChange',
          'ecs:SubmitTaskStateChange',
        ],
        resources: [this.cluster.clusterArn],
      }),
    );
    this.instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:Poll', 'ecs:StartTelemetrySession'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
      }),
    );
    this.instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DiscoverPollEndpoint', 'ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
    );
    Validations.of(this.instanceRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'ECS agent actions without resource-level permissions: ecs:DiscoverPollEndpoint, ecr:GetAuthorizationToken; ecs:Poll and ecs:StartTelemetrySession are conditioned on this cluster (ecs:cluster). No logs on * (task logs are written by the execution roles).',
    });
    Validations.of(this.cluster).acknowledge({
      id: guardRule('ecs_container_insights_enabled_check'),
      reason:
        "Container Insights is on with observability 'enhanced', a superset of 'enabled'; the control only recognises the literal 'enabled'.",
    });
    this.cluster.addDefaultCapacityProviderStrategy([
      { capacityProvider: this.capacityProvider.capacityProviderName, weight: 1 },
    ]);
  }
}
