import { Construct } from 'constructs';
import { Check, freeId } from './checks.ts';
import { checkEnvironments, type DeclaredEnvironment } from './environments.ts';
import {
  checkAccount,
  checkCapacity,
  checkDelivery,
  checkEdge,
  checkNetwork,
  checkObservability,
  checkRemediation,
  checkTeardown,
  type ResolvedAccount,
  type ResolvedCapacity,
  type ResolvedDelivery,
  type ResolvedEdge,
  type ResolvedNetwork,
  type ResolvedObservability,
  type ResolvedRemediation,
  type ResolvedTeardown,
} from './platform-checks.ts';
import type { PlatformProps } from './platform-props.ts';

export * from './environments.ts';
export * from './platform-props.ts';

/** What an environment may change of the platform, resolved: its capacity, edge and observability. */
export interface PlatformSettings {
  readonly capacity: ResolvedCapacity;
  readonly edge: ResolvedEdge;
  readonly observability: ResolvedObservability;
}

/**
 * A platform: one VPC across Availability Zones, one ECS cluster on EC2 capacity, one public edge.
 * Services and the model endpoint are declared as its children.
 *
 * @example
 * const platform = new Platform(app, 'acme', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
 */
export class Platform extends Construct {
  readonly network: ResolvedNetwork;
  readonly capacity: ResolvedCapacity;
  readonly edge: ResolvedEdge;
  readonly observability: ResolvedObservability;
  readonly remediation: ResolvedRemediation;
  readonly delivery: ResolvedDelivery;
  readonly account: ResolvedAccount;
  readonly teardown: ResolvedTeardown;
  /** The declared environments in promotion order (empty: the declaration is deployed once, as itself). */
  readonly environments: readonly DeclaredEnvironment[];
  private readonly perEnvironment = new Map<string, PlatformSettings>();

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
    this.network = checkNetwork(check, props.network);
    this.capacity = checkCapacity(check, props.capacity, this.network.availabilityZones);
    this.edge = checkEdge(check, props.edge);
    this.observability = checkObservability(check, props.observability);
    this.remediation = checkRemediation(check, props.remediation);
    this.delivery = checkDelivery(check, props.delivery);
    this.account = checkAccount(props.account);
    this.teardown = checkTeardown(props.teardown);
    this.environments = checkEnvironments(check, id, props.environments);
    refuseAccountSingletons(check, this.environments.length, this.delivery, this.account);
    const githubEnvironment = props.delivery?.environment;
    if (githubEnvironment !== undefined && this.environments.length > 0) {
      check.fail(
        'delivery.environment',
        githubEnvironment,
        `names the one GitHub environment of a declaration deployed once; with environments, each deploys from the GitHub environment of its own name (${this.environments.map((e) => e.name).join(', ')})`,
        'remove delivery.environment, and protect those GitHub environments',
      );
    }
    // Each environment's overrides are checked as the props themselves are, merged over the shared ones.
    for (const { name } of this.environments) {
      const override = props.environments![name]!;
      const within = check.within(`environments.${name}.`);
      this.perEnvironment.set(name, {
        capacity: checkCapacity(
          within,
          { ...props.capacity, ...override.capacity },
          this.network.availabilityZones,
        ),
        edge: checkEdge(within, { ...props.edge, ...override.edge }),
        observability: checkObservability(within, { ...props.observability, ...override.observability }),
      });
    }
  }

  /** The capacity, edge and observability of `environment` (null: the shared declaration's own). */
  settingsIn(environment: string | null): PlatformSettings {
    const shared = { capacity: this.capacity, edge: this.edge, observability: this.observability };
    return environment === null ? shared : (this.perEnvironment.get(environment) ?? shared);
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

/**
 * What an account (or region) holds once cannot be created by each of several environments' stacks:
 * GitHub's OIDC provider (one per issuer in IAM) and API Gateway's logging role (one per region).
 */
function refuseAccountSingletons(
  check: Check,
  environments: number,
  delivery: ResolvedDelivery,
  account: ResolvedAccount,
): void {
  if (environments < 2) return;
  if (delivery?.createOidcProvider) {
    check.fail(
      'delivery.createOidcProvider',
      true,
      `would create GitHub's OIDC provider in each of ${environments} environments, and IAM holds one per issuer in an account`,
      'create it once (aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com) and remove createOidcProvider: every environment imports it',
    );
  }
  if (account.apiGatewayLoggingRole) {
    check.fail(
      'account.apiGatewayLoggingRole',
      true,
      `would set API Gateway's one logging role of the region from each of ${environments} environments, and tearing one down would leave the other's API without logs`,
      'set it once for the account (aws apigateway update-account) and remove account.apiGatewayLoggingRole',
    );
  }
}
