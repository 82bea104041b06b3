// First: no AWS SDK Node-version warning from this process (see the module).
import '../../runtime/aws-sdk-node-warning.ts';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { getRequestListener } from '@hono/node-server';
import { createSageMakerRuntimeClient, ScoringClient } from '../../model/client/scoring-client.ts';
import { serveHttp } from '../../runtime/http-server.ts';
import { closeServer, failOnListenError, readEnv, stopOnSignal } from '../../runtime/process.ts';
import { stdoutSink } from '../../runtime/request-log.ts';
import type { AnomalySource } from './src/anomaly-source.ts';
import { createBackendApp } from './src/app.ts';
import { AwsOperationsSource } from './src/aws-operations-source.ts';
import { CloudWatchAnomalySource } from './src/cloudwatch-anomaly-source.ts';
import { type BackendEnv, BackendEnvSchema } from './src/config.ts';
import { FaultSwitch } from './src/fault-switch.ts';
import { GateJudgements } from './src/gate-judgements.ts';
import { LiveFeed } from './src/live-feed.ts';
import { LocalAnomalySource } from './src/local-anomaly-source.ts';
import { LocalOperationsSource } from './src/local-operations-source.ts';
import type { OperationsSource } from './src/operations-source.ts';
import { BACKEND_SERVER_LIMITS } from './src/server-limits.ts';

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

function operationsSourceFor(env: BackendEnv, cloudwatch: CloudWatchClient): OperationsSource {
  if (env.OPERATIONS_SOURCE === 'aws') {
    return new AwsOperationsSource({
      ecs: new ECSClient({ maxAttempts: 2 }),
      cloudwatch,
      dynamodb: new DynamoDBClient({ maxAttempts: 2 }),
      // Presence is enforced by the schema's refine for OPERATIONS_SOURCE=aws.
      cluster: env.ECS_CLUSTER!,
      services: env.SERVICES.map((s) => ({
        name: s.name,
        ecsService: s.ecs?.service ?? s.name,
        ...(s.kind ? { kind: s.kind } : {}),
      })),
      alarmNamePrefix: env.ALARM_NAME_PREFIX,
      remediationTable: env.REMEDIATION_TABLE,
      cooldownSeconds: env.REMEDIATION_COOLDOWN_SECONDS,
      maxActionsPerWindow: env.REMEDIATION_MAX_ACTIONS_PER_WINDOW,
      windowSeconds: env.REMEDIATION_WINDOW_SECONDS,
      jobs: env.JOBS,
      ...(env.GATE_LOG_GROUP
        ? {
            gateJudgements: new GateJudgements({
              logs: new CloudWatchLogsClient({ maxAttempts: 2 }),
              logGroup: env.GATE_LOG_GROUP,
              lookbackMinutes: env.ANOMALY_LOOKBACK_MINUTES,
            }),
          }
        : {}),
    });
  }
  return new LocalOperationsSource({
    services: env.SERVICES,
    healthTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    deploymentsStateFile: env.DEPLOYMENTS_STATE_FILE,
    processesStateFile: env.PROCESSES_STATE_FILE,
    jobs: env.JOBS,
    jobsStateFile: env.JOBS_STATE_FILE,
  });
}

const env = readEnv('backend', BackendEnvSchema);
const faults = new FaultSwitch({
  enabled: env.FAULTS_ENABLED,
  dependencyTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
  log: stdoutSink,
});
// `npm run deploy -- --local --service backend --env FAULT_ERROR_RATE=0.5`: a release that fails.
if (env.FAULT_ERROR_RATE > 0) faults.set({ errorRate: env.FAULT_ERROR_RATE });
const anomalies = anomalySourceFor(env);
const operations = operationsSourceFor(env, new CloudWatchClient({ maxAttempts: 2 }));
const scoring = env.MODEL_ENDPOINT_NAME
  ? new ScoringClient({
      endpointName: env.MODEL_ENDPOINT_NAME,
      runtime: createSageMakerRuntimeClient({ endpointUrl: env.MODEL_ENDPOINT_URL }),
      timeoutMs: env.MODEL_TIMEOUT_MS,
    })
  : undefined;
const app = createBackendApp({
  services: env.SERVICES,
  anomalies,
  operations,
  live: new LiveFeed({
    services: env.SERVICES,
    anomalies,
    operations,
    // Sidecars are on loopback and cheap to read; CloudWatch is neither, and its records lag anyway.
    anomalyPollMs: env.ANOMALY_POLL_MS ?? (env.ANOMALY_SOURCE === 'local' ? 500 : 10_000),
    healthIntervalMs: env.HEALTH_INTERVAL_MS,
    operationsIntervalMs: env.OPERATIONS_SOURCE === 'local' ? 1000 : 10_000,
  }),
  scoring,
  faults,
  healthTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
});

const server = serveHttp(
  {
    listener: getRequestListener(app.fetch, { autoCleanupIncoming: false }),
    port: env.PORT,
    hostname: env.HOST,
    limits: BACKEND_SERVER_LIMITS,
  },
  (info) => {
    stdoutSink({
      level: 'info',
      time: new Date().toISOString(),
      msg: 'listening',
      service: 'backend',
      address: info.address,
      port: info.port,
      anomalySource: env.ANOMALY_SOURCE,
      operationsSource: env.OPERATIONS_SOURCE,
      services: env.SERVICES.map((s) => s.name),
      modelEndpoint: env.MODEL_ENDPOINT_NAME ?? null,
      faultsEnabled: env.FAULTS_ENABLED,
    });
  },
);

failOnListenError('backend', server);
// Keep-alive connections can hold close() open; ECS waits 30 s before SIGKILL, we wait less.
stopOnSignal({ name: 'backend', graceMs: 5000, stop: () => closeServer(server) });
