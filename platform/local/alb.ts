import { randomBytes } from 'node:crypto';
import { Agent, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERROR_STATUS, type ErrorCode, errorBody } from '../../contracts/errors.ts';
import { PREDICTION_LIMITS } from '../../contracts/prediction.ts';
import { createLimitedServer, httpServerLimits } from '../../runtime/http-server.ts';
import { DEFAULT_ROUTE, type PlatformWiring } from '../wiring/index.ts';

/**
 * The local Application Load Balancer: the wiring's listener rules, the same the AWS renderer creates
 * (web services' `paths`, ordered by `priority`, the `/*` service evaluated last), as a reverse proxy on
 * loopback.
 */

/** One listener rule: path patterns forwarded to one target (a web service). */
export interface ListenerRule {
  /** The web service the rule forwards to. */
  readonly service: string;
  /** ALB path patterns (`*` any run of characters, `?` exactly one; case-sensitive). */
  readonly paths: readonly string[];
  /** Lower is evaluated first; 0 marks the default action. */
  readonly priority: number;
}

/** The wiring's listener rules (platform/wiring): explicit rules by priority, then the default action. */
export function listenerRules(wiring: PlatformWiring): ListenerRule[] {
  return wiring.routes.map((r) => ({ ...r }));
}

/**
 * Whether `path` matches an ALB path pattern. ALB compares the pattern with the whole path (not the
 * query string), case-sensitively; `*` matches any characters including `/`, `?` exactly one.
 *
 * @example
 * matchesPathPattern('/api/*', '/api/anomalies') // true
 * matchesPathPattern('/api/*', '/API/anomalies') // false
 */
export function matchesPathPattern(pattern: string, path: string): boolean {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(path);
}

/** The service a request path is forwarded to, or undefined when no rule matches and there is no default. */
export function routeFor(rules: readonly ListenerRule[], path: string): string | undefined {
  for (const rule of rules) {
    if (rule.priority === 0 || rule.paths.some((p) => matchesPathPattern(p, path))) return rule.service;
  }
  return undefined;
}

/** A target as the ALB sees it: where the service listens now and whether its health check passes. */
export interface AlbTarget {
  readonly port: number;
  readonly healthy: boolean;
  /**
   * Told the status of each answer (the target group's per-target counts); 502/504 when the target
   * failed, {@link CLIENT_CLOSED} when the client hung up first.
   */
  readonly onResponse?: (status: number) => void;
  /**
   * Set when the runtime fails this request on purpose (`fault SERVICE on RATE`, a local rehearsal for a
   * service without a fault switch): the ALB answers 500 in the platform's error shape itself, counted
   * as the target's 5xx, and calls it with the request so the failure is logged in the target's stream.
   */
  readonly injectFailure?: (request: { readonly method: string; readonly path: string }) => void;
}

/** Options of {@link startLocalAlb}. */
export interface LocalAlbOptions {
  readonly rules: readonly ListenerRule[];
  /** The current target of a service (it moves when the service restarts). */
  readonly targetOf: (service: string) => AlbTarget | undefined;
  /** Port to listen on (0 picks a free one). */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Idle timeout of a proxied request (`edge.idleTimeoutSeconds`). @default 60000 */
  readonly idleTimeoutMs?: number;
}

/** A running local ALB. */
export interface LocalAlb {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The status an ALB records when the client closes the connection before the answer (its access log's
 * 460): neither a target 5xx (`HTTPCode_Target_5XX_Count`) nor an ELB 5xx.
 */
export const CLIENT_CLOSED = 460;

// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded by a proxy.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Starts the local ALB. Answers 503 when the matched service has no healthy target (as an ALB with an
 * empty target group does), 502 when the target fails mid-request and 504 past the idle timeout; all in
 * the platform's JSON error shape.
 *
 * @example
 * const alb = await startLocalAlb({ rules: listenerRules(wiring), targetOf, port: 8080 });
 */
export async function startLocalAlb(options: LocalAlbOptions): Promise<LocalAlb> {
  const host = options.host ?? '127.0.0.1';
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  // The browser's side of an ALB: headers up to its 64 KiB, the console's largest body, and a
  // keep-alive as long as its idle timeout.
  const limits = httpServerLimits({
    maxBodyBytes: PREDICTION_LIMITS.maxBodyBytes,
    keepAliveTimeoutMs: idleTimeoutMs,
    idleTimeoutMs: idleTimeoutMs + 15_000,
    maxHeaderBytes: 64 * 1024,
    maxConnections: 2048,
  });
  const server = createLimitedServer(limits, (req, res) => forward(req, res));
  // Its own pool (an ALB keeps connections to targets too), destroyed on close so idle connections
  // do not hold the targets' graceful shutdown open.
  const agent = new Agent({ keepAlive: true });

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const service = routeFor(options.rules, path);
    if (!service) {
      // The wiring's default action, byte for byte what the AWS listener's fixed response sends.
      res.writeHead(DEFAULT_ROUTE.status, {
        'content-type': DEFAULT_ROUTE.contentType,
        'content-length': Buffer.byteLength(DEFAULT_ROUTE.body),
      });
      res.end(DEFAULT_ROUTE.body);
      return;
    }
    const target = options.targetOf(service);
    if (!target?.healthy) {
      fail(res, 'unavailable', `service '${service}' has no healthy target`);
      return;
    }
    if (target.injectFailure) {
      target.injectFailure({ method: req.method ?? 'GET', path });
      target.onResponse?.(ERROR_STATUS.internal);
      // The body is not forwarded: read and drop it, so the connection can carry the next request.
      req.resume();
      fail(res, 'internal', `internal error (a failure rehearsed by fault ${service} on)`);
      return;
    }

    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(key)) headers[key] = value;
    }
    const clientIp = req.socket.remoteAddress ?? '127.0.0.1';
    const priorFor = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = priorFor ? `${priorFor}, ${clientIp}` : clientIp;
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-port'] = String((req.socket.localPort ?? options.port) || 80);
    headers['x-amzn-trace-id'] ??=
      `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

    const upstream = request(
      { host: '127.0.0.1', port: target.port, method: req.method, path: url, headers, agent },
      (upstreamRes) => {
        const outHeaders: Record<string, string | string[]> = {};
        for (const [key, value] of Object.entries(upstreamRes.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(key)) outHeaders[key] = value;
        }
        target.onResponse?.(upstreamRes.statusCode ?? 502);
        res.writeHead(upstreamRes.statusCode ?? 502, outHeaders);
        upstreamRes.pipe(res);
        upstreamRes.once('error', () => res.destroy());
      },
    );
    // The client hung up before the answer: the ALB's 460, the client's doing, never the target's 5xx.
    let clientGone = false;
    upstream.setTimeout(idleTimeoutMs, () => {
      upstream.destroy(new Error('idle timeout'));
      if (!res.headersSent) target.onResponse?.(504);
      if (!res.headersSent) fail(res, 'gateway_timeout', `service '${service}' did not answer in time`);
      else res.destroy();
    });
    upstream.once('error', () => {
      if (res.headersSent) return void res.destroy();
      target.onResponse?.(clientGone ? CLIENT_CLOSED : 502);
      if (!clientGone) fail(res, 'bad_gateway', `service '${service}' failed to answer`);
    });
    req.pipe(upstream);
    res.once('close', () => {
      if (res.writableFinished || res.headersSent) return;
      clientGone = true;
      upstream.destroy();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function fail(res: ServerResponse, code: ErrorCode, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(code, message));
  res.writeHead(ERROR_STATUS[code], {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
