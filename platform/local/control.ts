import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { errorBody, toErrorResponse } from '../../contracts/errors.ts';
import { bodyReadError, bodyTooLarge, declaredLength } from '../../runtime/body-limit.ts';
import { readIncomingBounded } from '../../runtime/body-reader.ts';
import { createLimitedServer, httpServerLimits } from '../../runtime/http-server.ts';
import { parseJson } from '../../runtime/json-body.ts';
import { isLoopbackHost } from '../../runtime/loopback-host.ts';
import type { LocalDeploymentOutcome } from './deployments.ts';
import type { RuntimeFaultState } from './runtime-faults.ts';

/**
 * The local runtime's control endpoint: how `npm run deploy -- --local` asks a running `npm start` to
 * rehearse a deployment. Loopback only, and every request carries the bearer token the runtime wrote
 * to its owner-only state file, so another local user cannot drive it.
 *
 * `POST /deployments {"service","env"}` → 202 `{"id"}`; `GET /deployments/:id?after=N` → the progress
 * lines after the N-th and, once it ended, the outcome. For `fault` (runtime-faults.ts):
 * `POST /faults/burst {"service","count"}` → `{"logged"}`; `POST /faults {"service","errorRate",
 * "durationSeconds"?}` (errorRate 0 is off) and `GET /faults?service=NAME` → the fault's state.
 */

export const DeploymentRequestSchema = z.strictObject({
  service: z.string().min(1).max(64),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(4096)).default({}),
});

/** `POST /faults/burst`: error lines written into a service's current revision's log stream. */
export const FaultBurstRequestSchema = z.strictObject({
  service: z.string().min(1).max(64),
  count: z.number().int().min(1).max(1000),
});

/** `POST /faults`: the runtime's edge fault of a service on at `errorRate` (0: off), for a bounded time. */
export const EdgeFaultRequestSchema = z.strictObject({
  service: z.string().min(1).max(64),
  errorRate: z.number().min(0).max(1),
  /** As the backend's own switch: a rehearsal switches itself off. */
  durationSeconds: z.number().int().min(1).max(86_400).default(300),
});

/** The runtime's rehearsed faults, as the control endpoint drives them; each throws for an unknown service. */
export interface FaultControl {
  /** Writes `count` error lines into the service's log stream; the lines written. */
  burst(service: string, count: number): number;
  set(service: string, errorRate: number, durationSeconds: number): RuntimeFaultState;
  state(service: string): RuntimeFaultState;
}

/** Largest request body: a deployment request. */
const MAX_BODY_BYTES = 65_536;
const CONTROL_LIMITS = httpServerLimits({ maxBodyBytes: MAX_BODY_BYTES, maxConnections: 64 });

export interface ControlServer {
  readonly url: string;
  readonly token: string;
  close(): Promise<void>;
}

interface Tracked {
  readonly lines: string[];
  outcome?: LocalDeploymentOutcome;
}

