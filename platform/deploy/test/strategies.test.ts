import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { Service, ServiceDeployment } from '@aws-sdk/client-ecs';
import { EXIT_CODES } from '../args.ts';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DIGEST,
  ecsWorld,
  event,
  justUpdated,
  REGISTRY,
  sdArn,
  serviceDeployment,
  steadyService,
  tdArn,
  UpdateServiceCommand,
} from './fixtures.ts';
import { cli } from './run-cli.ts';

const FRONTEND = `${REGISTRY}/acme/frontend@${DIGEST}`;
const NEW = sdArn('frontend', 'Nw4');

/** The frontend before the deploy: steady, its last service deployment SUCCESSFUL, canary declared. */
function canaryService(): Service {
  return {
    ...steadyService('frontend'),
    currentServiceDeployment: sdArn('frontend', 'Old3'),
    deploymentConfiguration: {
      strategy: 'CANARY',
      canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 5 },
    },
  };
}

function world(t: TestContext, deployments: ServiceDeployment[]) {
  const ecs = ecsWorld(['frontend'], { wired: true });
  t.after(() => ecs.restore());
  ecs
    .on(DescribeServicesCommand)
    .resolvesOnce({ services: [canaryService()], failures: [] })
    .resolves({
      services: [
        {
          ...justUpdated('frontend'),
          events: [
            event('f2', 20, '(service frontend) has started 2 tasks: (task 9a) (task 9b).'),
            event('frontend-e1', 0, 'old'),
          ],
        },
      ],
    });
  ecs.on(UpdateServiceCommand).resolves({
    service: {
      ...justUpdated('frontend'),
      currentServiceDeployment: NEW,
      deploymentConfiguration: canaryService().deploymentConfiguration,
    },
  });
  const describe = ecs.on(DescribeServiceDeploymentsCommand, { serviceDeploymentArns: [NEW] });
  for (const d of deployments.slice(0, -1)) describe.resolvesOnce({ serviceDeployments: [d] });
  describe.resolves({ serviceDeployments: deployments.slice(-1) });
  return ecs;
}

const at = (
  status: NonNullable<ServiceDeployment['status']>,
  stage: ServiceDeployment['lifecycleStage'],
  target: Parameters<typeof serviceDeployment>[4],
  extra: Partial<ServiceDeployment> = {},
) => serviceDeployment('frontend', 'Nw4', status, stage, target, extra);

const gateHook = (status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED') => ({
  lifecycleHookDetails: [
    {
      hookId: 'gate',
      targetType: 'AWS_LAMBDA' as const,
      targetArn: 'arn:aws:lambda:eu-west-1:123456789012:function:acme-deployment-gate',
      status,
    },
  ],
});

