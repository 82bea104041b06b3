import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * One of the platform's processes (a `main.ts`) started as the local runtime starts it, on an ephemeral
 * loopback port, for tests that need the real process: its configured server limits, its RSS.
 */
export interface ServiceProcess {
  readonly url: string;
  readonly pid: number;
  /** Resident set size now, in MiB (`VmRSS` of /proc). */
  rssMiB(): number;
  close(): Promise<void>;
}

/**
 * Starts `entry` with `env` added (PORT=0, HOST=127.0.0.1) and resolves once it logs the port it bound
 * (`"msg":"listening"` with `"port"`, or a `url` with a port), on stdout or stderr.
 */
export async function spawnService(entry: string, env: Record<string, string>): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: '0',
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${entry} did not start: ${seen.slice(-2000)}`)), 90_000);
    const scan = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-8192);
      const match =
        /"msg":"listening"[^\n]*"port":(\d+)/.exec(seen) ?? /"url":"http:\/\/[^"]*:(\d+)"/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', scan);
    child.stderr!.on('data', scan);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}: ${seen.slice(-2000)}`));
    });
  });
  // Keep draining the request log so a full pipe never blocks the process.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    rssMiB: () => rssMiBOf(child.pid!),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

export function rssMiBOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) / 1024;
}
