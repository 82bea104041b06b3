import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { serve } from '@hono/node-server';
import { closeServer, failOnListenError, readEnv, stopOnSignal } from '../../contracts/process.ts';
import { stdoutSink } from '../../contracts/request-log.ts';
import { createSageMakerRuntimeClient, ScoringClient } from '../../model/client/scoring-client.ts';
import type { AnomalySource } from './src/anomaly-source.ts';
import { createBackendApp } from './src/app.ts';
import { CloudWatchAnomalySource } from './src/cloudwatch-anomaly-source.ts';
import { type BackendEnv, BackendEnvSchema } from './src/config.ts';
import { FaultSwitch } from './src/fault-switch.ts';
import { LocalAnomalySource } from './src/local-anomaly-source.ts';

/**
 * The backend process: reads the environment once (see README.md), builds the SDK clients and the
 * anomaly adapter once, serves the app and shuts down cleanly on SIGTERM (ECS stops tasks with it).
 */

function anomalySourceFor(env: BackendEnv): AnomalySource {
  if (env.ANOMALY_SOURCE === 'cloudwatch') {
    return new CloudWatchAnomalySource({
      cloudwatch: new CloudWatchClient({ maxAttempts: 2 }),
      logs: new CloudWatchLogsClient({ maxAttempts: 2 }),
      // Presence is enforced by the schema's refine for ANOMALY_SOURCE=cloudwatch.
      logGroupName: env.ANOMALY_LOG_GROUP!,
      lookbackMinutes: env.ANOMALY_LOOKBACK_MINUTES,
      onInvalidRecords: (count, example) =>
        stdoutSink({
          level: 'warn',
          time: new Date().toISOString(),
          msg: 'anomaly records that do not match the contract were skipped',
          count,
          example,
        }),
    });
  }
  return new LocalAnomalySource({ services: env.SERVICES, timeoutMs: env.UPSTREAM_TIMEOUT_MS });
}

const env = readEnv('backend', BackendEnvSchema);
const scoring = env.MODEL_ENDPOINT_NAME
  ? new ScoringClient({
      endpointName: env.MODEL_ENDPOINT_NAME,
      runtime: createSageMakerRuntimeClient({ endpointUrl: env.MODEL_ENDPOINT_URL }),
      timeoutMs: env.MODEL_TIMEOUT_MS,
    })
  : undefined;
const app = createBackendApp({
  services: env.SERVICES,
  anomalies: anomalySourceFor(env),
  scoring,
  faults: new FaultSwitch({
    enabled: env.FAULTS_ENABLED,
    dependencyTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    log: stdoutSink,
  }),
  healthTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
});

const server = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, (info) => {
  stdoutSink({
    level: 'info',
    time: new Date().toISOString(),
    msg: 'listening',
    service: 'backend',
    address: info.address,
    port: info.port,
    anomalySource: env.ANOMALY_SOURCE,
    services: env.SERVICES.map((s) => s.name),
    modelEndpoint: env.MODEL_ENDPOINT_NAME ?? null,
    faultsEnabled: env.FAULTS_ENABLED,
  });
});

failOnListenError('backend', server);
// Keep-alive connections can hold close() open; ECS waits 30 s before SIGKILL, we wait less.
stopOnSignal({ name: 'backend', graceMs: 5000, stop: () => closeServer(server) });
