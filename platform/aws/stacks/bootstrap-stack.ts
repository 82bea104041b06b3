import { Arn, CfnOutput, Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import {
  type PlatformWiring,
  RELEASE_NOT_RECORDED,
  repositoryName,
  repositoryPrefix,
} from '../../wiring/index.ts';
import { type DeliveryPromotion, DeliveryRole, GITHUB_OIDC_ISSUER } from '../constructs/delivery-role.ts';
import { Registry } from '../constructs/registry.ts';
import { taskRolePath } from '../constructs/task-definition.ts';

/** Props of {@link BootstrapStack}. */
export interface BootstrapStackProps extends StackProps {
  readonly wiring: PlatformWiring;
}

/**
 * The bootstrap stage, deployed once by a person (and kept current by the deploy workflow):
 * everything the first CI run needs before any platform resource exists.
 *
 * - the ECR repositories the task definitions pull from;
 * - one SSM parameter per image recording its last release (`/<platform>/release/<image>`), which the
 *   platform's task definitions resolve and the deploy command writes;
 * - with `platform.delivery`: the GitHub OIDC provider (imported by its well-known ARN, or created
 *   when declared) and the three delivery roles, whose ARNs are the workflow's variables.
 *
 * The roles name the platform's cluster, services and task roles by their contract names and path,
 * never through an export, so either stack can be deleted and deployed again on its own.
 */
export class BootstrapStack extends Stack {
  readonly registry: Registry;
  /** Release parameters by image name. */
  readonly releaseParameters: ReadonlyMap<string, ssm.StringParameter>;
  /** GitHub's way in; undefined without `platform.delivery`. */
  readonly delivery?: DeliveryRole;

  constructor(scope: Construct, id: string, props: BootstrapStackProps) {
    super(scope, id, props);
    const { wiring } = props;
    const platformName = wiring.platform;
    this.registry = new Registry(this, 'Registry', { platformName, images: wiring.images });
    const parameters = new Map<string, ssm.StringParameter>();
    for (const image of wiring.images) {
      parameters.set(
        image.name,
        // Written once here and never again by CloudFormation: its properties are constant, so no
        // later stack update touches it; the deploy command owns the value from the first release on.
        new ssm.StringParameter(this, `Release-${image.name}`, {
          parameterName: image.releaseParameter,
          stringValue: RELEASE_NOT_RECORDED,
          description: `${platformName}: reference of the last released ${image.name} image (the deploy command writes it)`,
        }),
      );
    }
    this.releaseParameters = parameters;
    new CfnOutput(this, 'RepositoryPrefix', {
      description: 'vars.ECR_REPOSITORY_PREFIX of the deploy workflow',
      value: repositoryPrefix(platformName),
    });
    if (wiring.delivery) this.delivery = this.renderDelivery(wiring.delivery, wiring);
  }

  private renderDelivery(
    delivery: NonNullable<PlatformWiring['delivery']>,
    wiring: PlatformWiring,
  ): DeliveryRole {
    const platformName = wiring.platform;
    const [owner = '', name = ''] = delivery.githubRepository.split('/');
    // The cluster is named after the platform and the services after the declaration (contract names).
    const cluster = ecs.Cluster.fromClusterArn(
      this,
      'Cluster',
      this.formatArn({ service: 'ecs', resource: 'cluster', resourceName: platformName }),
    );
    const services = wiring.tasks.map((task) =>
      ecs.Ec2Service.fromEc2ServiceArn(
        this,
        `Service-${task.service}`,
        this.formatArn({
          service: 'ecs',
          resource: 'service',
          resourceName: `${platformName}/${task.service}`,
        }),
      ),
    );
    const role = new DeliveryRole(this, 'Delivery', {
      repository: { owner, name },
      branch: delivery.branch,
      environment: delivery.environment,
      oidcProvider: delivery.createOidcProvider
        ? undefined
        : iam.OidcProviderNative.fromOidcProviderArn(
            this,
            'GitHubOidcProvider',
            delivery.oidcProviderArn ??
              Arn.format(
                { service: 'iam', region: '', resource: 'oidc-provider', resourceName: GITHUB_OIDC_ISSUER },
                this,
              ),
          ),
      repositories: [...this.registry.all.values()],
      cluster,
      services,
      // Every task and execution role the platform stack creates carries this path.
      passRoleArns: [
        Fn.sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role${taskRolePath(platformName)}*`),
      ],
      releaseParameters: [...this.releaseParameters.values()],
      ...(delivery.promotedFrom ? { promotion: this.promotionFrom(delivery.promotedFrom, wiring) } : {}),
    });
    Validations.of(role.rolloutRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role${taskRolePath(platformName)}*]`,
      reason: `PassRole of the platform stack's task and execution roles, which carry the path ${taskRolePath(platformName)} (the platform stack names them; the bootstrap stack references no export), and only to ecs-tasks.amazonaws.com.`,
    });
    new CfnOutput(this, 'PushRoleArn', {
      description: delivery.promotedFrom
        ? `vars.AWS_PUSH_ROLE_ARN of the ${delivery.environment} environment: copies the release's images from ${delivery.promotedFrom.environment}'s repositories (promote job)`
        : 'vars.AWS_PUSH_ROLE_ARN of the deploy workflow: pushes images (main branch)',
      value: role.pushRole.roleArn,
    });
    new CfnOutput(this, 'RolloutRoleArn', {
      description:
        'vars.AWS_ROLLOUT_ROLE_ARN of the deploy workflow: registers task definitions, rolls out services, records releases (protected environment)',
      value: role.rolloutRole.roleArn,
    });
    new CfnOutput(this, 'InfrastructureRoleArn', {
      description:
        'vars.AWS_INFRA_ROLE_ARN of the deploy workflow: cdk deploy from the protected environment',
      value: role.infrastructureRole.roleArn,
    });
    return role;
  }

  /**
   * The previous stage's repositories, by the names its own bootstrap stack gives them
   * (`<platform>/<image>`, the same images). Its stack is deployed to this stack's account and region
   * (the promote job logs in to one registry, its own, and reads both), so the ARNs are built here
   * rather than imported: no export ties the two environments' stacks together.
   */
  private promotionFrom(
    source: NonNullable<NonNullable<PlatformWiring['delivery']>['promotedFrom']>,
    wiring: PlatformWiring,
  ): DeliveryPromotion {
    return {
      fromEnvironment: source.environment,
      sourceRepositoryArns: wiring.images.map((image) =>
        this.formatArn({
          service: 'ecr',
          resource: 'repository',
          resourceName: repositoryName(source.platform, image.name),
        }),
      ),
    };
  }
}
