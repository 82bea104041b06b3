import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode, errorBody } from '../../contracts/errors.ts';
import { createLimitedServer, httpServerLimits } from '../../runtime/http-server.ts';

/**
 * The local API Gateway (REST API, Lambda proxy integration): turns an HTTP request into the v1 proxy
 * event a Lambda receives behind API Gateway, invokes the function, and turns its proxy result back
 * into HTTP.
 */

/** API Gateway's hard payload limit. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway's default (and, for REST APIs, maximum without a quota raise) integration timeout. */
export const API_GATEWAY_INTEGRATION_TIMEOUT_MS = 29_000;
/** The stage name used in events and URLs. */
export const LOCAL_STAGE = 'local';

/** The parts of an HTTP request an event is built from. */
export interface HttpRequestParts {
  readonly method: string;
  /** Path and query as received, e.g. `/predict?x=1`. */
  readonly url: string;
  /** Raw header pairs as node gives them (`req.rawHeaders`), keeping case and repeats. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  /** The route's resource, e.g. `/predict`. */
  readonly resource: string;
  /** When the request arrived. @default Date.now() */
  readonly receivedAt?: number;
  /** @default a random UUID */
  readonly requestId?: string;
}

const TEXT_MEDIA = /^(text\/|application\/(json|xml|x-www-form-urlencoded|[a-z.+-]*\+json|[a-z.+-]*\+xml))/i;

/**
 * Builds the REST API (v1) proxy event for a request. Like a REST API with no binary media types, a
 * text body (or no content type) is passed as a UTF-8 string; other bodies are base64 with
 * `isBase64Encoded: true`.
 *
 * @example
 * toProxyEvent({ method: 'POST', url: '/predict', rawHeaders: ['Content-Type', 'application/json'],
 *   body: Buffer.from('{"data":[1,2,3,4]}'), sourceIp: '127.0.0.1', resource: '/predict' });
 */
export function toProxyEvent(parts: HttpRequestParts): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < parts.rawHeaders.length; i += 2) {
    const name = parts.rawHeaders[i]!;
    const value = parts.rawHeaders[i + 1]!;
    // API Gateway keeps the last value in `headers` and every value in `multiValueHeaders`.
    const existing = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
    const key = existing ?? name;
    headers[key] = value;
    multiValueHeaders[key] = [...(multiValueHeaders[key] ?? []), value];
  }
  const url = new URL(parts.url, 'http://local');
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = value;
    multiQuery[key] = [...(multiQuery[key] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  const contentType = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  const textual = contentType === undefined || TEXT_MEDIA.test(contentType);
  const hasBody = parts.body.length > 0;
  const receivedAt = parts.receivedAt ?? Date.now();
  const requestId = parts.requestId ?? randomUUID();
  const userAgent = Object.entries(headers).find(([k]) => k.toLowerCase() === 'user-agent')?.[1] ?? null;
  const apiKey = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-api-key')?.[1] ?? null;
  const host = Object.entries(headers).find(([k]) => k.toLowerCase() === 'host')?.[1] ?? 'localhost';
  return {
    resource: parts.resource,
    path: url.pathname,
    httpMethod: parts.method.toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      domainName: host,
      extendedRequestId: requestId,
      httpMethod: parts.method.toUpperCase(),
      identity: {
        accessKey: null,
        accountId: null,
        apiKey,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: parts.sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/${LOCAL_STAGE}${url.pathname}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: formatRequestTime(receivedAt),
      requestTimeEpoch: receivedAt,
      resourceId: 'local',
      resourcePath: parts.resource,
      stage: LOCAL_STAGE,
    },
    body: hasBody ? (textual ? parts.body.toString('utf8') : parts.body.toString('base64')) : null,
    isBase64Encoded: hasBody && !textual,
  };
}

/** API Gateway's `requestTime` format: `28/Nov/2026:12:30:44 +0000`. */
function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

const headerValue = z.union([z.string(), z.number(), z.boolean()]);
/** What API Gateway accepts back from a proxy integration; anything else is a 502. */
export const ProxyResultSchema = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), headerValue).optional(),
  multiValueHeaders: z.record(z.string(), z.array(headerValue)).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

/** An HTTP response ready to write. */
export interface HttpResponseParts {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/**
 * Turns a function's result into the HTTP response API Gateway would send; a result that is not a
 * valid proxy result is a 502, as API Gateway answers "Malformed Lambda proxy response".
 */
export function fromProxyResult(result: unknown): HttpResponseParts {
  const parsed = ProxyResultSchema.safeParse(result);
  if (!parsed.success)
    return errorResponse('bad_gateway', 'the function returned a malformed proxy response');
  const r = parsed.data as APIGatewayProxyResult;
  const headers: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(r.headers ?? {})) headers[key.toLowerCase()] = String(value);
  for (const [key, values] of Object.entries(r.multiValueHeaders ?? {})) {
    headers[key.toLowerCase()] = values.map(String);
  }
  const body =
    r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8');
  headers['content-type'] ??= 'application/json';
  headers['content-length'] = String(body.length);
  return { status: r.statusCode, headers, body };
}

