import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DEFAULT_POLL_INTERVAL_MS, EXIT_CODES } from '../args.ts';
import { runDeploy } from '../deploy.ts';
import type { DeployOptions } from '../targets.ts';
import {
  CLUSTER,
  commandNames,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DIGEST,
  deployment,
  ecsWorld,
  event,
  fakeDeps,
  justUpdated,
  REGISTRY,
  RegisterTaskDefinitionCommand,
  SIDECAR_DIGEST,
  service,
  steadyService,
  taskDefinition,
  tdArn,
  UpdateServiceCommand,
} from './fixtures.ts';

const BACKEND_IMAGE = `${REGISTRY}/acme/backend@${DIGEST}`;
const SIDECAR_IMAGE = `${REGISTRY}/acme/sidecar@${SIDECAR_DIGEST}`;

function options(overrides: Partial<DeployOptions> = {}): DeployOptions {
  return {
    cluster: CLUSTER,
    services: [{ service: 'backend', images: [{ container: 'backend', image: BACKEND_IMAGE }] }],
    timeoutMs: 15 * 60_000,
    pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
    dryRun: false,
    ...overrides,
  };
}

function world(t: TestContext, names: string[]) {
  const ecs = ecsWorld(names);
  t.after(() => ecs.restore());
  return ecs;
}

/** The backend's deployment at some point of its rollout, with the events ECS has recorded so far. */
function backendAt(
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED',
  counts: { running: number; desired: number; pending: number; failed?: number },
  events: ReturnType<typeof event>[],
  reason?: string,
) {
  const deployments = [
    deployment(
      'ecs-svc/backend-new',
      rolloutState === 'FAILED' ? 'ACTIVE' : 'PRIMARY',
      tdArn('acme-backend', 4),
      rolloutState,
      counts,
      reason,
    ),
  ];
  if (rolloutState === 'FAILED') {
    deployments.unshift(
      deployment('ecs-svc/rollback', 'PRIMARY', tdArn('acme-backend', 3), 'IN_PROGRESS', {
        running: 2,
        desired: 2,
        pending: 0,
      }),
    );
  }
  // ECS lists events newest first.
  return {
    services: [service('backend', tdArn('acme-backend', 4), deployments, [...events].reverse())],
    failures: [],
  };
}

const E1 = event('backend-e1', 0, '(service backend) has reached a steady state.');
const E2 = event('backend-e2', 12, '(service backend) has started 2 tasks: (task 1a) (task 2b).');
const E3 = event('backend-e3', 40, '(service backend) has reached a steady state.');
const E_FAIL = event(
  'backend-f',
  30,
  '(service backend) (deployment ecs-svc/backend-new) deployment failed: tasks failed to start.',
);

