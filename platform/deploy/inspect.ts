import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  type Service,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import type { PlatformWiring } from '../wiring/index.ts';
import { EXIT_CODES, type ExitCode } from './args.ts';
import { callEcs, type DeployDeps, describeError } from './context.ts';
import { jobStatus, planJobs } from './jobs.ts';
import { PlanError, planDeploy } from './plan.ts';
import { shortArn, stageLine } from './service-deployment.ts';
import type { JobTarget, ServiceTarget } from './targets.ts';
import {
  diffDefinitions,
  driftFromWiring,
  formatChange,
  normalizeTaskDefinition,
} from './task-definition-diff.ts';

// DescribeServices takes at most 10 services, DescribeServiceDeployments at most 20 ARNs per call.
const SERVICES_BATCH = 10;
const DEPLOYMENTS_BATCH = 20;

/** Every named service as DescribeServices returns it; a missing one is reported in `missing`. */
export async function describeAll(
  cluster: string,
  names: readonly string[],
  deps: DeployDeps,
): Promise<{ found: Map<string, Service>; missing: string[] }> {
  const found = new Map<string, Service>();
  for (let i = 0; i < names.length; i += SERVICES_BATCH) {
    const response = await callEcs(deps, 'DescribeServices', () =>
      deps.ecs.send(new DescribeServicesCommand({ cluster, services: names.slice(i, i + SERVICES_BATCH) })),
    );
    for (const s of response.services ?? [])
      if (s.serviceName && s.status === 'ACTIVE') found.set(s.serviceName, s);
  }
  return { found, missing: names.filter((n) => !found.has(n)) };
}

/**
 * `status`: per service, running/desired/pending and the current service deployment with its stage.
 * Exit 0, or 1 when a declared service does not exist in the cluster.
 */
export async function runStatus(
  cluster: string,
  names: readonly string[],
  deps: DeployDeps,
  jobs: readonly { readonly job: string; readonly family: string }[] = [],
): Promise<ExitCode> {
  try {
    const { found, missing: missingServices } = await describeAll(cluster, names, deps);
    const arns = [...found.values()].flatMap((s) =>
      s.currentServiceDeployment ? [s.currentServiceDeployment] : [],
    );
    const deployments = new Map<string, ServiceDeployment>();
    for (let i = 0; i < arns.length; i += DEPLOYMENTS_BATCH) {
      const response = await callEcs(deps, 'DescribeServiceDeployments', () =>
        deps.ecs.send(
          new DescribeServiceDeploymentsCommand({
            serviceDeploymentArns: arns.slice(i, i + DEPLOYMENTS_BATCH),
          }),
        ),
      );
      for (const d of response.serviceDeployments ?? [])
        if (d.serviceDeploymentArn) deployments.set(d.serviceDeploymentArn, d);
    }
    deps.out(`status of cluster ${cluster}:`);
    for (const name of names) {
      const service = found.get(name);
      if (!service) {
        deps.out(`  ${name}: not found (declared, but not in the cluster: deploy the infrastructure first)`);
        continue;
      }
      const counts = `running ${service.runningCount ?? 0}/${service.desiredCount ?? 0}, pending ${service.pendingCount ?? 0}`;
      const strategy = service.deploymentConfiguration?.strategy ?? 'ROLLING';
      const sd = service.currentServiceDeployment
        ? deployments.get(service.currentServiceDeployment)
        : undefined;
      const deployment = sd?.serviceDeploymentArn
        ? `deployment ${shortArn(sd.serviceDeploymentArn)} ${stageLine(name, sd).slice(name.length + 2)}`
        : `deployment ${service.deployments?.find((d) => d.status === 'PRIMARY')?.rolloutState ?? 'unknown'}`;
      deps.out(
        `  ${name}: ${counts}; ${deployment} (${strategy}); task definition ${service.taskDefinition?.split('/').at(-1) ?? '?'}`,
      );
    }
    const scheduled = await jobStatus(jobs, deps);
    for (const line of scheduled.lines) deps.out(line);
    const missing = [...missingServices, ...scheduled.missing];
    if (missing.length > 0) {
      deps.err(`deploy: status: not found in cluster '${cluster}': ${missing.join(', ')}`);
      return EXIT_CODES.failed;
    }
    return EXIT_CODES.ok;
  } catch (error) {
    deps.err(`deploy: status: ${describeError(error)}`);
    return EXIT_CODES.failed;
  }
}

/**
 * `diff`: for each service, the running task definition against the revision `deploy` would register,
 * ECS defaults filled in, and the drift from the declaration's wiring. Read-only; exit 0 (1 when a
 * service or its definition cannot be read).
 */
export async function runDiff(
  cluster: string,
  targets: readonly ServiceTarget[],
  wiring: PlatformWiring,
  deps: DeployDeps,
  jobTargets: readonly JobTarget[] = [],
): Promise<ExitCode> {
  let plan: Awaited<ReturnType<typeof planDeploy>>;
  let jobs: Awaited<ReturnType<typeof planJobs>>;
  try {
    plan = await planDeploy(
      { cluster, services: targets, timeoutMs: 1, pollIntervalMs: 1000, dryRun: true },
      deps,
    );
    jobs = await planJobs(jobTargets, deps);
  } catch (error) {
    deps.err(`deploy: cannot diff: ${error instanceof PlanError ? error.message : describeError(error)}`);
    return EXIT_CODES.failed;
  }
  deps.out(`diff for cluster ${cluster}:`);
  for (const service of plan.services) {
    const revision = service.currentTaskDefinitionArn.split('/').at(-1);
    const changes = diffDefinitions(
      normalizeTaskDefinition(service.current),
      normalizeTaskDefinition(service.registerInput),
    );
    deps.out(
      `  ${service.service}: ${revision} → the next revision: ${changes.length === 0 ? 'no changes' : `${changes.length} change(s)`}`,
    );
    for (const change of changes) deps.out(`    ${formatChange(change)}`);
    const task = wiring.tasks.find((t) => t.service === service.service);
    const drift = task ? driftFromWiring(service.current, task) : [];
    if (drift.length > 0) {
      deps.out(
        '    drift from the declaration (deploy changes images only; apply the rest with cdk deploy):',
      );
      for (const line of drift) deps.out(`    ${line}`);
    }
  }
  // A scheduled job: its family's latest revision (what the next run starts) against the next one.
  for (const job of jobs) {
    const changes = diffDefinitions(
      normalizeTaskDefinition(job.current),
      normalizeTaskDefinition(job.registerInput),
    );
    deps.out(
      `  ${job.job} (scheduled job): ${job.currentTaskDefinitionArn.split('/').at(-1)} → the next revision: ${changes.length === 0 ? 'no changes' : `${changes.length} change(s)`}`,
    );
    for (const change of changes) deps.out(`    ${formatChange(change)}`);
  }
  return EXIT_CODES.ok;
}
