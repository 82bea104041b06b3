import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeServiceRevisionsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { revisionDimensionValue } from '../../../contracts/anomaly.ts';
import { loadEvent } from '../../shared/fixtures.ts';
import { GATE_STATE_KEY, runGate } from '../core.ts';
import { baselineRevisionArn, LifecycleHookEventSchema, serviceOf } from '../event.ts';
import { AwsGateSources, targetGroupDimension } from '../sources.ts';

const ecs = mockClient(ECSClient);
const cloudwatch = mockClient(CloudWatchClient);
beforeEach(() => {
  ecs.reset();
  cloudwatch.reset();
});

const REGION = { region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
const OLD = 'arn:aws:ecs:eu-west-1:123456789012:service-revision/acme/frontend/4010000000000000001';
const NEW = 'arn:aws:ecs:eu-west-1:123456789012:service-revision/acme/frontend/4020000000000000002';
const TG_BLUE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/acme-frontend/aaaa';
const TG_GREEN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/acme-frontend-alt/bbbb';
const LB = 'app/acme/0123456789abcdef';
const NOW = Date.parse('2026-12-01T12:10:00Z');

function sources() {
  return new AwsGateSources({
    ecs: new ECSClient(REGION),
    cloudwatch: new CloudWatchClient(REGION),
    loadBalancerFullName: LB,
  });
}

/** ECS answers both revisions: the old on revision 3 in the blue group, the new on 4 in the green. */
function revisions() {
  ecs.on(DescribeServiceRevisionsCommand).resolves({
    serviceRevisions: [
      {
        serviceRevisionArn: NEW,
        taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/acme-frontend:4',
        loadBalancers: [{ targetGroupArn: TG_BLUE }],
        resolvedConfiguration: { loadBalancers: [{ targetGroupArn: TG_GREEN }] },
      },
      {
        serviceRevisionArn: OLD,
        taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/acme-frontend:3',
        resolvedConfiguration: { loadBalancers: [{ targetGroupArn: TG_BLUE }] },
      },
    ],
  });
}

/** CloudWatch sums per revision (by its Revision dimension or target group). */
function metrics(
  byRevision: Record<'3' | '4', { scored: number; anomalous: number; requests: number; errors: number }>,
) {
  cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[] }) => {
    const dims = input.MetricDataQueries[0]?.MetricStat?.Metric?.Dimensions ?? [];
    const revision = dims.find((d) => d.Name === 'Revision')?.Value as '3' | '4';
    const sample = byRevision[revision];
    return {
      MetricDataResults: input.MetricDataQueries.map((q) => ({
        Id: q.Id,
        // Two one-minute datapoints per query: the sums must add them.
        Values: [
          Math.floor(sample[q.Id as keyof typeof sample] / 2),
          Math.ceil(sample[q.Id as keyof typeof sample] / 2),
        ],
      })),
    };
  });
}

