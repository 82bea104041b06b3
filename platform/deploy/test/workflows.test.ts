import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type * as ActionValidator from '@action-validator/core';
import { parse } from 'yaml';
import { declarePlatform } from '../../../config/declaration.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { parseDeployArgs } from '../args.ts';
import { resolveTargets } from '../targets.ts';

// @action-validator/core is a CommonJS wasm-bindgen build; it validates against SchemaStore's
// GitHub workflow schema compiled in, with no network access.
const { validateWorkflow } = createRequire(import.meta.url)(
  '@action-validator/core',
) as typeof ActionValidator;

const WORKFLOWS = new URL('../../../.github/workflows/', import.meta.url).pathname;
const files = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const source = (file: string) => readFileSync(join(WORKFLOWS, file), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: a parsed workflow is untyped YAML; each test checks the shape it reads.
type Workflow = any;
const load = (file: string): Workflow => parse(source(file));
const errorsOf = (yaml: string) =>
  validateWorkflow(yaml).errors.map((e) => ({ code: e.code, path: 'path' in e ? e.path : undefined }));

/** A GitHub expression as written in a workflow: `${{ … }}`. */
const expr = (e: string) => `\${{ ${e} }}`;

/**
 * A stage's command names its environment, `--env NAME`, which the CLI's entry takes (it derives the
 * wiring for it); the rest is the deploy core's. This repository declares its environments, so each
 * stage's commands name theirs.
 */
function withoutEnvironment(argv: readonly string[], environment: string): string[] {
  const at = argv.indexOf('--env');
  assert.equal(argv[at + 1], environment, `${argv.join(' ')} names --env ${environment}`);
  return [...argv.slice(0, at), ...argv.slice(at + 2)];
}

/** Every `uses:` in a workflow, from job steps and reusable-workflow jobs. */
function usesOf(workflow: Workflow): string[] {
  return Object.values(workflow.jobs as Record<string, Workflow>).flatMap((job) => [
    ...(job.uses ? [job.uses] : []),
    ...((job.steps ?? []) as Workflow[]).flatMap((s) => (s.uses ? [s.uses] : [])),
  ]);
}

describe('GitHub Actions schema (@action-validator/core, offline)', () => {
  test('the workflows folder holds ci.yml and deploy.yml', () => {
    assert.deepEqual(files, ['ci.yml', 'deploy.yml']);
  });

  for (const file of files) {
    test(`${file} is a valid workflow`, () => {
      assert.deepEqual(validateWorkflow(source(file)).errors, []);
    });
  }

  const broken: [string, string, { code: string; path: string | undefined }[]][] = [
    [
      'a job without runs-on',
      'on: push\njobs:\n  a:\n    steps:\n      - run: echo hi\n',
      [{ code: 'one_of', path: '/jobs/a' }],
    ],
    [
      'an unknown trigger',
      'on: pushh\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n',
      [{ code: 'one_of', path: '/on' }],
    ],
    [
      'a misspelt permission level',
      'on: push\npermissions:\n  id-token: writ\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n',
      [{ code: 'one_of', path: '/permissions' }],
    ],
    [
      'needs naming a job that does not exist',
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    needs: nope\n    steps:\n      - run: echo\n',
      [{ code: 'unresolved_job', path: '/jobs/a/needs' }],
    ],
  ];
  for (const [name, yaml, expected] of broken) {
    test(`the validator rejects ${name}`, () => {
      assert.deepEqual(errorsOf(yaml), expected);
    });
  }

  test('the validator rejects YAML that does not parse', () => {
    const [error, ...rest] = validateWorkflow('on: push\njobs: [\n').errors;
    assert.equal(rest.length, 0);
    assert.equal(error?.code, 'parse_error');
  });

  test('the validator rejects deploy.yml with its rollout job broken (runs-on removed)', () => {
    const mutated = source('deploy.yml').replace(
      /(\n {2}rollout-production:\n(?: {4}.*\n)*?) {4}runs-on: .*\n/,
      '$1',
    );
    assert.notEqual(mutated, source('deploy.yml'), 'the mutation applied');
    assert.deepEqual(errorsOf(mutated), [{ code: 'one_of', path: '/jobs/rollout-production' }]);
  });
});

describe('workflow conventions', () => {
  for (const file of files) {
    test(`${file}: every action is pinned to a full 40-hex commit SHA, its release in a comment`, () => {
      const uses = usesOf(load(file));
      assert.ok(uses.length > 0);
      const unpinned = uses.filter((u) => !/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(u));
      assert.deepEqual(unpinned, []);
      // The release each SHA stands for, as `uses: owner/name@<sha> # vX.Y.Z` on the same line.
      const lines = source(file)
        .split('\n')
        .filter((line) => /^\s*(-\s+)?uses:/.test(line));
      assert.equal(lines.length, uses.length);
      assert.deepEqual(
        lines.filter((line) => !/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/.test(line)),
        [],
      );
    });

    test(`${file}: id-token: write only on the jobs that assume an AWS role, never for the whole workflow`, () => {
      const workflow = load(file);
      assert.equal(workflow.permissions?.['id-token'], undefined, 'no workflow-level id-token');
      for (const [id, job] of Object.entries(workflow.jobs as Record<string, Workflow>)) {
        const logsIn = ((job.steps ?? []) as Workflow[]).some((s) =>
          s.uses?.startsWith('aws-actions/configure-aws-credentials@'),
        );
        assert.equal(job.permissions?.['id-token'], logsIn ? 'write' : undefined, `job ${id}`);
        if (logsIn) assert.equal(job.permissions?.contents, 'read', `job ${id} reads contents only`);
      }
    });

    test(`${file}: no long-lived AWS keys and no secrets in if: conditions`, () => {
      const text = source(file);
      assert.doesNotMatch(text, /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
      assert.doesNotMatch(text, /^\s*(-\s+)?if:.*secrets\./m);
    });
  }

  test('ci.yml: pull requests and pushes; npm ci with the npm cache, npm test, synth artifact, four image builds', () => {
    const ci = load('ci.yml');
    assert.deepEqual(Object.keys(ci.on).sort(), ['pull_request', 'push']);
    assert.deepEqual(ci.permissions, { contents: 'read' });
    const runs = (job: string) => (ci.jobs[job].steps as Workflow[]).flatMap((s) => (s.run ? [s.run] : []));
    assert.deepEqual(runs('test'), ['npm ci --no-audit --no-fund', 'npm test']);
    for (const job of ['test', 'synth']) {
      const setup = (ci.jobs[job].steps as Workflow[]).find((s) => s.uses?.startsWith('actions/setup-node@'));
      assert.equal(setup?.with?.cache, 'npm', `${job} caches npm`);
    }
    const synth = ci.jobs.synth.steps as Workflow[];
    assert.deepEqual(
      synth.find((s) => s.run === 'npm run synth'),
      { name: 'Synthesise the stacks into cdk.out', run: 'npm run synth', env: { CDK_OUTDIR: 'cdk.out' } },
    );
    const upload = synth.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    assert.equal(upload?.with?.path, 'cdk.out');
    assert.equal(upload?.with?.['if-no-files-found'], 'error');
    assert.deepEqual(ci.jobs.images.strategy.matrix.image, ['frontend', 'backend', 'sidecar', 'model']);
    const build = (ci.jobs.images.steps as Workflow[]).find((s) =>
      s.uses?.startsWith('docker/build-push-action@'),
    );
    assert.equal(build?.with?.file, `Dockerfile.${expr('matrix.image')}`);
    assert.equal(build?.with?.push, false);
  });

  const deploy = load('deploy.yml');
  const steps = (job: string) => deploy.jobs[job].steps as Workflow[];
  const awsLogin = (job: string) =>
    steps(job).filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));

  test('deploy.yml: push to main and manual dispatch; OIDC permissions; one deploy of the platform at a time, never cancelled', () => {
    assert.deepEqual(deploy.on, { push: { branches: ['main'] }, workflow_dispatch: null });
    assert.deepEqual(deploy.permissions, { contents: 'read' });
    assert.deepEqual(deploy.concurrency, { group: 'deploy-acme', 'cancel-in-progress': false });
  });

  test('deploy.yml: the job graph runs tests, the bootstrap stack, the images, the platform stack, then the rollout', () => {
    const needs = Object.fromEntries(
      Object.entries(deploy.jobs as Record<string, Workflow>).map(([id, job]) => [id, job.needs ?? []]),
    );
    assert.deepEqual(needs, {
      changes: [],
      test: [],
      // This repository declares staging, then production: production starts once staging rolled out.
      'bootstrap-staging': 'test',
      images: ['test', 'bootstrap-staging'],
      'infrastructure-staging': ['images', 'bootstrap-staging'],
      'publish-model': ['changes', 'test'],
      'rollout-staging': ['images', 'infrastructure-staging'],
      'bootstrap-production': 'rollout-staging',
      'promote-production': ['images', 'bootstrap-production'],
      'infrastructure-production': ['promote-production', 'bootstrap-production'],
      'rollout-production': ['promote-production', 'infrastructure-production'],
    });
  });

  test('deploy.yml: every AWS login assumes a role from vars, the infrastructure one only in the protected environment', () => {
    const roles = Object.fromEntries(
      Object.keys(deploy.jobs).flatMap((job) => awsLogin(job).map((s) => [job, s.with['role-to-assume']])),
    );
    assert.deepEqual(roles, {
      'bootstrap-staging': expr('vars.AWS_INFRA_ROLE_ARN'),
      images: expr('vars.AWS_PUSH_ROLE_ARN'),
      'infrastructure-staging': expr('vars.AWS_INFRA_ROLE_ARN'),
      'rollout-staging': expr('vars.AWS_ROLLOUT_ROLE_ARN'),
      'bootstrap-production': expr('vars.AWS_INFRA_ROLE_ARN'),
      'promote-production': expr('vars.AWS_PUSH_ROLE_ARN'),
      'infrastructure-production': expr('vars.AWS_INFRA_ROLE_ARN'),
      'rollout-production': expr('vars.AWS_ROLLOUT_ROLE_ARN'),
    });
    // A job that can mint a token installs dependencies without running their scripts.
    for (const job of ['bootstrap-production', 'infrastructure-production', 'rollout-production']) {
      assert.ok(
        steps(job).some((s) => s.run === 'npm ci --no-audit --no-fund --ignore-scripts'),
        job,
      );
    }
    assert.equal(deploy.jobs['bootstrap-production'].environment, 'production');
    assert.equal(deploy.jobs['infrastructure-production'].environment, 'production');
    assert.equal(deploy.jobs['rollout-production'].environment, 'production');
    // No release input to the platform stack: its template names no image (platform/aws/test/rollout.test.ts).
    assert.deepEqual(steps('infrastructure-production').at(-1), {
      name: 'cdk deploy',
      run: 'npx cdk deploy "*-platform" --require-approval never --progress events --app "npx berth synth --env production"',
    });
    assert.doesNotMatch(source('deploy.yml'), /IMAGE_TAG/);
    assert.equal(
      steps('bootstrap-production').at(-1).run,
      'npx cdk deploy "*-bootstrap" --require-approval never --progress events --app "npx berth synth --env production"',
    );
  });

  test("deploy.yml: the wiring's images (three Dockerfiles and the log router; the model is a CDK asset) are pushed to ECR tagged with the commit SHA; Docker Hub only with its secrets", () => {
    const builds = steps('images').filter((s) => s.uses?.startsWith('docker/build-push-action@'));
    assert.deepEqual(
      builds.map((b) => [b.id, b.with.file, b.with.push, b.with.tags]),
      [
        ...['backend', 'frontend'].map((i) => [i, `Dockerfile.${i}`, true, expr(`steps.tags.outputs.${i}`)]),
        [
          'log-router',
          'services/anomaly-sidecar/fluent-bit/Dockerfile',
          true,
          expr('steps.tags.outputs.log-router'),
        ],
        ['sidecar', 'Dockerfile.sidecar', true, expr('steps.tags.outputs.sidecar')],
      ],
    );
    assert.match(
      steps('images').find((s) => s.id === 'tags').run,
      /for image in backend frontend log-router sidecar;/,
    );
    // Exactly the images the wiring's containers run.
    assert.deepEqual(
      wirePlatform(declarePlatform().synth())
        .images.map((i) => i.name)
        .sort(),
      ['backend', 'frontend', 'log-router', 'sidecar'],
    );
    const tags = steps('images').find((s) => s.id === 'tags');
    assert.match(tags.run, /tags="\$REGISTRY\/\$PREFIX\$image:\$GITHUB_SHA"/);
    assert.equal(steps('images').find((s) => s.uses?.startsWith('aws-actions/amazon-ecr-login@'))?.id, 'ecr');
    const hub = steps('images').find((s) => s.uses?.startsWith('docker/login-action@'));
    assert.equal(hub.if, "env.DOCKERHUB_USERNAME != ''");
    assert.equal(deploy.jobs.images.env.DOCKERHUB_USERNAME, expr('secrets.DOCKERHUB_USERNAME'));
  });

  test('deploy.yml: a re-run for the same commit reuses the images ECR already holds (tags are immutable) instead of rebuilding', () => {
    const names = ['backend', 'frontend', 'log-router', 'sidecar'];
    const builds = steps('images').filter((s) => s.uses?.startsWith('docker/build-push-action@'));
    assert.deepEqual(
      builds.map((b) => b.if),
      names.map((n) => `steps.existing.outputs.${n} == ''`),
    );
    const refs = steps('images').find((s) => s.id === 'refs').env;
    assert.deepEqual(
      ['IMAGE_BACKEND', 'IMAGE_FRONTEND', 'IMAGE_LOG_ROUTER', 'IMAGE_SIDECAR'].map((k) => refs[k]),
      names.map((n) => expr(`steps.${n}.outputs.digest || steps.existing.outputs.${n}`)),
    );
    const stepIds = steps('images').map((s) => s.id);
    assert.ok(stepIds.indexOf('existing') < stepIds.indexOf('backend'), 'the lookup runs before the builds');

    // The lookup script itself, run as GitHub runs `run:` (bash -e -o pipefail) with a stand-in `aws`.
    const script = steps('images').find((s) => s.id === 'existing').run as string;
    const dir = mkdtempSync(join(tmpdir(), 'deploy-existing-'));
    try {
      writeFileSync(
        join(dir, 'aws'),
        [
          '#!/bin/sh',
          'echo "$*" >> "$CALLS"',
          '[ -n "$AWS_FAIL" ] && { echo "An error occurred (AccessDeniedException)" >&2; exit 254; }',
          'case "$*" in *"--repository-name acme/backend "*) echo sha256:b4ck ;; *) echo None ;; esac',
        ].join('\n'),
        { mode: 0o755 },
      );
      const run = (extra: Record<string, string>) =>
        spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
          encoding: 'utf8',
          env: {
            PATH: `${dir}:${process.env.PATH}`,
            PREFIX: 'acme/',
            GITHUB_SHA: 'abc123',
            GITHUB_OUTPUT: join(dir, 'out'),
            CALLS: join(dir, 'calls'),
            ...extra,
          },
        });
      const ok = run({});
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(
        readFileSync(join(dir, 'out'), 'utf8'),
        'backend=sha256:b4ck\nfrontend=\nlog-router=\nsidecar=\n',
      );
      assert.match(ok.stdout, /^backend: abc123 is already in ECR as sha256:b4ck; not rebuilt$/m);
      const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
      assert.equal(calls.length, 4);
      assert.match(
        calls[0]!,
        /^ecr batch-get-image --repository-name acme\/backend --image-ids imageTag=abc123 /,
      );
      // Any other ECR error (no such repository, no permission) fails the job rather than rebuilding.
      const denied = run({ AWS_FAIL: '1' });
      assert.notEqual(denied.status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("deploy.yml: before the platform stack's cdk deploy, the release records are seeded with this run's images (a no-op once released)", () => {
    const seed = steps('infrastructure-production').at(-2);
    const env: Record<string, string> = {
      IMAGE_BACKEND: `r.example/acme/backend@sha256:${'1'.repeat(64)}`,
      IMAGE_FRONTEND: `r.example/acme/frontend@sha256:${'2'.repeat(64)}`,
      IMAGE_SIDECAR: `r.example/acme/sidecar@sha256:${'3'.repeat(64)}`,
      IMAGE_LOG_ROUTER: `r.example/acme/log-router@sha256:${'4'.repeat(64)}`,
    };
    // Production's images are the release's, copied by digest into its repositories.
    assert.deepEqual(seed.env, {
      IMAGE_BACKEND: expr('needs.promote-production.outputs.backend'),
      IMAGE_FRONTEND: expr('needs.promote-production.outputs.frontend'),
      IMAGE_LOG_ROUTER: expr('needs.promote-production.outputs.log-router'),
      IMAGE_SIDECAR: expr('needs.promote-production.outputs.sidecar'),
    });
    const words = ((seed.run as string).match(/"[^"]*"|\S+/g) ?? []).map((w) =>
      w.replace(/^"|"$/g, '').replace(/\$([A-Z_]+)/g, (_, name: string) => env[name] as string),
    );
    // `berth deploy seed …`: the deploy core's `seed`.
    assert.deepEqual(words.slice(0, 4), ['npx', 'berth', 'deploy', 'seed']);
    const request = parseDeployArgs(withoutEnvironment(words.slice(3), 'production'));
    assert.ok(request.kind === 'command' && request.command.name === 'seed');
    assert.ok(request.command.name === 'seed');
    // Every image the platform builds has a release record to seed.
    assert.deepEqual(
      [...request.command.images.keys()].sort(),
      wirePlatform(declarePlatform().synth())
        .images.map((i) => i.name)
        .sort(),
    );
  });

  test('deploy.yml: the model artifact is published only when model/ changed', () => {
    assert.equal(deploy.jobs['publish-model'].if, "needs.changes.outputs.model == 'true'");
    const upload = steps('publish-model').find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    assert.deepEqual(upload?.with, {
      name: `model-${expr('github.sha')}`,
      path: 'model.tar.gz',
      'if-no-files-found': 'error',
      'retention-days': 90,
    });
    const filter = steps('changes').find((s) => s.uses?.startsWith('dorny/paths-filter@'));
    assert.deepEqual(parse(filter.with.filters), { model: ['model/artifacts/default/**'] });
  });

  test('deploy.yml: the rollout command parses with the deploy CLI and rolls backend then frontend, app and sidecar by digest', () => {
    const run: string = steps('rollout-production').at(-1).run;
    const env: Record<string, string> = {
      ...deploy.env,
      IMAGE_BACKEND: `r.example/acme/backend@sha256:${'1'.repeat(64)}`,
      IMAGE_FRONTEND: `r.example/acme/frontend@sha256:${'2'.repeat(64)}`,
      IMAGE_SIDECAR: `r.example/acme/sidecar@sha256:${'3'.repeat(64)}`,
      IMAGE_LOG_ROUTER: `r.example/acme/log-router@sha256:${'4'.repeat(64)}`,
    };
    // The command is one folded line of double-quoted words: expand $VARS, split on spaces outside quotes.
    const words = (run.match(/"[^"]*"|\S+/g) ?? []).map((w) =>
      w.replace(/^"|"$/g, '').replace(/\$([A-Z_]+)/g, (_, name: string) => {
        assert.ok(name in env, `${name} is defined for the rollout step`);
        return env[name] as string;
      }),
    );
    // `berth deploy …`: the deploy core's `deploy`.
    assert.deepEqual(words.slice(0, 3), ['npx', 'berth', 'deploy']);
    const request = parseDeployArgs(withoutEnvironment(words.slice(2), 'production'));
    assert.ok(request.kind === 'command' && request.command.name === 'deploy');
    assert.equal(request.command.timeoutMs, 20 * 60_000);
    assert.equal(request.command.dryRun, false);
    // Services and containers as the declaration's wiring resolves them.
    const wiring = wirePlatform(declarePlatform().synth());
    assert.deepEqual(resolveTargets(wiring, request.command.images, request.command.services), [
      {
        service: 'backend',
        images: [
          { container: 'log_router', image: env.IMAGE_LOG_ROUTER },
          { container: 'app', image: env.IMAGE_BACKEND },
          { container: 'anomaly-sidecar', image: env.IMAGE_SIDECAR },
        ],
      },
      {
        service: 'frontend',
        images: [
          { container: 'log_router', image: env.IMAGE_LOG_ROUTER },
          { container: 'app', image: env.IMAGE_FRONTEND },
          { container: 'anomaly-sidecar', image: env.IMAGE_SIDECAR },
        ],
      },
    ]);
    const stepEnv = steps('rollout-production').at(-1).env;
    assert.deepEqual(stepEnv, {
      IMAGE_BACKEND: expr('needs.promote-production.outputs.backend'),
      IMAGE_FRONTEND: expr('needs.promote-production.outputs.frontend'),
      IMAGE_LOG_ROUTER: expr('needs.promote-production.outputs.log-router'),
      IMAGE_SIDECAR: expr('needs.promote-production.outputs.sidecar'),
    });
  });
});
