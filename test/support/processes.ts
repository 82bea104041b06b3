import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: where every command of the tests runs. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What {@link runToExit} saw. */
export interface ExitedRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Options for {@link runToExit}. */
export interface RunOptions {
  /** Variables beside (or, with `cleanEnv`, instead of) this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Start from `PATH` alone, as a fresh shell would, so nothing of the test's environment leaks in. */
  readonly cleanEnv?: boolean;
  /** Killed (SIGKILL) past this. @default 120 s */
  readonly timeoutMs?: number;
}

/**
 * Runs a command from the repository root to its exit and collects its output: an entry point's
 * refusal, a CLI run, a process that must stop on a bad environment.
 *
 * @example
 * const run = await runToExit(process.execPath, ['--import', 'tsx', 'services/backend/main.ts'], { env: { PORT: 'abc' }, cleanEnv: true });
 * assert.equal(run.code, 1);
 */
export function runToExit(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ExitedRun> {
  const started = Date.now();
  const base = options.cleanEnv ? { PATH: process.env.PATH ?? '' } : process.env;
  return new Promise((resolve) => {
    const child = spawn(command, [...args], {
      cwd: ROOT,
      env: { ...base, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** {@link runToExit} for a TypeScript file of the repository, run as the platform runs it (`node --import tsx`). */
export function runTypeScript(file: string, options: RunOptions = {}): Promise<ExitedRun> {
  return runToExit(process.execPath, ['--import', 'tsx', file], options);
}
