import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { branchTrustedRolloutRoles, githubTrustedRoles } from '../test/trust.ts';
import { DeliveryRole, type DeliveryRoleProps } from './delivery-role.ts';

/** A small stack with just what the delivery role needs: two repositories, a cluster, two services, their roles. */
function build(
  overrides: Partial<DeliveryRoleProps> | ((stack: Stack) => Partial<DeliveryRoleProps>) = {},
  withBucket = false,
) {
  // Service ARNs of imported services follow this flag; real services use their Ref, which is already the long format.
  const app = new App({ context: { '@aws-cdk/aws-ecs:arnFormatIncludesClusterName': true } });
  const stack = new Stack(app, 'DeliveryTest', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-12345678',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-1', 'subnet-2'],
  });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'acme', vpc });
  const repositories = [new ecr.Repository(stack, 'FrontendRepo'), new ecr.Repository(stack, 'BackendRepo')];
  const services = ['frontend', 'backend'].map((name) =>
    ecs.Ec2Service.fromEc2ServiceAttributes(stack, `${name}Service`, { cluster, serviceName: name }),
  );
  const passRoles = ['FrontendTask', 'FrontendExecution'].map(
    (id) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') }),
  );
  const bucket = withBucket ? new s3.Bucket(stack, 'ModelArtifacts') : undefined;
  const delivery = new DeliveryRole(stack, 'Delivery', {
    repository: { owner: 'acme', name: 'ecs-anomaly-platform' },
    environment: 'production',
    repositories,
    cluster,
    services,
    passRoleArns: passRoles.map((r) => r.roleArn),
    ...(bucket ? { modelArtifactBucket: bucket } : {}),
    ...(typeof overrides === 'function' ? overrides(stack) : overrides),
  });
  return {
    stack,
    delivery,
    repositories,
    services,
    passRoles,
    cluster,
    bucket,
    template: Template.fromStack(stack),
  };
}

function roleResource(template: Template, stack: Stack, role: iam.Role) {
  const id = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  const resource = template.toJSON().Resources[id];
  assert.ok(resource, `role ${id} is in the template`);
  return resource.Properties;
}

