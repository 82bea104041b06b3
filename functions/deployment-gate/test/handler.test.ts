import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeServiceRevisionsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { JudgementSchema } from '../../../contracts/judgement.ts';
import { readEnvironment } from '../../shared/environment.ts';
import { loadEvent } from '../../shared/fixtures.ts';
import { RULE_TEXT } from '../decision.ts';

// The handler reads its environment and builds its clients at import: set both up first.
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  LOAD_BALANCER_FULL_NAME: 'app/acme/0123456789abcdef',
  ANOMALY_LOG_GROUP: 'acme-anomalies',
  MIN_SCORED_LINES: '100',
  MIN_REQUESTS: '50',
  DEADLINE_SECONDS: '600',
  SERVICE_SETTINGS: '{"frontend":{"probes":["/healthz","/"],"onScorerOutage":"judge-on-errors"}}',
  POWERTOOLS_DEV: 'false',
});
const ecs = mockClient(ECSClient);
const cloudwatch = mockClient(CloudWatchClient);
const logs = mockClient(CloudWatchLogsClient);
after(() => {
  ecs.restore();
  cloudwatch.restore();
  logs.restore();
});
const { DECISION_MESSAGE, GateEnvironmentSchema, handler, settingsOf } = await import('../handler.ts');

/** Runs the handler, returning its answer and every JSON line it printed (the log and the EMF metric). */
async function invoke(event: unknown) {
  const lines: Record<string, unknown>[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((s) => s.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        try {
          lines.push(JSON.parse(line));
        } catch {
          // not ours (the test runner's own output)
        }
      }
      return true;
    }) as typeof stream.write;
  }
  try {
    return { response: await handler(event), lines };
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
  }
}

describe('deployment-gate handler', () => {
  it('answers ECS, logs the decision with its reason and counts it by outcome and hook status', async () => {
    ecs.on(DescribeServiceRevisionsCommand).resolves({
      serviceRevisions: [
        {
          serviceRevisionArn:
            'arn:aws:ecs:eu-west-1:123456789012:service-revision/acme/frontend/4020000000000000002',
          taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/acme-frontend:4',
        },
        {
          serviceRevisionArn:
            'arn:aws:ecs:eu-west-1:123456789012:service-revision/acme/frontend/4010000000000000001',
          taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/acme-frontend:3',
        },
      ],
    });
    logs.on(FilterLogEventsCommand).callsFake((input: { filterPattern: string }) => {
      const anomalous = input.filterPattern.includes('"4"') ? 300 : 10;
      const emf = { Service: 'frontend', LinesScored: 1000, AnomalousLines: anomalous, LinesReceived: 1000 };
      return { events: [{ message: JSON.stringify(emf) }] };
    });
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'requests', Values: [400] },
        { Id: 'errors', Values: [0] },
      ],
    });

    const { response, lines } = await invoke(
      loadEvent('deployment-gate', 'post-production-traffic-shift.json'),
    );

    assert.deepEqual(response, { hookStatus: 'FAILED' });
    const log = lines.find((l) => l.message === DECISION_MESSAGE);
    assert.equal(log?.level, 'INFO');
    assert.equal(log?.outcome, 'worse');
    assert.equal(log?.ecsService, 'frontend');
    assert.equal(log?.lifecycleStage, 'POST_PRODUCTION_TRAFFIC_SHIFT');
    assert.equal(
      log?.reason,
      'anomalies on all lines: 30.0 % (≥ 25.8 %) of 1000 lines on frontend:4 vs 1.0 % (≤ 2.5 %) of 1000 on frontend:3: at least 10.4× the old rate (limit 2×)',
    );
    // The console reads the judgement back from this line (contracts/judgement.ts).
    const judgement = JudgementSchema.parse(log?.judgement);
    assert.equal(judgement.rule, RULE_TEXT.worse);
    assert.deepEqual(
      judgement.revisions.map((r) => [r.role, r.revision, r.anomalies.rate]),
      [
        ['new', 'frontend:4', 0.3],
        ['old', 'frontend:3', 0.01],
      ],
    );
    const metric = lines.find((l) => '_aws' in l);
    assert.equal(metric?.GateDecisions, 1);
    assert.equal(metric?.Outcome, 'worse');
    assert.equal(metric?.HookStatus, 'FAILED');
  });

  it('a malformed event: FAILED, logged as an error', async () => {
    const { response, lines } = await invoke({ hello: 'world' });
    assert.deepEqual(response, { hookStatus: 'FAILED' });
    assert.equal(lines.find((l) => l.message === DECISION_MESSAGE)?.level, 'ERROR');
  });

  it('environment: the wiring values, each required; a bad value fails the cold start naming it', () => {
    const env = readEnvironment(GateEnvironmentSchema, process.env);
    assert.deepEqual(settingsOf(env), {
      policy: { minimumVolume: { lines: 100, requests: 50 }, deadlineSeconds: 600, deliverySeconds: 120 },
      services: { frontend: { probes: ['/healthz', '/'], onScorerOutage: 'judge-on-errors' } },
    });
    assert.throws(
      () =>
        readEnvironment(GateEnvironmentSchema, {
          ANOMALY_LOG_GROUP: 'g',
          MIN_SCORED_LINES: '100',
          MIN_REQUESTS: '0',
          DEADLINE_SECONDS: '600',
          SERVICE_SETTINGS: '{"frontend":{"probes":["healthz"],"onScorerOutage":"maybe"}}',
          LOAD_BALANCER_FULL_NAME: 'acme',
        }),
      /LOAD_BALANCER_FULL_NAME: must be app\/<name>\/<id>; MIN_REQUESTS: Too small: expected number to be >=1; SERVICE_SETTINGS.frontend.probes.0: Invalid string: must start with "\/"; SERVICE_SETTINGS.frontend.onScorerOutage: Invalid option/,
    );
  });
});
