import assert from 'node:assert/strict';
import { after, before, describe, type TestContext, test } from 'node:test';
import { ECSClient, type TaskDefinition } from '@aws-sdk/client-ecs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
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
import type { DeclaredPlatform } from '../declaration.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { teamDelivery } from './team-delivery.ts';
import { cliIn, type TeamRepository } from './team-repository.ts';

/**
 * `deploy`, `diff` and `status` of a team's declaration against a mocked ECS (the real
 * `@aws-sdk/client-ecs` client, every instance mocked): services callees first, then the scheduled job's
 * new revision; bad input is one line with the fix, before any AWS call.
 */

let repo: TeamRepository;
let file: string;
let declared: DeclaredPlatform;

before(async () => {
  ({ repo, file, declared } = await teamDelivery());
});
after(() => repo.remove());

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
  const argv = ['deploy', ...images.flatMap((i) => ['--image', `${i}=${ref(i)}`])];

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

  test('a job’s next revision is planned as a service’s (one home): a family without a container the wiring names, or without a revision, is the same plan error, nothing registered', async (t) => {
    const { ecs } = world(t);
    const withoutApp = nightlyTaskDefinition(7);
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: 'acme-nightly' }).resolves({
      taskDefinition: {
        ...withoutApp,
        containerDefinitions: withoutApp.containerDefinitions!.filter((c) => c.name !== 'app'),
      },
    });
    const missing = await deployCli(
      ['deploy', '--image', `nightly=${ref('nightly')}`],
      () => declared.wiring,
    );
    assert.equal(missing.code, EXIT_CODES.failed);
    assert.match(
      missing.err.join('\n'),
      new RegExp(
        `^deploy: cannot plan: task definition ${tdArn('acme-nightly', 7)} of job 'nightly' has no container 'app' \\(containers: [a-z_, -]+\\), which the declaration's wiring names; apply the declaration \\(cdk deploy\\) before rolling out images$`,
      ),
    );
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: 'acme-nightly' }).resolves({});
    const none = await deployCli(['deploy', '--image', `nightly=${ref('nightly')}`], () => declared.wiring);
    assert.equal(none.code, EXIT_CODES.failed);
    assert.deepEqual(none.err, [
      "deploy: cannot plan: job 'nightly' has no task definition in family 'acme-nightly'; apply the declaration (cdk deploy) before rolling out images",
    ]);
    assert.equal(ecs.commandCalls(RegisterTaskDefinitionCommand).length, 0);
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
    // The entry chooses the environment: one the declaration does not declare is its one line.
    assert.match(env.err.split('\n')[0]!, /^acme: environment \('staging'\) is not declared\. Fix: /);
    for (const output of [bad.err, env.err]) assert.doesNotMatch(output, /\n\s+at /);
    assert.equal(ecs.calls().length, 0);
  });
});

describe('deploy --local: its --env are the rehearsal’s variables, never an environment', () => {
  test('--env KEY=VALUE reaches the rehearsal (a malformed one is its own usage error), not the entry’s environment choice', async () => {
    const { code, err } = await cliIn(['deploy', '--local', '--service', 'orders', '--env', 'not-a-pair']);
    assert.equal(code, EXIT_CODES.usage, err);
    assert.match(err, /--env 'not-a-pair' is not KEY=VALUE/);
    assert.doesNotMatch(err, /environment \('not-a-pair'\)|takes no --env/);
  });
});
