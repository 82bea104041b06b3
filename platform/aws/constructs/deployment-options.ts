import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { TaskWiring } from '../../wiring/index.ts';

/** ECS's rendering of the wiring's deployment strategy and gate stages. */
export function deploymentOptions(
  task: TaskWiring,
  gate: lambda.IFunction | undefined,
): Partial<ecs.Ec2ServiceProps> {
  const strategy = task.deployment.strategy;
  const hooks =
    gate && task.deployment.gateStages.length > 0
      ? {
          lifecycleHooks: [
            new ecs.DeploymentLifecycleLambdaTarget(gate, 'DeploymentGate', {
              lifecycleStages: task.deployment.gateStages.map((stage) => ecs.DeploymentLifecycleStage[stage]),
            }),
          ],
        }
      : {};
  switch (strategy.strategy) {
    case 'rolling':
      return { deploymentStrategy: ecs.DeploymentStrategy.ROLLING };
    case 'canary':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.CANARY,
        canaryConfiguration: {
          stepPercent: strategy.percent,
          stepBakeTime: Duration.minutes(strategy.bakeMinutes),
        },
        ...hooks,
      };
    case 'linear':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.LINEAR,
        linearConfiguration: {
          stepPercent: strategy.stepPercent,
          stepBakeTime: Duration.minutes(strategy.stepMinutes),
        },
        ...hooks,
      };
    case 'blue-green':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.BLUE_GREEN,
        bakeTime: Duration.minutes(strategy.bakeMinutes),
        ...hooks,
      };
  }
}