function errorResponse(code: ErrorCode, message: string): HttpResponseParts {
  const body = Buffer.from(JSON.stringify(errorBody(code, message)));
  return {
    status: ERROR_STATUS[code],
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    body,
  };
}

/** Invokes a function with an event and returns its (unvalidated) result. */
export type Invoke = (event: APIGatewayProxyEvent, signal: AbortSignal) => Promise<unknown>;

/** One API resource with a Lambda proxy integration. */
export interface ApiRoute {
  readonly method: string;
  readonly resource: string;
  readonly invoke: Invoke;
}

/** Options of {@link startLocalApiGateway}. */
export interface LocalApiGatewayOptions {
  readonly routes: readonly ApiRoute[];
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * When set, requests must carry it in `x-api-key` (the usage plan's key), else 403. Locally it is
   * optional so `curl` works out of the box.
   * @default - no key required
   */
  readonly apiKey?: string;
  /** @default {@link API_GATEWAY_INTEGRATION_TIMEOUT_MS} */
  readonly timeoutMs?: number;
  /** Told about integration failures (the function threw or timed out). */
  readonly onError?: (message: string) => void;
}

export interface LocalApiGateway {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts the local API Gateway.
 *
 * @example
 * const api = await startLocalApiGateway({ port: 8081,
 *   routes: [{ method: 'POST', resource: '/predict', invoke: invokeOverHttp('http://127.0.0.1:40000') }] });
 */
export async function startLocalApiGateway(options: LocalApiGatewayOptions): Promise<LocalApiGateway> {
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.timeoutMs ?? API_GATEWAY_INTEGRATION_TIMEOUT_MS;
  const onError = options.onError ?? (() => {});

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const onPath = options.routes.filter((r) => r.resource === path);
    if (onPath.length === 0) return write(res, errorResponse('not_found', `no resource ${path}`));
    const route = onPath.find((r) => r.method === req.method);
    if (!route) {
      return write(res, errorResponse('method_not_allowed', `${req.method} is not allowed on ${path}`));
    }
    if (options.apiKey !== undefined && req.headers['x-api-key'] !== options.apiKey) {
      return write(res, errorResponse('forbidden', 'a valid x-api-key header is required'));
    }
    const body = await readBody(req, API_GATEWAY_MAX_BODY_BYTES);
    if (body === undefined) {
      return write(
        res,
        errorResponse('payload_too_large', `body exceeds API Gateway's ${API_GATEWAY_MAX_BODY_BYTES} bytes`),
      );
    }
    const event = toProxyEvent({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: normaliseIp(req.socket.remoteAddress),
      resource: route.resource,
    });
    const signal = AbortSignal.timeout(timeoutMs);
    let result: unknown;
    try {
      result = await route.invoke(event, signal);
    } catch (error) {
      if (signal.aborted) {
        onError(`${route.method} ${route.resource}: integration timed out after ${timeoutMs} ms`);
        return write(res, errorResponse('gateway_timeout', 'the integration did not answer in time'));
      }
      onError(`${route.method} ${route.resource}: ${(error as Error).message}`);
      return write(res, errorResponse('bad_gateway', 'the integration failed'));
    }
    const response = fromProxyResult(result);
    if (response.status === 502 && !ProxyResultSchema.safeParse(result).success) {
      onError(`${route.method} ${route.resource}: malformed proxy response`);
    }
    write(res, response);
  }

  const server = createLimitedServer(
    httpServerLimits({ maxBodyBytes: API_GATEWAY_MAX_BODY_BYTES }),
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        onError(`unexpected: ${(error as Error).message}`);
        if (!res.headersSent) write(res, errorResponse('internal', 'internal error'));
        else res.destroy();
      });
    },
  );
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
      }),
  };
}

function write(res: ServerResponse, response: HttpResponseParts): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

/** Reads a body up to `maxBytes`; undefined when it is larger (the rest is discarded). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.once('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, as API Gateway reports IPv4 clients. */
function normaliseIp(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Invokes a function hosted by the local Lambda host ({@link ./lambda-host.ts}) through the Lambda
 * Runtime Interface Emulator's invoke path. A function error (`X-Amz-Function-Error`) is thrown, as
 * API Gateway turns it into a 502.
 */
export function invokeOverHttp(baseUrl: () => string): Invoke {
  return async (event, signal) => {
    const response = await fetch(`${baseUrl()}/2015-03-31/functions/function/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`lambda host answered HTTP ${response.status}`);
    const functionError = response.headers.get('x-amz-function-error');
    if (functionError) {
      let message = 'unknown';
      try {
        message = String((JSON.parse(text) as { errorMessage?: unknown }).errorMessage);
      } catch {}
      throw new Error(`function error (${functionError}): ${message}`);
    }
    return JSON.parse(text) as unknown;
  };
}
