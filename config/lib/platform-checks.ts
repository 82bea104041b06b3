import type { Check } from './checks.ts';
import type {
  AccountProps,
  CapacityProps,
  DeliveryProps,
  EdgeAuthSpec,
  EdgeProps,
  NetworkProps,
  ObservabilityProps,
  RemediationProps,
  TeardownProps,
} from './platform-props.ts';

/**
 * The checks of a {@link Platform}'s props, one function per prop group: each applies the documented
 * defaults once and throws a DeclarationError naming the prop, the value and the fix.
 */

export type ResolvedNetwork = Required<NetworkProps>;
export type ResolvedCapacity = Required<CapacityProps>;
export type ResolvedEdge = Required<Omit<EdgeProps, 'certificateArn' | 'domainName' | 'auth'>> & {
  readonly certificateArn: string | null;
  readonly domainName: string | null;
  readonly auth: EdgeAuthSpec;
};
export type ResolvedObservability = Required<Omit<ObservabilityProps, 'alarmEmail'>> & {
  /** Every address subscribed to the alarm topic (none: no subscription). */
  readonly alarmEmails: readonly string[];
};
export type ResolvedRemediation = Required<RemediationProps>;
export type ResolvedDelivery =
  | (Required<Omit<DeliveryProps, 'oidcProviderArn'>> & { readonly oidcProviderArn: string | null })
  | null;
export type ResolvedAccount = Required<AccountProps>;
export type ResolvedTeardown = Required<TeardownProps>;

const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days. */
export const CLOUDWATCH_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
const RETENTION_RULE = 'is not a retention CloudWatch Logs accepts';

// GitHub: an owner is up to 39 letters, digits or hyphens, starting with a letter or digit; a
// repository name also allows '.' and '_'.
const GITHUB_REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/;
// Branch and environment names end up inside the OIDC role's exact-match subject: '*' or ':' would
// widen or break it.
const SUBJECT_PART = /^[A-Za-z0-9._/-]{1,255}$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function checkNetwork(check: Check, network: NetworkProps = {}): ResolvedNetwork {
  const availabilityZones = check.integer('network.availabilityZones', network.availabilityZones ?? 2, 2, 6);
  const cidr = network.cidr ?? '10.0.0.0/16';
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
  const natGateways = check.integer(
    'network.natGateways',
    network.natGateways ?? availabilityZones,
    0,
    availabilityZones,
  );
  const vpcEndpoints = network.vpcEndpoints ?? true;
  if (natGateways === 0 && !vpcEndpoints) {
    check.fail(
      'network.natGateways',
      natGateways,
      'needs network.vpcEndpoints, which is false',
      'turn network.vpcEndpoints on, or declare at least one NAT gateway; without either, the ECS agent cannot reach ECS, ECR or CloudWatch',
    );
  }
  return {
    cidr,
    availabilityZones,
    natGateways,
    vpcEndpoints,
    flowLogRetentionDays: check.oneOf(
      'network.flowLogRetentionDays',
      network.flowLogRetentionDays ?? 90,
      CLOUDWATCH_RETENTION_DAYS,
      RETENTION_RULE,
    ),
  };
}

export function checkCapacity(
  check: Check,
  capacity: CapacityProps,
  availabilityZones: number,
): ResolvedCapacity {
  const instanceTypes = [...capacity.instanceTypes];
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
    capacity.minInstances ?? availabilityZones,
    1,
    1000,
  );
  const maxInstances = check.integer('capacity.maxInstances', capacity.maxInstances ?? 6, 1, 1000);
  check.atLeast('capacity.maxInstances', maxInstances, 'capacity.minInstances', minInstances);
  return {
    instanceTypes,
    minInstances,
    maxInstances,
    targetCapacityPercent: check.integer(
      'capacity.targetCapacityPercent',
      capacity.targetCapacityPercent ?? 100,
      1,
      100,
    ),
    rootVolumeGiB: check.integer('capacity.rootVolumeGiB', capacity.rootVolumeGiB ?? 30, 30, 16384, 'GiB'),
  };
}

