import type { CliCommand, CommandContext } from '../command.ts';
import { EXIT_CODES } from '../exit-codes.ts';

const USAGE = `usage: manifest [--env NAME]

--env NAME (else PLATFORM_ENVIRONMENT, else the first declared) prints that environment's manifest.

Prints the declaration's validated manifest (JSON, every default applied): what synth writes to
cdk.out/platform-manifest.json. Exit codes: 0 printed, 2 a bad declaration.`;

/** `manifest`: the declaration as the library checked it, for reading and diffing. */
export const manifestCommand: CliCommand = {
  name: 'manifest',
  summary: "print the declaration's validated manifest",
  help: () => USAGE,
  needsDeclaration: () => true,
  environment: 'declared',
  async run({ args, out, err, declared }: CommandContext): Promise<number> {
    if (args.length > 0) {
      err(`manifest: unknown argument ${args[0]}\n\n${USAGE}`);
      return EXIT_CODES.usage;
    }
    out(JSON.stringify(declared!.manifest, null, 2));
    return EXIT_CODES.ok;
  },
};
