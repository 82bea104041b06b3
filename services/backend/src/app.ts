import type { Socket } from 'node:net';
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { AnomaliesQuerySchema, SeriesQuerySchema } from '../../../contracts/anomaly.ts';
import type { AnomaliesListResponse, ServicesResponse } from '../../../contracts/console-api.ts';
import { CONSOLE_IDENTITY_HEADER } from '../../../contracts/console-ops.ts';
import { ApiError, invalidRequest } from '../../../contracts/errors.ts';
import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { EndpointError, type ScoringClient } from '../../../model/client/scoring-client.ts';
import { bodyLimit } from '../../../runtime/body-limit.ts';
import { jsonErrorHandler, jsonNotFound, readJsonBody, readJsonText } from '../../../runtime/hono.ts';
import { isLoopbackHost, requestHosts } from '../../../runtime/loopback-host.ts';
import { parsePredictionRequest } from '../../../runtime/prediction-request.ts';
import { type LogSink, type RequestLogEnv, requestLog, stdoutSink } from '../../../runtime/request-log.ts';
import type { AnomalySource } from './anomaly-source.ts';
import type { ServiceTarget } from './config.ts';
import { FaultBurstSchema, FaultSettingsSchema, type FaultSwitch } from './fault-switch.ts';
import { withAnomalousLines } from './job-runs.ts';
import { LiveFeed } from './live-feed.ts';
import { LIVE_STREAM_LIMITS, type LiveStreamLimits, LiveStreams, StreamRefused } from './live-stream.ts';
import { LocalOperationsSource } from './local-operations-source.ts';
import type { OperationsSource } from './operations-source.ts';

/** Everything the backend talks to, created once by `main.ts` and injected (tests pass real servers). */
export interface BackendDeps {
  readonly services: readonly ServiceTarget[];
  readonly anomalies: AnomalySource;
  /** Health, deployments, remediation, alarms, capacity. @default - local probes, no state files */
  readonly operations?: OperationsSource;
  /** The poller behind `GET /api/events`. @default - one built from the sources above */
  readonly live?: LiveFeed;
  /** Caps and queue bounds of `GET /api/events`. @default LIVE_STREAM_LIMITS */
  readonly streamLimits?: LiveStreamLimits;
  /** `undefined` when no model endpoint is configured: `/api/predict` answers 503. */
  readonly scoring: Pick<ScoringClient, 'score'> | undefined;
  readonly faults: FaultSwitch;
  /** Deadline of each health probe, in milliseconds. */
  readonly healthTimeoutMs: number;
  /** @default stdoutSink */
  readonly log?: LogSink;
}

/** Small JSON bodies (fault settings); the prediction limit applies to `/api/predict` only. */
const SMALL_BODY_BYTES = 16 * 1024;

const BackendSeriesQuerySchema = SeriesQuerySchema.strict();
const BackendAnomaliesQuerySchema = AnomaliesQuerySchema.extend({
  service: z.string().max(63).optional(),
}).strict();

/**
 * The backend's hono app: the console's JSON API.
 *
 * @example
 * const app = createBackendApp({ services, anomalies, scoring, faults, healthTimeoutMs: 1500 });
 * const res = await app.request('/api/services');
 */
