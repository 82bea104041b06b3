import { z } from 'zod';

/**
 * Process start-up, written once for every long-running process of the platform (backend, frontend,
 * anomaly sidecar, model server, local Lambda host): reading the environment, the one failure line,
 * exit codes, and serving until SIGTERM/SIGINT with a grace period. Only zod and Node built-ins, so a
 * function bundle or the model server does not pull a web framework in through it.
 *
 * @example
 * const env = readEnv('model-server', z.object({ PORT: envInt(0, 65535).default(8080) }));
 * const server = serve({ fetch, port: env.PORT });
 * stopOnSignal({ name: 'model-server', graceMs: 5000, stop: () => closeServer(server) });
 */

/**
 * Exit codes shared by every process. ECS and the local supervisor both read them: 1 tells an operator
 * to look at the configuration or the start-up line, not at traffic.
 */
export const EXIT_CODES = {
  /** Stopped on SIGTERM/SIGINT (drained within the grace period, or cut off when it ran out). */
  stopped: 0,
  /** Invalid environment, or start-up failed (port taken, artifact or handler not loadable). */
  startFailed: 1,
} as const;

/** One problem with the environment, named by the variable the operator sets. */
export interface EnvIssue {
  readonly variable: string;
  readonly message: string;
}

/** A parsed environment, or every problem found in it. */
export type EnvResult<T> =
  | { readonly ok: true; readonly env: T }
  | { readonly ok: false; readonly issues: readonly EnvIssue[] };

/**
 * Drops unset, empty and blank values: `PORT=` in a task definition or a shell means "use the
 * default", never "0" (which would bind a random port) or an invalid value.
 */
export function presentValues(source: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && value.trim() !== '') present[name] = value;
  }
  return present;
}

/** Parses `source` (empty values count as unset) with `schema`, whose keys are variable names. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: Readonly<Record<string, string | undefined>>,
): EnvResult<z.infer<S>> {
  const parsed = schema.safeParse(presentValues(source));
  if (parsed.success) return { ok: true, env: parsed.data };
  return { ok: false, issues: envIssuesFromZod(parsed.error) };
}

/** zod issues of an environment schema as `{variable, message}`. */
export function envIssuesFromZod(error: z.ZodError): EnvIssue[] {
  return error.issues.map((issue) => ({
    variable: issue.path.length > 0 ? String(issue.path[0]) : '(environment)',
    message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
  }));
}

/** Writes one JSON line on stderr (the failure line every process shares). */
export function writeErrorLine(name: string, msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', time: new Date().toISOString(), process: name, msg, ...fields })}\n`,
  );
}

/** Stops the process: one JSON error line on stderr, then {@link EXIT_CODES.startFailed}. */
export function failStart(name: string, msg: string, fields: Record<string, unknown> = {}): never {
  writeErrorLine(name, msg, fields);
  process.exit(EXIT_CODES.startFailed);
}

/** Stops with `{"msg":"invalid environment","issues":[{"variable","message"}…]}` and exit code 1. */
export function failEnv(name: string, issues: readonly EnvIssue[]): never {
  failStart(name, 'invalid environment', { issues });
}

/**
 * Reads the environment once at start-up; on any problem stops the process with one JSON line naming
 * every variable at fault and exit code 1.
 */
export function readEnv<S extends z.ZodType>(
  name: string,
  schema: S,
  source: Readonly<Record<string, string | undefined>> = process.env,
): z.infer<S> {
  const result = parseEnv(schema, source);
  if (!result.ok) failEnv(name, result.issues);
  return result.env;
}

/**
 * A whole number in `min..max`, written in decimal digits only: `z.coerce.number()` would take `''`
 * as 0, `'0x10'` as 16 and `'1e3'` as 1000.
 */
export function envInt(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** What {@link stopOnSignal} needs. */
export interface StopOnSignalOptions {
  /** The process name written in the log lines. */
  readonly name: string;
  /**
   * Longest the stop may take before the process exits anyway; below the orchestrator's SIGKILL
   * (ECS `stopTimeout`, 30 s by default) so the exit is ours.
   */
  readonly graceMs: number;
  /** Closes the servers and flushes what must be flushed. */
  readonly stop: () => Promise<void> | void;
  /** @default - one JSON line on stdout per event */
  readonly log?: (msg: string, fields: Record<string, unknown>) => void;
}

/**
 * On the first SIGTERM or SIGINT runs `stop`, then exits with {@link EXIT_CODES.stopped}; when `stop`
 * has not finished within `graceMs` it exits anyway (open keep-alive connections must not hold a task
 * until SIGKILL). Further signals while stopping are ignored.
 */
export function stopOnSignal(options: StopOnSignalOptions): void {
  const log = options.log ?? ((msg, fields) => writeInfoLine(options.name, msg, fields));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log('stopping', { signal, graceMs: options.graceMs });
    const timer = setTimeout(() => {
      log('grace period elapsed; exiting', { graceMs: options.graceMs });
      process.exit(EXIT_CODES.stopped);
    }, options.graceMs);
    timer.unref();
    Promise.resolve()
      .then(options.stop)
      .then(
        () => process.exit(EXIT_CODES.stopped),
        (error: unknown) => {
          writeErrorLine(options.name, 'error while stopping', { error: String(error) });
          process.exit(EXIT_CODES.stopped);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * Stops the process with exit code 1 when the server cannot listen (the port is taken, the address is
 * not local), with one JSON line instead of an uncaught-exception dump.
 */
export function failOnListenError(
  name: string,
  server: { once(event: 'error', listener: (error: Error) => void): unknown },
): void {
  server.once('error', (error) => failStart(name, 'cannot listen', { error: error.message }));
}

/** The parts of a Node HTTP server {@link closeServer} uses. */
export interface ClosableServer {
  close(callback?: (error?: Error) => void): unknown;
  closeIdleConnections?: () => void;
}

/**
 * Stops accepting connections, closes idle keep-alive connections at once and resolves when the
 * in-flight requests are answered.
 */
export function closeServer(server: ClosableServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections?.();
  });
}

function writeInfoLine(name: string, msg: string, fields: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify({ level: 'info', time: new Date().toISOString(), process: name, msg, ...fields })}\n`,
  );
}
