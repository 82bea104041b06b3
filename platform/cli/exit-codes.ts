/**
 * The CLI's exit codes, one table for every subcommand: CI tells a rollback from a timeout from a
 * typo. The deploy command's own table (platform/deploy/args.ts) holds the same values.
 */
export const EXIT_CODES = {
  /** Done: synthesised, started and stopped cleanly, rolled out, nothing blocks. */
  ok: 0,
  /** It ran and failed: a part never became healthy, a rollout rolled back, a preflight blocker, a policy finding. */
  failed: 1,
  /** Nothing ran: a bad declaration, a bad argument, a port that is taken; the message names the fix. */
  usage: 2,
  /** The awaited state was not reached in time (deploy, wait). */
  timeout: 124,
  /** Interrupted (Ctrl-C) before it was ready; everything started was stopped. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The table as the help prints it. */
export const EXIT_CODE_HELP = `Exit codes: 0 done, 1 failed (the reason is printed), 2 bad declaration or usage (nothing ran), 124 timed out, 130 interrupted.`;
