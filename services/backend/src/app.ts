import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { AnomaliesQuerySchema, SeriesQuerySchema } from '../../../contracts/anomaly.ts';
import type { AnomaliesListResponse, ServicesResponse } from '../../../contracts/console-api.ts';
import { ApiError, invalidRequest } from '../../../contracts/errors.ts';
import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { EndpointError, type ScoringClient } from '../../../model/client/scoring-client.ts';
import { bodyLimit } from '../../../runtime/body-limit.ts';
import { jsonErrorHandler, jsonNotFound, readJsonBody, readJsonText } from '../../../runtime/hono.ts';
import { parsePredictionRequest } from '../../../runtime/prediction-request.ts';
import { type LogSink, type RequestLogEnv, requestLog, stdoutSink } from '../../../runtime/request-log.ts';
import type { AnomalySource } from './anomaly-source.ts';
import type { ServiceTarget } from './config.ts';
import { FaultBurstSchema, FaultSettingsSchema, type FaultSwitch } from './fault-switch.ts';
import { LiveFeed } from './live-feed.ts';
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
  /** `undefined` when no model endpoint is configured: `/api/predict` answers 503. */
  readonly scoring: Pick<ScoringClient, 'score'> | undefined;
  readonly faults: FaultSwitch;
  /** Deadline of each health probe, in milliseconds. */
  readonly healthTimeoutMs: number;
  /** @default stdoutSink */
  readonly log?: LogSink;
}

/** How soon a console's EventSource reconnects after the stream drops. */
const SSE_RETRY_MS = 2000;
const SSE_HEARTBEAT_MS = 15_000;

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
      services: health.services,
    };
    return c.json(body);
  });

  app.get('/api/deployments', async (c) => c.json(await operations.deployments(c.req.raw.signal)));
  app.get('/api/remediation', async (c) => c.json(await operations.remediation(c.req.raw.signal)));
  app.get('/api/alarms', async (c) => c.json(await operations.alarms(c.req.raw.signal)));
  app.get('/api/capacity', async (c) => c.json(await operations.capacity(c.req.raw.signal)));

  // Server-sent events: the current state at once, then each change. EventSource reconnects by
  // itself after `retry` ms; the comment line every 15 s keeps idle-timeout proxies (the ALB's
  // default is 60 s) from closing a quiet stream.
  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      let id = 0;
      const queue: Promise<void>[] = [];
      const unsubscribe = live.subscribe((event) => {
        id += 1;
        queue.push(
          stream
            .writeSSE({ event: event.type, data: JSON.stringify(event.data), id: String(id) })
            .catch(() => undefined),
        );
      });
      await stream.writeSSE({ event: 'ready', data: '{}', retry: SSE_RETRY_MS });
      const heartbeat = setInterval(() => {
        stream.write(': heartbeat\n\n').catch(() => undefined);
      }, SSE_HEARTBEAT_MS);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      clearInterval(heartbeat);
      unsubscribe();
      await Promise.all(queue);
    }),
  );

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

function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw invalidRequest(parsed.error, 'query does not match the schema');
  return parsed.data;
}
