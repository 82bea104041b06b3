import { Construct } from 'constructs';
import { Check, freeId } from './checks.ts';

/** Network of the platform. */
export interface NetworkProps {
  /** IPv4 range of the VPC. @default '10.0.0.0/16' */
  readonly cidr?: string;
  /** Availability Zones to span; at least two, for availability. @default 2 */
  readonly availabilityZones?: number;
  /**
   * NAT gateways. One per AZ keeps private subnets' egress alive when an AZ fails; 1 halves the cost
   * and makes that AZ a single point of failure for egress.
   * @default - one per Availability Zone
   */
  readonly natGateways?: number;
  /**
   * Interface/gateway VPC endpoints for ECR, S3, CloudWatch Logs and SageMaker runtime, so image pulls,
   * logs and scoring stay off the NAT path.
   * @default true
   */
  readonly vpcEndpoints?: boolean;
  /** Retention of VPC flow logs. @default 90 */
  readonly flowLogRetentionDays?: number;
}

/** EC2 capacity of the ECS cluster (an Auto Scaling group as a capacity provider). */
export interface CapacityProps {
  /**
   * Instance types, most preferred first; at least two so one type's shortage in an AZ cannot stop
   * scaling.
   */
  readonly instanceTypes: readonly string[];
  /** Fewest instances. @default - `network.availabilityZones` (one per AZ) */
  readonly minInstances?: number;
  /** Most instances. @default 6 */
  readonly maxInstances?: number;
  /** Managed-scaling target utilisation of the capacity provider. @default 100 */
  readonly targetCapacityPercent?: number;
  /** Encrypted root volume size. @default 30 (the ECS-optimised AMI's minimum) */
  readonly rootVolumeGiB?: number;
}

/** The public edge: the Application Load Balancer. */
export interface EdgeProps {
  /** ACM certificate for HTTPS; with it, HTTP redirects to HTTPS. @default - HTTP only */
  readonly certificateArn?: string;
  /** ALB idle timeout. @default 60 */
  readonly idleTimeoutSeconds?: number;
  /** Days ALB access logs are kept in their bucket. @default 90 */
  readonly accessLogRetentionDays?: number;
}

/** Logs, metrics and alarms. */
export interface ObservabilityProps {
  /** Retention of application and platform log groups. @default 30 */
  readonly logRetentionDays?: number;
  /** Address subscribed to the alarm topic. @default - no subscription */
  readonly alarmEmail?: string;
}

/** Automatic remediation of alarms. */
export interface RemediationProps {
  /** Decide and notify, but change nothing. @default false */
  readonly dryRun?: boolean;
  /** Minimum time between two actions on one resource. @default 300 */
  readonly cooldownSeconds?: number;
  /** Most actions the remediator takes in any hour, across resources. @default 10 */
  readonly maxActionsPerHour?: number;
}

/** Delivery from GitHub Actions through OIDC. */
export interface DeliveryProps {
  /** `owner/name` of the repository whose workflows may deploy. */
  readonly githubRepository: string;
  /** The only branch allowed to deploy. @default 'main' */
  readonly branch?: string;
  /** The GitHub environment the deploy job runs in. @default 'production' */
  readonly environment?: string;
}

export interface PlatformProps {
  readonly capacity: CapacityProps;
  /** @default - two AZs, one NAT gateway per AZ, VPC endpoints on */
  readonly network?: NetworkProps;
  /** @default - HTTP only, 60 s idle timeout, 90-day access logs */
  readonly edge?: EdgeProps;
  /** @default - 30-day log retention, no alarm e-mail */
  readonly observability?: ObservabilityProps;
  /** @default - remediation on, 300 s cooldown, 10 actions an hour */
  readonly remediation?: RemediationProps;
  /** @default - no deploy role is created */
  readonly delivery?: DeliveryProps;
}

