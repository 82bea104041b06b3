import { readFileSync } from 'node:fs';
import type { RuntimeState } from './platform.ts';

/**
 * `berth fault [SERVICE] on|off|burst [N]|status`: flips a service's fault switch (`POST /api/faults`,
 * `POST /api/faults/burst`, `GET /api/faults`; this repository's backend has one, services/backend) on
 * the platform `start` is running, at the service's current revision. A service may be private, so,
 * like ECS Exec into a task, this talks to it directly at the address in the runtime state file rather
 * than through the ALB. Without SERVICE it means `backend`.
 */

export const FAULT_USAGE = `usage: npm run fault -- [SERVICE] <command>     (berth fault SERVICE <command>)
  on [errorRate]   fail a share of the service's requests (default 0.5) with logged stack traces,
                   for 5 minutes; combine with npm start -- --demo-traffic to see it on the console
  burst [count]    write count error lines with stack traces right now (default 20)
  off              switch faults off
  status           print the switch's state
SERVICE: a declared service with the fault switch, at its current revision (default: backend)
environment: LOCAL_STATE_FILE (default .local/runtime.json)`;

const COMMANDS = new Set(['on', 'off', 'burst', 'status']);
/** The service `fault` drives when none is named: this repository's console API, which has the switch. */
export const DEFAULT_SERVICE = 'backend';

/** The service and the request of a command line; throws a usage error. */
export function faultTarget(args: readonly string[]): { service: string; request: FaultRequest } {
  const named = args[0] !== undefined && !COMMANDS.has(args[0]) && !args[0].startsWith('-');
  return named
    ? { service: args[0]!, request: faultRequest(args.slice(1)) }
    : { service: DEFAULT_SERVICE, request: faultRequest(args) };
}

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

/** The services of a running platform, by name, in start order. */
export function servicesOf(state: RuntimeState): string[] {
  return [...new Set(state.processes.filter((p) => p.role === 'service').map((p) => p.service ?? p.label))];
}

/**
 * A service's base URL from a runtime state: its current revision (the newest running one; a
 * deployment leaves the first revision's process stopped in the state).
 */
export function serviceUrlOf(state: RuntimeState, service: string): string {
  return `http://127.0.0.1:${currentRevisionOf(state, service).port}`;
}

/** A service's current revision in a runtime state: the newest running process of it. */
function currentRevisionOf(state: RuntimeState, service: string): RuntimeState['processes'][number] {
  const revisions = state.processes.filter((p) => p.role === 'service' && (p.service ?? p.label) === service);
  const current = revisions.filter((p) => p.pid !== null).at(-1) ?? revisions.at(-1);
  if (!current) {
    throw new Error(
      `no service '${service}' in the running platform (services: ${servicesOf(state).join(', ')})`,
    );
  }
  return current;
}

/** The backend's base URL (the service `fault` drives when none is named). */
export function backendUrlOf(state: RuntimeState): string {
  if (!servicesOf(state).includes(DEFAULT_SERVICE))
    throw new Error('the running platform has no backend service');
  return serviceUrlOf(state, DEFAULT_SERVICE);
}

/**
 * Runs one fault command against the platform whose state file is `stateFile`: the exit code (0 done,
 * 1 no running platform or the service refused, 2 usage, an unknown service or one without the switch)
 * and the service's answer on `out`.
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
  let service: string;
  let request: FaultRequest;
  try {
    ({ service, request } = faultTarget(args));
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
  const services = servicesOf(state);
  if (!services.includes(service)) {
    io.err(
      service === DEFAULT_SERVICE && args[0] !== DEFAULT_SERVICE
        ? services.length === 0
          ? "fault: the running platform has no backend service. Fix: fault drives this repository's console backend (POST /api/faults); run it against a platform that declares one."
          : `fault: this platform has no service named ${DEFAULT_SERVICE}, the default. Fix: name the service: fault SERVICE burst|on RATE|off|status (services: ${services.join(', ')}).`
        : `fault: no service '${service}' in the running platform (services: ${services.join(', ')}). Fix: fault SERVICE burst|on RATE|off|status with one of them.`,
    );
    return 2;
  }
  const burst = request.path.endsWith('/burst');
  // A worker listens on no port: it has no switch to ask, and the runtime writes a burst for it.
  if (currentRevisionOf(state, service).port === null) {
    if (burst) return runtimeBurst(state, service, (request.body as { count: number }).count, io);
    io.err(noSwitch(service, request));
    return 2;
  }
  const url = `${serviceUrlOf(state, service)}${request.path}`;
  let answer: { status: number; ok: boolean; text: string };
  try {
    const response = await fetch(url, {
      method: request.method,
      signal: AbortSignal.timeout(5000),
      ...(request.body !== undefined
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body) }
        : {}),
    });
    answer = { status: response.status, ok: response.ok, text: await response.text() };
  } catch (error) {
    io.err(`fault: ${service} did not answer at ${url}: ${(error as Error).message}`);
    return 1;
  }
  // A service without the switch may answer anything (404, or 200 from a catch-all route): only the
  // switch's own answer counts.
  if (isSwitchAnswer(answer, burst) || (!answer.ok && answer.status !== 404 && answer.status !== 405)) {
    (answer.ok ? io.out : io.err)(answer.text);
    return answer.ok ? 0 : 1;
  }
  if (burst) return runtimeBurst(state, service, (request.body as { count: number }).count, io);
  io.err(noSwitch(service, request));
  return 2;
}

/** The refusal of `on`/`off`/`status` for a service without the fault switch, with the fix. */
function noSwitch(service: string, request: FaultRequest): string {
  return (
    `fault: ${service} has no fault switch (its answer to ${request.method} ${request.path} is not the switch's state). ` +
    `Fix: add the switch to the service (POST /api/faults {errorRate, durationSeconds}, GET /api/faults; start sets FAULTS_ENABLED=1 locally), or use fault ${service} burst, which works for every service.`
  );
}

/** The fault switch's own answer: `{logged}` to a burst, its state (`{enabled, …}`) otherwise. */
function isSwitchAnswer(answer: { ok: boolean; text: string }, burst: boolean): boolean {
  if (!answer.ok) return false;
  try {
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    return burst ? typeof body.logged === 'number' : typeof body.enabled === 'boolean';
  } catch {
    return false;
  }
}

/** A burst the runtime writes into the service's log stream (its control endpoint), for a service without the switch. */
async function runtimeBurst(
  state: RuntimeState,
  service: string,
  count: number,
  io: { readonly out: (line: string) => void; readonly err: (line: string) => void },
): Promise<number> {
  if (!state.control) {
    io.err(
      `fault: ${service} has no fault switch and this runtime names no control endpoint. Fix: restart it with npm start.`,
    );
    return 1;
  }
  try {
    const response = await fetch(`${state.control.url}/faults/burst`, {
      method: 'POST',
      signal: AbortSignal.timeout(5000),
      headers: { authorization: `Bearer ${state.control.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service, count }),
    });
    const body = (await response.json()) as { logged?: number; error?: { message?: string } };
    if (!response.ok || typeof body.logged !== 'number') {
      io.err(`fault: the runtime refused the burst: ${body.error?.message ?? response.status}`);
      return 1;
    }
    io.out(JSON.stringify({ logged: body.logged, by: `the local runtime (${service} has no fault switch)` }));
    return 0;
  } catch (error) {
    io.err(`fault: the runtime did not answer at ${state.control.url}: ${(error as Error).message}`);
    return 1;
  }
}
