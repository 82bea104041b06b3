import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import type { ApiError } from '../../../contracts/errors.ts';
import { deployment, service, tdArn } from '../../../test/support/ecs.ts';
import { AwsOperationsSource } from '../src/aws-operations-source.ts';

// The SDK clients are real; only their transport is replaced, and the assertions are on the exact
// commands sent and on the shaping of realistic answers.
const NOW = Date.UTC(2026, 11, 1, 22, 0, 30);
const ecs = mockClient(ECSClient);
const cloudwatch = mockClient(CloudWatchClient);
const dynamodb = mockClient(DynamoDBClient);
const source = (remediationTable?: string) =>
  new AwsOperationsSource({
    ecs: new ECSClient({ region: 'eu-west-1' }),
    cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
    dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
    cluster: 'acme',
    services: [
      { name: 'frontend', ecsService: 'acme-frontend' },
      { name: 'backend', ecsService: 'acme-backend' },
    ],
    alarmNamePrefix: 'acme-',
    remediationTable,
    cooldownSeconds: 600,
    maxActionsPerWindow: 6,
    windowSeconds: 3600,
    now: () => NOW,
  });

const at = (msAgo: number) => new Date(NOW - msAgo);

/** The backend mid-rollout (3 of 4 new tasks), the frontend steady after a circuit-breaker rollback. */
const SERVICES: Service[] = [
  service(
    'acme-backend',
    tdArn('backend', 8),
    [
      deployment(
        'ecs-svc/new',
        'PRIMARY',
        tdArn('backend', 8),
        'IN_PROGRESS',
        { desired: 4, running: 3, pending: 1 },
        'ECS deployment ecs-svc/new in progress.',
        { createdAt: at(120_000), updatedAt: at(10_000) },
      ),
      deployment(
        'ecs-svc/old',
        'ACTIVE',
        tdArn('backend', 7),
        'COMPLETED',
        { desired: 2, running: 2, pending: 0 },
        undefined,
        { createdAt: at(86_400_000), updatedAt: at(120_000) },
      ),
    ],
    [],
    { desiredCount: 4, runningCount: 5, pendingCount: 1, deploymentConfiguration: { strategy: 'ROLLING' } },
  ),
  service(
    'acme-frontend',
    tdArn('frontend', 3),
    [
      deployment(
        'ecs-svc/rollback',
        'PRIMARY',
        tdArn('frontend', 3),
        'IN_PROGRESS',
        { desired: 2, running: 0, pending: 2 },
        undefined,
        { createdAt: at(30_000), updatedAt: at(30_000) },
      ),
      deployment(
        'ecs-svc/failed',
        'ACTIVE',
        tdArn('frontend', 4),
        'FAILED',
        { desired: 0, running: 0, pending: 0 },
        'ECS deployment circuit breaker: tasks failed to start.',
        { createdAt: at(600_000), updatedAt: at(30_000) },
      ),
    ],
    [],
    { desiredCount: 2, runningCount: 0, pendingCount: 2 },
  ),
];

beforeEach(() => {
  ecs.reset();
  cloudwatch.reset();
  dynamodb.reset();
});

