import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import type * as ActionValidator from '@action-validator/core';
import { ECSClient, type TaskDefinition } from '@aws-sdk/client-ecs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'yaml';
import { parseDeployArgs } from '../../deploy/args.ts';
import { deliveryStages } from '../../deploy/stages.ts';
import {
  commandNames,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DIGEST,
  deployment,
  ecsWorld,
  justUpdated,
  REGISTRY,
  RegisterTaskDefinitionCommand,
  service,
  steadyService,
  tdArn,
  UpdateServiceCommand,
  wiredTaskDefinition,
} from '../../deploy/test/fixtures.ts';
import { cli as deployCli } from '../../deploy/test/run-cli.ts';
import { imageVariable, renderWorkflow } from '../../deploy/workflow.ts';
import { runCli } from '../cli.ts';
import { WORKFLOW_FILE, workflowFor } from '../commands/workflow.ts';
import { type DeclaredPlatform, declarePlatformFrom } from '../declaration.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { imageBuilds } from '../image-builds.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { cliIn, PACKAGE_NAME, type TeamRepository, teamRepository } from './team-repository.ts';

/**
 * Delivery of a team's own declaration: `images`, `deploy` and `workflow` for a repository whose
 * services are `orders` (Node) and `pyapi` (Python), with a scheduled job `nightly`: the images built
 * and rolled out are exactly the declaration's, and this repository's committed workflow is exactly
 * what `workflow` writes for its own declaration.
 */

const { validateWorkflow } = createRequire(import.meta.url)(
  '@action-validator/core',
) as typeof ActionValidator;

const DECLARATION = [
  `import { App, Image, InternalService, ModelEndpoint, Platform, Schedule, ScheduledJob, WebService, WorkerService } from '${PACKAGE_NAME}';`,
  '',
  'const app = new App();',
  "const platform = new Platform(app, 'acme', {",
  "  capacity: { instanceTypes: ['t3.medium', 't3a.medium'] },",
  "  delivery: { githubRepository: 'team/shop' },",
  '});',
  "new ModelEndpoint(platform, 'log-anomaly');",
  "const pyapi = new InternalService(platform, 'pyapi', { image: Image.fromDockerfile('pyapi/Dockerfile'), port: 8000 });",
  "new WebService(platform, 'orders', {",
  "  image: Image.fromDockerfile('orders/Dockerfile', { entry: 'orders/server.mjs' }),",
  '  port: 3000,',
  '  talksTo: [pyapi],',
  '});',
  "new WorkerService(platform, 'mailer', { image: Image.fromDockerfile('mailer/Dockerfile'), talksTo: [pyapi] });",
  "new ScheduledJob(platform, 'nightly', {",
  "  image: Image.fromDockerfile('nightly/Dockerfile', { entry: 'nightly/main.mjs' }),",
  "  schedule: Schedule.cron('0 3 * * ? *'),",
  '});',
  'export default app;',
  '',
].join('\n');

let repo: TeamRepository;
let file: string;
let declared: DeclaredPlatform;

before(async () => {
  repo = teamRepository();
  file = repo.write('config/declaration.ts', DECLARATION);
  repo.write(
    'orders/Dockerfile',
    'FROM node:20-slim\nCOPY server.mjs .\nEXPOSE 3000\nCMD ["node", "server.mjs"]\n',
  );
  repo.write('orders/server.mjs', "import { createServer } from 'node:http';\n");
  repo.write('pyapi/Dockerfile', 'FROM python:3.11-slim\nCOPY app.py .\nCMD ["python3", "app.py"]\n');
  repo.write('pyapi/app.py', 'print("hello")\n');
  repo.write('nightly/Dockerfile', 'FROM node:20-slim\nCOPY main.mjs .\nCMD ["node", "main.mjs"]\n');
  repo.write('nightly/main.mjs', 'console.log("report");\n');
  repo.write('mailer/Dockerfile', 'FROM python:3.11-slim\nCOPY worker.py .\nCMD ["python3", "worker.py"]\n');
  const loaded = await declarePlatformFrom(file);
  assert.ok('declared' in loaded, 'problem' in loaded ? loaded.problem : '');
  declared = loaded.declared;
});
after(() => repo.remove());

/** One line naming the fix, no stack trace. */
function assertOneLineFix(err: string): void {
  assert.equal(err.split('\n').length, 1, err);
  assert.match(err, /Fix: /);
  assert.doesNotMatch(err, /\n\s+at /);
}

