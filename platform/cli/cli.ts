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
import { declarationFile, declarePlatformFrom, requestedEnvironment } from './declaration.ts';
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
    `usage: ${CLI} <command> [--declaration FILE] [--env NAME] [options]`,
    '',
    'Every command loads the declaration (--declaration FILE, else PLATFORM_DECLARATION, else',
    'config/declaration.ts), synthesises its manifest and derives the wiring once, then renders it.',
    'synth, preflight and manifest render one declared environment (--env NAME, else PLATFORM_ENVIRONMENT,',
    'else the first declared); start runs the local one.',
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
  const { value: declaration, rest: afterDeclaration } = takeFlag(argv, '--declaration');
  if (declaration === null) {
    io.err(`--declaration needs a file\n\n${cliUsage()}`);
    return EXIT_CODES.usage;
  }
  // `deploy --local`'s `--env KEY=VALUE` are the rehearsal's variables (the running start is one
  // environment), never an environment's name.
  const { value: environmentFlag, rest } = afterDeclaration.includes('--local')
    ? { value: undefined, rest: afterDeclaration }
    : takeFlag(afterDeclaration, '--env');
  if (environmentFlag === null) {
    io.err(`--env needs an environment's name\n\n${cliUsage()}`);
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
  if (environmentFlag !== undefined && command.environment === undefined) {
    io.err(`${name} takes no --env: it renders no environment\n\n${command.help(args)}`);
    return EXIT_CODES.usage;
  }
  const context: CommandContext = { args, env: io.env, out: io.out, err: io.err };
  if (!command.needsDeclaration(args)) return command.run(context);
  const loaded = await declarePlatformFrom(declarationFile(declaration, io.env), {
    mode: command.environment ?? 'local',
    requested: command.environment ? requestedEnvironment(environmentFlag, io.env) : undefined,
  });
  if ('problem' in loaded) {
    io.err(loaded.problem);
    return EXIT_CODES.usage;
  }
  if (loaded.note) io.err(loaded.note);
  return command.run({ ...context, declared: loaded.declared });
}

/** `FLAG VALUE` (or `FLAG=VALUE`) anywhere in the arguments; null when it names nothing. */
function takeFlag(
  argv: readonly string[],
  flag: string,
): { value: string | undefined | null; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined | null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === flag) {
      const next = argv[i + 1];
      value = next === undefined || next.startsWith('-') ? null : next;
      i += 1;
    } else if (arg.startsWith(`${flag}=`)) {
      value = arg.slice(flag.length + 1) || null;
    } else {
      rest.push(arg);
    }
  }
  return { value, rest };
}