describe('AwsOperationsSource: health and deployments from DescribeServices', () => {
  test('health: running / desired / pending and the rollout state, as the console shows locally', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: SERVICES });
    const health = await source().serviceHealth();
    assert.deepEqual(ecs.commandCalls(DescribeServicesCommand)[0]!.args[0].input, {
      cluster: 'acme',
      services: ['acme-frontend', 'acme-backend'],
    });
    assert.equal(health.healthSource, 'ecs');
    assert.deepEqual(health.services, [
      {
        name: 'frontend',
        health: 'down',
        detail: '0 of 2 tasks running',
        checkedAt: new Date(NOW).toISOString(),
        tasks: { running: 0, desired: 2, pending: 2 },
        rollout: 'in-progress',
      },
      {
        name: 'backend',
        health: 'up',
        checkedAt: new Date(NOW).toISOString(),
        tasks: { running: 5, desired: 4, pending: 1 },
        rollout: 'in-progress',
      },
    ]);
  });

  test('a service missing from the cluster is unknown, not silently dropped', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [SERVICES[0]!], failures: [{ reason: 'MISSING' }] });
    const { services } = await source().serviceHealth();
    assert.deepEqual(services[0], {
      name: 'frontend',
      health: 'unknown',
      detail: 'not found in the cluster',
      checkedAt: new Date(NOW).toISOString(),
    });
  });

  test('deployments: revisions, strategy, traffic share by running tasks, progress, rollback reasons', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: SERVICES });
    const { services } = await source().deployments();
    const backend = services.find((s) => s.service === 'backend')!;
    assert.equal(backend.strategy, 'rolling');
    assert.equal(backend.progressPercent, 75);
    assert.deepEqual(
      backend.deployments.map((d) => [d.revision, d.status, d.rolloutState, d.trafficPercent]),
      [
        ['backend:8', 'primary', 'in-progress', 60],
        ['backend:7', 'active', 'completed', 40],
      ],
    );
    assert.deepEqual(backend.rollbacks, []);
    const frontend = services.find((s) => s.service === 'frontend')!;
    assert.deepEqual(frontend.rollbacks, [
      {
        fromRevision: 'frontend:4',
        toRevision: 'frontend:3',
        reason: 'ECS deployment circuit breaker: tasks failed to start.',
        at: new Date(NOW - 30_000).toISOString(),
      },
    ]);
  });

  test('SDK failures become 502 / 504 in the error shape, never the SDK message', async () => {
    ecs
      .on(DescribeServicesCommand)
      .rejects(Object.assign(new Error('User arn:… is not authorized'), { name: 'AccessDeniedException' }));
    await assert.rejects(source().deployments(), (error: ApiError) => {
      assert.equal(error.status, 502);
      assert.equal(error.message, 'ECS call failed (AccessDeniedException)');
      return true;
    });
  });
});

describe('AwsOperationsSource: capacity', () => {
  test('instances with CPU, memory and task ENIs; tasks per service', async () => {
    ecs.on(ListContainerInstancesCommand).resolves({ containerInstanceArns: ['ci-1', 'ci-2'] });
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: ['t-1', 't-2'], nextToken: 'more' })
      .resolvesOnce({ taskArns: ['t-3'] });
    const eni = { type: 'ElasticNetworkInterface', status: 'ATTACHED' };
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: 't-1', containerInstanceArn: 'ci-1', attachments: [eni] },
        { taskArn: 't-2', containerInstanceArn: 'ci-1', attachments: [eni] },
        { taskArn: 't-3', containerInstanceArn: 'ci-2', attachments: [{ ...eni, status: 'DELETED' }] },
      ],
    });
    ecs.on(DescribeContainerInstancesCommand).resolves({
      containerInstances: [
        {
          containerInstanceArn: 'ci-1',
          ec2InstanceId: 'i-0abc',
          status: 'ACTIVE',
          runningTasksCount: 2,
          pendingTasksCount: 0,
          attributes: [
            { name: 'ecs.instance-type', value: 't3.medium' },
            { name: 'ecs.availability-zone', value: 'eu-west-1a' },
          ],
          registeredResources: [
            { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
            { name: 'MEMORY', type: 'INTEGER', integerValue: 3904 },
          ],
          remainingResources: [
            { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
            { name: 'MEMORY', type: 'INTEGER', integerValue: 1856 },
          ],
        },
        { containerInstanceArn: 'ci-2', ec2InstanceId: 'i-0def', status: 'DRAINING', runningTasksCount: 1 },
      ],
    });
    ecs.on(DescribeServicesCommand).resolves({ services: SERVICES });
    const capacity = await source().capacity();
    assert.deepEqual(ecs.commandCalls(ListTasksCommand)[1]!.args[0].input, {
      cluster: 'acme',
      desiredStatus: 'RUNNING',
      nextToken: 'more',
    });
    assert.deepEqual(ecs.commandCalls(DescribeTasksCommand)[0]!.args[0].input, {
      cluster: 'acme',
      tasks: ['t-1', 't-2', 't-3'],
    });
    assert.deepEqual(capacity.instances, [
      {
        id: 'i-0abc',
        instanceType: 't3.medium',
        availabilityZone: 'eu-west-1a',
        status: 'ACTIVE',
        runningTasks: 2,
        pendingTasks: 0,
        cpu: { registered: 2048, remaining: 1024 },
        memoryMiB: { registered: 3904, remaining: 1856 },
        enis: 2,
      },
      {
        id: 'i-0def',
        status: 'DRAINING',
        runningTasks: 1,
        pendingTasks: 0,
        cpu: { registered: 0, remaining: 0 },
        memoryMiB: { registered: 0, remaining: 0 },
        enis: 0,
      },
    ]);
    assert.deepEqual(capacity.tasks, [
      { service: 'frontend', desired: 2, running: 0, pending: 2 },
      { service: 'backend', desired: 4, running: 5, pending: 1 },
    ]);
  });
});

