import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { Service, ServiceDeployment } from '@aws-sdk/client-ecs';
import { EXIT_CODES } from '../args.ts';
import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ecsWorld,
  justUpdated,
  ListServiceDeploymentsCommand,
  StopServiceDeploymentCommand,
  sdArn,
  serviceDeployment,
  steadyService,
} from './fixtures.ts';
import { cli } from './run-cli.ts';

const ARN = sdArn('frontend', 'Nw4');

function world(t: TestContext) {
  const ecs = ecsWorld(['backend', 'frontend'], { wired: true });
  t.after(() => ecs.restore());
  return ecs;
}

const sd = (
  status: NonNullable<ServiceDeployment['status']>,
  stage: ServiceDeployment['lifecycleStage'],
  extra: Partial<ServiceDeployment> = {},
) => serviceDeployment('frontend', 'Nw4', status, stage, { running: 2, requested: 2, production: 10 }, extra);

/** ListServiceDeployments finds the frontend's deployment in progress; DescribeServiceDeployments answers in turn. */
function inProgress(ecs: ReturnType<typeof world>, answers: ServiceDeployment[]) {
  ecs.on(ListServiceDeploymentsCommand, { service: 'frontend' }).resolves({
    serviceDeployments: [{ serviceDeploymentArn: ARN, status: 'IN_PROGRESS', createdAt: new Date() }],
  });
  ecs.on(ListServiceDeploymentsCommand, { service: 'backend' }).resolves({ serviceDeployments: [] });
  const describe = ecs.on(DescribeServiceDeploymentsCommand, { serviceDeploymentArns: [ARN] });
  for (const a of answers.slice(0, -1)) describe.resolvesOnce({ serviceDeployments: [a] });
  describe.resolves({ serviceDeployments: answers.slice(-1) });
}

const PAUSED = {
  lifecycleHookDetails: [
    { hookId: 'pause-1', targetType: 'PAUSE' as const, status: 'AWAITING_ACTION' as const },
  ],
};

describe('rollback', () => {
  test('StopServiceDeployment ROLLBACK on the deployment in progress, followed to ROLLBACK_SUCCESSFUL: exit 0', async (t) => {
    const ecs = world(t);
    inProgress(ecs, [
      sd('IN_PROGRESS', 'BAKE_TIME'),
      sd('ROLLBACK_IN_PROGRESS', 'PRODUCTION_TRAFFIC_SHIFT'),
      sd('ROLLBACK_SUCCESSFUL', undefined),
    ]);
    ecs.on(StopServiceDeploymentCommand).resolves({ serviceDeploymentArn: ARN });

    const result = await cli(['rollback', '--service', 'frontend']);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(ecs.commandCalls(ListServiceDeploymentsCommand)[0]?.args[0].input, {
      cluster: 'acme',
      service: 'frontend',
      status: ['PENDING', 'IN_PROGRESS'],
      maxResults: 5,
    });
    assert.deepEqual(ecs.commandCalls(StopServiceDeploymentCommand)[0]?.args[0].input, {
      serviceDeploymentArn: ARN,
      stopType: 'ROLLBACK',
    });
    assert.deepEqual(result.out, [
      'frontend: rollback of frontend/Nw4 requested',
      'frontend: ROLLBACK_IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT running 2/2, pending 0, production traffic 10% new',
      'frontend: ROLLBACK_SUCCESSFUL running 2/2, pending 0, production traffic 10% new',
      'frontend: rolled back',
    ]);
  });

  test('without --service: services with nothing in progress are passed over (callers first)', async (t) => {
    const ecs = world(t);
    inProgress(ecs, [sd('IN_PROGRESS', 'BAKE_TIME')]);
    ecs.on(StopServiceDeploymentCommand).resolves({ serviceDeploymentArn: ARN });

    const result = await cli(['rollback', '--no-wait']);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(
      ecs.commandCalls(ListServiceDeploymentsCommand).map((c) => c.args[0].input.service),
      ['frontend', 'backend'],
    );
    assert.equal(ecs.commandCalls(StopServiceDeploymentCommand).length, 1);
  });

  test('nothing in progress: exit 1', async (t) => {
    const ecs = world(t);
    ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [] });

    const result = await cli(['rollback', '--service', 'backend']);

    assert.equal(result.code, EXIT_CODES.failed);
    assert.deepEqual(result.err, ['deploy: backend: no deployment in progress to roll back']);
  });

  test('the rollback itself fails: exit 1 with the reason', async (t) => {
    const ecs = world(t);
    inProgress(ecs, [
      sd('IN_PROGRESS', 'BAKE_TIME'),
      sd('ROLLBACK_FAILED', undefined, { statusReason: 'tasks of the old revision failed to start' }),
    ]);
    ecs.on(StopServiceDeploymentCommand).resolves({ serviceDeploymentArn: ARN });

    const result = await cli(['rollback', '--service', 'frontend']);

    assert.equal(result.code, EXIT_CODES.failed);
    assert.deepEqual(result.err, [
      'deploy: frontend: rollback FAILED: tasks of the old revision failed to start; the service may run both revisions, look at it in the console',
    ]);
  });

  test('a rollback that does not finish in time: exit 124', async (t) => {
    const ecs = world(t);
    inProgress(ecs, [sd('IN_PROGRESS', 'BAKE_TIME'), sd('ROLLBACK_IN_PROGRESS', 'PRODUCTION_TRAFFIC_SHIFT')]);
    ecs.on(StopServiceDeploymentCommand).resolves({ serviceDeploymentArn: ARN });

    const result = await cli(['rollback', '--service', 'frontend', '--timeout', '30s']);

    assert.equal(result.code, EXIT_CODES.timeout);
    assert.deepEqual(result.sleeps, [10_000, 10_000, 10_000]);
    assert.match(
      result.err[0] ?? '',
      /^deploy: frontend: not finished within 30s \(last: ROLLBACK_IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT/,
    );
  });
});

