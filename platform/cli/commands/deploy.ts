import { setTimeout as sleep } from 'node:timers/promises';
import { USAGE } from '../../deploy/args.ts';
import { LOCAL_USAGE } from '../../deploy/local.ts';
import type { CliCommand, CommandContext } from '../command.ts';

/** The deploy core's own actions on a release, typed after `deploy` (`berth deploy continue`). */
const DEPLOY_ACTIONS = ['continue', 'abort', 'seed'];
/** The deploy core's commands that are the CLI's commands too (`berth status`), also accepted after `deploy`. */
const RELEASE_COMMANDS = ['deploy', 'diff', 'status', 'rollback', 'wait'];

/** Runs the deploy core (platform/deploy) with the real ECS and SSM clients and the declaration's wiring. */
async function runRelease(
  argv: readonly string[],
  { env, out, err, declared }: CommandContext,
): Promise<number> {
  // The AWS SDK clients and the deploy core load when a release command runs, not with every command.
  const [{ ECSClient }, { SSMClient }, { runCli: runDeploy }] = await Promise.all([
    import('@aws-sdk/client-ecs'),
    import('@aws-sdk/client-ssm'),
    import('../../deploy/cli.ts'),
  ]);
  // In GitHub Actions, failures become error annotations on the run summary.
  const annotate = env.GITHUB_ACTIONS === 'true';
  return runDeploy(argv, {
    loadWiring: () => declared!.wiring,
    // One SDK attempt per call: throttling is retried (and reported) by the deploy core, so the two
    // retry loops do not multiply and every pause is bounded by --timeout.
    createEcs: (region) => new ECSClient({ maxAttempts: 1, ...(region ? { region } : {}) }),
    createSsm: (region) => new SSMClient(region ? { region } : {}),
    clock: Date,
    sleep: (ms) => sleep(ms),
    out,
    err: (line) => err(annotate && line.startsWith('deploy: ') ? `::error title=deploy::${line}` : line),
    localStateFile: env.LOCAL_STATE_FILE ?? '.local/runtime.json',
  });
}

/**
 * `deploy`: rolls new images out on ECS (services, then scheduled jobs), `deploy continue|abort|seed`,
 * and, with `--local`, a rehearsal against a running `start`. Services, containers, the cluster and
 * image names come from the declaration's wiring, never from the command line.
 */
export const deployCommand: CliCommand = {
  name: 'deploy',
  summary: 'roll out new images on ECS (continue|abort|seed), or rehearse a release with --local',
  help: (args) => (args.includes('--local') ? LOCAL_USAGE : USAGE),
  // The rehearsal talks to a running `start`, which holds the wiring already.
  needsDeclaration: (args) => !args.includes('--local'),
  environment: 'declared',
  run(context: CommandContext): Promise<number> {
    const { args } = context;
    if (args.includes('--local')) return runRelease(args, context);
    const first = args[0] ?? '';
    const named = DEPLOY_ACTIONS.includes(first) || RELEASE_COMMANDS.includes(first);
    return runRelease(named ? args : ['deploy', ...args], context);
  },
};

/** `status`, `diff`, `rollback`, `wait`: the deploy core's read and control commands, one CLI command each. */
export const releaseCommands: readonly CliCommand[] = [
  ['status', 'each service: running/desired/pending, its current deployment and stage'],
  ['diff', 'running task definitions vs what deploy --image would register, and drift'],
  ['rollback', 'roll back the deployment in progress and follow it'],
  ['wait', 'wait until services are stable, deployed, or at a lifecycle stage'],
].map(([name, summary]) => ({
  name: name!,
  summary: summary!,
  help: () => USAGE,
  needsDeclaration: () => true,
  environment: 'declared' as const,
  run: (context: CommandContext) => runRelease([name!, ...context.args], context),
}));
