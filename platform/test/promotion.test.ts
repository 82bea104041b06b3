import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { App as CdkApp } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import { declarePlatform as declareRepository } from '../../config/declaration.ts';
import type { App } from '../../config/index.ts';
import type { Json } from '../../test/support/template-json.ts';
import { BootstrapStack } from '../aws/stacks/bootstrap-stack.ts';
import { imageReference } from '../deploy/images.ts';
import { renderWorkflow } from '../deploy/workflow.ts';
import { wirePlatform } from '../wiring/index.ts';
import { declarePlatform as declareShop } from './fixtures/shop-environments.declaration.ts';

/**
 * Issue 21: a release promoted from staging to production. Every job of the generated workflow that
 * assumes a role must be admitted by that role's trust (GitHub's OIDC subject of the job: the
 * environment's when the job names one, else the branch's), and the later stage's push role must be
 * able to read the previous stage's repositories. The workflow and the stacks are rendered from the
 * same declaration; nothing here is deployed.
 */

const REGION = 'eu-west-1';
const ISSUER = 'token.actions.githubusercontent.com';

/** The bootstrap stack of `environment` (undefined: the declaration rendered without any environment). */
function bootstrapOf(declare: () => App, environment?: string): Json {
  const manifest = declare().synth(environment === undefined ? {} : { environment });
  const stack = new BootstrapStack(new CdkApp({ context: { '@aws-cdk/core:appMode': 'inmemory' } }), 'B', {
    wiring: wirePlatform(manifest),
    env: { region: REGION },
  });
  return Template.fromStack(stack).toJSON();
}

/** `Fn::Sub` / `Fn::Join` / `Ref` / literal → text, tokens as `${…}`. */
function text(value: Json): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Sub']) return value['Fn::Sub'];
  if (value.Ref) return `\${${value.Ref}}`;
  if (value['Fn::GetAtt']) return `\${${value['Fn::GetAtt'].join('.')}}`;
  if (value['Fn::Join']) return (value['Fn::Join'][1] as Json[]).map(text).join(value['Fn::Join'][0]);
  throw new Error(`cannot read ${JSON.stringify(value)}`);
}

/** The role a bootstrap output names (`PushRoleArn` → its AWS::IAM::Role), with its policy statements. */
function roleOf(template: Json, output: string): { id: string; trust: Json; statements: Json[] } {
  const value = template.Outputs[output]?.Value;
  assert.ok(value?.['Fn::GetAtt'], `output ${output} names a role of the stack`);
  const id = value['Fn::GetAtt'][0] as string;
  const role = template.Resources[id];
  assert.equal(role?.Type, 'AWS::IAM::Role');
  const statements = Object.values(template.Resources as Record<string, Json>)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as Json[]).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: id })),
    )
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Json[]);
  return { id, trust: role.Properties.AssumeRolePolicyDocument, statements };
}

/** The subjects a trust policy admits for GitHub's tokens with audience STS (exact values, or `StringLike` patterns). */
function admits(trust: Json, subject: string): boolean {
  return (trust.Statement as Json[]).some((st) => {
    if (st.Effect !== 'Allow' || st.Action !== 'sts:AssumeRoleWithWebIdentity') return false;
    const equals = st.Condition?.StringEquals ?? {};
    const like = st.Condition?.StringLike ?? {};
    if (equals[`${ISSUER}:aud`] !== 'sts.amazonaws.com') return false;
    const exact = [equals[`${ISSUER}:sub`] ?? []].flat() as string[];
    const patterns = [like[`${ISSUER}:sub`] ?? []].flat() as string[];
    const glob = (p: string) =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      );
    return exact.includes(subject) || patterns.some((p) => glob(p).test(subject));
  });
}

/** Every subject a trust policy names (exact or pattern). */
function trustedSubjects(trust: Json): string[] {
  return (trust.Statement as Json[]).flatMap((st) =>
    [
      st.Condition?.StringEquals?.[`${ISSUER}:sub`] ?? [],
      st.Condition?.StringLike?.[`${ISSUER}:sub`] ?? [],
    ].flat(),
  );
}

