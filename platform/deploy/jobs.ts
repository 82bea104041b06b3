import {
  ClientException,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { callEcs, type DeployDeps, describeError } from './context.ts';
import { nextRevision } from './plan.ts';
import type { JobTarget } from './targets.ts';
import type { ImageChange } from './task-definition.ts';

/**
 * Releasing a scheduled job: its schedule's target names the task-definition family without a
 * revision (platform/aws/constructs/scheduled-job.ts), so each run starts the family's latest ACTIVE
 * revision. A release registers the next revision with the new images and nothing else: the next run
 * starts it, and a run in progress finishes on the revision it started with.
 */

/** What a release does to one job, read-only. */
export interface JobPlan {
  readonly job: string;
  readonly family: string;
  /** The family's latest ACTIVE revision, which the new one is built from (what the next run starts now). */
  readonly current: TaskDefinition;
  readonly currentTaskDefinitionArn: string;
  readonly registerInput: ConstructorParameters<typeof RegisterTaskDefinitionCommand>[0];
  readonly changes: readonly ImageChange[];
}

/** Reads each job's latest ACTIVE revision and renders the next one, before anything changes. */
export async function planJobs(jobs: readonly JobTarget[], deps: DeployDeps): Promise<JobPlan[]> {
  const plans: JobPlan[] = [];
  for (const target of jobs) {
    const revision = await nextRevision(target.family, target.images, `job '${target.job}'`, deps);
    plans.push({
      job: target.job,
      family: target.family,
      current: revision.current,
      currentTaskDefinitionArn: revision.current.taskDefinitionArn,
      registerInput: revision.registerInput,
      changes: revision.changes,
    });
  }
  return plans;
}

/** The plan's lines for the jobs. */
export function formatJobPlans(plans: readonly JobPlan[]): string[] {
  return plans.flatMap((plan) =>
    plan.changes.length === 0
      ? [`  ${plan.job}: already runs the requested images (${plan.currentTaskDefinitionArn}); skip`]
      : [
          `  ${plan.job}: register a new revision of ${plan.family} (now ${plan.currentTaskDefinitionArn}); its schedule runs it from the next run`,
          ...plan.changes.map((c) => `    ${c.container}: ${c.from} -> ${c.to}`),
        ],
  );
}

/** Registers the job's next revision; returns the new revision's ARN. */
export async function releaseJob(plan: JobPlan, deps: DeployDeps): Promise<string> {
  const registered = await callEcs(deps, 'RegisterTaskDefinition', () =>
    deps.ecs.send(new RegisterTaskDefinitionCommand(plan.registerInput)),
  );
  const arn = registered.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new Error('RegisterTaskDefinition returned no task definition ARN');
  deps.out(`${plan.job}: registered ${arn}; the next scheduled run starts it`);
  return arn;
}

/**
 * `status` of scheduled jobs: the revision each job's next run starts (its family's latest ACTIVE) and
 * the app's image; a family ECS does not have is reported missing.
 */
export async function jobStatus(
  jobs: readonly { readonly job: string; readonly family: string }[],
  deps: DeployDeps,
): Promise<{ readonly lines: string[]; readonly missing: string[] }> {
  const lines: string[] = [];
  const missing: string[] = [];
  for (const { job, family } of jobs) {
    try {
      const described = await callEcs(deps, 'DescribeTaskDefinition', () =>
        deps.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family })),
      );
      const current = described.taskDefinition;
      const app = current?.containerDefinitions?.find((c) => c.name === 'app');
      lines.push(
        `  ${job}: scheduled job; the next run starts ${current?.taskDefinitionArn?.split('/').at(-1) ?? family} (app ${app?.image ?? '?'})`,
      );
    } catch (error) {
      if (!(error instanceof ClientException)) throw error;
      missing.push(job);
      lines.push(
        `  ${job}: not found (declared, but ECS has no ${family}: deploy the infrastructure first; ${describeError(error)})`,
      );
    }
  }
  return { lines, missing };
}
