import { getRequestListener } from '@hono/node-server';
import { createSageMakerRuntimeClient, ScoringClient } from '../../model/client/scoring-client.ts';
import { httpServerLimits, serveHttp } from '../../runtime/http-server.ts';
import { failEnv, failOnListenError, failStart, stopOnSignal } from '../../runtime/process.ts';
import { ConfigError, loadConfig, type SidecarConfig } from './src/config.ts';
import { createSidecar } from './src/sidecar.ts';

/**
 * The anomaly sidecar process: reads the environment once, builds the SageMaker runtime client once,
 * serves intake on 127.0.0.1 (awsvpc tasks share localhost with the FireLens router, so nothing beyond
 * the task needs to reach it) and, on SIGTERM, flushes what it can within SHUTDOWN_GRACE_MS.
 */

function log(
  level: 'info' | 'warn' | 'error' | 'fatal',
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  // stderr, and no `service` key: the anomaly log group is filtered on `$.service` for anomaly records.
  process.stderr.write(
    `${JSON.stringify({ level, time: new Date().toISOString(), msg, component: 'anomaly-sidecar', ...fields })}\n`,
  );
}

function configure(): SidecarConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) failEnv('anomaly-sidecar', error.issues);
    failStart('anomaly-sidecar', 'invalid environment', { error: String(error) });
  }
}

/**
 * On ECS the revision comes from the task metadata endpoint (ECS sets ECS_CONTAINER_METADATA_URI_V4 in
 * every container): `GET ${uri}/task` answers the task's `Revision`. Unreadable means no revision.
 */
async function taskRevision(config: SidecarConfig): Promise<SidecarConfig> {
  const uri = process.env.ECS_CONTAINER_METADATA_URI_V4;
  if (config.revision !== undefined || !uri) return config;
  try {
    const response = await fetch(`${uri}/task`, { signal: AbortSignal.timeout(2000) });
    const task = (await response.json()) as { Revision?: unknown };
    return typeof task.Revision === 'string' && task.Revision !== ''
      ? { ...config, revision: task.Revision }
      : config;
  } catch (error) {
    log('warn', 'task metadata unreadable: records and metrics carry no revision', { error: String(error) });
    return config;
  }
}

const config = await taskRevision(configure());
const scorer = new ScoringClient({
  endpointName: config.endpointName,
  // One SDK attempt per call: the pipeline retries with jitter and its circuit breaker sees every failure.
  runtime: createSageMakerRuntimeClient({ endpointUrl: config.endpointUrl, maxAttempts: 1 }),
  timeoutMs: config.endpointTimeoutMs,
});
const { app, pipeline } = createSidecar(config, { scorer, log });
pipeline.start();

/**
 * No small connection cap: the bodies being read are bounded by the intake budget (bytes), not by
 * connections, and a cap of 64 let 64 idle connections keep the health check out (three failed checks
 * replace the container). Idle connections are closed by the deadlines instead: headers within 10 s,
 * keep-alive 5 s.
 */
const limits = httpServerLimits({ maxBodyBytes: config.maxBodyBytes, maxConnections: 4096 });
const server = serveHttp(
  {
    listener: getRequestListener(app.fetch, { autoCleanupIncoming: false }),
    port: config.port,
    hostname: config.host,
    limits,
  },
  (info) => {
    log('info', 'listening', {
      sidecarOf: config.serviceName,
      address: info.address,
      port: info.port,
      endpoint: config.endpointName,
      local: config.endpointUrl !== undefined,
    });
  },
);

failOnListenError('anomaly-sidecar', server);
stopOnSignal({
  name: 'anomaly-sidecar',
  // The pipeline bounds its own flush by shutdownGraceMs; the extra second covers the last EMF line.
  graceMs: config.shutdownGraceMs + 1000,
  log: (msg, fields) => log('info', msg, { ...fields, queueDepth: pipeline.queueDepth }),
  stop: async () => {
    server.close();
    await pipeline.stop(config.shutdownGraceMs);
    log('info', 'stopped', { dropped: pipeline.metrics.dropped.snapshot() });
  },
});