export function checkEdge(check: Check, edge: EdgeProps = {}): ResolvedEdge {
  const certificateArn = edge.certificateArn ?? null;
  if (certificateArn !== null) {
    check.pattern(
      'edge.certificateArn',
      certificateArn,
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/,
      'is not an ACM certificate ARN',
      'use the ARN of an ACM certificate in the deployment region',
    );
  }
  const domainName = edge.domainName ?? null;
  if (domainName !== null) {
    check.pattern(
      'edge.domainName',
      domainName,
      /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
      'is not a lowercase DNS name',
      "use the console's name, e.g. 'console.example.com'",
    );
  }
  const auth = edge.auth?.spec ?? { kind: 'cognito' as const };
  if (auth.kind === 'oidc') checkOidc(check, auth);
  const insecureHttpOnly = edge.insecureHttpOnly ?? false;
  if (insecureHttpOnly && (certificateArn !== null || domainName !== null)) {
    check.fail(
      'edge.insecureHttpOnly',
      insecureHttpOnly,
      'cannot be combined with a certificate or a domain',
      'remove insecureHttpOnly to serve HTTPS with sign-in',
    );
  }
  return {
    certificateArn,
    domainName,
    auth: { ...auth },
    insecureHttpOnly,
    idleTimeoutSeconds: check.integer('edge.idleTimeoutSeconds', edge.idleTimeoutSeconds ?? 60, 1, 4000),
    accessLogRetentionDays: check.integer(
      'edge.accessLogRetentionDays',
      edge.accessLogRetentionDays ?? 90,
      1,
      3653,
    ),
  };
}

function checkOidc(check: Check, auth: Extract<EdgeAuthSpec, { kind: 'oidc' }>): void {
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

export function checkObservability(
  check: Check,
  observability: ObservabilityProps = {},
): ResolvedObservability {
  const declared = observability.alarmEmail;
  const alarmEmails = typeof declared === 'string' ? [declared] : [...(declared ?? [])];
  for (const [i, address] of alarmEmails.entries()) {
    check.pattern(
      typeof declared === 'string' ? 'observability.alarmEmail' : `observability.alarmEmail[${i}]`,
      address,
      /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
      'is not an e-mail address',
      'use an address such as ops@example.com',
    );
  }
  return {
    logRetentionDays: check.oneOf(
      'observability.logRetentionDays',
      observability.logRetentionDays ?? 30,
      CLOUDWATCH_RETENTION_DAYS,
      RETENTION_RULE,
    ),
    alarmEmails,
  };
}

export function checkRemediation(check: Check, remediation: RemediationProps = {}): ResolvedRemediation {
  return {
    dryRun: remediation.dryRun ?? false,
    cooldownSeconds: check.integer(
      'remediation.cooldownSeconds',
      remediation.cooldownSeconds ?? 300,
      0,
      86400,
    ),
    maxActionsPerHour: check.integer(
      'remediation.maxActionsPerHour',
      remediation.maxActionsPerHour ?? 10,
      1,
      1000,
    ),
  };
}

export function checkDelivery(check: Check, delivery: DeliveryProps | undefined): ResolvedDelivery {
  if (!delivery) return null;
  const githubRepository = check.pattern(
    'delivery.githubRepository',
    delivery.githubRepository,
    GITHUB_REPOSITORY,
    "must be 'owner/name' as GitHub spells them",
    "use the repository's 'owner/name', e.g. 'acme/platform'",
  );
  if (githubRepository.endsWith('/.') || githubRepository.endsWith('/..')) {
    check.fail(
      'delivery.githubRepository',
      githubRepository,
      'names no repository',
      "use the repository's 'owner/name', e.g. 'acme/platform'",
    );
  }
  return {
    githubRepository,
    branch: check.pattern(
      'delivery.branch',
      delivery.branch ?? 'main',
      SUBJECT_PART,
      "must be a plain branch name without wildcards or ':'",
      "name the one branch that deploys, e.g. 'main'",
    ),
    environment: check.pattern(
      'delivery.environment',
      delivery.environment ?? 'production',
      /^[A-Za-z0-9._-]{1,255}$/,
      "must be a GitHub environment name without wildcards, ':' or '/'",
      "name the protected environment, e.g. 'production'",
    ),
    createOidcProvider: checkOidcChoice(check, delivery),
    oidcProviderArn:
      delivery.oidcProviderArn === undefined
        ? null
        : check.pattern(
            'delivery.oidcProviderArn',
            delivery.oidcProviderArn,
            /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
            "must be the ARN of the account's GitHub OIDC provider",
            'use arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com',
          ),
  };
}

function checkOidcChoice(check: Check, delivery: DeliveryProps): boolean {
  const create = delivery.createOidcProvider ?? false;
  if (create && delivery.oidcProviderArn !== undefined) {
    check.fail(
      'delivery.createOidcProvider',
      create,
      'cannot be combined with delivery.oidcProviderArn (that provider is imported)',
      'remove createOidcProvider to import the provider, or remove oidcProviderArn to create one',
    );
  }
  return create;
}

export function checkAccount(account: AccountProps = {}): ResolvedAccount {
  return { apiGatewayLoggingRole: account.apiGatewayLoggingRole ?? false };
}

export function checkTeardown(teardown: TeardownProps = {}): ResolvedTeardown {
  return {
    loadBalancerDeletionProtection: teardown.loadBalancerDeletionProtection ?? false,
    retainLogs: teardown.retainLogs ?? true,
    retainUserPool: teardown.retainUserPool ?? true,
  };
}
