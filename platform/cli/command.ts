import type { DeclaredPlatform, EnvironmentMode } from './declaration.ts';

/** What a subcommand runs with: its own arguments, the process's surroundings and, when it needs one, the derived platform. */
export interface CommandContext {
  /** The arguments after the subcommand's name, without `--declaration FILE` and `--env NAME`. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Human output (stdout). */
  readonly out: (line: string) => void;
  /** Failures and progress that is not the result (stderr). */
  readonly err: (line: string) => void;
  /** The declaration's manifest and wiring, derived once; present when the command asked for it. */
  readonly declared?: DeclaredPlatform;
}

/** One subcommand of the CLI. */
export interface CliCommand {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Its `--help` (the CLI prints it for `--help` or `-h` anywhere in the arguments). */
  help(args: readonly string[]): string;
  /** Whether these arguments need the declaration loaded and wired first. */
  needsDeclaration(args: readonly string[]): boolean;
  /**
   * Which environment it renders. `declared`: one the declaration declares (`--env NAME`, else
   * `PLATFORM_ENVIRONMENT`, else the first in promotion order). `local`: the declaration without any
   * environment's overrides (`start`; `--env local` only). Absent: the command takes no `--env`.
   */
  readonly environment?: EnvironmentMode;
  run(context: CommandContext): Promise<number>;
}

/** Whether the arguments ask for help. */
export const asksForHelp = (args: readonly string[]) => args.includes('--help') || args.includes('-h');