/** The workflow's role variables and the bootstrap outputs that give them. */
const ROLE_OUTPUTS: Readonly<Record<string, string>> = {
  AWS_PUSH_ROLE_ARN: 'PushRoleArn',
  AWS_INFRA_ROLE_ARN: 'InfrastructureRoleArn',
  AWS_ROLLOUT_ROLE_ARN: 'RolloutRoleArn',
};

/** The workflow `berth workflow` writes for `declare` (its stages in promotion order). */
function workflowOf(declare: () => App): Json {
  const manifest = declare().synth({ environment: declare().environments[0]!.name });
  const wiring = wirePlatform(manifest);
  return parse(
    renderWorkflow({
      delivery: wiring.delivery!,
      builds: wiring.images.map((i) => ({ name: i.name, dockerfile: i.dockerfile, context: i.context })),
      modelArtifactDir: null,
      installsPackage: false,
      tests: ['npm test'],
      cli: 'npx berth',
    }),
  );
}

/**
 * Walks every job that assumes a role: which role its variable names (a job in a GitHub environment
 * reads that environment's variables, the bootstrap outputs of its stage; a job in none reads the
 * repository's, the first stage's), and the OIDC subject GitHub gives the job. Returns, per role, the
 * jobs and subjects that assume it.
 */
function walk(
  workflow: Json,
  repository: string,
  stacks: Readonly<Record<string, Json>>,
  first: string,
): Map<string, { role: ReturnType<typeof roleOf>; jobs: { job: string; subject: string }[] }> {
  const workflowRef = `job_workflow_ref:${repository}/.github/workflows/deploy.yml@refs/heads/main`;
  const roles = new Map<
    string,
    { role: ReturnType<typeof roleOf>; jobs: { job: string; subject: string }[] }
  >();
  for (const [job, body] of Object.entries(workflow.jobs as Record<string, Json>)) {
    const logins = ((body.steps ?? []) as Json[]).filter((s) =>
      String(s.uses ?? '').startsWith('aws-actions/configure-aws-credentials@'),
    );
    if (logins.length === 0) continue;
    assert.equal(body.permissions?.['id-token'], 'write', `${job} may mint an OIDC token`);
    for (const login of logins) {
      const variable = /^\$\{\{ vars\.([A-Z_]+) \}\}$/.exec(login.with['role-to-assume'])?.[1];
      assert.ok(
        variable && variable in ROLE_OUTPUTS,
        `${job} assumes a role variable of the bootstrap stack`,
      );
      assert.equal(login.with.audience ?? 'sts.amazonaws.com', 'sts.amazonaws.com');
      const environment: string | undefined =
        typeof body.environment === 'string' ? body.environment : body.environment?.name;
      const stage = environment ?? first;
      const template = stacks[stage];
      assert.ok(template, `${job}: stage ${stage} has a bootstrap stack`);
      const output = ROLE_OUTPUTS[variable]!;
      const subject = environment
        ? `repo:${repository}:environment:${environment}:${workflowRef}`
        : `repo:${repository}:ref:refs/heads/main:${workflowRef}`;
      const key = `${stage} ${output}`;
      const entry = roles.get(key) ?? { role: roleOf(template, output), jobs: [] };
      entry.jobs.push({ job, subject });
      roles.set(key, entry);
    }
  }
  return roles;
}

const declarations: [string, () => App, string, string][] = [
  ["a team's declaration (shop: staging, then production)", declareShop, 'shop', 'shop/shop'],
  [
    'this repository (acme: staging, then production)',
    declareRepository,
    'acme',
    'acme/ecs-anomaly-platform',
  ],
];

