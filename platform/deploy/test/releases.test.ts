import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { DeregisterTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { RELEASE_NOT_RECORDED } from '../../wiring/index.ts';
import { DEFAULT_POLL_INTERVAL_MS, EXIT_CODES } from '../args.ts';
import { runDeploy } from '../deploy.ts';
import { releasePlan } from '../releases.ts';
import { resolveTargets } from '../targets.ts';
import {
  CLUSTER,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DIGEST,
  deployment,
  ecsWorld,
  fakeDeps,
  justUpdated,
  REGISTRY,
  RegisterTaskDefinitionCommand,
  service,
  steadyService,
  tdArn,
  UpdateServiceCommand,
  wiredTaskDefinition,
} from './fixtures.ts';
import { cli, WIRING } from './run-cli.ts';

/**
 * Release records (`/acme/release/<image>`): the deploy command writes an image's record only when
 * every service running the image runs the new one, retires the revision of a release that rolled
 * back, and builds each release from the family's latest ACTIVE revision (what an infrastructure
 * change registered). `seed` fills the first records before the platform stack's first deploy.
 */

const ref = (image: string) => `${REGISTRY}/acme/${image}@${DIGEST}`;
const IMAGES = new Map(['backend', 'frontend', 'sidecar', 'log-router'].map((i) => [i, ref(i)]));

function worlds(t: TestContext) {
  const ecs = ecsWorld(['backend', 'frontend'], { wired: true });
  const ssm = mockClient(SSMClient);
  t.after(() => {
    ecs.restore();
    ssm.restore();
  });
  ecs.on(UpdateServiceCommand, { service: 'backend' }).resolves({ service: justUpdated('backend') });
  ecs.on(UpdateServiceCommand, { service: 'frontend' }).resolves({ service: justUpdated('frontend') });
  return { ecs, ssm };
}

/**
 * DescribeServices of the world: every service steady when the plan reads them (one batched call),
 * then each one's new deployment COMPLETED or FAILED, as given.
 */
function follows(
  ecs: ReturnType<typeof ecsWorld>,
  outcomes: Readonly<Record<string, 'COMPLETED' | 'FAILED'>>,
) {
  const seen = new Set<string>();
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
    // The plan reads every service first (steady); each later read follows one service's deployment.
    if (input.services.some((name) => !seen.has(name))) {
      for (const name of input.services) seen.add(name);
      return { services: input.services.map((name) => steadyService(name)), failures: [] };
    }
    const name = input.services[0]!;
    const family = `acme-${name}`;
    const counts = { running: 2, desired: 2, pending: 0 };
    const after =
      outcomes[name] === 'COMPLETED'
        ? [deployment(`ecs-svc/${name}-new`, 'PRIMARY', tdArn(family, 4), 'COMPLETED', counts)]
        : [
            deployment('ecs-svc/rollback', 'PRIMARY', tdArn(family, 3), 'IN_PROGRESS', counts),
            deployment(`ecs-svc/${name}-new`, 'ACTIVE', tdArn(family, 4), 'FAILED', counts, 'tasks failed'),
          ];
    return { services: [service(name, tdArn(family, 4), after, [])], failures: [] };
  });
}

const options = () => ({
  cluster: CLUSTER,
  services: resolveTargets(WIRING, IMAGES, []),
  timeoutMs: 15 * 60_000,
  pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
  dryRun: false,
  release: { images: IMAGES, plan: releasePlan(WIRING) },
});

const recorded = (ssm: ReturnType<typeof mockClient>) =>
  ssm.commandCalls(PutParameterCommand).map((c) => [c.args[0].input.Name, c.args[0].input.Value]);

