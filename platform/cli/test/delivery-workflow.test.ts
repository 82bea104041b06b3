import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type * as ActionValidator from '@action-validator/core';
import { parse } from 'yaml';
import { parseDeployArgs } from '../../deploy/args.ts';
import { imageVariable } from '../../deploy/workflow.ts';
import type { DeliveryWiring } from '../../wiring/index.ts';
import { WORKFLOW_FILE, workflowFor } from '../commands/workflow.ts';
import { type DeclaredPlatform, declarePlatformFrom } from '../declaration.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { assertOneLineFix, DECLARATION, teamDelivery } from './team-delivery.ts';
import { cliIn, PACKAGE_NAME, type TeamRepository } from './team-repository.ts';

/**
 * `workflow`: for a team's declaration it validates and builds, pushes and rolls out exactly its images;
 * stages promote one release in order; this repository's committed workflow is byte for byte what
 * `workflow` writes for its own declaration.
 */
const { validateWorkflow } = createRequire(import.meta.url)(
  '@action-validator/core',
) as typeof ActionValidator;

let repo: TeamRepository;
let file: string;
let declared: DeclaredPlatform;

before(async () => {
  ({ repo, file, declared } = await teamDelivery());
});
after(() => repo.remove());

describe('workflow: tests, builds, pushes and rolls out exactly the declaration’s images', () => {
  test('the team’s workflow validates, builds its four images and the package’s two, and rolls out all six', async () => {
    const { code, err } = await cliIn(['workflow', '--declaration', file]);
    assert.equal(code, EXIT_CODES.ok, err);
    const text = readFileSync(join(repo.root, WORKFLOW_FILE), 'utf8');
    assert.deepEqual(validateWorkflow(text).errors, []);
    const workflow = parse(text);
    const steps = workflow.jobs.images.steps as {
      id?: string;
      uses?: string;
      with?: Record<string, string>;
    }[];
    const builds = steps.filter((s) => s.uses?.startsWith('docker/build-push-action@'));
    const pkg = `node_modules/${PACKAGE_NAME}`;
    assert.deepEqual(builds.map((b) => [b.id, b.with!.file, b.with!.context]).sort(), [
      ['log-router', `${pkg}/services/anomaly-sidecar/fluent-bit/Dockerfile`, pkg],
      ['mailer', 'mailer/Dockerfile', 'mailer'],
      ['nightly', 'nightly/Dockerfile', 'nightly'],
      ['orders', 'orders/Dockerfile', 'orders'],
      ['pyapi', 'pyapi/Dockerfile', 'pyapi'],
      ['sidecar', `${pkg}/Dockerfile.sidecar`, pkg],
    ]);
    // The package is installed before its own images build from it.
    assert.ok(
      steps.some((s) => (s as { run?: string }).run === 'npm ci --no-audit --no-fund --ignore-scripts'),
    );
    // The team's package.json has no test script: the test job runs the declaration's own checks.
    assert.deepEqual(
      (workflow.jobs.test.steps as { run?: string }[]).flatMap((st) => (st.run ? [st.run] : [])),
      ['npm ci --no-audit --no-fund', 'npx berth synth', 'npx berth preflight'],
    );
    // No model of its own: nothing to publish.
    assert.equal(workflow.jobs['publish-model'], undefined);

    const rollout = (workflow.jobs['rollout-production'].steps as { run?: string }[]).at(-1)!.run!;
    const words = rollout
      .split(/\s+/)
      .map((w) => w.replace(/^"|"$/g, '').replace(/\$IMAGE_[A-Z_]+/, 'r.example/x:1'));
    assert.deepEqual(words.slice(0, 3), ['npx', 'berth', 'deploy']);
    // A declaration without environments: its one stage names none.
    assert.ok(!words.includes('--env'), rollout);
    const request = parseDeployArgs(['deploy', ...words.slice(3)]);
    assert.ok(request.kind === 'command' && request.command.name === 'deploy');
    assert.deepEqual([...request.command.images.keys()].sort(), [
      'log-router',
      'mailer',
      'nightly',
      'orders',
      'pyapi',
      'sidecar',
    ]);
    assert.equal(workflow.jobs['rollout-production'].environment, 'production');
  });

  test('a declaration without delivery (no roles for the jobs to assume) is refused: one line with the fix, exit 2, nothing written', async () => {
    const bare = repo.write(
      'config/bare.ts',
      DECLARATION.replace("  delivery: { githubRepository: 'team/shop' },\n", ''),
    );
    const output = join(repo.root, 'bare.yml');
    const { code, err } = await cliIn(['workflow', '--declaration', bare, '--output', output]);
    assert.equal(code, EXIT_CODES.usage);
    assertOneLineFix(err);
    assert.match(
      err,
      /^workflow: acme: delivery is not declared.*Fix: declare delivery: \{ githubRepository: 'OWNER\/NAME' \}/,
    );
    assert.equal(existsSync(output), false);
  });
});

/** A digest per image for the promote script's stand-ins. */
const digestOf = (name: string) => `sha256:${name.length.toString(16).repeat(64).slice(0, 64)}`;