describe('images: exactly the declaration’s images, tagged with the commit', () => {
  test('--dry-run --push prints the build and push of orders, pyapi, nightly (the repository’s) and the sidecar and log router (the package’s)', async () => {
    const { code, out, err } = await cliIn([
      'images',
      '--declaration',
      file,
      '--dry-run',
      '--push',
      '--engine',
      'docker',
      '--registry',
      REGISTRY,
      '--tag',
      'abc123',
    ]);
    assert.equal(code, EXIT_CODES.ok, err);
    const ref = (image: string) => `${REGISTRY}/acme/${image}:abc123`;
    const at = (dir: string, path: string) => join(dir, path);
    const build = (image: string, dir: string, dockerfile: string, context: string) => [
      `docker build --file ${at(dir, dockerfile)} --tag ${ref(image)} ${at(dir, context)}`,
      `docker push ${ref(image)}`,
    ];
    assert.deepEqual(
      out.split('\n').sort(),
      [
        ...build('orders', repo.root, 'orders/Dockerfile', 'orders'),
        ...build('pyapi', repo.root, 'pyapi/Dockerfile', 'pyapi'),
        ...build('nightly', repo.root, 'nightly/Dockerfile', 'nightly'),
        ...build('mailer', repo.root, 'mailer/Dockerfile', 'mailer'),
        ...build('sidecar', PACKAGE_ROOT, 'Dockerfile.sidecar', '.'),
        ...build('log-router', PACKAGE_ROOT, 'services/anomaly-sidecar/fluent-bit/Dockerfile', '.'),
      ].sort(),
    );
  });

  test('--image picks one; buildah (no daemon) is run the way this machine builds', async () => {
    const { code, out, err } = await cliIn([
      'images',
      '--declaration',
      file,
      '--dry-run',
      '--engine',
      'buildah',
      '--tag',
      't1',
      '--image',
      'pyapi',
    ]);
    assert.equal(code, EXIT_CODES.ok, err);
    assert.equal(
      out,
      `buildah bud --isolation chroot --file ${repo.root}/pyapi/Dockerfile --tag acme/pyapi:t1 ${repo.root}/pyapi`,
    );
  });

  test('without --dry-run it runs each command in the repository, and stops at the first that fails (exit 1, naming it)', async (t) => {
    const bin = repo.write(
      'stub-bin/docker',
      '#!/bin/sh\necho "$PWD $*" >> "$CALLS"\ncase "$*" in *acme/orders*) exit 3 ;; esac\n',
    );
    chmodSync(bin, 0o755);
    const calls = join(repo.root, 'calls.log');
    t.after(() => rmSync(calls, { force: true }));
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      [
        'images',
        '--declaration',
        file,
        '--engine',
        'docker',
        '--tag',
        't2',
        '--image',
        'orders',
        '--image',
        'pyapi',
        '--image',
        'nightly',
      ],
      {
        env: { PATH: `${dirname(bin)}:/usr/bin:/bin`, CALLS: calls },
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      },
    );
    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), [
      // The wiring's build order: pyapi (orders' callee) first; orders fails, nightly is never built.
      `${repo.root} build --file ${repo.root}/pyapi/Dockerfile --tag acme/pyapi:t2 ${repo.root}/pyapi`,
      `${repo.root} build --file ${repo.root}/orders/Dockerfile --tag acme/orders:t2 ${repo.root}/orders`,
    ]);
    assert.deepEqual(err, [
      `images: failed (exit 3): docker build --file ${repo.root}/orders/Dockerfile --tag acme/orders:t2 ${repo.root}/orders`,
    ]);
  });

  test('bad input is one line with the fix, exit 2: an --image the declaration does not build, an unknown --env, --push without a registry', async () => {
    for (const [args, pattern] of [
      [
        ['--image', 'frontend'],
        /^images: --image 'frontend' is not an image of the declaration \(images: .*orders.*\)\. Fix: /,
      ],
      [
        ['--env', 'staging'],
        /^images: --env 'staging' is not an environment of the declaration \(environments: production\)\. Fix: use --env production/,
      ],
      [['--push'], /^images: --push needs the registry\. Fix: pass --registry HOST/],
    ] as const) {
      const { code, out, err } = await cliIn(['images', '--declaration', file, '--tag', 't', ...args]);
      assert.equal(code, EXIT_CODES.usage, `${args.join(' ')}: ${err}`);
      assert.equal(out, '');
      assertOneLineFix(err);
      assert.match(err, pattern);
    }
  });
});

const ref = (image: string) => `${REGISTRY}/acme/${image}@${DIGEST}`;

/** The nightly job's family as CloudFormation registered it: the router, app, sidecar and deadline. */
function nightlyTaskDefinition(revision: number): TaskDefinition {
  const base = wiredTaskDefinition('acme-nightly', revision);
  return {
    ...base,
    containerDefinitions: [
      ...(base.containerDefinitions ?? []),
      { name: 'deadline', image: `${REGISTRY}/acme/sidecar:old`, essential: true },
    ],
  };
}

