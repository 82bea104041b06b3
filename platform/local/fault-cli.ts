import { readFileSync } from 'node:fs';
import { WORKER_FAILURES_PER_SECOND } from './edge-fault.ts';
import type { RuntimeState } from './platform.ts';

/**
 * `berth fault [SERVICE] on|off|burst [N]|status` on the platform `start` is running, for any declared
 * service, at its current revision. One path per service, chosen by asking it once (`GET /api/faults`):
 * - a service with its own fault switch (this repository's backend, services/backend) gets the command
 *   (`POST /api/faults`, `POST /api/faults/burst`, `GET /api/faults`) directly at its current revision's
 *   address in the runtime state file, as ECS Exec reaches a task (it may be private); its own switch
 *   wins, because it fails requests inside the app, as a real failure would;
 * - any other service (a team's, in any language) and every worker: the local runtime rehearses it
 *   through its control endpoint (runtime-faults.ts) — requests failed at its edge (the local ALB and
 *   the service address) at the revision in service, which the fault follows after a completed
 *   `deploy --local`; a worker gets paced error lines.
 * Without SERVICE it means `backend`.
 */

export const FAULT_USAGE = `usage: npm run fault -- [SERVICE] <command>     (berth fault SERVICE <command>)
  on [RATE]        fail RATE of the service's requests (0 to 1, default 0.5) for 5 minutes, each
                   failure logged with a stack trace into its log stream (scored by its sidecar);
                   a worker answers no requests: it gets RATE × ${WORKER_FAILURES_PER_SECOND} such error lines a second
  burst [COUNT]    write COUNT error lines with stack traces right now (1 to 1000, default 20)
  off              switch the fault off
  status           print the fault's state
SERVICE: any declared service, at its current revision (default: backend). A service with its own
  fault switch (GET/POST /api/faults, as the console's backend) gets the command; for any other the
  local runtime answers RATE of its requests 500 at the local ALB and its service address, in the
  platform's error shape, and follows the service to a new revision once deploy --local completes
environment: LOCAL_STATE_FILE (default .local/runtime.json)`;

/** The fix named by every usage error: the command's shape on one line. */
const USAGE_FIX = 'fault [SERVICE] on [RATE 0 to 1] | off | burst [COUNT 1 to 1000] | status (fault --help)';

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

/** The request a command makes of a service's own fault switch (the runtime's control endpoint mirrors it). */
export interface FaultRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
}

/** Maps command-line arguments to the fault switch's request; throws a usage error. */
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

/** Where a command goes: the service's own switch, or the runtime's control endpoint. */
type FaultPath = 'switch' | 'runtime';

interface FaultIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/**
 * Runs one fault command against the platform whose state file is `stateFile`: the exit code (0 done,
 * 1 no running platform or the service or runtime refused, 2 usage or an unknown service, one line with
 * the fix) and the answer on `out`.
 */
export async function runFault(
  args: readonly string[],
  io: FaultIo & { readonly stateFile: string },
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
    io.err(`fault: ${(error as Error).message}. Fix: ${USAGE_FIX}.`);
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
          ? 'fault: the running platform runs no service. Fix: run fault SERVICE burst|on RATE|off|status against a platform that declares one.'
          : `fault: this platform has no service named ${DEFAULT_SERVICE}, the default. Fix: name the service: fault SERVICE burst|on RATE|off|status (services: ${services.join(', ')}).`
        : `fault: no service '${service}' in the running platform (services: ${services.join(', ')}). Fix: fault SERVICE burst|on RATE|off|status with one of them.`,
    );
    return 2;
  }
  const path = await faultPathOf(state, service);
  return path === 'switch' ? askSwitch(state, service, request, io) : askRuntime(state, service, request, io);
}

/**
 * One path per service: its own switch when its current revision answers `GET /api/faults` with the
 * switch's state itself (read-only, so asking cannot change anything), else the runtime. A worker
 * listens on no port: nothing to ask.
 */
async function faultPathOf(state: RuntimeState, service: string): Promise<FaultPath> {
  if (currentRevisionOf(state, service).port === null) return 'runtime';
  try {
    const response = await fetch(`${serviceUrlOf(state, service)}/api/faults`, {
      signal: AbortSignal.timeout(5000),
    });
    // An answer through a proxy (Via: the console's web server forwards /api/* to its backend) is
    // another service's switch: this one gets the runtime's fault.
    if (response.headers.has('via')) return 'runtime';
    return isSwitchState(response.ok, await response.text()) ? 'switch' : 'runtime';
  } catch {
    // It does not answer at all: the runtime can still fail the requests its proxies send it.
    return 'runtime';
  }
}

/** The switch's own state: `{enabled: boolean, errorRate: number, …}` (contracts/console-api.ts FaultState). */
function isSwitchState(ok: boolean, text: string): boolean {
  if (!ok) return false;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    return typeof body.enabled === 'boolean' && typeof body.errorRate === 'number';
  } catch {
    return false;
  }
}

/** The command to the service's own switch, at its current revision. */
async function askSwitch(
  state: RuntimeState,
  service: string,
  request: FaultRequest,
  io: FaultIo,
): Promise<number> {
  const url = `${serviceUrlOf(state, service)}${request.path}`;
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
    io.err(`fault: ${service} did not answer at ${url}: ${(error as Error).message}`);
    return 1;
  }
}

/**
 * The switch's request as the runtime's control endpoint takes it (control.ts): the same commands,
 * naming the service; `off` is rate 0.
 */
export function runtimeRequest(service: string, request: FaultRequest): FaultRequest {
  if (request.method === 'GET') {
    return { method: 'GET', path: `/faults?service=${encodeURIComponent(service)}` };
  }
  const body = request.body as { count?: number; errorRate?: number; durationSeconds?: number };
  return request.path.endsWith('/burst')
    ? { method: 'POST', path: '/faults/burst', body: { service, count: body.count } }
    : {
        method: 'POST',
        path: '/faults',
        body: {
          service,
          errorRate: body.errorRate ?? 0,
          ...(body.durationSeconds !== undefined ? { durationSeconds: body.durationSeconds } : {}),
        },
      };
}

/** The command to the runtime's control endpoint, for a service without its own switch. */
async function askRuntime(
  state: RuntimeState,
  service: string,
  switchRequest: FaultRequest,
  io: FaultIo,
): Promise<number> {
  if (!state.control) {
    io.err(
      `fault: ${service} has no fault switch and this runtime names no control endpoint. Fix: restart it with npm start.`,
    );
    return 1;
  }
  const request = runtimeRequest(service, switchRequest);
  try {
    const response = await fetch(`${state.control.url}${request.path}`, {
      method: request.method,
      signal: AbortSignal.timeout(5000),
      headers: {
        authorization: `Bearer ${state.control.token}`,
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    });
    const body = (await response.json()) as Record<string, unknown> & { error?: { message?: string } };
    if (!response.ok) {
      io.err(`fault: the runtime refused: ${body.error?.message ?? `HTTP ${response.status}`}`);
      return 1;
    }
    io.out(
      JSON.stringify(
        typeof body.logged === 'number'
          ? { logged: body.logged, by: `the local runtime (${service} has no fault switch)` }
          : body,
      ),
    );
    return 0;
  } catch (error) {
    io.err(`fault: the runtime did not answer at ${state.control.url}: ${(error as Error).message}`);
    return 1;
  }
}
