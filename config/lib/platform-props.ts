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
  readonly alarmEmail?: string | readonly string[];
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
  /**
   * The GitHub environment the deploy job runs in. With `environments`, each environment deploys from
   * the GitHub environment of its own name, and this is refused.
   * @default 'production'
   */
  readonly environment?: string;
  /**
   * The GitHub OIDC provider to import, when it is not the account's own
   * (`arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com`).
   * @default - the account's provider, by that well-known ARN
   */
  readonly oidcProviderArn?: string;
  /**
   * The bootstrap stack creates the account's GitHub OIDC provider. IAM allows one provider per
   * issuer in an account, and most accounts that run GitHub Actions already have it, so the default
   * imports it; declare `true` on an account that has none (`aws iam list-open-id-connect-providers`).
   * @default false
   */
  readonly createOidcProvider?: boolean;
}

/**
 * Account-wide settings the platform may take over. Each is a single setting per account and region,
 * shared with everything else in the account, so the platform only writes it when declared.
 */
export interface AccountProps {
  /**
   * Create API Gateway's account-wide CloudWatch Logs role (`AWS::ApiGateway::Account`). It replaces
   * the role the region already has, and the prediction API's access logs need one: declare `true`
   * only where `aws apigateway get-account` shows no `cloudwatchRoleArn`.
   * @default false
   */
  readonly apiGatewayLoggingRole?: boolean;
}

/** What `cdk destroy` keeps, and what could stop it. */
export interface TeardownProps {
  /**
   * Refuse `DeleteLoadBalancer` while on. A `cdk destroy` of the platform stack then fails at the ALB
   * until it is turned off (redeploy with `false`, then destroy).
   * @default false - a teardown deletes the ALB
   */
  readonly loadBalancerDeletionProtection?: boolean;
  /**
   * Keep the platform's log groups (application, anomaly, flow, function and access logs) after a
   * teardown. They carry generated names, so a new stack never collides with them; the endpoint log
   * group SageMaker names itself is always deleted (a kept one would block the next deploy).
   * @default true - logs are evidence; delete them afterwards by their `platform-log` tag
   */
  readonly retainLogs?: boolean;
  /**
   * Keep the console's Cognito user pool (operators and their MFA) after a teardown. Its sign-in
   * domain is deleted, so a new stack creates its own pool and domain.
   * @default true
   */
  readonly retainUserPool?: boolean;
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
  /** @default - the platform writes no account-wide setting */
  readonly account?: AccountProps;
  /** @default - no deletion protection; logs and the user pool are kept */
  readonly teardown?: TeardownProps;
  /**
   * The environments this declaration is deployed as, in promotion order (a release reaches each after
   * the ones before it), each with what it overrides. `synth --env NAME` renders one; every physical
   * name then carries it (`<platform>-<environment>`), so environments share an account safely.
   * @default - none: the declaration is deployed once, under its own name
   */
  readonly environments?: Readonly<Record<string, EnvironmentProps>>;
}

/** What one environment of a platform overrides; everything else is the platform's own props. */
export interface EnvironmentProps {
  /**
   * Releases reach it only through a person's approval (its GitHub environment's protection rules);
   * the delivery workflow promotes into it after the environments before it.
   * @default false
   */
  readonly protected?: boolean;
  /** Merged over the platform's `capacity` (instance types, instance counts, target, root volume). */
  readonly capacity?: Partial<CapacityProps>;
  /** Its own domain (and the certificate for it); the rest of the edge is shared. */
  readonly edge?: Pick<EdgeProps, 'domainName' | 'certificateArn'>;
  /** Who is told of its alarms; the rest of observability is shared. */
  readonly observability?: Pick<ObservabilityProps, 'alarmEmail'>;
}