/**
 * The promote job's copy script, run as GitHub runs `run:` (bash -e -o pipefail), with stand-ins for
 * skopeo and for the AWS CLI v2: `describe-images` answers per repository as ECR does — found (exit 0),
 * or a service error (exit 254, `An error occurred (CODE) when calling the DescribeImages operation: …`
 * on stderr), `ImageNotFoundException` for every repository not named.
 */
function runPromote(
  script: string,
  images: readonly string[],
  answers: Readonly<Record<string, 'found' | 'AccessDeniedException'>>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'promote-'));
  try {
    const log = join(dir, 'calls');
    const failure = (code: string, message: string) =>
      `echo "An error occurred (${code}) when calling the DescribeImages operation: ${message}" >&2; exit 254`;
    const cases = Object.entries(answers).map(
      ([repository, answer]) =>
        `  *"describe-images --repository-name ${repository} "*) ${answer === 'found' ? 'exit 0' : failure(answer, 'User: arn:aws:sts::123456789012:assumed-role/push/promote is not authorized to perform: ecr:DescribeImages')} ;;`,
    );
    writeFileSync(
      join(dir, 'aws'),
      [
        '#!/bin/sh',
        `echo "aws $*" >> "${log}"`,
        'case "$*" in',
        ...cases,
        `  *describe-images*) ${failure('ImageNotFoundException', "The image with imageId {imageDigest:'sha256:…'} does not exist within the repository")} ;;`,
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    writeFileSync(join(dir, 'skopeo'), `#!/bin/sh\necho "skopeo $*" >> "${log}"\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'out'), '');
    const ran = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      encoding: 'utf8',
      env: {
        ...Object.fromEntries(
          images.map((n) => [imageVariable(n), `r.example/acme-staging/${n}@${digestOf(n)}`]),
        ),
        PATH: `${dir}:${process.env.PATH}`,
        REGISTRY: 'r.example',
        PREFIX: 'acme-production/',
        GITHUB_SHA: 'abc123',
        GITHUB_OUTPUT: join(dir, 'out'),
      },
    });
    const lines = (file: string) =>
      existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    return {
      status: ran.status,
      stderr: ran.stderr,
      outputs: lines(join(dir, 'out')),
      copies: lines(log).filter((l) => l.startsWith('skopeo copy')),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('workflow: one release promoted through ordered stages', () => {
  test('a team declaring staging, then production behind its protected environment: each stage waits for the previous rollout (the anomaly gate’s verdict), the images are built once', async () => {
    // The team declares staging, then production (protected): the CLI renders every declared
    // environment as a stage, whichever one the entry derived the wiring for.
    const environments = repo.write(
      'config/environments.ts',
      DECLARATION.replace(
        "  delivery: { githubRepository: 'team/shop' },\n",
        "  delivery: { githubRepository: 'team/shop' },\n  environments: { staging: {}, production: { protected: true } },\n",
      ),
    );
    const rendered = await cliIn(['workflow', '--declaration', environments, '--stdout']);
    assert.equal(rendered.code, EXIT_CODES.ok, rendered.err);
    const text = `${rendered.out}\n`;
    assert.deepEqual(validateWorkflow(text).errors, []);
    const workflow = parse(text);
    const needs = Object.fromEntries(
      Object.entries(workflow.jobs as Record<string, { needs?: string | string[] }>).map(([id, job]) => [
        id,
        job.needs ?? [],
      ]),
    );
    assert.deepEqual(needs, {
      test: [],
      'bootstrap-staging': 'test',
      images: ['test', 'bootstrap-staging'],
      'infrastructure-staging': ['images', 'bootstrap-staging'],
      'rollout-staging': ['images', 'infrastructure-staging'],
      // Production starts only once staging's rollout succeeded: a gate rollback fails that job.
      'bootstrap-production': 'rollout-staging',
      // Production's repositories get the same digests, copied once its bootstrap stack is current.
      'promote-production': ['images', 'bootstrap-production'],
      'infrastructure-production': ['promote-production', 'bootstrap-production'],
      'rollout-production': ['promote-production', 'infrastructure-production'],
    });
    const promote = (workflow.jobs['promote-production'].steps as { run?: string }[]).at(-1)!.run!;
    for (const name of declared.wiring.images.map((i) => i.name)) {
      assert.match(promote, new RegExp(`^ {0}promote ${name} "\\$${imageVariable(name)}"$`, 'm'));
    }
    assert.equal(workflow.jobs['promote-production'].environment, 'production');

    // An image production already holds is not copied again (a re-run); the others keep their digest.
    const names = declared.wiring.images.map((i) => i.name);
    const copied = runPromote(promote, names, { 'acme-production/orders': 'found' });
    assert.equal(copied.status, 0, copied.stderr);
    assert.deepEqual(
      copied.outputs.sort(),
      names.map((n) => `${n}=r.example/acme-production/${n}@${digestOf(n)}`).sort(),
    );
    assert.equal(copied.copies.length, names.length - 1, 'orders is already there');
    assert.ok(
      copied.copies.includes(
        `skopeo copy --all --preserve-digests docker://r.example/acme-staging/pyapi@${digestOf('pyapi')} docker://r.example/acme-production/pyapi:abc123`,
      ),
      copied.copies.join('\n'),
    );
    // Only "image not found" means "copy it": any other error of the lookup fails the job, and the
    // image is neither copied nor given to the rollout.
    const denied = runPromote(promote, names, { 'acme-production/mailer': 'AccessDeniedException' });
    assert.notEqual(denied.status, 0);
    assert.match(
      denied.stderr,
      /An error occurred \(AccessDeniedException\) when calling the DescribeImages operation/,
    );
    assert.ok(!denied.copies.some((c) => c.includes('/mailer')), denied.copies.join('\n'));
    assert.ok(!denied.outputs.some((o) => o.startsWith('mailer=')), denied.outputs.join('\n'));
    const rolloutEnv = (workflow.jobs['rollout-production'].steps as { env?: Record<string, string> }[]).at(
      -1,
    )!.env!;
    assert.equal(rolloutEnv.IMAGE_ORDERS, `\${{ needs.promote-production.outputs.orders }}`);
    for (const env of ['staging', 'production']) {
      for (const job of ['bootstrap', 'infrastructure', 'rollout']) {
        assert.equal(workflow.jobs[`${job}-${env}`].environment, env, `${job}-${env}`);
      }
      const rollout = (workflow.jobs[`rollout-${env}`].steps as { run?: string }[]).at(-1)!.run!;
      assert.match(rollout, new RegExp(`^npx berth deploy --env ${env} `));
      // Each stage's cdk deploy renders only its own environment's stacks.
      for (const job of ['bootstrap', 'infrastructure']) {
        const cdk = (workflow.jobs[`${job}-${env}`].steps as { run?: string }[]).at(-1)!.run!;
        assert.match(cdk, new RegExp(`--app "npx berth synth --env ${env}"$`));
      }
    }
    // One build: the images job is the only one that pushes.
    assert.equal(text.match(/docker\/build-push-action@/g)?.length, declared.wiring.images.length);
    assert.equal(text.match(/# Protected: its required reviewers approve/g)?.length, 3);
  });
});

