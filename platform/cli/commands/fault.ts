import { resolve } from 'node:path';
import { FAULT_USAGE, runFault } from '../../local/fault-cli.ts';
import type { CliCommand, CommandContext } from '../command.ts';
import { declarationFile, repositoryRootOf } from '../declaration.ts';

/** `fault`: rehearses a failure of any service on the platform `start` runs: its own fault switch, or the runtime's. */
export const faultCommand: CliCommand = {
  name: 'fault',
  summary: "switch a service's rehearsed faults on or off on a running start",
  help: () => FAULT_USAGE,
  // It talks to a running `start`, whose state file names the services and their current revisions.
  needsDeclaration: () => false,
  run({ args, env, out, err }: CommandContext): Promise<number> {
    return runFault(args, {
      // The state file `start` wrote in the same repository (the declaration's).
      stateFile: resolve(
        repositoryRootOf(declarationFile(undefined, env)),
        env.LOCAL_STATE_FILE ?? '.local/runtime.json',
      ),
      out,
      err,
    });
  },
};
