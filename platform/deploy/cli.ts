import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { PlatformWiring } from '../wiring/index.ts';
import { type Command, EXIT_CODES, type ExitCode, parseDeployArgs, USAGE, UsageError } from './args.ts';
import { AwsDeploymentBackend, type DeploymentBackend } from './backend.ts';
import type { DeployDeps } from './context.ts';
import { describeError } from './context.ts';
import { runLocalDeploy } from './local.ts';
import { releasePlan, runSeed } from './releases.ts';
import { declaredImages, resolveJobTargets, resolveTargets, selectServices } from './targets.ts';

export interface CliDeps extends Omit<DeployDeps, 'ecs'> {
  /** The declaration's wiring, derived once by the CLI (platform/cli). */
  readonly loadWiring: () => PlatformWiring;
  /**
   * The running `start`'s state file (`--local`).
   * @default '.local/runtime.json'
   */
  readonly localStateFile?: string;
  /** Builds the ECS client once the region is known (from `--region` or the environment). */
  readonly createEcs: (region: string | undefined) => Pick<ECSClient, 'send'>;
  /** Builds the SSM client of the release records (`deploy` writes them, `seed` fills the first ones). */
  readonly createSsm: (region: string | undefined) => Pick<SSMClient, 'send'>;
}

/**
 * `npm run deploy -- <command> …` without the process: parses the arguments, reads the wiring, checks
 * names against it (usage errors, exit 2, before any AWS client exists), picks the backend and runs the
 * command. The CLI's `deploy` (platform/cli) only wires it to the real process.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), { loadWiring, createEcs, clock: Date, sleep, out, err });
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  // `--local`: the rehearsal against `npm start` (platform/local's control endpoint).
  if (argv.includes('--local')) {
    return runLocalDeploy(argv, {
      out: deps.out,
      err: deps.err,
      sleep: deps.sleep,
      now: () => deps.clock.now(),
      stateFile: deps.localStateFile ?? '.local/runtime.json',
    });
  }
  let command: Command;
  let wiring: PlatformWiring;
  try {
    const request = parseDeployArgs(argv);
    if (request.kind === 'help') {
      deps.out(USAGE);
      return EXIT_CODES.ok;
    }
    command = request.command;
  } catch (error) {
    return usage(error, deps);
  }
  try {
    wiring = deps.loadWiring();
  } catch (error) {
    deps.err(
      `deploy: cannot read the declaration: ${error instanceof Error ? error.message : describeError(error)}`,
    );
    return EXIT_CODES.failed;
  }
  if (command.name === 'seed') {
    const known = declaredImages(wiring);
    const unknown = [...command.images.keys()].find((name) => !known.includes(name));
    if (unknown)
      return usage(
        new UsageError(
          `--image '${unknown}' is not an image of the declaration (images: ${known.join(', ')}). Fix: name one of them`,
        ),
        deps,
      );
    return runSeed(command.images, releasePlan(wiring), { ...deps, ssm: deps.createSsm(command.region) });
  }
  let run: (backend: DeploymentBackend) => Promise<ExitCode>;
  try {
    run = prepare(command, wiring);
  } catch (error) {
    return usage(error, deps);
  }
  // The `--local` branch (platform/local's backend against `npm start`) is chosen here.
  const { createEcs, createSsm, loadWiring: _, localStateFile: __, ...rest } = deps;
  return run(
    new AwsDeploymentBackend(wiring, {
      ...rest,
      ecs: createEcs(command.region),
      ...(command.name === 'deploy' ? { ssm: createSsm(command.region) } : {}),
    }),
  );
}

/** Resolves names against the wiring (throwing UsageError) and returns the backend call. */
function prepare(
  command: Command,
  wiring: PlatformWiring,
): (backend: DeploymentBackend) => Promise<ExitCode> {
  switch (command.name) {
    case 'deploy': {
      const targets = resolveTargets(wiring, command.images, command.services);
      const jobs = resolveJobTargets(wiring, command.images, command.services);
      const { timeoutMs, pollIntervalMs, dryRun } = command;
      const release = { images: command.images, plan: releasePlan(wiring) };
      return (b) => b.deploy(targets, { timeoutMs, pollIntervalMs, dryRun, release, jobs });
    }
    case 'seed':
      throw new Error('seed is run without a deployment backend');
    case 'diff': {
      const targets = resolveTargets(wiring, command.images, command.services);
      const jobs = resolveJobTargets(wiring, command.images, command.services);
      return (b) => b.diff(targets, jobs);
    }
    case 'status': {
      const services = selectServices(wiring, command.services);
      // Scheduled jobs too, unless services were named.
      const jobs = command.services.length === 0 ? wiring.jobs : [];
      return (b) => b.status(services, jobs);
    }
    case 'wait': {
      const services = selectServices(wiring, command.services);
      const { until, timeoutMs, pollIntervalMs } = command;
      return (b) => b.wait(services, until, { timeoutMs, pollIntervalMs });
    }
    case 'rollback':
    case 'continue':
    case 'abort': {
      // Callers roll back before their callees: the reverse of the rollout order.
      const services = selectServices(wiring, command.services);
      const { timeoutMs, pollIntervalMs, wait } = command;
      const options = { timeoutMs, pollIntervalMs, wait, explicit: command.services.length > 0 };
      if (command.name === 'rollback') return (b) => b.rollback([...services].reverse(), options);
      const action = command.name === 'continue' ? 'CONTINUE' : 'ROLLBACK';
      return (b) => b.resume(services, action, options);
    }
  }
}

/** A usage error is one line: the problem and its fix (the options are one `--help` away). */
function usage(error: unknown, deps: Pick<CliDeps, 'err'>): ExitCode {
  if (!(error instanceof UsageError)) throw error;
  const fix = /Fix: /.test(error.message) ? '' : '. Fix: correct it (--help lists the commands and options)';
  deps.err(`deploy: ${error.message}${fix}`);
  return EXIT_CODES.usage;
}
