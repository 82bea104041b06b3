import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeState } from '../../platform/local/platform.ts';
import { groupAlive } from '../../platform/local/supervisor.ts';
import { type ExitedRun, ROOT, type RunOptions, runToExit } from './processes.ts';

export { ROOT };

/**
 * The one way tests and benchmarks run the whole platform and its commands: what `npm start` runs (read
 * from package.json's `start` script, so a new entry changes nothing here), on free loopback ports, with its
 * state in a temporary folder, until its `ready` line. Stopping it leaves no process behind.
 */

/**
 * The program and arguments of `npm run <name>` (`start` is `npm start`), from package.json; `node …` and
 * `tsx …` run on this Node.
 */
export function scriptCommand(name: string): { readonly command: string; readonly args: readonly string[] } {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = scripts[name]?.trim().split(/\s+/) ?? [];
  if (words[0] === 'node') return { command: process.execPath, args: words.slice(1) };
  if (words[0] === 'tsx') return { command: process.execPath, args: ['--import', 'tsx', ...words.slice(1)] };
  throw new Error(`package.json's ${name} script must run node or tsx; got '${scripts[name]}'`);
}

/** A platform started by {@link spawnPlatform}. */
export interface SpawnedPlatform {
  readonly child: ChildProcess;
  /** The local ALB (`web`) and API Gateway (`api`), without a trailing slash. */
  readonly urls: { readonly web: string; readonly api: string };
  /** `LOCAL_STATE_FILE`; the runtime writes its other state files beside it. */
  readonly stateFile: string;
  readonly stateDir: string;
  /** From spawning to the `ready` line. */
  readonly readyMs: number;
  /** Resolves when the supervisor exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** The runtime's state file as it is now. */
  state(): RuntimeState;
  /**
   * Stops the platform with `signal` (the supervisor stops its groups), kills any process group it
   * recorded that is still alive, and removes the state folder.
   * @returns how long the supervisor took to exit
   */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Options for {@link spawnPlatform}. */
export interface SpawnPlatformOptions {
  /** Arguments after `npm start --`. */
  readonly args?: readonly string[];
  /** Environment beside the free ports, the state file and `NO_COLOR`. */
  readonly env?: Readonly<Record<string, string>>;
  /** @default 90 s */
  readonly readyWithinMs?: number;
}

const READY = /^ready web=(\S+?)\/? api=(\S+?)\/predict/m;

/**
 * Runs `npm start` and resolves once it prints `ready`; rejects with the end of its output if it exits
 * first or is not ready in time.
 *
 * @example
 * const platform = await spawnPlatform({ args: ['--demo-traffic'] });
 * after(() => platform.stop());
 * await fetch(`${platform.urls.web}/api/services`);
 */
export async function spawnPlatform(options: SpawnPlatformOptions = {}): Promise<SpawnedPlatform> {
  const stateDir = mkdtempSync(join(tmpdir(), 'platform-'));
  const stateFile = join(stateDir, 'runtime.json');
  const { command, args } = scriptCommand('start');
  const started = performance.now();
  const child = spawn(command, [...args, ...(options.args ?? [])], {
    cwd: ROOT,
    env: {
      ...process.env,
      WEB_PORT: '0',
      API_PORT: '0',
      MODEL_PORT: '0',
      LOCAL_STATE_FILE: stateFile,
      NO_COLOR: '1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const readyWithinMs = options.readyWithinMs ?? 90_000;
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start: no ready line within ${readyWithinMs} ms:\n${output.slice(-4000)}`)),
      readyWithinMs,
    );
    // The output keeps being read after ready, so the platform never blocks on a full pipe.
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = READY.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code ?? signal}) before ready:\n${output.slice(-4000)}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    killRecordedGroups(stateFile);
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  });
  const readyMs = performance.now() - started;
  let stopped: Promise<number> | undefined;
  return {
    child,
    urls: { web: ready[1]!, api: ready[2]! },
    stateFile,
    stateDir,
    readyMs,
    exited,
    output: () => output,
    state: () => JSON.parse(readFileSync(stateFile, 'utf8')) as RuntimeState,
    stop(signal = 'SIGTERM') {
      stopped ??= (async () => {
        const t0 = performance.now();
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000).unref())]);
        const ms = performance.now() - t0;
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        killRecordedGroups(stateFile);
        rmSync(stateDir, { recursive: true, force: true });
        return ms;
      })();
      return stopped;
    },
  };
}

/** The backstop: every process group the runtime recorded that is still alive is killed. */
function killRecordedGroups(stateFile: string): void {
  if (!existsSync(stateFile)) return;
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as RuntimeState;
  for (const p of state.processes) {
    for (const group of p.processGroups) if (groupAlive(group)) process.kill(-group, 'SIGKILL');
  }
}

/**
 * Runs `npm run <name> -- <args>` to its exit (a refusal of `npm start`, a local deployment, a fault
 * command, a bad declaration at synth), with its output.
 */
export function runScript(
  name: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ExitedRun> {
  const { command, args: entry } = scriptCommand(name);
  return runToExit(command, [...entry, ...args], { ...options, env: { NO_COLOR: '1', ...options.env } });
}
