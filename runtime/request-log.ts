import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

/** Writes one structured line; the default is one JSON object per line on stdout. */
export type LogSink = (line: Record<string, unknown>) => void;

export const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const REQUEST_ID = /^[\w.-]{1,128}$/;

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
      level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
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