describe('deploy follows a CANARY service deployment stage by stage', () => {
  test('a good canary: every stage printed once, then COMPLETED; exit 0 (the progress output a person sees)', async (t) => {
    const ecs = world(t, [
      at('PENDING', 'RECONCILE_SERVICE', { running: 0, requested: 2 }),
      at('IN_PROGRESS', 'SCALE_UP', { running: 1, requested: 2, pending: 1 }),
      at('IN_PROGRESS', 'SCALE_UP', { running: 1, requested: 2, pending: 1 }),
      at('IN_PROGRESS', 'PRODUCTION_TRAFFIC_SHIFT', { running: 2, requested: 2, production: 10 }),
      at('IN_PROGRESS', 'PRODUCTION_TRAFFIC_SHIFT', { running: 2, requested: 2, production: 100 }),
      at(
        'IN_PROGRESS',
        'POST_PRODUCTION_TRAFFIC_SHIFT',
        { running: 2, requested: 2, production: 100 },
        gateHook('IN_PROGRESS'),
      ),
      at('IN_PROGRESS', 'BAKE_TIME', { running: 2, requested: 2, production: 100 }, gateHook('SUCCEEDED')),
      at('SUCCESSFUL', 'CLEAN_UP', { running: 2, requested: 2, production: 100 }),
    ]);

    const result = await cli(['deploy', '--image', `frontend=${FRONTEND}`, '--poll-interval', '30s']);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(result.err, []);
    assert.deepEqual(result.out, [
      'plan for cluster acme:',
      `  frontend: register a new revision of acme-frontend (now ${tdArn('acme-frontend', 3)}), then update the service`,
      `    app: ${REGISTRY}/acme/frontend:old -> ${FRONTEND}`,
      `frontend: registered ${tdArn('acme-frontend', 4)}`,
      'frontend: deployment frontend/Nw4 started (CANARY); following (timeout 15m0s)',
      'frontend: PENDING RECONCILE_SERVICE running 0/2, pending 0',
      'frontend: event 12:00:20 (service frontend) has started 2 tasks: (task 9a) (task 9b).',
      'frontend: IN_PROGRESS SCALE_UP running 1/2, pending 1',
      'frontend: IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT running 2/2, pending 0, production traffic 10% new',
      'frontend: IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT running 2/2, pending 0, production traffic 100% new',
      'frontend: IN_PROGRESS POST_PRODUCTION_TRAFFIC_SHIFT running 2/2, pending 0, production traffic 100% new, hook IN_PROGRESS',
      'frontend: IN_PROGRESS BAKE_TIME running 2/2, pending 0, production traffic 100% new',
      'frontend: SUCCESSFUL CLEAN_UP running 2/2, pending 0, production traffic 100% new',
      'frontend: rollout COMPLETED in 3m30s',
      'release: frontend recorded in /acme/release/frontend',
      'deploy: all services rolled out',
    ]);
    assert.deepEqual(result.sleeps, Array(7).fill(30_000));
    assert.equal(ecs.commandCalls(DescribeServiceDeploymentsCommand).length, 8);
  });

  test('the anomaly gate answers FAILED: ECS rolls back, the command exits 1 with the reason', async (t) => {
    world(t, [
      at(
        'IN_PROGRESS',
        'POST_TEST_TRAFFIC_SHIFT',
        { running: 2, requested: 2, test: 100, production: 0 },
        gateHook('IN_PROGRESS'),
      ),
      at(
        'ROLLBACK_IN_PROGRESS',
        'TEST_TRAFFIC_SHIFT',
        { running: 2, requested: 2, test: 0, production: 0 },
        gateHook('FAILED'),
      ),
      at(
        'ROLLBACK_SUCCESSFUL',
        undefined,
        { running: 0, requested: 0 },
        {
          ...gateHook('FAILED'),
          rollback: {
            reason:
              'Lifecycle hook arn:aws:lambda:eu-west-1:123456789012:function:acme-deployment-gate returned FAILED',
          },
        },
      ),
    ]);

    const result = await cli(['deploy', '--image', `frontend=${FRONTEND}`]);

    assert.equal(result.code, EXIT_CODES.failed);
    assert.deepEqual(result.err, [
      'deploy: frontend: rolled back: Lifecycle hook arn:aws:lambda:eu-west-1:123456789012:function:acme-deployment-gate returned FAILED; the service runs arn:aws:ecs:eu-west-1:123456789012:service-revision/acme/frontend/r3 again',
    ]);
    assert.deepEqual(
      result.out.filter((l) => / (IN_PROGRESS|ROLLBACK_\w+) /.test(l)),
      [
        'frontend: IN_PROGRESS POST_TEST_TRAFFIC_SHIFT running 2/2, pending 0, test traffic 100% new, production traffic 0% new, hook IN_PROGRESS',
        'frontend: ROLLBACK_IN_PROGRESS TEST_TRAFFIC_SHIFT running 2/2, pending 0, test traffic 0% new, production traffic 0% new',
        'frontend: ROLLBACK_SUCCESSFUL running 0/0, pending 0',
      ],
    );
  });

  test('a pause hook: the command says once how to answer it, and keeps following', async (t) => {
    const paused = {
      lifecycleHookDetails: [
        {
          hookId: 'pause-1',
          targetType: 'PAUSE' as const,
          status: 'AWAITING_ACTION' as const,
          expiresAt: new Date('2026-01-01T13:00:00Z'),
          timeoutAction: 'ROLLBACK' as const,
        },
      ],
    };
    world(t, [
      at('IN_PROGRESS', 'POST_TEST_TRAFFIC_SHIFT', { running: 2, requested: 2, test: 100 }, paused),
      at('IN_PROGRESS', 'POST_TEST_TRAFFIC_SHIFT', { running: 2, requested: 2, test: 100 }, paused),
      at('SUCCESSFUL', 'CLEAN_UP', { running: 2, requested: 2, production: 100 }),
    ]);

    const result = await cli(['deploy', '--image', `frontend=${FRONTEND}`]);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(
      result.out.filter((l) => l.includes('paused')),
      [
        'frontend: paused at POST_TEST_TRAFFIC_SHIFT until 13:00:00 (then ROLLBACK); berth deploy continue --service frontend (or abort)',
      ],
    );
    assert.ok(
      result.out.includes(
        'frontend: IN_PROGRESS POST_TEST_TRAFFIC_SHIFT running 2/2, pending 0, test traffic 100% new, pause hook AWAITING_ACTION',
      ),
    );
  });

  test('a new deployment ECS does not report yet is waited for, not taken for a failure', async (t) => {
    const ecs = world(t, [at('SUCCESSFUL', 'CLEAN_UP', { running: 2, requested: 2 })]);
    ecs
      .on(DescribeServiceDeploymentsCommand, { serviceDeploymentArns: [NEW] })
      .resolvesOnce({ serviceDeployments: [], failures: [{ arn: NEW, reason: 'MISSING' }] })
      .resolves({ serviceDeployments: [at('SUCCESSFUL', 'CLEAN_UP', { running: 2, requested: 2 })] });

    const result = await cli(['deploy', '--image', `frontend=${FRONTEND}`]);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.ok(result.out.includes('frontend: waiting for ECS to report deployment frontend/Nw4'));
  });

  test('a deployment that never finishes: exit 124 at --timeout, the last stage named', async (t) => {
    world(t, [at('IN_PROGRESS', 'BAKE_TIME', { running: 2, requested: 2, production: 100 })]);

    const result = await cli([
      'deploy',
      '--image',
      `frontend=${FRONTEND}`,
      '--timeout',
      '60s',
      '--poll-interval',
      '25s',
    ]);

    assert.equal(result.code, EXIT_CODES.timeout);
    assert.deepEqual(result.sleeps, [25_000, 25_000, 10_000]);
    assert.deepEqual(result.err, [
      'deploy: frontend: rollout did not complete within 1m0s (last: IN_PROGRESS BAKE_TIME running 2/2, pending 0, production traffic 100% new); ECS keeps deploying and its circuit breaker may still roll back',
    ]);
  });

  test('the service deployment current before the update is never followed as the new one', async (t) => {
    const ecs = world(t, [at('SUCCESSFUL', 'CLEAN_UP', { running: 2, requested: 2 })]);
    // Eventual consistency: UpdateService answers with the old current deployment and a PRIMARY deployment.
    ecs.on(UpdateServiceCommand).resolves({
      service: { ...justUpdated('frontend'), currentServiceDeployment: sdArn('frontend', 'Old3') },
    });
    const completed = { ...justUpdated('frontend').deployments?.[0], rolloutState: 'COMPLETED' as const };
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [canaryService()], failures: [] })
      .resolves({ services: [{ ...justUpdated('frontend'), deployments: [completed] }] });

    const result = await cli(['deploy', '--image', `frontend=${FRONTEND}`]);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.equal(
      ecs.commandCalls(DescribeServiceDeploymentsCommand).length,
      0,
      'followed through the rolling deployment instead',
    );
    assert.ok(
      result.out.includes('frontend: deployment ecs-svc/frontend-new started; following (timeout 15m0s)'),
    );
  });
});
