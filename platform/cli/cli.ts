import { asksForHelp, type CliCommand, type CommandContext } from './command.ts';
import { deployCommand, releaseCommands } from './commands/deploy.ts';
import { faultCommand } from './commands/fault.ts';
import { imagesCommand } from './commands/images.ts';
import { initCommand } from './commands/init.ts';
import { manifestCommand } from './commands/manifest.ts';
import { preflightCommand } from './commands/preflight.ts';
import { startCommand } from './commands/start.ts';
import { synthCommand } from './commands/synth.ts';
import { workflowCommand } from './commands/workflow.ts';
import { declarationFile, declarePlatformFrom } from './declaration.ts';
import { EXIT_CODE_HELP, EXIT_CODES } from './exit-codes.ts';
import { CLI_NAME } from './package-root.ts';

/** Every subcommand, in the order the help lists them. */
export const COMMANDS: readonly CliCommand[] = [
  initCommand,
  synthCommand,
  preflightCommand,
  startCommand,
  deployCommand,
  ...releaseCommands,
  imagesCommand,
  workflowCommand,
  faultCommand,
  manifestCommand,
];

/** The CLI's name in its help: the package's `bin`, which this repository's npm scripts call too. */
const CLI = CLI_NAME;

export function cliUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `usage: ${CLI} <command> [--declaration FILE] [options]`,
    '',
    'Every command loads the declaration (--declaration FILE, else PLATFORM_DECLARATION, else',
    'config/declaration.ts), synthesises its manifest and derives the wiring once, then renders it.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `${CLI} <command> --help prints a command's options.`,
    EXIT_CODE_HELP,
  ].join('\n');
}

/** What the CLI runs with: the process's arguments and surroundings, as the entry passes them. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/**
 * The one entry: picks the subcommand, loads the declaration and derives the wiring once when the
 * command needs it, and hands both to the command's renderer. A bad declaration is its message alone,
 * exit 2, before anything is rendered.
 *
 * @example
 * process.exitCode = await runCli(['synth'], { env: process.env, out: console.log, err: console.error });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const { declaration, rest } = takeDeclarationFlag(argv);
  if (declaration === null) {
    io.err(`--declaration needs a file\n\n${cliUsage()}`);
    return EXIT_CODES.usage;
  }
  const [name, ...args] = rest;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === args[0]) : undefined;
    (name === undefined ? io.err : io.out)(topic ? topic.help(args.slice(1)) : cliUsage());
    return name === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`unknown command '${name}'; commands: ${COMMANDS.map((c) => c.name).join(', ')}\n\n${cliUsage()}`);
    return EXIT_CODES.usage;
  }
  if (asksForHelp(args)) {
    io.out(command.help(args));
    return EXIT_CODES.ok;
  }
  const context: CommandContext = { args, env: io.env, out: io.out, err: io.err };
  if (!command.needsDeclaration(args)) return command.run(context);
  const loaded = await declarePlatformFrom(declarationFile(declaration, io.env));
  if ('problem' in loaded) {
    io.err(loaded.problem);
    return EXIT_CODES.usage;
  }
  return command.run({ ...context, declared: loaded.declared });
}

/** `--declaration FILE` (or `--declaration=FILE`) anywhere in the arguments; null when it names no file. */
function takeDeclarationFlag(argv: readonly string[]): {
  declaration: string | undefined | null;
  rest: string[];
} {
  const rest: string[] = [];
  let declaration: string | undefined | null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--declaration') {
      const file = argv[i + 1];
      declaration = file === undefined || file.startsWith('-') ? null : file;
      i += 1;
    } else if (arg.startsWith('--declaration=')) {
      declaration = arg.slice('--declaration='.length) || null;
    } else {
      rest.push(arg);
    }
  }
  return { declaration, rest };
}
