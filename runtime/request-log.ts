import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';

/** Writes one structured line; the default is one JSON object per line on stdout. */
export type LogSink = (line: Record<string, unknown>) => void;

export const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const REQUEST_ID = /^[\w.-]{1,128}$/;

/**
 * The status of a request whose client went away before the answer (nginx's 499; the ALB counts it as
 * 460): the client's doing, logged at info and never a 5xx, so an outsider who hangs up on purpose
 * cannot make a service look broken to its anomaly model or its deployment gate.
 */
export const CLIENT_CLOSED_REQUEST = 499;

/**
 * Whether the client closed the connection before the answer: the request's signal aborted (the
 * server saw the socket close), or the body read failed because the upload was cut off.
 */
export function clientClosed(c: Context, error?: unknown): boolean {
  if (c.req.raw.signal.aborted) return true;
  // Node's http server fails an unfinished upload with this error when the socket closes.
  return (
    error instanceof Error &&
    error.message === 'aborted' &&
    (error as { code?: unknown }).code === 'ECONNRESET'
  );
}

/** What {@link requestLog} puts on the context: `c.get('requestId')`. */
export interface RequestLogEnv {
  Variables: { requestId: string };
}

/**
 * One JSON line per request (method, path, status, duration, request id), written after the response
 * is decided, including error responses. A well-formed incoming `x-request-id` is kept so a request
 * can be followed from the frontend to the backend; it is echoed back.
 */
export function requestLog(service: string, sink: LogSink = stdoutSink): MiddlewareHandler<RequestLogEnv> {
  return async function logRequest(c, next) {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    await next();
    c.res.headers.set('x-request-id', requestId);
    const status = c.res.status;
    sink({
      level:
        status === CLIENT_CLOSED_REQUEST ? 'info' : status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
      time: new Date().toISOString(),
      service,
      msg: 'request',
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      requestId,
    });
  };
}
