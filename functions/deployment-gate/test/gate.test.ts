import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeServiceRevisionsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { revisionDimensionValue } from '../../../contracts/anomaly.ts';
import type { RevisionCounts } from '../../../contracts/revision-counts.ts';
import { loadEvent } from '../../shared/fixtures.ts';
import { GATE_STATE_KEY, type GateDependencies, runGate, WINDOW_LEAD_MS } from '../core.ts';
import { baselineRevisionArn, LifecycleHookEventSchema, serviceOf } from '../event.ts';
import { sendProbes } from '../probes.ts';
import { AwsGateSources, targetGroupDimension } from '../sources.ts';

const ecs = mockClient(ECSClient);
const cloudwatch = mockClient(CloudWatchClient);
const logs = mockClient(CloudWatchLogsClient);
beforeEach(() => {
  ecs.reset();
  cloudwatch.reset();
  logs.reset();
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
    logs: new CloudWatchLogsClient(REGION),
    anomalyLogGroup: ANOMALY_LOG_GROUP,
    loadBalancerFullName: LB,
  });
}

const ANOMALY_LOG_GROUP = 'acme-anomalies';
const POLICY = { minimumVolume: { lines: 100, requests: 50 }, deadlineSeconds: 600, deliverySeconds: 120 };
const SERVICES = { frontend: { probes: ['/healthz', '/'], onScorerOutage: 'judge-on-errors' as const } };

function deps(overrides: Partial<GateDependencies> = {}): GateDependencies {
  return {
    sources: sources(),
    now: () => NOW,
    policy: POLICY,
    services: SERVICES,
    probe: null,
    ...overrides,
  };
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

/** The two ALB queries of one revision's target group, as the gate must send them. */
const albQueries = (group: string) =>
  (
    [
      ['requests', 'RequestCount'],
      ['errors', 'HTTPCode_Target_5XX_Count'],
    ] as const
  ).map(([id, metric]) => [
    id,
    metric,
    [
      { Name: 'TargetGroup', Value: group },
      { Name: 'LoadBalancer', Value: LB },
    ],
  ]);

/** One revision's traffic over the window: its sidecars' counts (in EMF lines) and its target group's sums. */
interface Traffic {
  readonly counts: RevisionCounts;
  readonly requests: number;
  readonly errors: number;
}

const traffic = (scored: number, anomalous: number, requests: number, errors: number): Traffic => ({
  counts: { received: scored, scored, anomalous, scorerFailures: 0, classes: {} },
  requests,
  errors,
});

/**
 * The sidecars' EMF lines per revision, split over two lines (two intervals, or two tasks) so the gate must
 * add them, on two pages; and the ALB's sums per target group, over two datapoints.
 */
function windowOf(byRevision: Record<'3' | '4', Traffic>) {
  const half = (n: number, first: boolean) => (first ? Math.floor(n / 2) : Math.ceil(n / 2));
  logs.on(FilterLogEventsCommand).callsFake((input: { filterPattern: string; nextToken?: string }) => {
    const revision = /Revision = "(\d+)"/.exec(input.filterPattern)?.[1] as '3' | '4';
    const { counts } = byRevision[revision];
    const first = input.nextToken === undefined;
    const emf = {
      _aws: { Timestamp: NOW, CloudWatchMetrics: [] },
      Service: 'frontend',
      Revision: revision,
      LinesScored: half(counts.scored, first),
      AnomalousLines: half(counts.anomalous, first),
      LinesReceived: half(counts.received, first),
      ScorerFailures: half(counts.scorerFailures, first),
      RequestClasses: Object.fromEntries(
        Object.entries(counts.classes).map(([name, c]) => [name, c.map((n) => half(n, first))]),
      ),
    };
    return {
      events: [{ message: JSON.stringify(emf) }, { message: 'not JSON: ignored' }],
      ...(first ? { nextToken: 'page-2' } : {}),
    };
  });
  cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[] }) => {
    const group = input.MetricDataQueries[0]?.MetricStat?.Metric?.Dimensions?.[0]?.Value;
    const sample = byRevision[group === 'targetgroup/acme-frontend-alt/bbbb' ? '4' : '3'];
    return {
      MetricDataResults: input.MetricDataQueries.map((q) => {
        const total = sample[q.Id as 'requests' | 'errors'];
        return { Id: q.Id, Values: [Math.floor(total / 2), Math.ceil(total / 2)] };
      }),
    };
  });
}

