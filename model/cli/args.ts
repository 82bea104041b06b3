import { parseArgs } from 'node:util';
import { DEFAULT_BUDGET, MAX_BUDGET } from '../../contracts/alert-budget.ts';

/** A CLI usage error: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `--name value` options strictly; unknown options and missing values are usage errors. */
export function parseOptions<const T extends Record<string, { type: 'string' }>>(
  argv: readonly string[],
  options: T,
): Partial<Record<keyof T, string>> {
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return values as Partial<Record<keyof T, string>>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs a CLI main: usage errors exit 2, other failures exit 1, each with one clear line. */
export function runCli(usage: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\n${usage}`);
      process.exitCode = 2;
    } else {
      console.error(`error: ${(error as Error).message}`);
      process.exitCode = 1;
    }
  });
}

/** The `--budget` option: the alert budget, a number in (0, 0.05]; the default budget when absent. */
export function parseBudget(value: string | undefined): number {
  const budget = value === undefined ? DEFAULT_BUDGET : Number(value);
  if (!(budget > 0 && budget <= MAX_BUDGET)) {
    throw new UsageError(`--budget must be a number in (0, ${MAX_BUDGET}]; got ${value}`);
  }
  return budget;
}
