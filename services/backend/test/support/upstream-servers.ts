import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AnomaliesResponse, AnomalyRecord, SeriesResponse } from '../../../../contracts/anomaly.ts';
import { type PredictionResponse, vectorsOf } from '../../../../contracts/prediction.ts';
import { jsonErrorHandler, jsonNotFound, readJsonText } from '../../../../runtime/hono.ts';
import { parsePredictionRequest } from '../../../../runtime/prediction-request.ts';

/**
 * Small real HTTP servers that honour the sidecar and SageMaker contracts, for the backend's tests and
 * the console's browser test. They bind 127.0.0.1 on port 0; `close()` them in `after()`.
 */

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function listen(app: Hono): Promise<RunningServer> {
  return new Promise((resolve) => {
    const server: ServerType = serve(
      { fetch: app.fetch, port: 0, hostname: '127.0.0.1' },
      (info: AddressInfo) => {
        resolve({
          url: `http://127.0.0.1:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              // Idle keep-alive sockets from fetch would hold close() open.
              (server as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      },
    );
  });
}

/** How a sidecar-shaped server behaves; mutable so one server can play several scenarios. */
export interface SidecarBehaviour {
  mode: 'ok' | 'slow' | 'http-500' | 'bad-shape' | 'not-json';
  /** Delay in `slow` mode. */
  delayMs: number;
}

/** Deterministic anomalous lines of `service`, newest first, one minute apart. */
export function sampleRecords(service: string, count: number, newest: number): AnomalyRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${service}-${i}`,
    service,
    task: `task-${service}-1`,
    container: service,
    timestamp: new Date(newest - i * 60_000).toISOString(),
    score: Math.round((0.97 - i * 0.01) * 100) / 100,
    template: 'ERROR <*> timed out after <*> ms',
    reasons: ['rare-template', 'severity:ERROR'],
    line: `ERROR ${service} request ${1000 + i} timed out after 3000 ms`,
  }));
}

/** A sidecar-shaped server: `GET /health`, `GET /anomalies?limit=N`, `GET /series?bucketSeconds=S&buckets=N`. */
export async function startSidecar(
  service: string,
  options: {
    records?: number;
    newest?: number;
    behaviour?: SidecarBehaviour;
    /** Shifts the series' anomalous counts, so two services plot different data. @default 0 */
    seriesShift?: number;
  } = {},
): Promise<
  RunningServer & {
    behaviour: SidecarBehaviour;
    requests: string[];
    /** Records a new anomalous line, as the real sidecar does when it scores one. */
    record(record: AnomalyRecord): void;
  }
> {
  const behaviour: SidecarBehaviour = options.behaviour ?? { mode: 'ok', delayMs: 0 };
  const newest = options.newest ?? Date.now();
  const shift = options.seriesShift ?? 0;
  // Oldest first, so recording a line is a push (a burst records thousands).
  const records = sampleRecords(service, options.records ?? 5, newest).reverse();
  const requests: string[] = [];
  const app = new Hono();
  app.use(async (c, next) => {
    requests.push(`${c.req.method} ${c.req.path}${new URL(c.req.url).search}`);
    if (behaviour.mode === 'slow') await new Promise((r) => setTimeout(r, behaviour.delayMs));
    if (behaviour.mode === 'http-500') return c.json({ error: { code: 'internal', message: 'boom' } }, 500);
    if (behaviour.mode === 'not-json') return c.text('<html>oops</html>', 200);
    await next();
  });
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/anomalies', (c) => {
    if (behaviour.mode === 'bad-shape') return c.json({ service, records: [{ score: 'high' }] });
    const limit = Number(c.req.query('limit') ?? '50');
    const body: AnomaliesResponse = { service, records: records.slice(-limit).reverse() };
    return c.json(body);
  });
  app.get('/series', (c) => {
    const bucketSeconds = Number(c.req.query('bucketSeconds'));
    const buckets = Number(c.req.query('buckets'));
    const bucketMs = bucketSeconds * 1000;
    const first = Math.floor(newest / bucketMs) * bucketMs - (buckets - 1) * bucketMs;
    const body: SeriesResponse = {
      service,
      bucketSeconds,
      points: Array.from({ length: buckets }, (_, i) => ({
        t: first + i * bucketMs,
        scored: 100 + i,
        anomalous: (i + shift) % 4,
        maxScore: Math.min(1, 0.2 + ((i + shift) % 4) * 0.2),
        meanScore: 0.1,
      })),
    };
    return c.json(body);
  });
  const running = await listen(app);
  return { ...running, behaviour, requests, record: (record) => records.push(record) };
}

/** How a SageMaker-shaped endpoint behaves. */
export interface ModelBehaviour {
  mode: 'ok' | 'slow' | 'http-500';
  delayMs: number;
}

/** The deterministic score the test endpoint gives a log message. */
export function testScore(message: string): number {
  return /error|exception|fatal|timed out/i.test(message) ? 0.91 : 0.08;
}

/**
 * A SageMaker-runtime-shaped endpoint: `GET /ping`, `POST /endpoints/{name}/invocations` (the local
 * form of InvokeEndpoint the SDK sends when pointed at a custom endpoint URL).
 */
export async function startModelEndpoint(
  endpointName: string,
  behaviour: ModelBehaviour = { mode: 'ok', delayMs: 0 },
): Promise<RunningServer & { behaviour: ModelBehaviour }> {
  const app = new Hono();
  app.onError(jsonErrorHandler());
  app.notFound(jsonNotFound());
  app.get('/ping', (c) => c.body(null, 200));
  app.post('/endpoints/:name/invocations', async (c) => {
    if (c.req.param('name') !== endpointName) {
      return c.json({ message: `Endpoint ${c.req.param('name')} not found.` }, 400, {
        'x-amzn-errortype': 'ValidationError',
      });
    }
    if (behaviour.mode === 'slow') await new Promise((r) => setTimeout(r, behaviour.delayMs));
    if (behaviour.mode === 'http-500') {
      return c.json({ message: 'model crashed' }, 500, { 'x-amzn-errortype': 'InternalFailure' });
    }
    const request = parsePredictionRequest(
      await readJsonText(c, 6 * 1024 * 1024),
      c.req.header('content-type'),
    );
    const scores =
      'logs' in request ? request.logs.map((e) => testScore(e.message)) : vectorsOf(request).map(() => 0.08);
    const body: PredictionResponse = {
      predictions: scores.map((score) => ({ score, anomaly: score >= 0.5 })),
      model: { name: 'test-model', version: '1', threshold: 0.5 },
    };
    return c.json(body);
  });
  const running = await listen(app);
  return { ...running, behaviour };
}

/** A loopback port nothing listens on (bound, then released), for "connection refused" cases. */
export async function unusedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