describe('runGate with the AWS sources (mocked ECS, CloudWatch and CloudWatch Logs)', () => {
  it('a worse new revision is answered FAILED; each revision is read by its Revision and its own target group', async () => {
    revisions();
    windowOf({ '3': traffic(3000, 30, 2000, 2), '4': traffic(1000, 120, 400, 1) });

    const result = await runGate(
      loadEvent('deployment-gate', 'post-test-traffic-shift.json'),
      deps({
        probe: async () => ({ sent: 0, answered: 0, errors: 0 }),
      }),
    );

    assert.deepEqual(result.response, { hookStatus: 'FAILED' });
    assert.equal(result.outcome, 'worse');
    assert.equal(result.service, 'frontend');
    assert.equal(result.lifecycleStage, 'POST_TEST_TRAFFIC_SHIFT');
    assert.equal(
      result.reason,
      'anomalies on all lines: 12.0 % (≥ 9.3 %) of 1000 lines on frontend:4 vs 1.0 % (≤ 1.7 %) of 3000 on frontend:3: at least 5.4× the old rate (limit 2×)',
    );
    assert.deepEqual(ecs.commandCalls(DescribeServiceRevisionsCommand)[0]?.args[0].input, {
      serviceRevisionArns: [NEW, OLD],
    });
    const filters = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    assert.deepEqual(
      filters
        .filter((f) => f.nextToken === undefined)
        .map((f) => [f.logGroupName, f.filterPattern, f.startTime, f.endTime]),
      [
        [ANOMALY_LOG_GROUP, '{ ($.Service = "frontend") && ($.Revision = "4") }', NOW - WINDOW_LEAD_MS, NOW],
        [ANOMALY_LOG_GROUP, '{ ($.Service = "frontend") && ($.Revision = "3") }', NOW - WINDOW_LEAD_MS, NOW],
      ],
    );
    const calls = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    assert.deepEqual(
      calls.map((c) =>
        c.MetricDataQueries?.map((q) => [
          q.Id,
          q.MetricStat?.Metric?.MetricName,
          q.MetricStat?.Metric?.Dimensions,
        ]),
      ),
      [albQueries('targetgroup/acme-frontend-alt/bbbb'), albQueries('targetgroup/acme-frontend/aaaa')],
    );
    assert.equal(result.judgement?.verdict, 'FAILED');
    assert.deepEqual(
      result.judgement?.revisions.map((r) => [r.role, r.revision, r.anomalies.total, r.errors?.total]),
      [
        ['new', 'frontend:4', 1000, 400],
        ['old', 'frontend:3', 3000, 2000],
      ],
    );
  });

  it("a failing route under a flood of healthy ones is found in the EMF lines' request classes", async () => {
    revisions();
    const flood = (requests: number, failed: number, lines: number, anomalous: number): Traffic => ({
      counts: {
        received: lines,
        scored: lines,
        anomalous,
        scorerFailures: 0,
        classes: {
          'GET /healthz': [lines - requests, 0, lines - requests, 0],
          'GET /api/services': [requests, anomalous, requests, failed],
        },
      },
      requests: lines,
      errors: failed,
    });
    windowOf({ '3': flood(2000, 0, 40_000, 40), '4': flood(200, 60, 4000, 64) });

    const result = await runGate(loadEvent('deployment-gate', 'post-production-traffic-shift.json'), deps());

    assert.equal(result.outcome, 'worse');
    assert.match(result.reason, /^errors on GET \/api\/services: 30\.0 % /);
  });

  it('an equal new revision is answered SUCCEEDED (flat payload layout, production stage)', async () => {
    revisions();
    windowOf({ '3': traffic(2000, 20, 1000, 1), '4': traffic(2000, 20, 1000, 1) });

    const result = await runGate(loadEvent('deployment-gate', 'post-production-traffic-shift.json'), deps());

    assert.deepEqual(result.response, { hookStatus: 'SUCCEEDED' });
    assert.equal(result.outcome, 'passed');
    assert.equal(result.lifecycleStage, 'POST_PRODUCTION_TRAFFIC_SHIFT');
  });

  it('without a test route, POST_TEST_TRAFFIC_SHIFT passes at once (nothing reaches the new revision there), with no AWS call', async () => {
    const result = await runGate(loadEvent('deployment-gate', 'post-test-traffic-shift.json'), deps());

    assert.deepEqual(result.response, { hookStatus: 'SUCCEEDED' });
    assert.equal(result.outcome, 'no-test-traffic');
    assert.equal(ecs.calls().length + logs.calls().length, 0);
  });

  describe('an idle new revision, probed through the test route', () => {
    let server: Server;
    let baseUrl = '';
    const hits: string[] = [];
    before(async () => {
      server = createServer((req, res) => {
        hits.push(req.url ?? '');
        res.end('ok');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('IN_PROGRESS with probes counted in hookDetails; FAILED at the deadline (too little traffic), or as soon as answers leave no line (logging broken)', async () => {
      revisions();
      windowOf({ '3': traffic(0, 0, 0, 0), '4': traffic(20, 0, 20, 0) });
      const probe: GateDependencies['probe'] = (paths, count, offset) =>
        sendProbes({ baseUrl }, paths, count, {}, offset);
      const event = loadEvent('deployment-gate', 'post-test-traffic-shift.json');

      const first = await runGate(event, deps({ probe }));
      assert.equal(first.response.hookStatus, 'IN_PROGRESS');
      assert.equal(first.response.callBackDelay, 30);
      const hookDetails = first.response.hookDetails;
      assert.deepEqual(hookDetails?.[GATE_STATE_KEY], {
        key: 'arn:aws:ecs:eu-west-1:123456789012:service-deployment/acme/frontend/Ab12Cd34Ef56Gh78Ij90K|POST_TEST_TRAFFIC_SHIFT',
        startedAt: NOW,
        sent: 50,
        answered: 50,
      });
      assert.equal(hits.length, 50);
      assert.deepEqual(new Set(hits), new Set(['/healthz', '/']));
      assert.deepEqual(first.judgement?.probes, { paths: ['/healthz', '/'], sent: 50, answered: 50 });

      // ECS calls again with the hookDetails the function returned, ten minutes later: still no line.
      const later = await runGate({ ...event, hookDetails }, deps({ probe, now: () => NOW + 600_000 }));
      assert.deepEqual(later.response, { hookStatus: 'FAILED' });
      assert.equal(later.outcome, 'too-little-traffic');
      assert.match(later.reason, /probes: 50 of 50 answered \(GET \/healthz, GET \/\)$/);

      // Had its sidecar received no line at all from the 50 answers, its logging is what is broken.
      logs.reset();
      cloudwatch.reset();
      windowOf({ '3': traffic(0, 0, 0, 0), '4': traffic(0, 0, 0, 0) });
      const silent = await runGate({ ...event, hookDetails }, deps({ probe, now: () => NOW + 120_000 }));
      assert.equal(silent.outcome, 'logging-broken');
      assert.equal(
        silent.reason,
        'frontend:4 answered 50 requests but its sidecar received no line from it; probes: 50 of 50 answered (GET /healthz, GET /)',
      );

      // The same state read at the other stage does not count: that stage starts its own clock.
      const otherStage = await runGate(
        { ...event, lifecycleStage: 'POST_PRODUCTION_TRAFFIC_SHIFT', hookDetails },
        deps({ probe, now: () => NOW + 600_000 }),
      );
      assert.equal(otherStage.response.hookStatus, 'IN_PROGRESS');
    });
  });

  it('an AWS error is retried with IN_PROGRESS, and answered FAILED after the deadline', async () => {
    ecs
      .on(DescribeServiceRevisionsCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const event = loadEvent('deployment-gate', 'post-production-traffic-shift.json');

    const first = await runGate(event, deps());
    assert.equal(first.response.hookStatus, 'IN_PROGRESS');
    assert.equal(first.outcome, 'retrying');

    const last = await runGate(
      { ...event, hookDetails: first.response.hookDetails },
      deps({ now: () => NOW + 601_000 }),
    );
    assert.deepEqual(last.response, { hookStatus: 'FAILED' });
    assert.equal(
      last.reason,
      "could not read the revisions' metrics by the deadline: AccessDeniedException: User is not authorized",
    );
  });

  it('a first deployment (no other revision) is judged against the ceilings only', async () => {
    revisions();
    windowOf({ '3': traffic(0, 0, 0, 0), '4': traffic(500, 5, 300, 0) });
    const event = loadEvent<Record<string, Record<string, unknown>>>(
      'deployment-gate',
      'post-test-traffic-shift.json',
    );
    const details = event.executionDetails as Record<string, unknown>;
    const first = {
      ...event,
      executionDetails: { ...details, testTrafficWeights: { [NEW]: 100 }, productionTrafficWeights: {} },
    };

    const result = await runGate(first, deps({ probe: async () => ({ sent: 0, answered: 0, errors: 0 }) }));

    assert.equal(result.outcome, 'no-baseline-passed');
    assert.equal(result.baselineRevision, null);
    assert.equal(cloudwatch.commandCalls(GetMetricDataCommand).length, 1);
  });

  it('an event that is not a lifecycle hook payload is answered FAILED (fail closed), with no AWS call', async () => {
    const result = await runGate({ detail: { alarmName: 'x' } }, deps());

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
