import { readFileSync } from 'node:fs';
import type { RuntimeState } from './platform.ts';

/**
 * `npm run fault -- on|off|burst [N]|status`: flips the backend's fault switch (services/backend,
 * `POST /api/faults`, `POST /api/faults/burst`) on the platform `npm start` is running. The backend is
 * private, so, like ECS Exec into a task, this talks to it directly at the address in the runtime state
 * file rather than through the ALB.
 */

export const FAULT_USAGE = `usage: npm run fault -- <command>
  on [errorRate]   fail a share of the backend's /api requests (default 0.5) with logged stack traces,
                   for 5 minutes; combine with npm start -- --demo-traffic to see it on the console
  burst [count]    write count error lines with stack traces right now (default 20)
  off              switch faults off
  status           print the switch's state
environment: LOCAL_STATE_FILE (default .local/runtime.json)`;

/** The request a command makes against the backend. */
export interface FaultRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
}

/** Maps command-line arguments to the backend request; throws a usage error. */
export function faultRequest(args: readonly string[]): FaultRequest {
  const [command, value, ...rest] = args;
  if (rest.length > 0) throw new Error(`too many arguments: ${rest.join(' ')}`);
  const number = (fallback: number, min: number, max: number, integer: boolean) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new Error(
        `${command} takes ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}; got '${value}'`,
      );
    }
    return n;
  };
  switch (command) {
    case 'on':
      return {
        method: 'POST',
        path: '/api/faults',
        body: { errorRate: number(0.5, 0, 1, false), durationSeconds: 300 },
      };
    case 'off':
      if (value !== undefined) throw new Error('off takes no argument');
      return { method: 'POST', path: '/api/faults', body: {} };
    case 'burst':
      return { method: 'POST', path: '/api/faults/burst', body: { count: number(20, 1, 1000, true) } };
    case 'status':
      if (value !== undefined) throw new Error('status takes no argument');
      return { method: 'GET', path: '/api/faults' };
    default:
      throw new Error(command === undefined ? 'a command is required' : `unknown command '${command}'`);
  }
}

/**
 * The backend's base URL from a runtime state: its current revision (the newest running one; a
 * deployment leaves the first revision's process stopped in the state).
 */
export function backendUrlOf(state: RuntimeState): string {
  const revisions = state.processes.filter(
    (p) => p.role === 'service' && (p.service ?? p.label) === 'backend',
  );
  const current = revisions.filter((p) => p.pid !== null).at(-1) ?? revisions.at(-1);
  if (!current) throw new Error('the running platform has no backend service');
  return `http://127.0.0.1:${current.port}`;
}

/**
 * Runs one fault command against the platform whose state file is `stateFile`: the exit code (0 done,
 * 1 no running platform or the backend refused, 2 usage) and the backend's answer on `out`.
 */
export async function runFault(
  args: readonly string[],
  io: {
    readonly stateFile: string;
    readonly out: (line: string) => void;
    readonly err: (line: string) => void;
  },
): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h') {
    io.out(FAULT_USAGE);
    return 0;
  }
  let request: FaultRequest;
  try {
    request = faultRequest(args);
  } catch (error) {
    io.err(`fault: ${(error as Error).message}\n\n${FAULT_USAGE}`);
    return 2;
  }
  let state: RuntimeState;
  try {
    state = JSON.parse(readFileSync(io.stateFile, 'utf8')) as RuntimeState;
    process.kill(state.supervisorPid, 0);
  } catch {
    io.err(`fault: no running platform found (${io.stateFile}); start it with npm start`);
    return 1;
  }
  let base: string;
  try {
    base = backendUrlOf(state);
  } catch (error) {
    io.err(
      `fault: ${(error as Error).message}. Fix: fault drives this repository's console backend (POST /api/faults); run it against a platform that declares one.`,
    );
    return 2;
  }
  const url = `${base}${request.path}`;
  try {
    const response = await fetch(url, {
      method: request.method,
      signal: AbortSignal.timeout(5000),
      ...(request.body !== undefined
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body) }
        : {}),
    });
    const text = await response.text();
    (response.ok ? io.out : io.err)(text);
    return response.ok ? 0 : 1;
  } catch (error) {
    io.err(`fault: the backend did not answer at ${url}: ${(error as Error).message}`);
    return 1;
  }
}