describe('continue and abort (pause hooks)', () => {
  test('continue: ContinueServiceDeployment CONTINUE with the paused hook id, followed to SUCCESSFUL: exit 0', async (t) => {
    const ecs = world(t);
    inProgress(ecs, [
      sd('IN_PROGRESS', 'POST_TEST_TRAFFIC_SHIFT', PAUSED),
      sd('IN_PROGRESS', 'PRODUCTION_TRAFFIC_SHIFT'),
      sd('SUCCESSFUL', 'CLEAN_UP'),
    ]);
    ecs.on(ContinueServiceDeploymentCommand).resolves({ serviceDeploymentArn: ARN });

    const result = await cli(['continue', '--service', 'frontend']);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(ecs.commandCalls(ContinueServiceDeploymentCommand)[0]?.args[0].input, {
      serviceDeploymentArn: ARN,
      hookId: 'pause-1',
      action: 'CONTINUE',
    });
    assert.equal(result.out[0], 'frontend: frontend/Nw4 continued at POST_TEST_TRAFFIC_SHIFT');
    assert.equal(result.out.at(-1), 'frontend: deployed');
  });

  test('abort: the same call with ROLLBACK; --no-wait returns once ECS accepted it', async (t) => {
    const ecs = world(t);
    inProgress(ecs, [sd('IN_PROGRESS', 'POST_TEST_TRAFFIC_SHIFT', PAUSED)]);
    ecs.on(ContinueServiceDeploymentCommand).resolves({ serviceDeploymentArn: ARN });

    const result = await cli(['abort', '--service', 'frontend', '--no-wait']);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.equal(ecs.commandCalls(ContinueServiceDeploymentCommand)[0]?.args[0].input.action, 'ROLLBACK');
    assert.deepEqual(result.out, [
      'frontend: frontend/Nw4 rollback requested at POST_TEST_TRAFFIC_SHIFT',
      'frontend: rollback requested',
    ]);
  });

  test('continue, and the deployment is then rolled back (an alarm): exit 1', async (t) => {
    const ecs = world(t);
    inProgress(ecs, [
      sd('IN_PROGRESS', 'POST_TEST_TRAFFIC_SHIFT', PAUSED),
      sd('ROLLBACK_SUCCESSFUL', undefined, {
        rollback: { reason: 'CloudWatch alarm acme-frontend-5xx in ALARM' },
      }),
    ]);
    ecs.on(ContinueServiceDeploymentCommand).resolves({ serviceDeploymentArn: ARN });

    const result = await cli(['continue', '--service', 'frontend']);

    assert.equal(result.code, EXIT_CODES.failed);
    assert.match(
      result.err[0] ?? '',
      /^deploy: frontend: rolled back: CloudWatch alarm acme-frontend-5xx in ALARM/,
    );
  });

  test('no paused hook: exit 1, nothing sent', async (t) => {
    const ecs = world(t);
    inProgress(ecs, [sd('IN_PROGRESS', 'BAKE_TIME')]);

    const result = await cli(['continue', '--service', 'frontend']);

    assert.equal(result.code, EXIT_CODES.failed);
    assert.deepEqual(result.err, ['deploy: frontend: no pause hook is waiting (IN_PROGRESS at BAKE_TIME)']);
    assert.equal(ecs.commandCalls(ContinueServiceDeploymentCommand).length, 0);
  });
});

