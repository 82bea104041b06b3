import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import type { Json } from '../../../test/support/template-json.ts';
import { RELEASE_NOT_RECORDED, wirePlatform } from '../../wiring/index.ts';
import { manifestFixture, synthPlatform } from './builder.ts';
import { branchTrustedRolloutRoles } from './trust.ts';

/**
 * The bootstrap stage a person deploys once: after it, the deploy workflow's first run has every role
 * it assumes and every repository it pushes to, and the platform stack's first deploy has images.
 */

const resources = (template: Template) =>
  template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
const ofType = (template: Template, type: string) =>
  Object.entries(resources(template)).filter(([, r]) => r.Type === type);
const REF = 'job_workflow_ref:acme/ecs-anomaly-platform/.github/workflows/deploy.yml@refs/heads/main';

/** The statements of the policies attached to role `roleId`, by Sid. */
function statementsOf(template: Template, roleId: string): Record<string, Json> {
  return Object.fromEntries(
    ofType(template, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[])
      .map((s) => [s.Sid, s]),
  );
}

/** `Fn::Sub` / `Fn::Join` / literal → text, tokens as `${…}`. */
function text(value: Json): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Sub']) return value['Fn::Sub'];
  if (value.Ref) return `\${${value.Ref}}`;
  if (value['Fn::Join']) return (value['Fn::Join'][1] as Json[]).map(text).join(value['Fn::Join'][0]);
  throw new Error(`cannot read ${JSON.stringify(value)}`);
}

describe('Bootstrap stack (the declaration: delivery from acme/ecs-anomaly-platform)', () => {
  const platform = synthPlatform();
  const template = platform.bootstrapTemplate;
  const stack = platform.bootstrapStack;
  after(() => platform.dispose());
  const roleId = (role: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(role.node.defaultChild as never);
  const delivery = () => {
    assert.ok(stack.delivery, 'the declaration declares delivery');
    return stack.delivery;
  };

  it('holds one release parameter per image, "none" until the first release records one', () => {
    const wiring = wirePlatform(manifestFixture());
    assert.deepEqual(
      ofType(template, 'AWS::SSM::Parameter')
        .map(([, r]) => [r.Properties.Name, r.Properties.Value])
        .sort(),
      wiring.images.map((i) => [i.releaseParameter, RELEASE_NOT_RECORDED]).sort(),
    );
  });

  it("imports the account's GitHub OIDC provider by its well-known ARN (IAM allows one per issuer): nothing to collide with", () => {
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    const federated = ofType(template, 'AWS::IAM::Role')
      .flatMap(([, r]) => r.Properties.AssumeRolePolicyDocument.Statement as Json[])
      .filter((s) => s.Action === 'sts:AssumeRoleWithWebIdentity')
      .map((s) => text(s.Principal.Federated));
    assert.deepEqual(
      [...new Set(federated)],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub text as CloudFormation writes it
      ['arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com'],
    );
  });

  it('trusts the push role from the deploy workflow on main, the rollout and infrastructure roles only in production', () => {
    const subjectOf = (role: { node: { defaultChild?: unknown } }) =>
      resources(template)[roleId(role)]!.Properties.AssumeRolePolicyDocument.Statement[0].Condition
        .StringEquals['token.actions.githubusercontent.com:sub'];
    assert.equal(subjectOf(delivery().pushRole), `repo:acme/ecs-anomaly-platform:ref:refs/heads/main:${REF}`);
    for (const role of [delivery().rolloutRole, delivery().infrastructureRole]) {
      assert.equal(subjectOf(role), `repo:acme/ecs-anomaly-platform:environment:production:${REF}`);
    }
    assert.deepEqual(branchTrustedRolloutRoles(template), []);
  });

  it("lets the rollout role update the platform's services by name, pass only the platform's task roles, and record releases", () => {
    const rollout = statementsOf(template, roleId(delivery().rolloutRole));
    assert.deepEqual(
      (rollout.RollOutServices.Resource as Json[]).map(text),
      ['backend', 'frontend'].map(
        (s) => `arn:\${AWS::Partition}:ecs:us-east-1:\${AWS::AccountId}:service/acme/${s}`,
      ),
    );
    assert.deepEqual(
      text(rollout.RollOutServices.Condition.ArnEquals['ecs:cluster']),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub text as CloudFormation writes it
      'arn:${AWS::Partition}:ecs:us-east-1:${AWS::AccountId}:cluster/acme',
    );
    assert.deepEqual([rollout.PassTaskRoles.Resource].flat().map(text), [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub text as CloudFormation writes it
      'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/acme/tasks/*',
    ]);
    assert.deepEqual(rollout.PassTaskRoles.Condition, {
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
    assert.deepEqual(rollout.RecordReleases.Action, ['ssm:GetParameter', 'ssm:PutParameter']);
    assert.equal((rollout.RecordReleases.Resource as Json[]).length, 4);
    const infrastructure = statementsOf(template, roleId(delivery().infrastructureRole));
    assert.deepEqual(Object.keys(infrastructure).sort(), ['AssumeCdkBootstrapRoles', 'SeedReleases']);
  });

  it("gives the platform stack's task and execution roles exactly the path the rollout role may pass", () => {
    const roles = ofType(platform.template, 'AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('ecs-tasks.amazonaws.com'),
    );
    assert.equal(roles.length, 4, 'two services × task and execution role');
    assert.deepEqual([...new Set(roles.map(([, r]) => r.Properties.Path))], ['/acme/tasks/']);
  });

  it('is everything the first CI run assumes: every role variable of deploy.yml is one of its outputs', () => {
    const workflow = readFileSync(new URL('../../../.github/workflows/deploy.yml', import.meta.url), 'utf8');
    const used = [
      ...new Set([...workflow.matchAll(/vars\.(AWS_[A-Z_]+_ROLE_ARN)/g)].map((m) => m[1])),
    ].sort();
    const outputs = template.toJSON().Outputs as Record<string, { Description: string }>;
    const offered = Object.values(outputs)
      .flatMap((o) => [...o.Description.matchAll(/vars\.(AWS_[A-Z_]+_ROLE_ARN)/g)].map((m) => m[1]))
      .sort();
    assert.deepEqual(used, ['AWS_INFRA_ROLE_ARN', 'AWS_PUSH_ROLE_ARN', 'AWS_ROLLOUT_ROLE_ARN']);
    assert.deepEqual(offered, used);
    // … and the workflow never deploys the platform stack before the bootstrap stack exists: its first
    // AWS job is the bootstrap one (which the infrastructure role can update once a person created it).
    const jobs = parse(workflow).jobs as Record<string, { needs?: string | string[] }>;
    // (with environments, the first stage's bootstrap job: `bootstrap-staging` here)
    const firstBootstrap = Object.keys(jobs).find((id) => id.startsWith('bootstrap-'));
    assert.deepEqual([jobs.images?.needs].flat().includes(firstBootstrap), true);
  });
});

describe('Bootstrap stack of an account without the GitHub OIDC provider (declared createOidcProvider)', () => {
  const platform = synthPlatform({
    manifest: manifestFixture((m) => {
      m.platform.delivery = { ...m.platform.delivery!, createOidcProvider: true };
    }),
  });
  after(() => platform.dispose());

  it('creates the provider for token.actions.githubusercontent.com, audience sts.amazonaws.com', () => {
    platform.bootstrapTemplate.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    platform.bootstrapTemplate.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
  });
});