function world(t: TestContext) {
  const ecs = ecsWorld(['orders', 'pyapi', 'mailer'], { wired: true });
  const ssm = mockClient(SSMClient);
  t.after(() => {
    ecs.restore();
    ssm.restore();
  });
  ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: 'acme-nightly' }).resolves({
    taskDefinition: nightlyTaskDefinition(7),
    tags: [{ key: 'platform', value: 'acme' }],
  });
  ecs.on(RegisterTaskDefinitionCommand, { family: 'acme-nightly' }).resolves({
    taskDefinition: { ...nightlyTaskDefinition(8), taskDefinitionArn: tdArn('acme-nightly', 8) },
  });
  for (const name of ['orders', 'pyapi', 'mailer']) {
    ecs.on(UpdateServiceCommand, { service: name }).resolves({ service: justUpdated(name) });
  }
  const seen = new Set<string>();
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
    if (input.services.some((name) => !seen.has(name))) {
      for (const name of input.services) seen.add(name);
      return { services: input.services.map((name) => steadyService(name)), failures: [] };
    }
    const name = input.services[0]!;
    const done = deployment(`ecs-svc/${name}-new`, 'PRIMARY', tdArn(`acme-${name}`, 4), 'COMPLETED', {
      running: 2,
      desired: 2,
      pending: 0,
    });
    return { services: [service(name, tdArn(`acme-${name}`, 4), [done], [])], failures: [] };
  });
  return { ecs, ssm };
}