export function createBackendApp(deps: BackendDeps): Hono<RequestLogEnv> {
  const log = deps.log ?? stdoutSink;
  const names = deps.services.map((s) => s.name);
  const known = new Set(names);
  const operations =
    deps.operations ??
    new LocalOperationsSource({ services: deps.services, healthTimeoutMs: deps.healthTimeoutMs });
  const live =
    deps.live ??
    new LiveFeed({
      services: deps.services,
      anomalies: deps.anomalies,
      operations,
      anomalyPollMs: 500,
      healthIntervalMs: 5000,
      operationsIntervalMs: 5000,
    });
  const streams = new LiveStreams(live, deps.streamLimits ?? LIVE_STREAM_LIMITS);
  const app = new Hono<RequestLogEnv>();

  app.use(requestLog('backend', log));
  app.onError(
    jsonErrorHandler((error) =>
      log({
        level: 'error',
        time: new Date().toISOString(),
        msg: 'unhandled error',
        error: String(error),
        stack: (error as Error | undefined)?.stack,
      }),
    ),
  );
  app.notFound(jsonNotFound());

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  // The fault switch's own routes come before the fault middleware, so it can always be turned off.
  app.use('/api/faults', loopbackOnly);
  app.use('/api/faults/*', loopbackOnly);
  app.get('/api/faults', (c) => c.json(deps.faults.state()));
  app.post('/api/faults', bodyLimit({ maxBytes: SMALL_BODY_BYTES }), async (c) => {
    deps.faults.assertEnabled();
    return c.json(
      deps.faults.set(await readJsonBody(c, FaultSettingsSchema, { maxBytes: SMALL_BODY_BYTES })),
    );
  });
  app.post('/api/faults/burst', bodyLimit({ maxBytes: SMALL_BODY_BYTES }), async (c) => {
    deps.faults.assertEnabled();
    const { count } = await readJsonBody(c, FaultBurstSchema, { maxBytes: SMALL_BODY_BYTES });
    return c.json({ logged: deps.faults.burst(count) });
  });

  app.use('/api/*', deps.faults.middleware());

  app.get('/api/services', async (c) => {
    const health = await operations.serviceHealth(c.req.raw.signal);
    const body: ServicesResponse = {
      anomalySource: deps.anomalies.kind,
      healthSource: health.healthSource,
      // The feed's alert rates: one cache for the pushed health and this answer.
      services: await live.alertRates.attach(health.services, c.req.raw.signal),
    };
    return c.json(body);
  });

  app.get('/api/deployments', async (c) => c.json(await operations.deployments(c.req.raw.signal)));
  app.get('/api/remediation', async (c) => c.json(await operations.remediation(c.req.raw.signal)));
  app.get('/api/alarms', async (c) => c.json(await operations.alarms(c.req.raw.signal)));
  app.get('/api/capacity', async (c) => c.json(await operations.capacity(c.req.raw.signal)));
  app.get('/api/jobs', async (c) => {
    const jobs = await operations.jobs(c.req.raw.signal);
    // Locally each run carries its lines already; on AWS they are the anomaly records of its task.
    return c.json(
      jobs.source === 'aws' ? await withAnomalousLines(jobs, deps.anomalies, c.req.raw.signal) : jobs,
    );
  });

  // Server-sent events: the current state at once, then each change, within the bounds of
  // LiveStreams (caps per process and identity, a bounded queue per reader). EventSource reconnects
  // by itself after the `retry` the ready event carries.
  app.get('/api/events', (c) => {
    const socket = socketOf(c.env);
    const identity =
      c.req.header(CONSOLE_IDENTITY_HEADER)?.trim().slice(0, 256) ||
      `address:${socket?.remoteAddress ?? 'unknown'}`;
    let body: ReadableStream<Uint8Array>;
    try {
      body = streams.open(identity, { disconnect: () => socket?.destroy() });
    } catch (error) {
      if (error instanceof StreamRefused) c.header('retry-after', String(error.retryAfterSeconds));
      throw error;
    }
    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        // Tells a buffering reverse proxy (nginx) to pass each event on at once.
        'x-accel-buffering': 'no',
      },
    });
  });

  app.get('/api/services/:service/series', async (c) => {
    const service = c.req.param('service');
    if (!known.has(service)) throw new ApiError('not_found', `no service named '${service}'`);
    const query = parseQuery(BackendSeriesQuerySchema, c.req.query());
    return c.json(await deps.anomalies.series(service, query, c.req.raw.signal));
  });

  app.get('/api/anomalies', async (c) => {
    const query = parseQuery(BackendAnomaliesQuerySchema, c.req.query());
    if (query.service !== undefined && !known.has(query.service)) {
      throw new ApiError('not_found', `no service named '${query.service}'`);
    }
    const wanted = query.service === undefined ? names : [query.service];
    const body: AnomaliesListResponse = await deps.anomalies.recentAnomalies(
      wanted,
      query.limit,
      c.req.raw.signal,
    );
    return c.json(body);
  });

  app.post('/api/predict', bodyLimit({ maxBytes: PREDICTION_LIMITS.maxBodyBytes }), async (c) => {
    const text = await readJsonText(c, PREDICTION_LIMITS.maxBodyBytes);
    const request = parsePredictionRequest(text, c.req.header('content-type'));
    if (!deps.scoring) {
      throw new ApiError('unavailable', 'no model endpoint is configured (set MODEL_ENDPOINT_NAME)');
    }
    try {
      return c.json(await deps.scoring.score(request, c.req.raw.signal));
    } catch (error) {
      if (error instanceof EndpointError) {
        log({
          level: 'warn',
          time: new Date().toISOString(),
          msg: 'model endpoint call failed',
          failure: error.failure,
          error: error.message,
          requestId: c.get('requestId'),
        });
        throw error.toApiError();
      }
      throw error;
    }
  });

  return app;
}

/**
 * The fault switch answers loopback names only, its own Host and any a proxy forwarded (the console's
 * server forwards the browser's): a page on a name rebound to 127.0.0.1 must not turn faults on.
 */
const loopbackOnly: MiddlewareHandler = async function loopbackOnly(c, next) {
  const host = c.req.header('host') ?? new URL(c.req.url).host;
  const hosts = requestHosts(host, c.req.header('x-forwarded-host'));
  if (!hosts.every(isLoopbackHost)) {
    throw new ApiError(
      'forbidden',
      'the fault switch answers only to localhost, 127.0.0.1 or [::1] (DNS rebinding)',
    );
  }
  await next();
};

/** The client socket under @hono/node-server (`c.env.incoming`); absent in `app.request()` tests. */
function socketOf(env: unknown): Socket | undefined {
  return (env as { incoming?: { socket?: Socket } } | undefined)?.incoming?.socket;
}

function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw invalidRequest(parsed.error, 'query does not match the schema');
  return parsed.data;
}
