import { setTimeout as sleep } from 'node:timers/promises';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { USAGE } from '../../deploy/args.ts';
import { runCli as runDeploy } from '../../deploy/cli.ts';
import { LOCAL_USAGE } from '../../deploy/local.ts';
import type { CliCommand, CommandContext } from '../command.ts';

/**
 * `deploy`: releases on ECS (deploy, diff, status, rollback, wait, continue, abort) and, with `--local`,
 * rehearsed against a running `start`. Services, containers, the cluster and image names come from the
 * declaration's wiring, never from the command line.
 */
export const deployCommand: CliCommand = {
  name: 'deploy',
  summary: 'roll out new images on ECS, or rehearse a release with --local',
  help: (args) => (args.includes('--local') ? LOCAL_USAGE : USAGE),
  // The rehearsal talks to a running `start`, which holds the wiring already.
  needsDeclaration: (args) => !args.includes('--local'),
  environment: 'declared',
  run({ args, env, out, err, declared }: CommandContext): Promise<number> {
    // In GitHub Actions, failures become error annotations on the run summary.
    const annotate = env.GITHUB_ACTIONS === 'true';
    return runDeploy(args, {
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
  },
};