describe('deploy: the declaration’s services, callees first, then its scheduled job (mocked ECS)', () => {
  const images = ['orders', 'pyapi', 'mailer', 'nightly', 'sidecar', 'log-router'];
  const argv = ['deploy', ...images.flatMap((i) => ['--image', `${i}=${ref(i)}`]), '--env', 'production'];

  test('pyapi, orders, then the mailer worker are updated (callees first); nightly gets a new revision its schedule runs, never an UpdateService; every image is recorded', async (t) => {
    const { ecs, ssm } = world(t);
    const { code, out, err } = await deployCli(
      argv,
      () => declared.wiring,
      () => new SSMClient({}),
    );
    assert.equal(code, EXIT_CODES.ok, err.join('\n'));

    const updated = ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.service);
    assert.deepEqual(updated, ['pyapi', 'orders', 'mailer']);
    const registered = ecs.commandCalls(RegisterTaskDefinitionCommand).map((c) => c.args[0].input);
    assert.deepEqual(
      registered.map((r) => r.family),
      ['acme-pyapi', 'acme-orders', 'acme-mailer', 'acme-nightly'],
    );
    const nightly = registered.at(-1)!;
    assert.deepEqual(
      nightly.containerDefinitions?.map((c) => [c.name, c.image]),
      [
        ['log_router', ref('log-router')],
        ['app', ref('nightly')],
        ['anomaly-sidecar', ref('sidecar')],
        // The deadline runs the sidecar's image.
        ['deadline', ref('sidecar')],
      ],
    );
    // The job's revision is registered after every service rolled out.
    const names = commandNames(ecs);
    assert.ok(names.lastIndexOf('UpdateServiceCommand') < names.lastIndexOf('RegisterTaskDefinitionCommand'));
    assert.ok(
      out.includes(`nightly: registered ${tdArn('acme-nightly', 8)}; the next scheduled run starts it`),
    );
    const recorded = ssm
      .commandCalls(PutParameterCommand)
      .map((c) => c.args[0].input.Name)
      .sort();
    assert.deepEqual(recorded, images.map((i) => `/acme/release/${i}`).sort());
    assert.equal(out.at(-1), 'deploy: all services and jobs rolled out');
  });

  test('--dry-run plans the job beside the services and changes nothing', async (t) => {
    const { ecs } = world(t);
    const { code, out, err } = await deployCli([...argv, '--dry-run'], () => declared.wiring);
    assert.equal(code, EXIT_CODES.ok, err.join('\n'));
    assert.ok(
      out.includes(
        `  nightly: register a new revision of acme-nightly (now ${tdArn('acme-nightly', 7)}); its schedule runs it from the next run`,
      ),
      out.join('\n'),
    );
    assert.ok(out.includes(`    app: ${REGISTRY}/acme/nightly:old -> ${ref('nightly')}`));
    assert.equal(ecs.commandCalls(RegisterTaskDefinitionCommand).length, 0);
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 0);
  });

  test('through the CLI entry (the declaration loaded, wired once, the real ECS client mocked): --dry-run plans every service and the job', async (t) => {
    const { ecs } = world(t);
    const { code, out, err } = await cliIn([
      ...argv,
      '--declaration',
      file,
      '--dry-run',
      '--region',
      'eu-west-1',
    ]);
    assert.equal(code, EXIT_CODES.ok, err);
    const planned = out
      .split('\n')
      .flatMap(
        (line) => /^ {2}([a-z-]+): register a new revision of (acme-[a-z-]+)/.exec(line)?.slice(1, 3) ?? [],
      );
    assert.deepEqual(planned, [
      'pyapi',
      'acme-pyapi',
      'orders',
      'acme-orders',
      'mailer',
      'acme-mailer',
      'nightly',
      'acme-nightly',
    ]);
    assert.equal(ecs.commandCalls(RegisterTaskDefinitionCommand).length, 0);
  });

  test('diff shows the job’s next revision beside the services’', async (t) => {
    world(t);
    const { code, out, err } = await deployCli(
      ['diff', '--image', `nightly=${ref('nightly')}`, '--image', `pyapi=${ref('pyapi')}`],
      () => declared.wiring,
    );
    assert.equal(code, EXIT_CODES.ok, err.join('\n'));
    const nightly = out.findIndex((l) =>
      l.startsWith('  nightly (scheduled job): acme-nightly:7 → the next revision: 1 change(s)'),
    );
    assert.ok(nightly > 0, out.join('\n'));
    assert.match(out[nightly + 1]!, /app.*image.*acme\/nightly:old.*acme\/nightly@sha256/);
    assert.ok(
      out.some((l) => l.startsWith('  pyapi: acme-pyapi:3 → the next revision: 1 change(s)')),
      out.join('\n'),
    );
  });

  test('status lists the services and the revision the job’s next run starts', async (t) => {
    const { ecs } = world(t);
    ecs.on(DescribeServiceDeploymentsCommand).resolves({ serviceDeployments: [] });
    const { code, out, err } = await deployCli(['status'], () => declared.wiring);
    assert.equal(code, EXIT_CODES.ok, err.join('\n'));
    assert.deepEqual(out.map((l) => /^ {2}([a-z-]+): /.exec(l)?.[1]).filter(Boolean), [
      'pyapi',
      'orders',
      'mailer',
      'nightly',
    ]);
    assert.ok(
      out.includes(
        `  nightly: scheduled job; the next run starts acme-nightly:7 (app ${REGISTRY}/acme/nightly:old)`,
      ),
      out.join('\n'),
    );
  });

  test('an image only the job runs releases the job alone', async (t) => {
    const { ecs } = world(t);
    const { code, err } = await deployCli(
      ['deploy', '--image', `nightly=${ref('nightly')}`],
      () => declared.wiring,
    );
    assert.equal(code, EXIT_CODES.ok, err.join('\n'));
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 0);
    assert.deepEqual(
      ecs.commandCalls(RegisterTaskDefinitionCommand).map((c) => c.args[0].input.family),
      ['acme-nightly'],
    );
  });

  test('bad input through the CLI: an --image not in the declaration, an unknown --env: one line with the fix, exit 2, no AWS call', async (t) => {
    const ecs = mockClient(ECSClient);
    t.after(() => ecs.restore());
    const bad = await cliIn(['deploy', '--declaration', file, '--image', `frontend=${ref('frontend')}`]);
    assert.equal(bad.code, EXIT_CODES.usage);
    assert.match(
      bad.err.split('\n')[0]!,
      /^deploy: --image 'frontend' is not an image of the declaration \(images: [a-z, -]+\)\. Fix: name one of them/,
    );
    const env = await cliIn(['status', '--declaration', file, '--env', 'staging']);
    assert.equal(env.code, EXIT_CODES.usage);
    assert.match(
      env.err.split('\n')[0]!,
      /^deploy: --env 'staging' is not an environment of the declaration \(environments: production\)\. Fix: use --env production/,
    );
    for (const output of [bad.err, env.err]) assert.doesNotMatch(output, /\n\s+at /);
    assert.equal(ecs.calls().length, 0);
  });
});

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

describe('workflow: one release promoted through ordered stages', () => {
  test('staging, then production behind its protected environment: each stage waits for the previous rollout (the anomaly gate’s verdict), the images are built once', () => {
    const text = renderWorkflow({
      wiring: declared.wiring,
      stages: [
        { environment: 'staging', protected: false, declared: true },
        { environment: 'production', protected: true, declared: true },
      ],
      builds: imageBuilds(declared, 'repository'),
      modelArtifactDir: null,
      installsPackage: true,
      tests: ['npm test'],
      cli: 'npx berth',
    });
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
