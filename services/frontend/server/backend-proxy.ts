import type { Context, MiddlewareHandler } from 'hono';
import { CONSOLE_IDENTITY_HEADER } from '../../../contracts/console-ops.ts';
import { ApiError } from '../../../contracts/errors.ts';
import type { RequestLogEnv } from '../../../runtime/request-log.ts';

/** Options for {@link backendProxy}. */
export interface BackendProxyOptions {
  /** e.g. `http://backend.acme.local:8081`. */
  readonly backendUrl: string;
  /** Deadline for the backend's response headers, in milliseconds. */
  readonly timeoutMs: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /**
   * Who the caller is, sent as `x-console-identity` (the backend caps live streams per identity); any
   * value the caller sent is replaced. @default - the header is only removed
   */
  readonly identity?: (c: Context<RequestLogEnv>) => Promise<string>;
}

/** Connection-level headers that must not be forwarded (RFC 9110 §7.6.1), plus ones fetch sets itself. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  // The proxy compresses for the browser itself; the backend answers identity.
  'accept-encoding',
  // Only this server says who the caller is.
  CONSOLE_IDENTITY_HEADER,
];

/**
 * Proxies `/api/*` to the backend, keeping the method, path, query and body. An unreachable backend
 * is a 502 and a slow one a 504, both in the platform's error shape, so the console can show a
 * precise message instead of a blank screen.
 */
export function backendProxy(options: BackendProxyOptions): MiddlewareHandler<RequestLogEnv> {
  const base = options.backendUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? fetch;
  return async function proxyToBackend(c) {
    const incoming = new URL(c.req.url);
    const headers = new Headers(c.req.raw.headers);
    for (const name of HOP_BY_HOP) headers.delete(name);
    headers.set('x-request-id', c.get('requestId'));
    headers.set('x-forwarded-proto', incoming.protocol.replace(':', ''));
    // The browser's Host (the proxy's own fetch names the backend): the backend's loopback-only routes
    // judge the name the browser used.
    headers.set('x-forwarded-host', c.req.header('host') ?? incoming.host);
    if (options.identity) headers.set(CONSOLE_IDENTITY_HEADER, await options.identity(c));
    const upload = c.req.method !== 'GET' && c.req.method !== 'HEAD' ? c.req.raw.body : null;
    const hasBody = upload !== null;
    // The deadline covers the backend's answer only: it starts once the whole body is forwarded (a
    // slow upload is the client's, cut by this server's request deadline with a 408, never a 504),
    // and ends with the response headers (a server-sent event stream then runs for as long as the
    // browser keeps it open).
    const deadline = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const startDeadline = () => {
      timer = setTimeout(
        () => deadline.abort(new DOMException('backend deadline', 'TimeoutError')),
        options.timeoutMs,
      );
    };
    if (!hasBody) startDeadline();
    let response: Response;
    try {
      response = await fetchImpl(`${base}${incoming.pathname}${incoming.search}`, {
        method: c.req.method,
        headers,
        body: upload ? upload.pipeThrough(new TransformStream({ flush: startDeadline })) : undefined,
        // Required by undici for a streamed request body.
        ...(hasBody ? { duplex: 'half' } : {}),
        redirect: 'manual',
        signal: AbortSignal.any([deadline.signal, c.req.raw.signal]),
      } as RequestInit);
    } catch (error) {
      // The body limit fails the upload stream; fetch reports that as its cause.
      const cause = (error as { cause?: unknown } | null)?.cause;
      if (error instanceof ApiError) throw error;
      if (cause instanceof ApiError) throw cause;
      if (deadline.signal.aborted)
        throw new ApiError('gateway_timeout', 'the backend did not answer in time');
      throw new ApiError('bad_gateway', 'the backend is unreachable');
    } finally {
      clearTimeout(timer);
    }
    const out = new Headers(response.headers);
    for (const name of [...HOP_BY_HOP, 'content-encoding']) out.delete(name);
    // A proxy says so on what it forwards (RFC 9110 §7.6.3): `fault frontend` must not take the
    // backend's fault switch, answered through here, for the frontend's own (platform/local/fault-cli.ts).
    out.append('via', '1.1 console');
    const streaming = out.get('content-type')?.startsWith('text/event-stream') ?? false;
    const body =
      streaming && response.body ? endQuietlyOnAbort(response.body, c.req.raw.signal) : response.body;
    return new Response(body, { status: response.status, headers: out });
  };
}

/**
 * A server-sent event stream lasts until the browser leaves; then the upstream read fails with
 * "aborted". That is the normal end of the stream, not an error to log, so it ends the body quietly.
 */
function endQuietlyOnAbort(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        if (signal.aborted) controller.close();
        else controller.error(error);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