/** The statements of the one inline policy attached to `role`. */
function policyStatements(template: Template, stack: Stack, role: iam.Role) {
  const roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter(
    (p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
  );
  assert.equal(policies.length, 1);
  return policies[0]?.Properties.PolicyDocument.Statement;
}

const WORKFLOW_REF =
  'job_workflow_ref:acme/ecs-anomaly-platform/.github/workflows/deploy.yml@refs/heads/main';
const BRANCH_SUBJECT = `repo:acme/ecs-anomaly-platform:ref:refs/heads/main:${WORKFLOW_REF}`;
const ENVIRONMENT_SUBJECT = `repo:acme/ecs-anomaly-platform:environment:production:${WORKFLOW_REF}`;

describe('DeliveryRole', () => {
  describe('GitHub OIDC provider', () => {
    test('GIVEN no provider WHEN synthesised THEN one native provider for the GitHub issuer and STS audience', () => {
      const { template } = build();
      template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
      template.hasResourceProperties('AWS::IAM::OIDCProvider', {
        Url: 'https://token.actions.githubusercontent.com',
        ClientIdList: ['sts.amazonaws.com'],
      });
    });

    test('GIVEN an imported provider WHEN synthesised THEN none is created and the roles trust the imported one', () => {
      const arn = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
      const {
        template,
        delivery,
        stack: s,
      } = build((stack) => ({
        oidcProvider: iam.OidcProviderNative.fromOidcProviderArn(stack, 'Existing', arn),
      }));
      template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
      assert.equal(
        roleResource(template, s, delivery.rolloutRole).AssumeRolePolicyDocument.Statement[0].Principal
          .Federated,
        arn,
      );
    });
  });

  describe('trust', () => {
    const trustOf = (sub: string, providerArn: unknown) => ({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Effect: 'Allow',
          Principal: { Federated: providerArn },
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': sub,
            },
          },
        },
      ],
    });

    test('GIVEN the defaults THEN the push role trusts only the deploy workflow on main, audience STS', () => {
      const { template, stack, delivery } = build();
      const providerArn = stack.resolve((delivery.oidcProvider as iam.OidcProviderNative).oidcProviderArn);
      assert.deepEqual(
        roleResource(template, stack, delivery.pushRole).AssumeRolePolicyDocument,
        trustOf(BRANCH_SUBJECT, providerArn),
      );
    });

    test('GIVEN the defaults THEN the rollout and infrastructure roles trust only the deploy workflow in the protected environment', () => {
      const { template, stack, delivery } = build();
      const providerArn = stack.resolve((delivery.oidcProvider as iam.OidcProviderNative).oidcProviderArn);
      for (const role of [delivery.rolloutRole, delivery.infrastructureRole]) {
        assert.deepEqual(
          roleResource(template, stack, role).AssumeRolePolicyDocument,
          trustOf(ENVIRONMENT_SUBJECT, providerArn),
        );
      }
    });

    test('GIVEN another branch, environment and workflow THEN the subjects follow them', () => {
      const { delivery } = build({
        branch: 'release',
        environment: 'staging',
        workflow: '.github/workflows/ship.yml',
      });
      const ref = 'job_workflow_ref:acme/ecs-anomaly-platform/.github/workflows/ship.yml@refs/heads/release';
      assert.equal(delivery.branchSubject, `repo:acme/ecs-anomaly-platform:ref:refs/heads/release:${ref}`);
      assert.equal(delivery.environmentSubject, `repo:acme/ecs-anomaly-platform:environment:staging:${ref}`);
    });

    test('no GitHub-trusted role can roll out while trusting a branch subject', () => {
      const { template } = build();
      const roles = githubTrustedRoles(template);
      assert.equal(roles.length, 3);
      assert.deepEqual(
        roles.filter((r) => r.canRollOut).map((r) => r.subjects),
        [[ENVIRONMENT_SUBJECT]],
      );
      assert.deepEqual(branchTrustedRolloutRoles(template), []);
    });

    test('the check fails on a planted role that rolls out and trusts the branch (the old deploy role)', () => {
      const planted = build((stack) => {
        const provider = iam.OidcProviderNative.fromOidcProviderArn(
          stack,
          'Provider',
          'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
        );
        const role = new iam.Role(stack, 'OldDeployRole', {
          assumedBy: new iam.OpenIdConnectPrincipal(provider, {
            StringEquals: {
              'token.actions.githubusercontent.com:sub': [BRANCH_SUBJECT, ENVIRONMENT_SUBJECT],
            },
          }),
        });
        role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecs:Update*'], resources: ['*'] }));
        return { oidcProvider: provider };
      });
      const [id] = branchTrustedRolloutRoles(planted.template);
      assert.match(id ?? '', /^OldDeployRole/);
      assert.equal(branchTrustedRolloutRoles(planted.template).length, 1);
    });
  });

  describe('permissions', () => {
    test('GIVEN two repositories, two services and their roles THEN the push role may only push and the rollout role only roll out those', () => {
      const { template, stack, delivery, repositories, services, passRoles, cluster } = build();
      const push = policyStatements(template, stack, delivery.pushRole);
      const rollout = policyStatements(template, stack, delivery.rolloutRole);
      assert.deepEqual(
        [...push, ...rollout],
        [
          { Sid: 'EcrLogin', Action: 'ecr:GetAuthorizationToken', Effect: 'Allow', Resource: '*' },
          {
            Sid: 'EcrPush',
            Action: [
              'ecr:BatchCheckLayerAvailability',
              'ecr:BatchGetImage',
              'ecr:CompleteLayerUpload',
              'ecr:GetDownloadUrlForLayer',
              'ecr:InitiateLayerUpload',
              'ecr:PutImage',
              'ecr:UploadLayerPart',
            ],
            Effect: 'Allow',
            Resource: repositories.map((r) => stack.resolve(r.repositoryArn)),
          },
          {
            Sid: 'TaskDefinitions',
            Action: [
              'ecs:DescribeTaskDefinition',
              'ecs:RegisterTaskDefinition',
              'ecs:DeregisterTaskDefinition',
            ],
            Effect: 'Allow',
            Resource: '*',
          },
          {
            Sid: 'TagNewTaskDefinitions',
            Action: 'ecs:TagResource',
            Effect: 'Allow',
            Resource: '*',
            Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
          },
          {
            Sid: 'RollOutServices',
            Action: ['ecs:DescribeServices', 'ecs:UpdateService', 'ecs:ListServiceDeployments'],
            Effect: 'Allow',
            Resource: services.map((s) => stack.resolve(s.serviceArn)),
            Condition: { ArnEquals: { 'ecs:cluster': stack.resolve(cluster.clusterArn) } },
          },
          {
            Sid: 'FollowServiceDeployments',
            Action: [
              'ecs:DescribeServiceDeployments',
              'ecs:StopServiceDeployment',
              'ecs:ContinueServiceDeployment',
            ],
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  `:ecs:eu-west-1:123456789012:service-deployment/${stack.resolve(cluster.clusterName)}/*`,
                ],
              ],
            },
          },
          {
            Sid: 'PassTaskRoles',
            Action: 'iam:PassRole',
            Effect: 'Allow',
            Resource: passRoles.map((r) => stack.resolve(r.roleArn)),
            Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
          },
        ],
      );
      // The service ARNs are the real ones in cluster 'acme', not a wildcard.
      assert.deepEqual(
        services.map((s) => stack.resolve(s.serviceArn)),
        ['frontend', 'backend'].map((n) => ({
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, `:ecs:eu-west-1:123456789012:service/acme/${n}`],
          ],
        })),
      );
    });

    test('GIVEN a model bucket THEN the push role may put objects under the prefix only', () => {
      const { template, stack, delivery, bucket } = build({}, true);
      const statements = policyStatements(template, stack, delivery.pushRole);
      assert.deepEqual(statements.at(-1), {
        Sid: 'PublishModelArtifact',
        Action: 's3:PutObject',
        Effect: 'Allow',
        Resource: stack.resolve(bucket?.arnForObjects('model/*')),
      });
    });

    test('GIVEN the defaults THEN the infrastructure role may only assume the CDK bootstrap roles', () => {
      const { template, stack, delivery } = build();
      const sub = (kind: string) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/cdk-hnb659fds-${kind}-role-\${AWS::AccountId}-\${AWS::Region}`,
      });
      assert.deepEqual(policyStatements(template, stack, delivery.infrastructureRole), [
        {
          Sid: 'AssumeCdkBootstrapRoles',
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Effect: 'Allow',
          Resource: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(sub),
        },
      ]);
    });

    test('all three roles keep sessions to one hour by default', () => {
      const { template } = build();
      template.resourcePropertiesCountIs('AWS::IAM::Role', { MaxSessionDuration: 3600 }, 3);
    });
  });

  describe('validation', () => {
    const cases: [string, Partial<DeliveryRoleProps>, string][] = [
      [
        'a wildcard owner',
        { repository: { owner: 'acme*', name: 'x' } },
        "DeliveryTest/Delivery: repository.owner ('acme*') must be a GitHub user or organisation name, e.g. 'acme' (a broken wiring invariant, not a declaration error)",
      ],
      [
        'a wildcard branch',
        { branch: '*' },
        "DeliveryTest/Delivery: branch ('*') must be a plain branch name without wildcards or ':', e.g. 'main' (a broken wiring invariant, not a declaration error)",
      ],
      [
        'an environment with a colon',
        { environment: 'prod:x' },
        "DeliveryTest/Delivery: environment ('prod:x') must be a GitHub environment name without wildcards, ':' or '/', e.g. 'production' (a broken wiring invariant, not a declaration error)",
      ],
      [
        'no services',
        { services: [] },
        'DeliveryTest/Delivery: services must list at least one ECS service to roll out (a broken wiring invariant, not a declaration error)',
      ],
      [
        'no roles to pass',
        { passRoleArns: [] },
        "DeliveryTest/Delivery: passRoleArns must name the services' task and execution roles (a broken wiring invariant, not a declaration error)",
      ],
      [
        'a promotion without a source repository for each repository',
        { promotion: { fromEnvironment: 'staging', sourceRepositoryArns: [] } },
        "DeliveryTest/Delivery: promotion.sourceRepositoryArns must name the previous stage's repository of each of the 2 repositories (got 0) (a broken wiring invariant, not a declaration error)",
      ],
      [
        'a prefix with a wildcard',
        { modelArtifactPrefix: 'model/*/' },
        "DeliveryTest/Delivery: modelArtifactPrefix ('model/*/') must be a key prefix ending in '/' without wildcards, e.g. 'model/' (a broken wiring invariant, not a declaration error)",
      ],
    ];
    for (const [name, overrides, message] of cases) {
      test(`GIVEN ${name} THEN synth fails naming the path, prop, value and fix`, () => {
        assert.throws(() => build(overrides), { message });
      });
    }
  });
});
