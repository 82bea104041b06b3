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

/** An OpenID Connect identity provider the ALB signs people in with (instead of the Cognito user pool). */
export interface OidcProviderProps {
  /** The IdP's issuer URL, e.g. `https://login.example.com`. */
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly userInfoEndpoint: string;
  /** The OAuth client id registered at the IdP for this console. */
  readonly clientId: string;
  /** Secrets Manager secret (name) holding the client secret; resolved at deploy time, never in the template. */
  readonly clientSecretName: string;
}

/** Who may use the console: how the ALB authenticates people before it forwards to a non-public web service. */
export type EdgeAuthSpec =
  | { readonly kind: 'cognito' }
  | ({ readonly kind: 'oidc' } & Readonly<OidcProviderProps>);

/** Choices of {@link EdgeProps.auth}. */
export class EdgeAuth {
  private constructor(readonly spec: EdgeAuthSpec) {}

  /** A Cognito user pool the stack creates (administrators create the users; MFA required). */
  static cognito(): EdgeAuth {
    return new EdgeAuth({ kind: 'cognito' });
  }

  /** An existing OpenID Connect identity provider (e.g. the company's SSO). */
  static oidc(props: OidcProviderProps): EdgeAuth {
    return new EdgeAuth({ kind: 'oidc', ...props });
  }
}

/** The public edge: the Application Load Balancer. */
export interface EdgeProps {
  /**
   * ACM certificate for HTTPS.
   * @default - a DNS-validated certificate for {@link domainName} that the stack requests
   */
  readonly certificateArn?: string;
  /**
   * The console's domain (the certificate's name and the sign-in callback).
   * @default - the renderer's `platform:domainName` context (or `PLATFORM_DOMAIN`), else a documented placeholder
   */
  readonly domainName?: string;
  /**
   * How people sign in before reaching a web service that is not `public`.
   * @default EdgeAuth.cognito()
   */
  readonly auth?: EdgeAuth;
  /**
   * Serve plain HTTP with no certificate and no sign-in: every web service anonymous on port 80. Only for
   * a throwaway account; the synth prints a warning.
   * @default false
   */
  readonly insecureHttpOnly?: boolean;
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
  /**
   * The account's existing GitHub OIDC provider (IAM allows one per issuer): imported instead of
   * created, for a second platform in an account or one that already has it.
   * @default - the stack creates the provider
   */
  readonly oidcProviderArn?: string;
}

export interface PlatformProps {
  readonly capacity: CapacityProps;
  /** @default - two AZs, one NAT gateway per AZ, VPC endpoints on */
  readonly network?: NetworkProps;
  /** @default - HTTPS with Cognito sign-in, 60 s idle timeout, 90-day access logs */
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
  readonly edge: Required<Omit<EdgeProps, 'certificateArn' | 'domainName' | 'auth'>> & {
    readonly certificateArn: string | null;
    readonly domainName: string | null;
    readonly auth: EdgeAuthSpec;
  };
  readonly observability: Required<Omit<ObservabilityProps, 'alarmEmail'>> & {
    readonly alarmEmail: string | null;
  };
  readonly remediation: Required<RemediationProps>;
  readonly delivery:
    | (Required<Omit<DeliveryProps, 'oidcProviderArn'>> & { readonly oidcProviderArn: string | null })
    | null;

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
    const domainName = props.edge?.domainName ?? null;
    if (domainName !== null) {
      check.pattern(
        'edge.domainName',
        domainName,
        /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        'is not a lowercase DNS name',
        "use the console's name, e.g. 'console.example.com'",
      );
    }
    const auth = props.edge?.auth?.spec ?? { kind: 'cognito' as const };
    if (auth.kind === 'oidc') {
      for (const key of ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'userInfoEndpoint'] as const) {
        check.pattern(
          `edge.auth.${key}`,
          auth[key],
          /^https:\/\/[^\s/]+(\/\S*)?$/,
          'must be an https:// URL',
          "copy it from the identity provider's /.well-known/openid-configuration",
        );
      }
      check.pattern(
        'edge.auth.clientId',
        auth.clientId,
        /^\S+$/,
        'must not be empty',
        'use the client id from the IdP',
      );
      check.pattern(
        'edge.auth.clientSecretName',
        auth.clientSecretName,
        /^[A-Za-z0-9/_+=.@-]{1,512}$/,
        'is not a Secrets Manager secret name',
        "store the client secret in Secrets Manager and name it, e.g. 'acme/console-oidc'",
      );
    }
    const insecureHttpOnly = props.edge?.insecureHttpOnly ?? false;
    if (insecureHttpOnly && (certificateArn !== null || domainName !== null)) {
      check.fail(
        'edge.insecureHttpOnly',
        insecureHttpOnly,
        'cannot be combined with a certificate or a domain',
        'remove insecureHttpOnly to serve HTTPS with sign-in',
      );
    }
    this.edge = {
      certificateArn,
      domainName,
      auth: { ...auth },
      insecureHttpOnly,
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
          oidcProviderArn:
            props.delivery.oidcProviderArn === undefined
              ? null
              : check.pattern(
                  'delivery.oidcProviderArn',
                  props.delivery.oidcProviderArn,
                  /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
                  "must be the ARN of the account's GitHub OIDC provider",
                  'use arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com',
                ),
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
