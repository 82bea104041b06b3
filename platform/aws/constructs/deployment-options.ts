import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { TaskWiring } from '../../wiring/index.ts';

/** ECS's rendering of the wiring's deployment strategy (the lifecycle hooks: {@link renderLifecycleHooks}). */
export function deploymentOptions(task: TaskWiring): Partial<ecs.Ec2ServiceProps> {
  const strategy = task.deployment.strategy;
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
      };
    case 'linear':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.LINEAR,
        linearConfiguration: {
          stepPercent: strategy.stepPercent,
          stepBakeTime: Duration.minutes(strategy.stepMinutes),
        },
      };
    case 'blue-green':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.BLUE_GREEN,
        bakeTime: Duration.minutes(strategy.bakeMinutes),
      };
  }
}

/**
 * `DeploymentConfiguration.LifecycleHooks` of the service, in CloudFormation's form: the deployment
 * gate (a Lambda hook at the wiring's gate stages) and the declared manual approval (a PAUSE hook,
 * answered by `deploy continue` / `abort`). aws-cdk-lib's service renders Lambda hooks only, so the
 * whole list is written here; the gate's invoke role is CDK's own (DeploymentLifecycleLambdaTarget).
 */
export function renderLifecycleHooks(
  service: ecs.Ec2Service,
  task: TaskWiring,
  gate: lambda.IFunction | undefined,
): Record<string, unknown>[] {
  const hooks: Record<string, unknown>[] = [];
  const { gateStages, pause } = task.deployment;
  if (gate && gateStages.length > 0) {
    const target = new ecs.DeploymentLifecycleLambdaTarget(gate, 'DeploymentGate', {
      lifecycleStages: gateStages.map((stage) => ecs.DeploymentLifecycleStage[stage]),
    }).bind(service);
    hooks.push({
      HookTargetArn: target.targetArn,
      RoleArn: target.role!.roleArn,
      LifecycleStages: target.lifecycleStages.map((stage) => stage.toString()),
    });
  }
  if (pause) {
    hooks.push({
      TargetType: 'PAUSE',
      LifecycleStages: [pause.stage],
      TimeoutConfiguration: { TimeoutInMinutes: pause.timeoutMinutes, Action: pause.onTimeout },
    });
  }
  return hooks;
}