describe('runDeploy against a mocked ECS', () => {
  test('success: registers the revision, updates the service and follows it to COMPLETED', async (t) => {
    // Prepare
    const ecs = world(t, ['backend']);
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [steadyService('backend')], failures: [] })
      .resolvesOnce(backendAt('IN_PROGRESS', { running: 1, desired: 2, pending: 1 }, [E1, E2]))
      .resolvesOnce(backendAt('IN_PROGRESS', { running: 1, desired: 2, pending: 1 }, [E1, E2]))
      .resolves(backendAt('COMPLETED', { running: 2, desired: 2, pending: 0 }, [E1, E2, E3]));
    ecs.on(UpdateServiceCommand).resolves({ service: justUpdated('backend') });
    const { deps, sleeps, out, err } = fakeDeps();

    // Act
    const code = await runDeploy(
      options({
        services: [
          {
            service: 'backend',
            images: [
              { container: 'backend', image: BACKEND_IMAGE },
              { container: 'anomaly-sidecar', image: SIDECAR_IMAGE },
            ],
          },
        ],
      }),
      { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) },
    );

    // Assess
    assert.equal(code, EXIT_CODES.ok);
    assert.deepEqual(err, []);
    assert.deepEqual(commandNames(ecs), [
      'DescribeServicesCommand',
      'DescribeTaskDefinitionCommand',
      'RegisterTaskDefinitionCommand',
      'UpdateServiceCommand',
      'DescribeServicesCommand',
      'DescribeServicesCommand',
      'DescribeServicesCommand',
    ]);
    assert.deepEqual(ecs.commandCalls(DescribeServicesCommand)[0]?.args[0].input, {
      cluster: CLUSTER,
      services: ['backend'],
    });
    // The family's latest ACTIVE revision (here the running one): what an infrastructure change registered.
    assert.deepEqual(ecs.commandCalls(DescribeTaskDefinitionCommand)[0]?.args[0].input, {
      taskDefinition: 'acme-backend',
      include: ['TAGS'],
    });
    // Everything of the current definition is kept, except the read-only fields; only two images change.
    const current = taskDefinition('acme-backend', 3);
    const [app, sidecar, router] = current.containerDefinitions ?? [];
    assert.deepEqual(ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input, {
      family: 'acme-backend',
      taskRoleArn: 'arn:aws:iam::123456789012:role/acme-backend-task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/acme-backend-execution',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['EC2'],
      cpu: '512',
      memory: '1024',
      volumes: [],
      placementConstraints: [],
      containerDefinitions: [{ ...app, image: BACKEND_IMAGE }, { ...sidecar, image: SIDECAR_IMAGE }, router],
      tags: [{ key: 'platform', value: 'acme' }],
    });
    assert.deepEqual(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input, {
      cluster: CLUSTER,
      service: 'backend',
      taskDefinition: tdArn('acme-backend', 4),
    });
    assert.deepEqual(sleeps, [10_000, 10_000, 10_000]);
    assert.deepEqual(out, [
      'plan for cluster acme:',
      `  backend: register a new revision of acme-backend (now ${tdArn('acme-backend', 3)}), then update the service`,
      `    backend: ${REGISTRY}/acme/backend:old -> ${BACKEND_IMAGE}`,
      `    anomaly-sidecar: ${REGISTRY}/acme/sidecar:old -> ${SIDECAR_IMAGE}`,
      `backend: registered ${tdArn('acme-backend', 4)}`,
      'backend: deployment ecs-svc/backend-new started; following (timeout 15m0s)',
      'backend: IN_PROGRESS running 0/2, pending 0',
      'backend: event 12:00:12 (service backend) has started 2 tasks: (task 1a) (task 2b).',
      'backend: IN_PROGRESS running 1/2, pending 1',
      'backend: event 12:00:40 (service backend) has reached a steady state.',
      'backend: COMPLETED running 2/2, pending 0',
      'backend: rollout COMPLETED in 30s',
      'deploy: all services rolled out',
    ]);
  });

  test('circuit breaker: a FAILED rollout exits 1 and names the rollback', async (t) => {
    const ecs = world(t, ['backend']);
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [steadyService('backend')], failures: [] })
      .resolvesOnce(backendAt('IN_PROGRESS', { running: 0, desired: 2, pending: 2 }, [E1]))
      .resolves(
        backendAt(
          'FAILED',
          { running: 0, desired: 2, pending: 0, failed: 3 },
          [E1, E_FAIL],
          'ECS deployment circuit breaker: tasks failed to start.',
        ),
      );
    ecs.on(UpdateServiceCommand).resolves({ service: justUpdated('backend') });
    const { deps, out, err } = fakeDeps();

    const code = await runDeploy(options(), { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) });

    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(err, [
      `deploy: backend: rollout FAILED: ECS deployment circuit breaker: tasks failed to start.; the circuit breaker rolled back to ${tdArn('acme-backend', 3)} (deployment ecs-svc/rollback)`,
    ]);
    assert.deepEqual(out.slice(-5), [
      'backend: IN_PROGRESS running 0/2, pending 0',
      'backend: IN_PROGRESS running 0/2, pending 2',
      'backend: event 12:00:30 (service backend) (deployment ecs-svc/backend-new) deployment failed: tasks failed to start.',
      'backend: FAILED running 0/2, pending 0, 3 failed',
      `backend: deregistered ${tdArn('acme-backend', 4)} (rolled back, never to be started again)`,
    ]);
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 1);
  });

  test('timeout: stops waiting after --timeout, exits 124, polls at the interval', async (t) => {
    const ecs = world(t, ['backend']);
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [steadyService('backend')], failures: [] })
      .resolves(backendAt('IN_PROGRESS', { running: 1, desired: 2, pending: 1 }, [E1]));
    ecs.on(UpdateServiceCommand).resolves({ service: justUpdated('backend') });
    const { deps, sleeps, out, err } = fakeDeps();

    const code = await runDeploy(options({ timeoutMs: 45_000, pollIntervalMs: 10_000 }), {
      ...deps,
      ecs: new ECSClient({ region: 'eu-west-1' }),
    });

    assert.equal(code, EXIT_CODES.timeout);
    // The last pause is shortened so the command gives up exactly at the deadline.
    assert.deepEqual(sleeps, [10_000, 10_000, 10_000, 10_000, 5_000]);
    assert.equal(ecs.commandCalls(DescribeServicesCommand).length, 1 + 5);
    assert.deepEqual(err, [
      'deploy: backend: rollout did not complete within 45s (last: IN_PROGRESS running 1/2, pending 1); ECS keeps deploying and its circuit breaker may still roll back',
    ]);
    // One progress line per change, not per poll.
    assert.deepEqual(
      out.filter((l) => l.startsWith('backend: IN_PROGRESS')),
      ['backend: IN_PROGRESS running 0/2, pending 0', 'backend: IN_PROGRESS running 1/2, pending 1'],
    );
  });

  test('throttling then success: throttled calls are retried with backoff and the same input', async (t) => {
    const ecs = world(t, ['backend']);
    const throttled = () =>
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [steadyService('backend')], failures: [] })
      .rejectsOnce(throttled())
      .resolves(backendAt('COMPLETED', { running: 2, desired: 2, pending: 0 }, [E1, E3]));
    ecs
      .on(RegisterTaskDefinitionCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ taskDefinition: taskDefinition('acme-backend', 4) });
    ecs.on(UpdateServiceCommand).resolves({ service: justUpdated('backend') });
    const { deps, sleeps, out, err } = fakeDeps();

    const code = await runDeploy(options(), { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) });

    assert.equal(code, EXIT_CODES.ok);
    assert.deepEqual(err, []);
    const registers = ecs.commandCalls(RegisterTaskDefinitionCommand).map((c) => c.args[0].input);
    assert.equal(registers.length, 3);
    assert.deepEqual(registers[1], registers[0]);
    assert.deepEqual(registers[2], registers[0]);
    // random() = 0: half of 1s, then half of 2s; then the poll interval, then 500ms for the throttled poll.
    assert.deepEqual(sleeps, [500, 1000, 10_000, 500]);
    assert.deepEqual(
      out.filter((l) => l.includes('throttled')),
      [
        'RegisterTaskDefinition throttled (ThrottlingException); retrying in 500ms (attempt 2)',
        'RegisterTaskDefinition throttled (ThrottlingException); retrying in 1s (attempt 3)',
        'DescribeServices throttled (ThrottlingException); retrying in 500ms (attempt 2)',
      ],
    );
  });

  test('throttling that never ends gives up after the policy and exits 1', async (t) => {
    const ecs = world(t, ['backend']);
    ecs.on(DescribeServicesCommand).resolves({ services: [steadyService('backend')], failures: [] });
    ecs
      .on(RegisterTaskDefinitionCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const { deps, sleeps, err } = fakeDeps();

    const code = await runDeploy(options(), {
      ...deps,
      ecs: new ECSClient({ region: 'eu-west-1' }),
      retryPolicy: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    });

    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(sleeps, [50, 100]);
    assert.equal(ecs.commandCalls(RegisterTaskDefinitionCommand).length, 3);
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 0);
    assert.deepEqual(err, ['deploy: backend: ThrottlingException: Rate exceeded']);
  });

  test('unknown service: exits 1 before any mutating call', async (t) => {
    const ecs = world(t, ['backend']);
    ecs.on(DescribeServicesCommand).resolves({
      services: [steadyService('backend')],
      failures: [{ arn: 'arn:aws:ecs:eu-west-1:123456789012:service/acme/payments', reason: 'MISSING' }],
    });
    const { deps, out, err } = fakeDeps();

    const code = await runDeploy(
      options({
        services: [
          { service: 'backend', images: [{ container: 'backend', image: BACKEND_IMAGE }] },
          {
            service: 'payments',
            images: [{ container: 'payments', image: `${REGISTRY}/acme/payments:abc` }],
          },
        ],
      }),
      { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) },
    );

    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(commandNames(ecs), ['DescribeServicesCommand']);
    assert.deepEqual(ecs.commandCalls(DescribeServicesCommand)[0]?.args[0].input, {
      cluster: CLUSTER,
      services: ['backend', 'payments'],
    });
    assert.deepEqual(err, ["deploy: cannot plan: service 'payments' not found in cluster 'acme' (MISSING)"]);
    assert.deepEqual(out, []);
  });

  test('an INACTIVE (deleted) service is refused', async (t) => {
    const ecs = world(t, ['backend']);
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ ...steadyService('backend'), status: 'INACTIVE' }] });
    const { deps, err } = fakeDeps();

    const code = await runDeploy(options(), { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) });

    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(err, [
      "deploy: cannot plan: service 'backend' in cluster 'acme' is INACTIVE, not ACTIVE",
    ]);
    assert.deepEqual(commandNames(ecs), ['DescribeServicesCommand']);
  });

  test('unknown container: exits 1 naming the containers, nothing registered', async (t) => {
    const ecs = world(t, ['backend']);
    ecs.on(DescribeServicesCommand).resolves({ services: [steadyService('backend')], failures: [] });
    const { deps, err } = fakeDeps();

    const code = await runDeploy(
      options({ services: [{ service: 'backend', images: [{ container: 'api', image: BACKEND_IMAGE }] }] }),
      { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) },
    );

    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(commandNames(ecs), ['DescribeServicesCommand', 'DescribeTaskDefinitionCommand']);
    assert.deepEqual(err, [
      `deploy: cannot plan: task definition ${tdArn('acme-backend', 3)} of service 'backend' has no container 'api' (containers: backend, anomaly-sidecar, log-router), which the declaration's wiring names; apply the declaration (cdk deploy) before rolling out images`,
    ]);
  });

  test('a missing cluster or denied access is reported without a stack trace', async (t) => {
    const ecs = world(t, []);
    ecs
      .on(DescribeServicesCommand)
      .rejects(Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' }));
    const { deps, err } = fakeDeps();

    const code = await runDeploy(options(), { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) });

    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(err, ['deploy: cannot plan: ClusterNotFoundException: Cluster not found.']);
  });

  test('dry run: prints the plan and makes only read-only calls', async (t) => {
    const ecs = world(t, ['backend', 'frontend']);
    ecs.on(DescribeServicesCommand).resolves({
      services: [steadyService('backend'), steadyService('frontend')],
      failures: [],
    });
    const { deps, out, err } = fakeDeps();
    const frontendImage = `${REGISTRY}/acme/frontend@${DIGEST}`;

    const code = await runDeploy(
      options({
        dryRun: true,
        services: [
          { service: 'backend', images: [{ container: 'backend', image: BACKEND_IMAGE }] },
          { service: 'frontend', images: [{ container: 'frontend', image: frontendImage }] },
        ],
      }),
      { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) },
    );

    assert.equal(code, EXIT_CODES.ok);
    assert.deepEqual(err, []);
    assert.deepEqual(commandNames(ecs), [
      'DescribeServicesCommand',
      'DescribeTaskDefinitionCommand',
      'DescribeTaskDefinitionCommand',
    ]);
    assert.deepEqual(out, [
      'plan for cluster acme:',
      `  backend: register a new revision of acme-backend (now ${tdArn('acme-backend', 3)}), then update the service`,
      `    backend: ${REGISTRY}/acme/backend:old -> ${BACKEND_IMAGE}`,
      `  frontend: register a new revision of acme-frontend (now ${tdArn('acme-frontend', 3)}), then update the service`,
      `    frontend: ${REGISTRY}/acme/frontend:old -> ${frontendImage}`,
      'dry run: nothing registered or updated',
    ]);
  });

  test('a service already running the images is skipped, so a re-run is a no-op', async (t) => {
    const ecs = world(t, ['backend']);
    ecs.on(DescribeServicesCommand).resolves({ services: [steadyService('backend')], failures: [] });
    const { deps, out } = fakeDeps();

    const code = await runDeploy(
      options({
        services: [
          { service: 'backend', images: [{ container: 'backend', image: `${REGISTRY}/acme/backend:old` }] },
        ],
      }),
      { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) },
    );

    assert.equal(code, EXIT_CODES.ok);
    assert.deepEqual(commandNames(ecs), ['DescribeServicesCommand', 'DescribeTaskDefinitionCommand']);
    assert.deepEqual(out, [
      'plan for cluster acme:',
      `  backend: already running the requested images (${tdArn('acme-backend', 3)}); skip`,
      'deploy: all services rolled out',
    ]);
  });

  test('services roll out in order and a failure leaves the later ones untouched', async (t) => {
    const ecs = world(t, ['backend', 'frontend']);
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [steadyService('backend'), steadyService('frontend')], failures: [] })
      .resolves(
        backendAt(
          'FAILED',
          { running: 0, desired: 2, pending: 0, failed: 2 },
          [E1, E_FAIL],
          'tasks failed to start',
        ),
      );
    ecs.on(UpdateServiceCommand).resolves({ service: justUpdated('backend') });
    const { deps, err } = fakeDeps();

    const code = await runDeploy(
      options({
        services: [
          { service: 'backend', images: [{ container: 'backend', image: BACKEND_IMAGE }] },
          {
            service: 'frontend',
            images: [{ container: 'frontend', image: `${REGISTRY}/acme/frontend:new` }],
          },
        ],
      }),
      { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) },
    );

    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(
      ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.service),
      ['backend'],
    );
    assert.equal(ecs.commandCalls(RegisterTaskDefinitionCommand).length, 1);
    assert.equal(err[1], 'deploy: not deployed: frontend');
  });

  test('a deployment superseded by another deploy is a failure, not a success', async (t) => {
    const ecs = world(t, ['backend']);
    const other = deployment('ecs-svc/someone-else', 'PRIMARY', tdArn('acme-backend', 5), 'IN_PROGRESS', {
      running: 0,
      desired: 2,
      pending: 0,
    });
    const ours = deployment('ecs-svc/backend-new', 'ACTIVE', tdArn('acme-backend', 4), 'IN_PROGRESS', {
      running: 1,
      desired: 2,
      pending: 0,
    });
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [steadyService('backend')], failures: [] })
      .resolves({ services: [service('backend', tdArn('acme-backend', 5), [other, ours], [E1])] });
    ecs.on(UpdateServiceCommand).resolves({ service: justUpdated('backend') });
    const { deps, err } = fakeDeps();

    const code = await runDeploy(options(), { ...deps, ecs: new ECSClient({ region: 'eu-west-1' }) });

    assert.equal(code, EXIT_CODES.failed);
    assert.deepEqual(err, [
      `deploy: backend: deployment ecs-svc/backend-new was superseded by ecs-svc/someone-else (${tdArn('acme-backend', 5)}) before it completed`,
    ]);
  });
});