describe('deploy records what it released', () => {
  test('every service rolled out: each image is recorded in its release parameter, overwriting the last', async (t) => {
    const { ecs, ssm } = worlds(t);
    follows(ecs, { backend: 'COMPLETED', frontend: 'COMPLETED' });
    const { deps, out } = fakeDeps();

    const code = await runDeploy(options(), { ...deps, ecs: new ECSClient({}), ssm: new SSMClient({}) });

    assert.equal(code, EXIT_CODES.ok);
    assert.deepEqual(recorded(ssm).sort(), [
      ['/acme/release/backend', ref('backend')],
      ['/acme/release/frontend', ref('frontend')],
      ['/acme/release/log-router', ref('log-router')],
      ['/acme/release/sidecar', ref('sidecar')],
    ]);
    assert.ok(ssm.commandCalls(PutParameterCommand).every((c) => c.args[0].input.Overwrite === true));
    assert.equal(out.at(-1), 'deploy: all services rolled out');
  });

  test('the frontend rolls back: only the backend is recorded (the shared sidecar and router still run old on the frontend), and the rejected revision is deregistered', async (t) => {
    const { ecs, ssm } = worlds(t);
    follows(ecs, { backend: 'COMPLETED', frontend: 'FAILED' });
    const { deps, err } = fakeDeps();

    const code = await runDeploy(options(), { ...deps, ecs: new ECSClient({}), ssm: new SSMClient({}) });

    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(recorded(ssm), [['/acme/release/backend', ref('backend')]]);
    assert.deepEqual(
      ecs.commandCalls(DeregisterTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition),
      [tdArn('acme-frontend', 4)],
    );
    assert.match(err[0] ?? '', /^deploy: frontend: rollout FAILED: tasks failed/);
  });

  test('recording fails: the release went out but the command exits 1 saying what an infrastructure change would do', async (t) => {
    const { ecs, ssm } = worlds(t);
    follows(ecs, { backend: 'COMPLETED', frontend: 'COMPLETED' });
    ssm
      .on(PutParameterCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const { deps, err } = fakeDeps();

    const code = await runDeploy(options(), { ...deps, ecs: new ECSClient({}), ssm: new SSMClient({}) });

    assert.equal(code, EXIT_CODES.failed);
    assert.match(
      err.at(-1) ?? '',
      /could not record it: AccessDeniedException: not authorized; an infrastructure change would start from the previous images/,
    );
  });
});

describe('deploy builds from what the infrastructure registered', () => {
  test('the family has a newer ACTIVE revision than the running one (an infrastructure change): rolled out even with the same images', async (t) => {
    const { ecs, ssm } = worlds(t);
    // Revision 5: CloudFormation registered it (new environment), with the released images.
    const infrastructure = {
      ...wiredTaskDefinition('acme-backend', 5),
      taskDefinitionArn: tdArn('acme-backend', 5),
    };
    ecs
      .on(DescribeTaskDefinitionCommand, { taskDefinition: 'acme-backend' })
      .resolves({ taskDefinition: infrastructure, tags: [] });
    follows(ecs, { backend: 'COMPLETED' });
    const running = infrastructure.containerDefinitions!.map((c) => [c.name!, c.image!] as const);
    const same = new Map([['backend', running.find(([n]) => n === 'app')![1]]]);
    const { deps, out } = fakeDeps();

    const code = await runDeploy(
      {
        ...options(),
        services: resolveTargets(WIRING, same, ['backend']),
        release: { images: same, plan: releasePlan(WIRING) },
      },
      { ...deps, ecs: new ECSClient({}), ssm: new SSMClient({}) },
    );

    assert.equal(code, EXIT_CODES.ok);
    assert.equal(
      out[1],
      `  backend: register a new revision of acme-backend from ${tdArn('acme-backend', 5)} (infrastructure changed since the running revision) (now ${tdArn('acme-backend', 3)}), then update the service`,
    );
    // Built from revision 5, so its new environment goes out with the release.
    assert.deepEqual(
      ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input.containerDefinitions,
      infrastructure.containerDefinitions,
    );
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 1);
    assert.deepEqual(recorded(ssm), [['/acme/release/backend', same.get('backend')]]);
  });
});

describe('seed: the first release records, before the platform stack exists', () => {
  function ssmWorld(t: TestContext, values: Record<string, string | undefined>) {
    const ssm = mockClient(SSMClient);
    t.after(() => ssm.restore());
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) {
        ssm
          .on(GetParameterCommand, { Name: name })
          .rejects(new ParameterNotFound({ message: 'ParameterNotFound', $metadata: {} }));
      } else {
        ssm.on(GetParameterCommand, { Name: name }).resolves({ Parameter: { Name: name, Value: value } });
      }
    }
    return ssm;
  }

  test('records the images where nothing is recorded yet, and leaves earlier releases alone', async (t) => {
    const ssm = ssmWorld(t, {
      '/acme/release/backend': RELEASE_NOT_RECORDED,
      '/acme/release/frontend': ref('frontend-older'),
    });

    const result = await cli(
      ['seed', '--image', `backend=${ref('backend')}`, '--image', `frontend=${ref('frontend')}`],
      undefined,
      () => new SSMClient({}),
    );

    assert.deepEqual(result.err, []);
    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(recorded(ssm), [['/acme/release/backend', ref('backend')]]);
    assert.deepEqual(result.out, [
      `seed: backend recorded as ${ref('backend')} in /acme/release/backend`,
      `seed: frontend already released as ${ref('frontend-older')}; left as is`,
    ]);
  });

  test('a record that does not exist: exit 1, the bootstrap stack comes first', async (t) => {
    const ssm = ssmWorld(t, { '/acme/release/backend': undefined });

    const result = await cli(
      ['seed', '--image', `backend=${ref('backend')}`],
      undefined,
      () => new SSMClient({}),
    );

    assert.equal(result.code, EXIT_CODES.failed);
    assert.deepEqual(result.err, [
      'deploy: seed: /acme/release/backend does not exist; deploy the bootstrap stack first (npx cdk deploy "*-bootstrap")',
    ]);
    assert.equal(ssm.commandCalls(PutParameterCommand).length, 0);
  });

  test('an image the declaration does not build is a usage error, before any AWS call', async () => {
    const result = await cli(['seed', '--image', `model=${ref('model')}`]);
    assert.equal(result.code, EXIT_CODES.usage);
    assert.match(result.err[0] ?? '', /^deploy: --image 'model' is not an image of the declaration/);
  });
});