describe('AwsOperationsSource: alarms and remediation', () => {
  test('DescribeAlarms with the prefix; firing alarms first; the service from the dimensions', async () => {
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({
        MetricAlarms: [
          {
            AlarmName: 'acme-backend-cpu',
            StateValue: 'OK',
            StateReason: 'Threshold Crossed: 1 datapoint [12.0] was not greater than 60.0',
            StateUpdatedTimestamp: new Date(NOW - 3_600_000),
            Namespace: 'AWS/ECS',
            MetricName: 'CPUUtilization',
            Dimensions: [{ Name: 'ServiceName', Value: 'acme-backend' }],
          },
        ],
        NextToken: 'p2',
      })
      .resolvesOnce({
        MetricAlarms: [
          {
            AlarmName: 'acme-frontend-anomaly-rate',
            StateValue: 'ALARM',
            StateReason: 'Threshold Crossed: 1 datapoint [21.0] was greater than 5.0',
            StateUpdatedTimestamp: new Date(NOW - 60_000),
            Namespace: 'Platform/LogAnomaly',
            MetricName: 'AnomalousLines',
            Dimensions: [{ Name: 'Service', Value: 'frontend' }],
          },
        ],
      });
    const { alarms } = await source().alarms();
    assert.deepEqual(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input, {
      AlarmNamePrefix: 'acme-',
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
      NextToken: undefined,
    });
    assert.deepEqual(
      alarms.map((a) => [a.name, a.state, a.service, a.metric]),
      [
        ['acme-frontend-anomaly-rate', 'ALARM', 'frontend', 'Platform/LogAnomaly/AnomalousLines'],
        ['acme-backend-cpu', 'OK', 'backend', 'AWS/ECS/CPUUtilization'],
      ],
    );
  });

  test('the ledger: actions with their cooldowns, and the budget left in the current window', async () => {
    const nowSeconds = Math.floor(NOW / 1000);
    const windowStart = nowSeconds - (nowSeconds % 3600);
    dynamodb.on(ScanCommand).resolves({
      Items: [
        { pk: { S: `window#${windowStart}` }, actions: { N: '2' } },
        { pk: { S: `window#${windowStart - 3600}` }, actions: { N: '6' } },
        {
          pk: { S: 'resource#service/backend' },
          lastActionAt: { N: String(nowSeconds - 120) },
          lastEventId: { S: 'evt-2' },
          lastAction: { S: 'scale out backend 2 → 3' },
          lastReason: { S: 'acme-backend-cpu: Threshold Crossed' },
        },
        {
          pk: { S: 'resource#instance/i-0abc' },
          lastActionAt: { N: String(nowSeconds - 1200) },
          lastEventId: { S: 'evt-1' },
        },
      ],
    });
    const view = await source('acme-remediation').remediation();
    assert.deepEqual(dynamodb.commandCalls(ScanCommand)[0]!.args[0].input, {
      TableName: 'acme-remediation',
      FilterExpression: 'begins_with(pk, :resource) OR begins_with(pk, :window)',
      ExpressionAttributeValues: { ':resource': { S: 'resource#' }, ':window': { S: 'window#' } },
      ExclusiveStartKey: undefined,
    });
    assert.deepEqual(view.budget, {
      windowSeconds: 3600,
      windowStart: new Date(windowStart * 1000).toISOString(),
      maxActions: 6,
      used: 2,
      remaining: 4,
    });
    assert.deepEqual(view.actions, [
      {
        resource: 'service/backend',
        at: new Date((nowSeconds - 120) * 1000).toISOString(),
        eventId: 'evt-2',
        action: 'scale out backend 2 → 3',
        reason: 'acme-backend-cpu: Threshold Crossed',
        cooldownUntil: new Date((nowSeconds + 480) * 1000).toISOString(),
        coolingDown: true,
      },
      {
        resource: 'instance/i-0abc',
        at: new Date((nowSeconds - 1200) * 1000).toISOString(),
        eventId: 'evt-1',
        cooldownUntil: new Date((nowSeconds - 600) * 1000).toISOString(),
        coolingDown: false,
      },
    ]);
  });

  test('without a table the view says so instead of showing an empty ledger', async () => {
    const view = await source().remediation();
    assert.equal(view.note, 'REMEDIATION_TABLE is not set');
    assert.equal(view.budget, null);
    assert.equal(dynamodb.commandCalls(ScanCommand).length, 0);
  });
});