describe('runGate with the AWS sources (mocked ECS and CloudWatch)', () => {
  it('a worse new revision is answered FAILED; the queries name each revision and its own target group', async () => {
    revisions();
    metrics({
      '3': { scored: 3000, anomalous: 30, requests: 2000, errors: 2 },
      '4': { scored: 1000, anomalous: 120, requests: 400, errors: 1 },
    });

    const result = await runGate(loadEvent('deployment-gate', 'post-test-traffic-shift.json'), {
      sources: sources(),
      now: () => NOW,
      windowSeconds: 600,
    });

    assert.deepEqual(result.response, { hookStatus: 'FAILED' });
    assert.equal(result.outcome, 'worse');
    assert.equal(result.service, 'frontend');
    assert.equal(result.lifecycleStage, 'POST_TEST_TRAFFIC_SHIFT');
    assert.match(result.reason, /^anomalies: 12\.00% of 1000 lines vs 1\.00% of 3000 lines/);
    assert.deepEqual(ecs.commandCalls(DescribeServiceRevisionsCommand)[0]?.args[0].input, {
      serviceRevisionArns: [NEW, OLD],
    });
    const calls = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0]?.StartTime, new Date(NOW - 600_000));
    assert.deepEqual(calls[0]?.EndTime, new Date(NOW));
    assert.deepEqual(
      calls[0]?.MetricDataQueries?.map((q) => [
        q.Id,
        q.MetricStat?.Metric?.Namespace,
        q.MetricStat?.Metric?.MetricName,
        q.MetricStat?.Metric?.Dimensions,
        q.MetricStat?.Stat,
        q.MetricStat?.Period,
      ]),
      [
        [
          'scored',
          'Platform/LogAnomaly',
          'LinesScored',
          [
            { Name: 'Service', Value: 'frontend' },
            { Name: 'Revision', Value: '4' },
          ],
          'Sum',
          600,
        ],
        [
          'anomalous',
          'Platform/LogAnomaly',
          'AnomalousLines',
          [
            { Name: 'Service', Value: 'frontend' },
            { Name: 'Revision', Value: '4' },
          ],
          'Sum',
          600,
        ],
        [
          'requests',
          'AWS/ApplicationELB',
          'RequestCount',
          [
            { Name: 'TargetGroup', Value: 'targetgroup/acme-frontend-alt/bbbb' },
            { Name: 'LoadBalancer', Value: LB },
          ],
          'Sum',
          600,
        ],
        [
          'errors',
          'AWS/ApplicationELB',
          'HTTPCode_Target_5XX_Count',
          [
            { Name: 'TargetGroup', Value: 'targetgroup/acme-frontend-alt/bbbb' },
            { Name: 'LoadBalancer', Value: LB },
          ],
          'Sum',
          600,
        ],
      ],
    );
    assert.equal(
      calls[1]?.MetricDataQueries?.[2]?.MetricStat?.Metric?.Dimensions?.[0]?.Value,
      'targetgroup/acme-frontend/aaaa',
    );
  });

  it('an equal new revision is answered SUCCEEDED (flat payload layout, production stage)', async () => {
    revisions();
    const same = { scored: 2000, anomalous: 20, requests: 1000, errors: 1 };
    metrics({ '3': same, '4': same });

    const result = await runGate(loadEvent('deployment-gate', 'post-production-traffic-shift.json'), {
      sources: sources(),
      now: () => NOW,
      windowSeconds: 600,
    });

    assert.deepEqual(result.response, { hookStatus: 'SUCCEEDED' });
    assert.equal(result.outcome, 'passed');
    assert.equal(result.lifecycleStage, 'POST_PRODUCTION_TRAFFIC_SHIFT');
  });

  it('no data: IN_PROGRESS carrying its start in hookDetails; the deadline counts from that start', async () => {
    revisions();
    const none = { scored: 0, anomalous: 0, requests: 0, errors: 0 };
    metrics({ '3': none, '4': none });
    const event = loadEvent('deployment-gate', 'post-test-traffic-shift.json');

    const first = await runGate(event, { sources: sources(), now: () => NOW, windowSeconds: 600 });
    assert.equal(first.response.hookStatus, 'IN_PROGRESS');
    assert.equal(first.response.callBackDelay, 30);
    const hookDetails = first.response.hookDetails;
    assert.deepEqual(hookDetails?.[GATE_STATE_KEY], {
      key: 'arn:aws:ecs:eu-west-1:123456789012:service-deployment/acme/frontend/Ab12Cd34Ef56Gh78Ij90K|POST_TEST_TRAFFIC_SHIFT',
      startedAt: NOW,
    });

    // ECS calls again with the hookDetails the function returned, ten minutes later.
    const later = await runGate(
      { ...event, hookDetails },
      { sources: sources(), now: () => NOW + 600_000, windowSeconds: 600 },
    );
    assert.deepEqual(later.response, { hookStatus: 'SUCCEEDED' });
    assert.equal(later.outcome, 'no-data-passed');

    // The same state read at the other stage does not count: that stage starts its own clock.
    const otherStage = await runGate(
      { ...event, lifecycleStage: 'POST_PRODUCTION_TRAFFIC_SHIFT', hookDetails },
      { sources: sources(), now: () => NOW + 600_000, windowSeconds: 600 },
    );
    assert.equal(otherStage.response.hookStatus, 'IN_PROGRESS');
  });

  it('an AWS error is retried with IN_PROGRESS, and answered FAILED after the deadline', async () => {
    ecs
      .on(DescribeServiceRevisionsCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const event = loadEvent('deployment-gate', 'post-test-traffic-shift.json');

    const first = await runGate(event, { sources: sources(), now: () => NOW, windowSeconds: 600 });
    assert.equal(first.response.hookStatus, 'IN_PROGRESS');
    assert.equal(first.outcome, 'retrying');

    const last = await runGate(
      { ...event, hookDetails: first.response.hookDetails },
      { sources: sources(), now: () => NOW + 601_000, windowSeconds: 600 },
    );
    assert.deepEqual(last.response, { hookStatus: 'FAILED' });
    assert.equal(
      last.reason,
      "could not read the revisions' metrics by the deadline: AccessDeniedException: User is not authorized",
    );
  });

  it('a first deployment (no other revision) is judged against the ceilings only', async () => {
    revisions();
    metrics({
      '3': { scored: 0, anomalous: 0, requests: 0, errors: 0 },
      '4': { scored: 500, anomalous: 5, requests: 300, errors: 0 },
    });
    const event = loadEvent<Record<string, Record<string, unknown>>>(
      'deployment-gate',
      'post-test-traffic-shift.json',
    );
    const details = event.executionDetails as Record<string, unknown>;
    const first = {
      ...event,
      executionDetails: { ...details, testTrafficWeights: { [NEW]: 100 }, productionTrafficWeights: {} },
    };

    const result = await runGate(first, { sources: sources(), now: () => NOW, windowSeconds: 600 });

    assert.equal(result.outcome, 'no-baseline-passed');
    assert.equal(result.baselineRevision, null);
    assert.equal(cloudwatch.commandCalls(GetMetricDataCommand).length, 1);
  });

  it('an event that is not a lifecycle hook payload is answered FAILED (fail closed), with no AWS call', async () => {
    const result = await runGate(
      { detail: { alarmName: 'x' } },
      { sources: sources(), now: () => NOW, windowSeconds: 600 },
    );

    assert.deepEqual(result.response, { hookStatus: 'FAILED' });
    assert.equal(result.outcome, 'invalid-event');
    assert.equal(
      result.reason,
      'not an ECS lifecycle hook event: serviceArn: Invalid input: expected string, received undefined',
    );
    assert.equal(ecs.calls().length, 0);
  });
});

describe('event helpers', () => {
  it('serviceOf, baselineRevisionArn, targetGroupDimension', () => {
    const event = LifecycleHookEventSchema.parse(
      loadEvent('deployment-gate', 'post-test-traffic-shift.json'),
    );
    assert.deepEqual(serviceOf(event.serviceArn), { cluster: 'acme', service: 'frontend' });
    assert.equal(baselineRevisionArn(event), OLD);
    assert.equal(targetGroupDimension(TG_GREEN), 'targetgroup/acme-frontend-alt/bbbb');
    assert.throws(() => targetGroupDimension('arn:aws:s3:::bucket'), /is not a target group ARN/);
    assert.equal(
      revisionDimensionValue('arn:aws:ecs:eu-west-1:123456789012:task-definition/acme-frontend:12'),
      '12',
    );
    assert.throws(
      () => revisionDimensionValue('acme-frontend'),
      /is not a task definition ARN ending in :<revision>/,
    );
  });
});
