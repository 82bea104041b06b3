import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { ApiError } from '../../../contracts/errors.ts';
import { CloudWatchAnomalySource, filterPatternFor } from '../src/cloudwatch-anomaly-source.ts';
import { sampleRecords } from './support/upstream-servers.ts';

// CloudWatch has no local stand-in here, so the SDK clients are real and only their transport is
// replaced (aws-sdk-client-mock); the assertions are on the exact commands sent and the shaping.
const NOW = Date.UTC(2026, 0, 15, 12, 0, 30);
const cloudwatch = mockClient(CloudWatchClient);
const logs = mockClient(CloudWatchLogsClient);
const invalid: [number, string][] = [];
const source = new CloudWatchAnomalySource({
  cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
  logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
  logGroupName: '/platform/anomalies',
  lookbackMinutes: 30,
  now: () => NOW,
  onInvalidRecords: (count, example) => invalid.push([count, example]),
});

beforeEach(() => {
  cloudwatch.reset();
  logs.reset();
  invalid.length = 0;
});

describe('CloudWatchAnomalySource.series', () => {
  test('one query per statistic, aligned buckets, missing buckets filled with zeros', async () => {
    const t0 = Date.UTC(2026, 0, 15, 11, 59, 0);
    const t1 = Date.UTC(2026, 0, 15, 12, 0, 0);
    cloudwatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'scored', Timestamps: [new Date(t1)], Values: [40] },
          { Id: 'anomalous', Timestamps: [new Date(t1)], Values: [3] },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'maxScore', Timestamps: [new Date(t1)], Values: [0.97] },
          { Id: 'meanScore', Timestamps: [new Date(t1)], Values: [0.21] },
        ],
      });
    const series = await source.series('frontend', { bucketSeconds: 60, buckets: 2 });
    assert.deepEqual(series, {
      service: 'frontend',
      bucketSeconds: 60,
      points: [
        { t: t0, scored: 0, anomalous: 0, maxScore: 0, meanScore: 0 },
        { t: t1, scored: 40, anomalous: 3, maxScore: 0.97, meanScore: 0.21 },
      ],
    });
    const calls = cloudwatch.commandCalls(GetMetricDataCommand);
    assert.equal(calls.length, 2);
    const input = calls[0]!.args[0].input;
    assert.deepEqual([input.StartTime, input.EndTime], [new Date(t0), new Date(t1 + 60_000)]);
    assert.equal(calls[1]!.args[0].input.NextToken, 'page-2');
    assert.deepEqual(
      input.MetricDataQueries?.map((q) => [
        q.Id,
        q.MetricStat?.Metric?.Namespace,
        q.MetricStat?.Metric?.MetricName,
        q.MetricStat?.Stat,
        q.MetricStat?.Period,
        q.MetricStat?.Metric?.Dimensions,
      ]),
      [
        ['scored', 'Platform/LogAnomaly', 'LinesScored', 'Sum', 60, [{ Name: 'Service', Value: 'frontend' }]],
        [
          'anomalous',
          'Platform/LogAnomaly',
          'AnomalousLines',
          'Sum',
          60,
          [{ Name: 'Service', Value: 'frontend' }],
        ],
        [
          'maxScore',
          'Platform/LogAnomaly',
          'MaxScore',
          'Maximum',
          60,
          [{ Name: 'Service', Value: 'frontend' }],
        ],
        [
          'meanScore',
          'Platform/LogAnomaly',
          'MeanScore',
          'Average',
          60,
          [{ Name: 'Service', Value: 'frontend' }],
        ],
      ],
    );
  });

  test('an SDK failure is a 502 without internal detail; a timeout a 504', async () => {
    cloudwatch
      .on(GetMetricDataCommand)
      .rejectsOnce(Object.assign(new Error('secret detail'), { name: 'AccessDenied' }))
      .rejectsOnce(Object.assign(new Error('slow'), { name: 'TimeoutError' }));
    const denied = await source
      .series('frontend', { bucketSeconds: 60, buckets: 2 })
      .catch((e: unknown) => e);
    const slow = await source.series('frontend', { bucketSeconds: 60, buckets: 2 }).catch((e: unknown) => e);
    assert.deepEqual(
      [denied, slow].map((e) => (e instanceof ApiError ? e.toBody() : String(e))),
      [
        { error: { code: 'bad_gateway', message: 'CloudWatch metrics call failed (AccessDenied)' } },
        { error: { code: 'gateway_timeout', message: 'CloudWatch metrics did not answer in time' } },
      ],
    );
  });
});

describe('CloudWatchAnomalySource.recentAnomalies', () => {
  test('filters the log group by service, newest first, and reports records that break the contract', async () => {
    const [a1, a2] = sampleRecords('frontend', 2, NOW);
    const [b1] = sampleRecords('backend', 1, NOW - 30_000);
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({
        events: [
          { message: JSON.stringify(a2) },
          { message: '{"service":"frontend","score":"high"}' },
          { message: JSON.stringify(b1) },
        ],
        nextToken: 'next',
      })
      .resolvesOnce({ events: [{ message: JSON.stringify(a1) }] });
    const result = await source.recentAnomalies(['frontend', 'backend'], 10);
    assert.deepEqual(result, { records: [a1, b1, a2], unavailable: [] });
    assert.deepEqual(invalid, [[1, '{"service":"frontend","score":"high"}']]);
    const input = logs.commandCalls(FilterLogEventsCommand)[0]!.args[0].input;
    assert.deepEqual(input, {
      logGroupName: '/platform/anomalies',
      startTime: NOW - 30 * 60_000,
      filterPattern: '{ $.service = "frontend" || $.service = "backend" }',
      nextToken: undefined,
    });
  });

  test('no services, no call', async () => {
    assert.deepEqual(await source.recentAnomalies([], 10), { records: [], unavailable: [] });
    assert.equal(logs.commandCalls(FilterLogEventsCommand).length, 0);
  });

  test('filterPatternFor one service', () => {
    assert.equal(filterPatternFor(['web']), '{ $.service = "web" }');
  });
});