describe('the workflow renders the wiring’s stages and decides none', () => {
  test('a declaration without environments: one protected stage, its delivery environment, under the platform’s own name', () => {
    assert.deepEqual(declared.wiring.delivery?.stages, [
      { environment: 'production', protected: true, declared: false, platform: 'acme', promotedFrom: null },
    ]);
  });

  test('every stage, its physical name and the stage it is promoted from come from the wiring: planted ones are followed', () => {
    const delivery = declared.wiring.delivery!;
    const staging = { environment: 'staging', platform: 'acme-eu-staging' };
    const planted: DeliveryWiring = {
      ...delivery,
      stages: [
        { ...staging, protected: false, declared: true, promotedFrom: null },
        {
          environment: 'canary',
          platform: 'acme-eu-canary',
          protected: false,
          declared: true,
          promotedFrom: staging,
        },
        // Promoted from staging, not from the canary listed before it.
        {
          environment: 'production',
          platform: 'acme-eu-production',
          protected: true,
          declared: true,
          promotedFrom: staging,
        },
      ],
    };
    const text = workflowFor({ ...declared, wiring: { ...declared.wiring, delivery: planted } });
    assert.deepEqual(validateWorkflow(text).errors, []);
    const workflow = parse(text);
    assert.equal(workflow.jobs['bootstrap-canary'].needs, 'rollout-staging');
    assert.equal(workflow.jobs['bootstrap-production'].needs, 'rollout-staging');
    assert.deepEqual(workflow.jobs['promote-production'].needs, ['images', 'bootstrap-production']);
    const copied = workflow.jobs['promote-production'].steps.find(
      (s: { id?: string }) => s.id === 'refs',
    ).env;
    assert.equal(copied.IMAGE_ORDERS, `\${{ needs.images.outputs.orders }}`);
    // The bootstrap stacks' RepositoryPrefix outputs, as the wiring names each stage.
    assert.ok(
      text.includes('"acme-eu-staging/", "acme-eu-canary/", "acme-eu-production/"'),
      text.slice(0, 3000),
    );
    const rollout = (workflow.jobs['rollout-canary'].steps as { run?: string }[]).at(-1)!.run!;
    assert.match(rollout, /^npx berth deploy --env canary /);
  });
});

// Last: loading this repository's own declaration registers the package's folder as a team's, after
// which a team's declaration in the same process would load a second copy of the library.
describe("this repository's committed workflow", () => {
  test("this repository's committed .github/workflows/deploy.yml is byte for byte what `workflow` writes for its declaration", async () => {
    const own = await declarePlatformFrom(join(PACKAGE_ROOT, 'config/declaration.ts'));
    assert.ok('declared' in own);
    const committed = readFileSync(join(PACKAGE_ROOT, WORKFLOW_FILE), 'utf8');
    assert.equal(
      committed,
      workflowFor(own.declared),
      'run `npm run workflow` after changing the declaration or the renderer',
    );
  });
});
