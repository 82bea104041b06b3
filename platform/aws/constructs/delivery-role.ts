import { type CfnElement, Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { WiringInvariantError } from '../../wiring/index.ts';

/** The GitHub OIDC issuer; its `aud` for AWS is always `sts.amazonaws.com`. */
export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';

/** A GitHub repository, `owner/name`. */
export interface GitHubRepository {
  readonly owner: string;
  readonly name: string;
}

export interface DeliveryRoleProps {
  /** The only repository whose workflows may assume the roles. */
  readonly repository: GitHubRepository;
  /**
   * The branch whose workflow runs may push images (and whose workflow file the environment jobs run).
   * @default 'main'
   */
  readonly branch?: string;
  /**
   * The workflow file every role is pinned to, through the `job_workflow_ref` in the OIDC subject.
   * @default '.github/workflows/deploy.yml'
   */
  readonly workflow?: string;
  /**
   * The protected GitHub environment (required reviewers, deployment branches = `branch`). Jobs that
   * name it get the OIDC subject `repo:OWNER/NAME:environment:ENV` instead of the branch subject; it
   * is the only subject the infrastructure role trusts.
   */
  readonly environment: string;
  /** ECR repositories the pipeline pushes images to. */
  readonly repositories: readonly ecr.IRepository[];
  /** The cluster of {@link services}; UpdateService is allowed in this cluster only. */
  readonly cluster: ecs.ICluster;
  /** The ECS services the deploy command may describe and update (an imported service's ARN will do). */
  readonly services: readonly Pick<ecs.IBaseService, 'serviceArn'>[];
  /**
   * ARNs (or ARN patterns, e.g. every role under the platform's task-role path) of those services' task
   * and execution roles. Registering a task definition passes them, so the rollout role may pass
   * exactly these, and only to ECS tasks.
   */
  readonly passRoleArns: readonly string[];
  /**
   * The images' release parameters: the rollout role records a release in them, the infrastructure
   * role records the first images before the platform stack's first deploy (`deploy seed`).
   * @default - none
   */
  readonly releaseParameters?: readonly ssm.IStringParameter[];
  /**
   * An existing GitHub OIDC provider. IAM allows one provider per issuer URL per account, so a second
   * stack in the same account must import the first one's (`OidcProviderNative.fromOidcProviderArn`).
   * @default - a new provider for token.actions.githubusercontent.com
   */
  readonly oidcProvider?: iam.IOidcProvider;
  /**
   * Bucket the pipeline publishes the model artifact (`model.tar.gz`) to when `model/` changes.
   * @default - no model publishing permission
   */
  readonly modelArtifactBucket?: s3.IBucket;
  /**
   * Key prefix inside {@link modelArtifactBucket} the pipeline may write under.
   * @default 'model/'
   */
  readonly modelArtifactPrefix?: string;
  /**
   * Qualifier of the CDK bootstrap stack whose roles `cdk deploy` assumes.
   * @default 'hnb659fds' (the CDK default)
   */
  readonly cdkBootstrapQualifier?: string;
  /**
   * A later stage of a promotion: its push role is assumed by the stage's promotion job (in the
   * protected `environment`, so it trusts the environment subject, not the branch) and copies the
   * release's digests from the previous stage's repositories into {@link repositories}.
   * @default - the first (or only) stage: the images job on `branch` builds and pushes the release
   */
  readonly promotion?: DeliveryPromotion;
  /**
   * How long one assumed session lasts; a rollout waits up to its `--timeout` inside one job.
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
}

/** Where a later stage's promotion job copies the release's images from. */
export interface DeliveryPromotion {
  /** The previous stage's environment (documentation: the role's description names it). */
  readonly fromEnvironment: string;
  /** ARNs of the previous stage's repositories, one per image; the push role may pull from these only. */
  readonly sourceRepositoryArns: readonly string[];
}

/**
 * GitHub Actions' way into the account, without stored keys: the GitHub OIDC provider and three roles,
 * split so one compromised job cannot roll out on its own.
 *
 * - {@link pushRole}: runs of `workflow` on `branch` (the images job); pushes to the given ECR
 *   repositories and nothing else. With {@link DeliveryRoleProps.promotion} (a later stage): only jobs
 *   in the protected `environment` (its promotion job), which may also pull from the previous stage's
 *   repositories.
 * - {@link rolloutRole}: only jobs of `workflow` in the protected `environment` (required reviewers);
 *   registers task definitions, updates the given services, passes only their task and execution roles.
 * - {@link infrastructureRole}: the same environment subject; may only assume the CDK bootstrap roles.
 *
 * AWS evaluates only `aud` and `sub` of a GitHub token, so the workflow is pinned inside the subject:
 * the repository's OIDC subject template must include `job_workflow_ref` (`gh api -X PUT
 * repos/OWNER/NAME/actions/oidc/customization/sub -F use_default=false -f "include_claim_keys[]=repo"
 * -f "include_claim_keys[]=context" -f "include_claim_keys[]=job_workflow_ref"`), which makes subjects
 * like `repo:OWNER/NAME:environment:production:job_workflow_ref:OWNER/NAME/.github/workflows/deploy.yml@refs/heads/main`.
 *
 * @example
 * new DeliveryRole(this, 'Delivery', {
 *   repository: { owner: 'acme', name: 'ecs-anomaly-platform' },
 *   environment: 'production',
 *   repositories: [frontendRepo, backendRepo],
 *   cluster,
 *   services: [frontend.service, backend.service],
 *   passRoleArns: [frontend.taskRole.roleArn, frontend.executionRole.roleArn],
 * });
 */
export class DeliveryRole extends Construct {
  readonly oidcProvider: iam.IOidcProvider;
  /** Pushes images only; `vars.AWS_PUSH_ROLE_ARN` in the workflows. */
  readonly pushRole: iam.Role;
  /** Rolls out services (environment only); `vars.AWS_ROLLOUT_ROLE_ARN` in the workflows. */
  readonly rolloutRole: iam.Role;
  /** Runs `cdk deploy` from the protected environment; `vars.AWS_INFRA_ROLE_ARN` in the workflows. */
  readonly infrastructureRole: iam.Role;
  readonly branch: string;
  /** The OIDC subject the push role trusts (the branch, in the deploy workflow). */
  readonly branchSubject: string;
  /** The OIDC subject the rollout and infrastructure roles trust (the environment, in the deploy workflow). */
  readonly environmentSubject: string;

  constructor(scope: Construct, id: string, props: DeliveryRoleProps) {
    super(scope, id);
    validate(this.node.path, props);
    this.branch = props.branch ?? 'main';
    const repo = `${props.repository.owner}/${props.repository.name}`;
    const workflow = props.workflow ?? '.github/workflows/deploy.yml';
    const workflowRef = `job_workflow_ref:${repo}/${workflow}@refs/heads/${this.branch}`;
    this.branchSubject = `repo:${repo}:ref:refs/heads/${this.branch}:${workflowRef}`;
    this.environmentSubject = `repo:${repo}:environment:${props.environment}:${workflowRef}`;
    const maxSessionDuration = props.maxSessionDuration ?? Duration.hours(1);

    this.oidcProvider =
      props.oidcProvider ??
      new iam.OidcProviderNative(this, 'GitHubOidcProvider', {
        url: `https://${GITHUB_OIDC_ISSUER}`,
        clientIds: [GITHUB_OIDC_AUDIENCE],
      });

    const promotion = props.promotion;
    this.pushRole = new iam.Role(this, 'PushRole', {
      description: promotion
        ? `GitHub Actions (${repo} ${workflow}, environment ${props.environment}): copy the release's images from ${promotion.fromEnvironment}'s ECR repositories into this stage's, nothing else`
        : `GitHub Actions (${repo} ${workflow}, ${this.branch}): push images to ECR, nothing else`,
      // A later stage's images are copied by its promotion job, which runs in the stage's environment.
      assumedBy: githubPrincipal(this.oidcProvider, promotion ? this.environmentSubject : this.branchSubject),
      maxSessionDuration,
    });
    this.grantImagePush(props.repositories);
    if (promotion) this.grantPromotion(props.repositories, promotion);
    if (props.modelArtifactBucket) {
      const prefix = props.modelArtifactPrefix ?? 'model/';
      this.pushRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'PublishModelArtifact',
          actions: ['s3:PutObject'],
          resources: [props.modelArtifactBucket.arnForObjects(`${prefix}*`)],
        }),
      );
    }

    this.rolloutRole = new iam.Role(this, 'RolloutRole', {
      description: `GitHub Actions (${repo} ${workflow}, environment ${props.environment}): register task definitions, roll out ECS services`,
      assumedBy: githubPrincipal(this.oidcProvider, this.environmentSubject),
      maxSessionDuration,
    });
    this.grantRollout(props.cluster, props.services, props.passRoleArns);
    // Once for the unit: each role's '*' is an action without resource-level permissions.
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Push role: ecr:GetAuthorizationToken supports no resource-level permissions (pushes are scoped to the listed repositories). Rollout role: ecs:RegisterTaskDefinition, ecs:DescribeTaskDefinition and ecs:DeregisterTaskDefinition support none; ecs:TagResource on * is limited to tag-on-create by the ecs:CreateAction condition; service updates and PassRole are scoped to the listed services and roles.',
    });

    this.infrastructureRole = new iam.Role(this, 'InfrastructureRole', {
      description: `GitHub Actions (${repo} ${workflow}, environment ${props.environment}): cdk deploy through the bootstrap roles`,
      assumedBy: githubPrincipal(this.oidcProvider, this.environmentSubject),
      maxSessionDuration,
    });
    const qualifier = props.cdkBootstrapQualifier ?? 'hnb659fds';
    this.infrastructureRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkBootstrapRoles',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        // The bootstrap roles carry the actual CloudFormation/asset permissions; this role only reaches them.
        resources: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map((kind) =>
          Fn.sub(
            `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/cdk-${qualifier}-${kind}-role-\${AWS::AccountId}-\${AWS::Region}`,
          ),
        ),
      }),
    );
    this.grantReleaseRecords(props.releaseParameters ?? []);
  }

  private grantImagePush(repositories: readonly ecr.IRepository[]): void {
    this.pushRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EcrLogin',
        // GetAuthorizationToken has no resource-level permissions.
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
    );
    this.pushRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EcrPush',
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:CompleteLayerUpload',
          'ecr:GetDownloadUrlForLayer',
          'ecr:InitiateLayerUpload',
          'ecr:PutImage',
          'ecr:UploadLayerPart',
        ],
        resources: repositories.map((r) => r.repositoryArn),
      }),
    );
  }

  /**
   * The promotion job reads the release's digests from the previous stage's repositories (skopeo copy
   * --preserve-digests) and checks its own for a digest a re-run already copied (describe-images).
   */
  private grantPromotion(repositories: readonly ecr.IRepository[], promotion: DeliveryPromotion): void {
    this.pushRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EcrPullPreviousStage',
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:DescribeImages',
          'ecr:GetDownloadUrlForLayer',
        ],
        resources: [...promotion.sourceRepositoryArns],
      }),
    );
    this.pushRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EcrDescribePromoted',
        actions: ['ecr:DescribeImages'],
        resources: repositories.map((r) => r.repositoryArn),
      }),
    );
  }

  /** Releases are recorded by the rollout role; the first images by the infrastructure role (seed). */
  private grantReleaseRecords(parameters: readonly ssm.IStringParameter[]): void {
    if (parameters.length === 0) return;
    const arns = parameters.map((p) => p.parameterArn);
    this.rolloutRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RecordReleases',
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        resources: arns,
      }),
    );
    this.infrastructureRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SeedReleases',
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        resources: arns,
      }),
    );
  }

  private grantRollout(
    cluster: ecs.ICluster,
    services: readonly Pick<ecs.IBaseService, 'serviceArn'>[],
    passRoleArns: readonly string[],
  ): void {
    this.rolloutRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TaskDefinitions',
        // None of these supports resource-level permissions (IAM service authorization reference, ECS).
        // Deregister: a revision whose release rolled back is retired, so neither the next release
        // nor a CloudFormation update of the service (it names the family) can pick it up again.
        actions: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition', 'ecs:DeregisterTaskDefinition'],
        resources: ['*'],
      }),
    );
    this.rolloutRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagNewTaskDefinitions',
        // Registering with tags needs TagResource (tag-on-create); allow it for that call only.
        actions: ['ecs:TagResource'],
        resources: ['*'],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      }),
    );
    this.rolloutRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RollOutServices',
        actions: ['ecs:DescribeServices', 'ecs:UpdateService', 'ecs:ListServiceDeployments'],
        resources: services.map((s) => s.serviceArn),
        conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
      }),
    );
    // The deploy command follows, stops (rollback) and continues (pause hooks) the service deployments
    // its updates start; their ids are not known in advance, so: this cluster's service deployments.
    const clusterResource = cluster.node.defaultChild as CfnElement | undefined;
    const clusterInFinding = clusterResource
      ? `<${Stack.of(this).getLogicalId(clusterResource)}>`
      : cluster.clusterName;
    Validations.of(this.rolloutRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${Token.isUnresolved(Stack.of(this).region) ? '<AWS::Region>' : Stack.of(this).region}:<AWS::AccountId>:service-deployment/${clusterInFinding}/*]`,
      reason:
        "Service-deployment ids are created by each UpdateService; the rollout role may follow, stop and continue only this cluster's (service-deployment/<cluster>/*), from the protected environment.",
    });
    this.rolloutRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FollowServiceDeployments',
        actions: [
          'ecs:DescribeServiceDeployments',
          'ecs:StopServiceDeployment',
          'ecs:ContinueServiceDeployment',
        ],
        resources: [
          Stack.of(this).formatArn({
            service: 'ecs',
            resource: 'service-deployment',
            resourceName: `${cluster.clusterName}/*`,
          }),
        ],
      }),
    );
    this.rolloutRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PassTaskRoles',
        actions: ['iam:PassRole'],
        resources: [...passRoleArns],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
  }
}

function githubPrincipal(provider: iam.IOidcProvider, subject: string): iam.IPrincipal {
  // StringEquals, not StringLike: a wildcard here is how pull requests and forks get in. One subject.
  return new iam.OpenIdConnectPrincipal(provider, {
    StringEquals: {
      [`${GITHUB_OIDC_ISSUER}:aud`]: GITHUB_OIDC_AUDIENCE,
      [`${GITHUB_OIDC_ISSUER}:sub`]: subject,
    },
  });
}

// GitHub: owner up to 39 alphanumerics/hyphens; repository names also allow '.' and '_'.
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
// Branch and environment names end up inside an exact-match subject; '*' or ':' would widen or break it.
const SUBJECT_PART = /^[A-Za-z0-9._/-]{1,255}$/;

function validate(path: string, props: DeliveryRoleProps): void {
  const problems: string[] = [];
  const check = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };
  check(
    OWNER.test(props.repository.owner),
    `repository.owner ('${props.repository.owner}') must be a GitHub user or organisation name, e.g. 'acme'`,
  );
  check(
    REPO.test(props.repository.name) && props.repository.name !== '.' && props.repository.name !== '..',
    `repository.name ('${props.repository.name}') must be a GitHub repository name, e.g. 'ecs-anomaly-platform'`,
  );
  if (props.branch !== undefined) {
    check(
      SUBJECT_PART.test(props.branch),
      `branch ('${props.branch}') must be a plain branch name without wildcards or ':', e.g. 'main'`,
    );
  }
  if (props.workflow !== undefined) {
    check(
      /^\.github\/workflows\/[A-Za-z0-9._-]+\.ya?ml$/.test(props.workflow),
      `workflow ('${props.workflow}') must be a workflow file path, e.g. '.github/workflows/deploy.yml'`,
    );
  }
  check(
    SUBJECT_PART.test(props.environment) && !props.environment.includes('/'),
    `environment ('${props.environment}') must be a GitHub environment name without wildcards, ':' or '/', e.g. 'production'`,
  );
  check(props.repositories.length > 0, 'repositories must list at least one ECR repository to push to');
  check(props.services.length > 0, 'services must list at least one ECS service to roll out');
  check(props.passRoleArns.length > 0, "passRoleArns must name the services' task and execution roles");
  if (props.promotion) {
    check(
      props.promotion.sourceRepositoryArns.length === props.repositories.length,
      `promotion.sourceRepositoryArns must name the previous stage's repository of each of the ${props.repositories.length} repositories (got ${props.promotion.sourceRepositoryArns.length})`,
    );
  }
  if (props.modelArtifactPrefix !== undefined) {
    check(
      /^[A-Za-z0-9!_.()'-][A-Za-z0-9!_.()'/-]*\/$/.test(props.modelArtifactPrefix),
      `modelArtifactPrefix ('${props.modelArtifactPrefix}') must be a key prefix ending in '/' without wildcards, e.g. 'model/'`,
    );
  }
  if (problems.length > 0) throw new WiringInvariantError(path, problems.join('; '));
}