for (const [title, declare, name, repository] of declarations) {
  describe(`promotion, ${title}`, () => {
    const stacks = {
      staging: bootstrapOf(declare, 'staging'),
      production: bootstrapOf(declare, 'production'),
    };
    const workflowRef = `job_workflow_ref:${repository}/.github/workflows/deploy.yml@refs/heads/main`;
    const images = wirePlatform(declare().synth({ environment: 'staging' })).images.map((i) => i.name);

    it('admits every job that assumes a role, and each role trusts exactly the subjects of its jobs', () => {
      const roles = walk(workflowOf(declare), repository, stacks, 'staging');
      // The walk reads real jobs: both stages, all three roles, the promotion included.
      assert.deepEqual([...roles.entries()].map(([key, r]) => [key, r.jobs.map((j) => j.job)]).sort(), [
        ['production InfrastructureRoleArn', ['bootstrap-production', 'infrastructure-production']],
        ['production PushRoleArn', ['promote-production']],
        ['production RolloutRoleArn', ['rollout-production']],
        ['staging InfrastructureRoleArn', ['bootstrap-staging', 'infrastructure-staging']],
        ['staging PushRoleArn', ['images']],
        ['staging RolloutRoleArn', ['rollout-staging']],
      ]);
      for (const [key, { role, jobs }] of roles) {
        for (const { job, subject } of jobs) {
          assert.ok(
            admits(role.trust, subject),
            `${key} admits ${job} (${subject}); it trusts ${trustedSubjects(role.trust).join(', ')}`,
          );
        }
        assert.deepEqual(
          trustedSubjects(role.trust).sort(),
          [...new Set(jobs.map((j) => j.subject))].sort(),
          `${key} trusts exactly the subjects of ${jobs.map((j) => j.job).join(', ')}`,
        );
      }
    });

    if (name === 'acme') {
      it("holds for this repository's own deploy.yml (the committed output of berth workflow)", () => {
        const committed = parse(
          readFileSync(new URL('../../.github/workflows/deploy.yml', import.meta.url), 'utf8'),
        );
        for (const [key, { role, jobs }] of walk(committed, repository, stacks, 'staging')) {
          for (const { job, subject } of jobs) assert.ok(admits(role.trust, subject), `${key} admits ${job}`);
        }
      });
    }

    it("lets production's push role, from the production environment only, read staging's repositories and push to its own", () => {
      const push = roleOf(stacks.production, 'PushRoleArn');
      assert.deepEqual(push.trust.Statement.length, 1);
      assert.deepEqual(push.trust.Statement[0].Condition, {
        StringEquals: {
          [`${ISSUER}:aud`]: 'sts.amazonaws.com',
          [`${ISSUER}:sub`]: `repo:${repository}:environment:production:${workflowRef}`,
        },
      });
      assert.equal(push.trust.Statement[0].Action, 'sts:AssumeRoleWithWebIdentity');
      const bySid = Object.fromEntries(push.statements.map((s) => [s.Sid, s]));
      assert.deepEqual(Object.keys(bySid).sort(), [
        'EcrDescribePromoted',
        'EcrLogin',
        'EcrPullPreviousStage',
        'EcrPush',
      ]);
      // GetAuthorizationToken has no resource-level permission.
      assert.deepEqual(bySid.EcrLogin, {
        Sid: 'EcrLogin',
        Action: 'ecr:GetAuthorizationToken',
        Effect: 'Allow',
        Resource: '*',
      });
      // Staging's repositories by their deterministic ARNs: same account and region as production's stack.
      assert.deepEqual(bySid.EcrPullPreviousStage.Action, [
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:DescribeImages',
        'ecr:GetDownloadUrlForLayer',
      ]);
      assert.equal(bySid.EcrPullPreviousStage.Effect, 'Allow');
      assert.equal(bySid.EcrPullPreviousStage.Condition, undefined);
      assert.deepEqual(
        [bySid.EcrPullPreviousStage.Resource].flat().map(text),
        images.map(
          (i) => `arn:\${AWS::Partition}:ecr:${REGION}:\${AWS::AccountId}:repository/${name}-staging/${i}`,
        ),
      );
      // Its own repositories (production's): push, and find a digest a re-run already copied.
      const own = Object.entries(stacks.production.Resources as Record<string, Json>)
        .filter(([, r]) => r.Type === 'AWS::ECR::Repository')
        .map(([id, r]) => [id, r.Properties.RepositoryName]);
      assert.deepEqual(
        own.map(([, n]) => n),
        images.map((i) => `${name}-production/${i}`),
      );
      const ownArns = own.map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] }));
      assert.deepEqual(bySid.EcrPush.Resource, ownArns);
      assert.deepEqual(bySid.EcrDescribePromoted, {
        Sid: 'EcrDescribePromoted',
        Action: 'ecr:DescribeImages',
        Effect: 'Allow',
        Resource: ownArns,
      });
    });

    it("keeps staging's push role as the declaration without environments has it (the images job on main)", () => {
      const staging = roleOf(stacks.staging, 'PushRoleArn');
      const alone = roleOf(bootstrapOf(declare), 'PushRoleArn');
      const named = (value: Json) => JSON.parse(JSON.stringify(value).replaceAll(`${name}-staging`, name));
      assert.deepEqual(named(staging.trust), alone.trust);
      assert.deepEqual(named(staging.statements), alone.statements);
      assert.deepEqual(
        staging.statements.map((s) => s.Sid),
        ['EcrLogin', 'EcrPush'],
      );
      assert.equal(
        staging.trust.Statement[0].Condition.StringEquals[`${ISSUER}:sub`],
        `repo:${repository}:ref:refs/heads/main:${workflowRef}`,
      );
    });
  });
}

