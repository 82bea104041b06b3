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
import { deliveryStages } from '../../deploy/stages.ts';
import { imageVariable } from '../../deploy/workflow.ts';
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
    const request = parseDeployArgs(['deploy', ...words.slice(3)]);
    assert.ok(request.kind === 'command' && request.command.name === 'deploy');
    assert.equal(request.command.environment, undefined);
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

    // The copy script, run as GitHub runs `run:` (bash -e -o pipefail) with stand-ins for aws and skopeo:
    // an image production already holds is not copied again (a re-run); the others keep their digest.
    const dir = mkdtempSync(join(tmpdir(), 'promote-'));
    try {
      const log = join(dir, 'calls');
      writeFileSync(
        join(dir, 'aws'),
        `#!/bin/sh\necho "aws $*" >> "${log}"\ncase "$*" in *"describe-images --repository-name acme-production/orders "*) exit 0 ;; *describe-images*) exit 254 ;; esac\n`,
        { mode: 0o755 },
      );
      writeFileSync(join(dir, 'skopeo'), `#!/bin/sh\necho "skopeo $*" >> "${log}"\n`, { mode: 0o755 });
      const digest = (n: string) => `sha256:${n.length.toString(16).repeat(64).slice(0, 64)}`;
      const env = Object.fromEntries(
        declared.wiring.images.map((i) => [
          imageVariable(i.name),
          `r.example/acme-staging/${i.name}@${digest(i.name)}`,
        ]),
      );
      const ran = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', promote], {
        encoding: 'utf8',
        env: {
          ...env,
          PATH: `${dir}:${process.env.PATH}`,
          REGISTRY: 'r.example',
          PREFIX: 'acme-production/',
          GITHUB_SHA: 'abc123',
          GITHUB_OUTPUT: join(dir, 'out'),
        },
      });
      assert.equal(ran.status, 0, ran.stderr);
      const outputs = readFileSync(join(dir, 'out'), 'utf8').trim().split('\n');
      assert.deepEqual(
        outputs.sort(),
        declared.wiring.images
          .map((i) => `${i.name}=r.example/acme-production/${i.name}@${digest(i.name)}`)
          .sort(),
      );
      const copies = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('skopeo copy'));
      assert.equal(copies.length, declared.wiring.images.length - 1, 'orders is already there');
      assert.ok(
        copies.includes(
          `skopeo copy --all --preserve-digests docker://r.example/acme-staging/pyapi@${digest('pyapi')} docker://r.example/acme-production/pyapi:abc123`,
        ),
        copies.join('\n'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

describe('delivery stages', () => {
  test('a declaration without environments: one protected stage, its delivery environment; with environments: each in order, as declared', () => {
    assert.deepEqual(deliveryStages(declared.wiring), [
      { environment: 'production', protected: true, declared: false },
    ]);
    assert.deepEqual(
      deliveryStages(declared.wiring, [
        { name: 'staging', protected: false },
        { name: 'production', protected: true },
      ]),
      [
        { environment: 'staging', protected: false, declared: true },
        { environment: 'production', protected: true, declared: true },
      ],
    );
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
