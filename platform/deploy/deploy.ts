import {
  DeregisterTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { EXIT_CODES, type ExitCode, formatDuration } from './args.ts';
import { callEcs, type DeployDeps, describeError } from './context.ts';
import { formatJobPlans, type JobPlan, planJobs, releaseJob } from './jobs.ts';
import { formatPlan, needsRollout, PlanError, planDeploy, type ServicePlan } from './plan.ts';
import { recordReleases, releasedImages } from './releases.ts';
import { describeOutcome, followRollout } from './rollout.ts';
import { shortArn } from './service-deployment.ts';
import type { DeployOptions } from './targets.ts';

/**
 * Rolls the given images out to ECS services, one service after another in the order given, and
 * returns the process exit code. Plans everything first (read-only), so a missing service or container
 * fails before anything changes; stops at the first service whose rollout fails or times out, leaving
 * the later ones untouched.
 *
 * @example
 * const code = await runDeploy(options, { ecs: new ECSClient({}), clock: Date, sleep, out: console.log, err: console.error });
 */
export async function runDeploy(options: DeployOptions, deps: DeployDeps): Promise<ExitCode> {
  let plan: Awaited<ReturnType<typeof planDeploy>>;
  let jobs: JobPlan[];
  try {
    plan = await planDeploy(options, deps);
    jobs = await planJobs(options.jobs ?? [], deps);
  } catch (error) {
    deps.err(`deploy: cannot plan: ${error instanceof PlanError ? error.message : describeError(error)}`);
    return EXIT_CODES.failed;
  }
  for (const line of [...formatPlan(plan), ...formatJobPlans(jobs)]) deps.out(line);
  if (options.dryRun) {
    deps.out('dry run: nothing registered or updated');
    return EXIT_CODES.ok;
  }

  // Services that run the requested images now: rolled out, or already running them.
  const released = new Set<string>();
  for (const service of plan.services) {
    if (!needsRollout(service)) {
      released.add(service.service);
      continue;
    }
    const code = await deployService(plan.cluster, service, options, deps);
    if (code !== EXIT_CODES.ok) {
      const skipped = plan.services.slice(plan.services.indexOf(service) + 1).map((s) => s.service);
      if (skipped.length > 0) deps.err(`deploy: not deployed: ${skipped.join(', ')}`);
      return (await record(options, released, deps)) ?? code;
    }
    released.add(service.service);
  }
  // Jobs after every service: a run may call the services, which run the new images by now.
  for (const job of jobs) {
    try {
      if (job.changes.length > 0) await releaseJob(job, deps);
      released.add(job.job);
    } catch (error) {
      deps.err(`deploy: ${job.job}: ${describeError(error)}`);
      return (await record(options, released, deps)) ?? EXIT_CODES.failed;
    }
  }
  const failed = await record(options, released, deps);
  if (failed !== undefined) return failed;
  deps.out(`deploy: all services${jobs.length > 0 ? ' and jobs' : ''} rolled out`);
  return EXIT_CODES.ok;
}

/**
 * Records each given image every service running it now runs (and only those: after a partial
 * release an image some service still runs the old way keeps its old record). Returns an exit code
 * when recording failed: the release went out, but an infrastructure change would not start from it.
 */
async function record(
  options: DeployOptions,
  released: ReadonlySet<string>,
  deps: DeployDeps,
): Promise<ExitCode | undefined> {
  if (!options.release) return undefined;
  const images = releasedImages(options.release.plan, options.release.images, released);
  if (images.size === 0) return undefined;
  if (!deps.ssm) {
    deps.err(`deploy: released ${[...images.keys()].join(', ')} but cannot record it (no SSM client)`);
    return EXIT_CODES.failed;
  }
  try {
    for (const line of await recordReleases(deps.ssm, options.release.plan, images)) deps.out(line);
    return undefined;
  } catch (error) {
    deps.err(
      `deploy: released ${[...images.keys()].join(', ')} but could not record it: ${describeError(error)}; an infrastructure change would start from the previous images until the next release`,
    );
    return EXIT_CODES.failed;
  }
}

/**
 * Deregisters the revision of a release that rolled back: the service names its family, so the
 * family's latest ACTIVE revision is what a CloudFormation update of the service, and the next
 * release, start from; a rejected revision must not be it.
 */
async function retire(name: string, taskDefinitionArn: string, deps: DeployDeps): Promise<void> {
  try {
    await callEcs(deps, 'DeregisterTaskDefinition', () =>
      deps.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: taskDefinitionArn })),
    );
    deps.out(`${name}: deregistered ${taskDefinitionArn} (rolled back, never to be started again)`);
  } catch (error) {
    deps.err(
      `deploy: ${name}: could not deregister ${taskDefinitionArn}: ${describeError(error)}; deregister it before the next cdk deploy (aws ecs deregister-task-definition --task-definition ${taskDefinitionArn})`,
    );
  }
}

async function deployService(
  cluster: string,
  plan: ServicePlan,
  options: DeployOptions,
  deps: DeployDeps,
): Promise<ExitCode> {
  const name = plan.service;
  try {
    const registered = await callEcs(deps, 'RegisterTaskDefinition', () =>
      deps.ecs.send(new RegisterTaskDefinitionCommand(plan.registerInput)),
    );
    const taskDefinitionArn = registered.taskDefinition?.taskDefinitionArn;
    if (!taskDefinitionArn) throw new Error('RegisterTaskDefinition returned no task definition ARN');
    deps.out(`${name}: registered ${taskDefinitionArn}`);

    const updated = await callEcs(deps, 'UpdateService', () =>
      deps.ecs.send(new UpdateServiceCommand({ cluster, service: name, taskDefinition: taskDefinitionArn })),
    );
    const deployment = updated.service?.deployments?.find(
      (d) => d.status === 'PRIMARY' && d.taskDefinition === taskDefinitionArn,
    );
    // The service deployment UpdateService started; the one current before it is not ours.
    const current = updated.service?.currentServiceDeployment;
    const serviceDeploymentArn =
      current && current !== plan.previousServiceDeploymentArn ? current : undefined;
    if (!updated.service || !(deployment?.id || serviceDeploymentArn)) {
      throw new Error(`UpdateService started no PRIMARY deployment of ${taskDefinitionArn}`);
    }
    const strategy = updated.service.deploymentConfiguration?.strategy;
    deps.out(
      `${name}: deployment ${serviceDeploymentArn ? shortArn(serviceDeploymentArn) : deployment?.id} started${strategy ? ` (${strategy})` : ''}; following (timeout ${formatDuration(options.timeoutMs)})`,
    );

    const outcome = await followRollout(
      {
        cluster,
        service: name,
        deploymentId: deployment?.id ?? '',
        ...(serviceDeploymentArn ? { serviceDeploymentArn } : {}),
        taskDefinitionArn,
        initial: updated.service,
        seenEventIds: new Set(plan.seenEventIds),
        timeoutMs: options.timeoutMs,
        pollIntervalMs: options.pollIntervalMs,
      },
      deps,
    );
    const message = describeOutcome(name, outcome, options.timeoutMs);
    if (outcome.kind === 'completed') {
      deps.out(message);
      return EXIT_CODES.ok;
    }
    deps.err(`deploy: ${message}`);
    if (outcome.kind === 'failed') await retire(name, taskDefinitionArn, deps);
    return outcome.kind === 'timeout' ? EXIT_CODES.timeout : EXIT_CODES.failed;
  } catch (error) {
    deps.err(`deploy: ${name}: ${describeError(error)}`);
    return EXIT_CODES.failed;
  }
}
