import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  StopServiceDeploymentCommand,
  type TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { deployment, service, steadyService, taskDefinition, tdArn } from '../../../test/support/ecs.ts';
import type { DeployDeps } from '../context.ts';

/** The deploy tests' ECS world: the shared builders (test/support/ecs.ts) and what only deploying needs. */

export * from '../../../test/support/ecs.ts';

/**
 * A task definition named as this repository's wiring names its containers (`log_router`, `app`,
 * `anomaly-sidecar`), as the CDK renders it: the deploy command addresses containers by these names.
 */
export function wiredTaskDefinition(family: string, revision: number): TaskDefinition {
  const legacy = taskDefinition(family, revision);
  const [app, sidecar, router] = legacy.containerDefinitions ?? [];
  return {
    ...legacy,
    containerDefinitions: [
      { ...router, name: 'log_router' },
      { ...app, name: 'app' },
      { ...sidecar, name: 'anomaly-sidecar' },
    ],
  };
}

/**
 * A mocked ECS client (every ECSClient instance) with the read side of the given services stubbed;
 * `wired`: their task definitions carry the wiring's container names.
 */
export function ecsWorld(names: string[], options: { wired?: boolean } = {}) {
  const ecs = mockClient(ECSClient);
  const render = options.wired ? wiredTaskDefinition : taskDefinition;
  for (const name of names) {
    // The running revision, and the family's latest ACTIVE one the deploy builds from: the same here.
    for (const taskDefinition of [tdArn(`acme-${name}`, 3), `acme-${name}`]) {
      ecs.on(DescribeTaskDefinitionCommand, { taskDefinition }).resolves({
        taskDefinition: render(`acme-${name}`, 3),
        tags: [{ key: 'platform', value: 'acme' }],
      });
    }
    ecs.on(RegisterTaskDefinitionCommand, { family: `acme-${name}` }).resolves({
      taskDefinition: { ...render(`acme-${name}`, 4), taskDefinitionArn: tdArn(`acme-${name}`, 4) },
    });
  }
  return ecs;
}

/** The service right after UpdateService: the new PRIMARY deployment has not started a task yet. */
export function justUpdated(name: string): Service {
  const family = `acme-${name}`;
  return service(
    name,
    tdArn(family, 4),
    [
      deployment(`ecs-svc/${name}-new`, 'PRIMARY', tdArn(family, 4), 'IN_PROGRESS', {
        running: 0,
        desired: 2,
        pending: 0,
      }),
      deployment('ecs-svc/old', 'ACTIVE', tdArn(family, 3), 'COMPLETED', {
        running: 2,
        desired: 2,
        pending: 0,
      }),
    ],
    steadyService(name).events ?? [],
  );
}

export {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
};

/** Fake time: `sleep` advances the clock instantly and records each pause. */
export function fakeDeps() {
  let now = Date.UTC(2026, 0, 1, 12, 0, 0);
  const sleeps: number[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const deps: Omit<DeployDeps, 'ecs'> = {
    clock: { now: () => now },
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    random: () => 0,
  };
  return { deps, sleeps, out, err };
}

/** The names of the commands sent, in order: the shape of a run at a glance. */
export function commandNames(ecs: ReturnType<typeof mockClient>): string[] {
  return ecs.calls().map((call) => (call.args[0] as object).constructor.name);
}

export {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  ListServiceDeploymentsCommand,
  StopServiceDeploymentCommand,
};
