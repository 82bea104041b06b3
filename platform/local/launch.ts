import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Launching what `npm start` runs, for the benchmarks: a child process on free ports with its own state
 * file, resolved once it prints its `ready` line.
 */

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface Launched {
  readonly child: ChildProcess;
  readonly readyMs: number;
  readonly urls: { web: string; api: string };
  readonly stateFile: string;
  stop(): Promise<number>;
}

/** Spawns what `npm start` runs and waits for its `ready` line. */
export async function launch(extraEnv: Record<string, string> = {}): Promise<Launched> {
  const stateFile = join(tmpdir(), `local-bench-${process.pid}-${Date.now()}.json`);
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'platform/local/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      WEB_PORT: '0',
      API_PORT: '0',
      MODEL_PORT: '0',
      LOCAL_STATE_FILE: stateFile,
      NO_COLOR: '1',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? 1)));
  const ready = await new Promise<RegExpExecArray>((resolveReady, reject) => {
    const onData = (c: Buffer) => {
      output += c.toString();
      const match = /^ready web=(\S+)\/ api=(\S+)\/predict/m.exec(output);
      if (match) resolveReady(match);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    void exited.then((code) =>
      reject(new Error(`npm start exited (${code}) before ready:\n${output.slice(-3000)}`)),
    );
    setTimeout(() => reject(new Error(`no ready line in 90 s:\n${output.slice(-3000)}`)), 90_000).unref();
  });
  const readyMs = performance.now() - t0;
  // Keep draining output so the platform is never blocked by a full pipe.
  return {
    child,
    readyMs,
    urls: { web: ready[1]!, api: ready[2]! },
    stateFile,
    stop: async () => {
      const t = performance.now();
      child.kill('SIGTERM');
      await exited;
      rmSync(stateFile, { force: true });
      return performance.now() - t;
    },
  };
}
