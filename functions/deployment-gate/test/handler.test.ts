import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeServiceRevisionsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { readEnvironment } from '../../shared/environment.ts';
import { loadEvent } from '../../shared/fixtures.ts';
import { DEFAULT_GATE_POLICY } from '../decision.ts';

// The handler reads its environment and builds its clients at import: set both up first.
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  LOAD_BALANCER_FULL_NAME: 'app/acme/0123456789abcdef',
  POWERTOOLS_DEV: 'false',
});
const ecs = mockClient(ECSClient);
const cloudwatch = mockClient(CloudWatchClient);
after(() => {
  ecs.restore();
  cloudwatch.restore();
});
const { GateEnvironmentSchema, handler, policyOf } = await import('../handler.ts');

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
    cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[] }) => {
      const revision = input.MetricDataQueries[0]?.MetricStat?.Metric?.Dimensions?.[1]?.Value;
      const anomalous = revision === '4' ? 300 : 10;
      return {
        MetricDataResults: [
          { Id: 'scored', Values: [1000] },
          { Id: 'anomalous', Values: [anomalous] },
        ],
      };
    });

    const { response, lines } = await invoke(loadEvent('deployment-gate', 'post-test-traffic-shift.json'));

    assert.deepEqual(response, { hookStatus: 'FAILED' });
    const log = lines.find((l) => l.message === 'deployment gate decision');
    assert.equal(log?.level, 'INFO');
    assert.equal(log?.outcome, 'worse');
    assert.equal(log?.ecsService, 'frontend');
    assert.equal(log?.lifecycleStage, 'POST_TEST_TRAFFIC_SHIFT');
    assert.match(String(log?.reason), /^anomalies: 30\.00% of 1000 lines vs 1\.00% of 1000 lines/);
    const metric = lines.find((l) => '_aws' in l);
    assert.equal(metric?.GateDecisions, 1);
    assert.equal(metric?.Outcome, 'worse');
    assert.equal(metric?.HookStatus, 'FAILED');
  });

  it('a malformed event: FAILED, logged as an error', async () => {
    const { response, lines } = await invoke({ hello: 'world' });
    assert.deepEqual(response, { hookStatus: 'FAILED' });
    assert.equal(lines.find((l) => l.message === 'deployment gate decision')?.level, 'ERROR');
  });

  it('environment: defaults are the documented policy; a bad value fails the cold start naming it', () => {
    assert.deepEqual(policyOf(readEnvironment(GateEnvironmentSchema, {})), DEFAULT_GATE_POLICY);
    assert.throws(
      () => readEnvironment(GateEnvironmentSchema, { ON_NO_DATA: 'MAYBE', LOAD_BALANCER_FULL_NAME: 'acme' }),
      /LOAD_BALANCER_FULL_NAME: must be app\/<name>\/<id>; ON_NO_DATA: Invalid option/,
    );
  });
});
