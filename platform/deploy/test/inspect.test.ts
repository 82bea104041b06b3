import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { ContainerDefinition, Service, ServiceDeployment, TaskDefinition } from '@aws-sdk/client-ecs';
import { EXIT_CODES } from '../args.ts';
import { diffDefinitions, normalizeTaskDefinition } from '../task-definition-diff.ts';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DIGEST,
  ecsWorld,
  justUpdated,
  REGISTRY,
  RegisterTaskDefinitionCommand,
  sdArn,
  serviceDeployment,
  steadyService,
  UpdateServiceCommand,
  wiredTaskDefinition,
} from './fixtures.ts';
import { cli, WIRING } from './run-cli.ts';

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

describe('status', () => {
  test('per service: counts, the current deployment with its stage, the strategy; exit 0', async (t) => {
    const ecs = world(t);
    const frontend: Service = {
      ...justUpdated('frontend'),
      runningCount: 4,
      desiredCount: 2,
      pendingCount: 0,
      currentServiceDeployment: ARN,
      deploymentConfiguration: { strategy: 'CANARY' },
    };
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        { ...steadyService('backend'), runningCount: 2, desiredCount: 2, pendingCount: 0 },
        frontend,
      ],
    });
    ecs
      .on(DescribeServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [sd('IN_PROGRESS', 'PRODUCTION_TRAFFIC_SHIFT')] });

    const result = await cli(['status']);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.deepEqual(result.out, [
      'status of cluster acme:',
      '  backend: running 2/2, pending 0; deployment COMPLETED (ROLLING); task definition acme-backend:3',
      '  frontend: running 4/2, pending 0; deployment frontend/Nw4 IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT running 2/2, pending 0, production traffic 10% new (CANARY); task definition acme-frontend:4',
    ]);
    assert.deepEqual(ecs.commandCalls(DescribeServiceDeploymentsCommand)[0]?.args[0].input, {
      serviceDeploymentArns: [ARN],
    });
  });

  test('a declared service missing from the cluster: exit 1', async (t) => {
    const ecs = world(t);
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [steadyService('backend')], failures: [{ reason: 'MISSING' }] });

    const result = await cli(['status']);

    assert.equal(result.code, EXIT_CODES.failed);
    assert.equal(
      result.out.at(-1),
      '  frontend: not found (declared, but not in the cluster: deploy the infrastructure first)',
    );
    assert.deepEqual(result.err, ["deploy: status: not found in cluster 'acme': frontend"]);
  });
});

describe('diff', () => {
  /**
   * The running definition as the CDK would have registered it from the wiring, and as ECS describes
   * it: fields at their ECS default (essential true, stopTimeout 30, tcp, host port) left out.
   */
  function registeredFromWiring(service: string): TaskDefinition {
    const task = WIRING.tasks.find((t) => t.service === service);
    const base = wiredTaskDefinition(`acme-${service}`, 3);
    const containerDefinitions: ContainerDefinition[] = (task?.containers ?? []).map((c) => ({
      name: c.name,
      image: base.containerDefinitions?.find((d) => d.name === c.name)?.image,
      ...(c.essential ? {} : { essential: false }),
      cpu: c.cpuUnits,
      memory: c.memoryLimitMiB,
      ...(c.stopTimeoutSeconds === 30 ? {} : { stopTimeout: c.stopTimeoutSeconds }),
      ...(c.port?.exposed ? { portMappings: [{ containerPort: c.port.number }] } : {}),
      environment: Object.keys(c.environment).map((name) => ({ name, value: 'rendered' })),
    }));
    return { ...base, containerDefinitions };
  }

  test('only real changes show: the image, not fields left at their ECS defaults; and one planted drift', async (t) => {
    const ecs = world(t);
    ecs.on(DescribeServicesCommand).resolves({ services: [steadyService('backend')] });
    const running = registeredFromWiring('backend');
    // The drift issue 12 found: the app container without MODEL_ENDPOINT_NAME.
    const app = running.containerDefinitions?.find((c) => c.name === 'app');
    if (app) app.environment = app.environment?.filter((e) => e.name !== 'MODEL_ENDPOINT_NAME');
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: running });

    const result = await cli(['diff', '--image', `backend=${REGISTRY}/acme/backend@${DIGEST}`]);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.equal(
      ecs.commandCalls(RegisterTaskDefinitionCommand).length + ecs.commandCalls(UpdateServiceCommand).length,
      0,
    );
    assert.deepEqual(result.out, [
      'diff for cluster acme:',
      '  backend: acme-backend:3 → the next revision: 1 change(s)',
      `    ~ containerDefinitions[app].image: "${REGISTRY}/acme/backend:old" → "${REGISTRY}/acme/backend@${DIGEST}"`,
      '    drift from the declaration (deploy changes images only; apply the rest with cdk deploy):',
      '    ! containerDefinitions[app].environment: declared, not running: MODEL_ENDPOINT_NAME',
    ]);
  });

  test('normalizeTaskDefinition: ECS defaults and list order are not changes', () => {
    const described: TaskDefinition = {
      family: 'acme-backend',
      containerDefinitions: [
        {
          name: 'app',
          image: 'i',
          portMappings: [{ containerPort: 8081 }],
          environment: [
            { name: 'B', value: '2' },
            { name: 'A', value: '1' },
          ],
        },
      ],
    };
    const explicit: TaskDefinition = {
      family: 'acme-backend',
      volumes: [],
      placementConstraints: [],
      containerDefinitions: [
        {
          name: 'app',
          image: 'i',
          essential: true,
          cpu: 0,
          stopTimeout: 30,
          portMappings: [{ containerPort: 8081, hostPort: 8081, protocol: 'tcp' }],
          environment: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        },
      ],
    };
    assert.deepEqual(
      diffDefinitions(normalizeTaskDefinition(described), normalizeTaskDefinition(explicit)),
      [],
    );
    const changed = {
      ...explicit,
      containerDefinitions: [{ ...explicit.containerDefinitions?.[0], stopTimeout: 20 }],
    };
    assert.deepEqual(diffDefinitions(normalizeTaskDefinition(described), normalizeTaskDefinition(changed)), [
      { path: 'containerDefinitions[app].stopTimeout', from: 30, to: 20 },
    ]);
  });

  test('an unchanged image: no changes', async (t) => {
    const ecs = world(t);
    ecs.on(DescribeServicesCommand).resolves({ services: [steadyService('backend')] });

    const result = await cli(['diff', '--image', `backend=${REGISTRY}/acme/backend:old`]);

    assert.equal(result.code, EXIT_CODES.ok);
    assert.equal(result.out[1], '  backend: acme-backend:3 → the next revision: no changes');
  });

  test('a service that cannot be read: exit 1', async (t) => {
    const ecs = world(t);
    ecs
      .on(DescribeServicesCommand)
      .rejects(Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' }));

    const result = await cli(['diff', '--image', `backend=${REGISTRY}/acme/backend:new`]);

    assert.equal(result.code, EXIT_CODES.failed);
    assert.deepEqual(result.err, ['deploy: cannot diff: ClusterNotFoundException: Cluster not found.']);
  });
});