export async function startControlServer(options: {
  readonly deploy: (
    service: string,
    env: Readonly<Record<string, string>>,
    onProgress: (line: string) => void,
  ) => Promise<LocalDeploymentOutcome>;
  /** The runtime's rehearsed faults (an unknown service is answered 404). */
  readonly faults?: FaultControl;
}): Promise<ControlServer> {
  const token = randomBytes(24).toString('hex');
  const deployments = new Map<string, Tracked>();
  let sequence = 0;
  const server = createLimitedServer(CONTROL_LIMITS, (req, res) => {
    // What the caller can fix is its 4xx (ApiError); anything else a 500 that says nothing more.
    void handle(req, res).catch((error: unknown) => {
      const { status, body } = toErrorResponse(error);
      if (!res.headersSent) send(res, status, body);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A page on a name rebound to 127.0.0.1 carries its own name in Host (DNS rebinding).
    if (!isLoopbackHost(req.headers.host)) {
      return send(
        res,
        403,
        errorBody(
          'forbidden',
          'the control endpoint answers only to localhost, 127.0.0.1 or [::1] (DNS rebinding)',
        ),
      );
    }
    const given = Buffer.from(String(req.headers.authorization ?? ''));
    const expected = Buffer.from(`Bearer ${token}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return send(
        res,
        401,
        errorBody('unauthorized', 'the control token from .local/runtime.json is required'),
      );
    }
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname.startsWith('/faults') && options.faults)
      return handleFault(req, res, url, options.faults);
    if (req.method === 'POST' && url.pathname === '/deployments') {
      const parsed = DeploymentRequestSchema.safeParse(await readJson(req));
      if (!parsed.success) return sendInvalid(res, 'expected {"service","env"}', parsed.error);
      sequence += 1;
      const id = `local-${sequence}`;
      const tracked: Tracked = { lines: [] };
      deployments.set(id, tracked);
      void options
        .deploy(parsed.data.service, parsed.data.env, (line) => tracked.lines.push(line))
        .then(
          (outcome) => {
            tracked.outcome = outcome;
          },
          (error: Error) => {
            tracked.outcome = { status: 'failed', reason: error.message };
          },
        );
      return send(res, 202, { id });
    }
    const match = /^\/deployments\/([a-z0-9-]+)$/.exec(url.pathname);
    if (req.method === 'GET' && match) {
      const tracked = deployments.get(match[1]!);
      if (!tracked) return send(res, 404, errorBody('not_found', `no deployment ${match[1]}`));
      const after = Math.max(0, Number(url.searchParams.get('after') ?? 0) || 0);
      return send(res, 200, {
        lines: tracked.lines.slice(after),
        next: tracked.lines.length,
        outcome: tracked.outcome ?? null,
      });
    }
    return send(res, 404, errorBody('not_found', `no resource ${req.method} ${url.pathname}`));
  }

  async function handleFault(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    faults: FaultControl,
  ): Promise<void> {
    // An unknown service is the one error the runtime's faults throw.
    const answer = (act: () => unknown) => {
      try {
        send(res, 200, act());
      } catch (error) {
        send(res, 404, errorBody('not_found', (error as Error).message));
      }
    };
    if (req.method === 'GET' && url.pathname === '/faults') {
      const service = url.searchParams.get('service');
      if (!service) return send(res, 400, errorBody('invalid_request', 'expected ?service=NAME'));
      return answer(() => faults.state(service));
    }
    if (req.method !== 'POST' || (url.pathname !== '/faults' && url.pathname !== '/faults/burst')) {
      return send(res, 404, errorBody('not_found', `no resource ${req.method} ${url.pathname}`));
    }
    const body = await readJson(req);
    if (url.pathname === '/faults/burst') {
      const parsed = FaultBurstRequestSchema.safeParse(body);
      if (!parsed.success) {
        return sendInvalid(res, 'expected {"service","count"} (count 1 to 1000)', parsed.error);
      }
      return answer(() => ({ logged: faults.burst(parsed.data.service, parsed.data.count) }));
    }
    const parsed = EdgeFaultRequestSchema.safeParse(body);
    if (!parsed.success) {
      return sendInvalid(
        res,
        'expected {"service","errorRate","durationSeconds"?} (errorRate 0 to 1, durationSeconds 1 to 86400)',
        parsed.error,
      );
    }
    const { service, errorRate, durationSeconds } = parsed.data;
    return answer(() => faults.set(service, errorRate, durationSeconds));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A JSON body of at most {@link MAX_BODY_BYTES}, read as every server of the platform reads one: a
 * declared length past the limit is refused unread, any other body counted while read; the rest of a
 * refused body is left to the server's bounded discard, so the sender reads the 413 rather than a reset.
 *
 * @throws ApiError 413 `payload_too_large`, 400 `invalid_json`, 400 `invalid_request` (a body cut short)
 */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = declaredLength(req.headers['content-length']);
  if (declared !== undefined && declared > MAX_BODY_BYTES) throw bodyTooLarge(MAX_BODY_BYTES, declared);
  let bytes: Uint8Array;
  try {
    bytes = await readIncomingBounded(req, MAX_BODY_BYTES);
  } catch (error) {
    throw bodyReadError(error, MAX_BODY_BYTES);
  }
  return parseJson(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** 400: what was expected, and each issue with its path. */
function sendInvalid(res: ServerResponse, expected: string, error: z.ZodError): void {
  send(
    res,
    400,
    errorBody(
      'invalid_request',
      expected,
      error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })),
    ),
  );
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