const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * A platform: one VPC across Availability Zones, one ECS cluster on EC2 capacity, one public edge.
 * Services and the model endpoint are declared as its children.
 *
 * @example
 * const platform = new Platform(app, 'acme', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
 */
export class Platform extends Construct {
  readonly network: Required<NetworkProps>;
  readonly capacity: Required<CapacityProps>;
  readonly edge: Required<Omit<EdgeProps, 'certificateArn'>> & { readonly certificateArn: string | null };
  readonly observability: Required<Omit<ObservabilityProps, 'alarmEmail'>> & {
    readonly alarmEmail: string | null;
  };
  readonly remediation: Required<RemediationProps>;
  readonly delivery: Required<DeliveryProps> | null;

  constructor(scope: Construct, id: string, props: PlatformProps) {
    super(scope, freeId(scope, id, 'declare one Platform per App'));
    const check = new Check(this.node.path);
    check.pattern(
      'id',
      id,
      /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
      'must be 2-32 lowercase letters, digits or hyphens, starting with a letter',
      "rename the platform, e.g. 'acme'",
    );

    const availabilityZones = check.integer(
      'network.availabilityZones',
      props.network?.availabilityZones ?? 2,
      2,
      6,
    );
    const cidr = props.network?.cidr ?? '10.0.0.0/16';
    const cidrMatch = CIDR.exec(cidr);
    const prefix = Number(cidrMatch?.[5]);
    if (!cidrMatch || cidrMatch.slice(1, 5).some((o) => Number(o) > 255) || prefix < 16 || prefix > 24) {
      check.fail(
        'network.cidr',
        cidr,
        'must be an IPv4 CIDR from /16 to /24',
        "use a private range such as '10.0.0.0/16'",
      );
    }
    this.network = {
      cidr,
      availabilityZones,
      natGateways: check.integer(
        'network.natGateways',
        props.network?.natGateways ?? availabilityZones,
        0,
        availabilityZones,
      ),
      vpcEndpoints: props.network?.vpcEndpoints ?? true,
      flowLogRetentionDays: check.integer(
        'network.flowLogRetentionDays',
        props.network?.flowLogRetentionDays ?? 90,
        1,
        3653,
      ),
    };

    const instanceTypes = [...props.capacity.instanceTypes];
    if (instanceTypes.length < 2) {
      check.fail(
        'capacity.instanceTypes',
        instanceTypes,
        'must name at least two instance types',
        "add a second type of the same size, e.g. ['t3.medium', 't3a.medium']",
      );
    }
    for (const [i, type] of instanceTypes.entries()) {
      check.pattern(
        `capacity.instanceTypes[${i}]`,
        type,
        INSTANCE_TYPE,
        'is not an EC2 instance type',
        "use a name such as 't3.medium'",
      );
    }
    if (new Set(instanceTypes).size !== instanceTypes.length) {
      check.fail('capacity.instanceTypes', instanceTypes, 'must not repeat a type', 'remove the duplicate');
    }
    const minInstances = check.integer(
      'capacity.minInstances',
      props.capacity.minInstances ?? availabilityZones,
      1,
      1000,
    );
    const maxInstances = check.integer('capacity.maxInstances', props.capacity.maxInstances ?? 6, 1, 1000);
    check.atLeast('capacity.maxInstances', maxInstances, 'capacity.minInstances', minInstances);
    this.capacity = {
      instanceTypes,
      minInstances,
      maxInstances,
      targetCapacityPercent: check.integer(
        'capacity.targetCapacityPercent',
        props.capacity.targetCapacityPercent ?? 100,
        1,
        100,
      ),
      rootVolumeGiB: check.integer(
        'capacity.rootVolumeGiB',
        props.capacity.rootVolumeGiB ?? 30,
        30,
        16384,
        'GiB',
      ),
    };

    const certificateArn = props.edge?.certificateArn ?? null;
    if (certificateArn !== null) {
      check.pattern(
        'edge.certificateArn',
        certificateArn,
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/,
        'is not an ACM certificate ARN',
        'use the ARN of an ACM certificate in the deployment region',
      );
    }
    this.edge = {
      certificateArn,
      idleTimeoutSeconds: check.integer(
        'edge.idleTimeoutSeconds',
        props.edge?.idleTimeoutSeconds ?? 60,
        1,
        4000,
      ),
      accessLogRetentionDays: check.integer(
        'edge.accessLogRetentionDays',
        props.edge?.accessLogRetentionDays ?? 90,
        1,
        3653,
      ),
    };

    const alarmEmail = props.observability?.alarmEmail ?? null;
    if (alarmEmail !== null) {
      check.pattern(
        'observability.alarmEmail',
        alarmEmail,
        /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
        'is not an e-mail address',
        'use an address such as ops@example.com',
      );
    }
    this.observability = {
      logRetentionDays: check.integer(
        'observability.logRetentionDays',
        props.observability?.logRetentionDays ?? 30,
        1,
        3653,
      ),
      alarmEmail,
    };

    this.remediation = {
      dryRun: props.remediation?.dryRun ?? false,
      cooldownSeconds: check.integer(
        'remediation.cooldownSeconds',
        props.remediation?.cooldownSeconds ?? 300,
        0,
        86400,
      ),
      maxActionsPerHour: check.integer(
        'remediation.maxActionsPerHour',
        props.remediation?.maxActionsPerHour ?? 10,
        1,
        1000,
      ),
    };

    this.delivery = props.delivery
      ? {
          githubRepository: check.pattern(
            'delivery.githubRepository',
            props.delivery.githubRepository,
            /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/,
            "must be 'owner/name'",
            "use the repository's 'owner/name', e.g. 'acme/platform'",
          ),
          branch: props.delivery.branch ?? 'main',
          environment: props.delivery.environment ?? 'production',
        }
      : null;
  }

  /** The platform a construct belongs to. */
  static of(construct: Construct): Platform {
    const platform = construct.node.scopes.find((s): s is Platform => s instanceof Platform);
    if (!platform) {
      throw new Error(
        `${construct.node.path}: must be declared inside a Platform (new X(platform, 'name', …))`,
      );
    }
    return platform;
  }
}