describe('wait --until', () => {
  const service = (extra: Partial<Service>): Service => ({
    ...justUpdated('frontend'),
    currentServiceDeployment: ARN,
    ...extra,
  });

  test('a stage: exit 0 once the deployment reached it', async (t) => {
    const ecs = world(t);
    ecs.on(DescribeServicesCommand).resolves({ services: [service({})] });
    ecs
      .on(DescribeServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [sd('IN_PROGRESS', 'SCALE_UP')] })
      .resolves({ serviceDeployments: [sd('IN_PROGRESS', 'PRODUCTION_TRAFFIC_SHIFT')] });

    const result = await cli(['wait', '--service', 'frontend', '--until', 'TEST_TRAFFIC_SHIFT']);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.equal(result.out.at(-1), 'frontend: reached TEST_TRAFFIC_SHIFT');
    assert.deepEqual(result.sleeps, [10_000]);
  });

  test('deployed: exit 1 when the deployment rolled back instead', async (t) => {
    const ecs = world(t);
    ecs.on(DescribeServicesCommand).resolves({ services: [service({})] });
    ecs.on(DescribeServiceDeploymentsCommand).resolves({
      serviceDeployments: [sd('ROLLBACK_SUCCESSFUL', undefined, { rollback: { reason: 'circuit breaker' } })],
    });

    const result = await cli(['wait', '--service', 'frontend', '--until', 'deployed']);

    assert.equal(result.code, EXIT_CODES.failed);
    assert.match(result.err[0] ?? '', /^deploy: frontend: rolled back: circuit breaker/);
  });

  test('stable: every service, callees first, one deadline: exit 0', async (t) => {
    const ecs = world(t);
    const steady = (name: string): Service => ({
      ...steadyService(name),
      runningCount: 2,
      desiredCount: 2,
      pendingCount: 0,
    });
    ecs
      .on(DescribeServicesCommand, { services: ['frontend'] })
      .resolvesOnce({
        services: [{ ...justUpdated('frontend'), runningCount: 3, desiredCount: 2, pendingCount: 1 }],
      })
      .resolves({ services: [steady('frontend')] });
    ecs.on(DescribeServicesCommand, { services: ['backend'] }).resolves({ services: [steady('backend')] });

    const result = await cli(['wait', '--until', 'stable']);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(result.out, [
      'backend: running 2/2, pending 0, 1 deployment(s)',
      'backend: stable',
      'frontend: running 3/2, pending 1, 2 deployment(s)',
      'frontend: running 2/2, pending 0, 1 deployment(s)',
      'frontend: stable',
    ]);
  });

  test('not reached in time: exit 124 naming the last state', async (t) => {
    const ecs = world(t);
    ecs.on(DescribeServicesCommand).resolves({ services: [service({})] });
    ecs
      .on(DescribeServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [sd('IN_PROGRESS', 'BAKE_TIME')] });

    const result = await cli(['wait', '--service', 'frontend', '--until', 'deployed', '--timeout', '20s']);

    assert.equal(result.code, EXIT_CODES.timeout);
    assert.deepEqual(result.err, [
      'deploy: frontend: not deployed within 20s (last: IN_PROGRESS BAKE_TIME running 2/2, pending 0, production traffic 10% new)',
    ]);
  });

  test('deployed without any service deployment reported: exit 1 rather than waiting for ever', async (t) => {
    const ecs = world(t);
    ecs.on(DescribeServicesCommand).resolves({ services: [steadyService('frontend')] });

    const result = await cli(['wait', '--service', 'frontend', '--until', 'deployed']);

    assert.equal(result.code, EXIT_CODES.failed);
    assert.deepEqual(result.err, ['deploy: frontend: ECS reports no service deployment to wait for']);
  });
});