describe('promotion through three stages', () => {
  it("copies each later stage's images from the stage just before it (whose repositories its push role may read)", () => {
    const manifest = declareShop().synth({ environment: 'staging' });
    const wiring = wirePlatform({
      ...manifest,
      environments: ['staging', 'preprod', 'production'].map((name) => ({
        name,
        protected: name === 'production',
      })),
    });
    assert.deepEqual(
      wiring.delivery!.stages.map((s) => [s.environment, s.platform, s.promotedFrom?.environment ?? null]),
      [
        ['staging', 'shop-staging', null],
        ['preprod', 'shop-preprod', 'staging'],
        ['production', 'shop-production', 'preprod'],
      ],
    );
    const workflow = parse(
      renderWorkflow({
        delivery: wiring.delivery!,
        builds: wiring.images.map((i) => ({ name: i.name, dockerfile: i.dockerfile, context: i.context })),
        modelArtifactDir: null,
        installsPackage: false,
        tests: ['npm test'],
        cli: 'npx berth',
      }),
    );
    const copy = (job: string) => workflow.jobs[job].steps.find((s: Json) => s.id === 'refs').env;
    assert.deepEqual(workflow.jobs['promote-preprod'].needs, ['images', 'bootstrap-preprod']);
    assert.equal(copy('promote-preprod').IMAGE_ORDERS, `\${{ needs.images.outputs.orders }}`);
    assert.deepEqual(workflow.jobs['promote-production'].needs, ['promote-preprod', 'bootstrap-production']);
    assert.equal(copy('promote-production').IMAGE_ORDERS, `\${{ needs.promote-preprod.outputs.orders }}`);
  });
});

describe('one name per repository', () => {
  it("the bootstrap stack's repositories, the images pushed to them and the workflow's prefix of each stage are the same names", () => {
    for (const environment of ['staging', 'production']) {
      const wiring = wirePlatform(declareShop().synth({ environment }));
      const template = bootstrapOf(declareShop, environment);
      const repositories = Object.values(template.Resources as Record<string, Json>)
        .filter((r) => r.Type === 'AWS::ECR::Repository')
        .map((r) => r.Properties.RepositoryName as string)
        .sort();
      const pushed = wiring.images.map((i) =>
        imageReference(wiring, i.name, undefined, 't').replace(/:t$/, ''),
      );
      assert.deepEqual(repositories, [...pushed].sort());
      const stage = wiring.delivery!.stages.find((s) => s.environment === environment)!;
      const prefix = template.Outputs.RepositoryPrefix.Value as string;
      assert.equal(prefix, `shop-${environment}/`);
      assert.ok(
        renderWorkflow({
          delivery: wiring.delivery!,
          builds: [],
          modelArtifactDir: null,
          installsPackage: false,
          tests: ['npm test'],
          cli: 'npx berth',
        }).includes(`"${prefix}"`),
        `the workflow names ${prefix} for ${stage.environment}`,
      );
      for (const repository of repositories) assert.ok(repository.startsWith(prefix), repository);
    }
  });
});
