import type { ECSClient } from '@aws-sdk/client-ecs';
import { EXIT_CODES, type ExitCode, parseDeployArgs, USAGE, UsageError } from './args.ts';
import type { DeployDeps } from './context.ts';
import { runDeploy } from './deploy.ts';

export interface CliDeps extends Omit<DeployDeps, 'ecs'> {
  /** Builds the ECS client once the region is known (from `--region` or the environment). */
  readonly createEcs: (region: string | undefined) => Pick<ECSClient, 'send'>;
}

/**
 * `npm run deploy -- …` without the process: parses the arguments, prints usage on a mistake, runs
 * the deploy, and returns the exit code. `main.ts` only wires it to the real process.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), { createEcs, clock: Date, sleep, out, err });
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  let request: ReturnType<typeof parseDeployArgs>;
  try {
    request = parseDeployArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    deps.err(`deploy: ${error.message}`);
    deps.err('');
    deps.err(USAGE);
    return EXIT_CODES.usage;
  }
  if (request.kind === 'help') {
    deps.out(USAGE);
    return EXIT_CODES.ok;
  }
  const { createEcs, ...rest } = deps;
  return runDeploy(request.options, { ...rest, ecs: createEcs(request.options.region) });
}
