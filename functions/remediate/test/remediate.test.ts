import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { EC2Client, RebootInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { type RemediationRule, RemediationRulesSchema } from '../../../contracts/remediation-rules.ts';
import { loadEvent } from '../../shared/fixtures.ts';
import { ClusterOperations } from '../actions.ts';
import { remediate } from '../core.ts';
import { DynamoDbLedger } from '../ledger.ts';

const ecs = mockClient(ECSClient);
const ec2 = mockClient(EC2Client);
const cloudwatch = mockClient(CloudWatchClient);
const sns = mockClient(SNSClient);
const dynamo = mockClient(DynamoDBClient);
beforeEach(() => {
  for (const m of [ecs, ec2, cloudwatch, sns, dynamo]) m.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  // Every alarm asked about is still in ALARM; no budget item yet.
  cloudwatch.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames?: string[] }) => ({
    MetricAlarms: (input.AlarmNames ?? []).map((AlarmName) => ({ AlarmName, StateValue: 'ALARM' })),
  }));
  dynamo.on(GetItemCommand).resolves({});
});

const CLUSTER = 'acme-cluster';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:acme-ops';
const TABLE = 'acme-remediation-ledger';
const NOW = Date.parse('2025-11-28T12:05:01Z');
const NOW_S = NOW / 1000;
const rules: RemediationRule[] = RemediationRulesSchema.parse([
  {
    alarmName: 'acme-backend-cpu-high',
    action: 'scale-out',
    service: { name: 'backend', serviceName: 'acme-backend', maxTasks: 6 },
  },
  {
    alarmName: 'acme-frontend-anomaly-rate',
    action: 'restart-unhealthy-tasks',
    service: { name: 'frontend', serviceName: 'acme-frontend', maxTasks: 4 },
  },
  { alarmName: 'acme-instance-cpu-high', action: 'reboot-instance' },
]);

function deps(overrides: { dryRun?: boolean } = {}) {
  let clock = NOW;
  const slept: number[] = [];
  const region = { region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
  const operations = new ClusterOperations({
    ecs: new ECSClient(region),
    ec2: new EC2Client(region),
    cloudwatch: new CloudWatchClient(region),
    sns: new SNSClient(region),
    clusterName: CLUSTER,
    topicArn: TOPIC,
    drainTimeoutMs: 30_000,
    rebootTimeoutMs: 20_000,
    pollIntervalMs: 10_000,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
    now: () => clock,
  });
  const ledger = new DynamoDbLedger({
    client: new DynamoDBClient(region),
    tableName: TABLE,
    cooldownSeconds: 600,
    maxActionsPerWindow: 6,
  });
  return { slept, deps: { rules, operations, ledger, dryRun: overrides.dryRun ?? false, now: () => NOW } };
}

function cancelled(...codes: string[]) {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

describe('remediate: scale out a service within its maximum', () => {
  it('claims event, resource and window in one transaction, raises the desired count, and notifies', async () => {
    // Prepare
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'acme-backend', status: 'ACTIVE', desiredCount: 2 }] });
    ecs.on(UpdateServiceCommand).resolves({});
    dynamo.on(TransactWriteItemsCommand).resolves({});
    // Act
    const result = await remediate(loadEvent('remediate', 'service-cpu-alarm.json'), deps().deps);
    // Assess
    assert.deepEqual(result, {
      outcome: 'acted',
      action: 'raise backend (acme-backend) from 2 to 3 tasks (max 6)',
      completed: true,
      detail: 'desired count set to 3',
    });
    assert.deepEqual(
      ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input),
      [{ cluster: CLUSTER, services: ['acme-backend'] }],
    );
    assert.deepEqual(
      ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input),
      [{ cluster: CLUSTER, service: 'acme-backend', desiredCount: 3 }],
    );
    const transactions = dynamo.commandCalls(TransactWriteItemsCommand).map((c) => c.args[0].input);
    assert.deepEqual(transactions, [
      {
        TransactItems: [
          {
            Put: {
              TableName: TABLE,
              Item: {
                pk: { S: 'event#0b5f2c1e-5d7a-4c3e-9f6a-0e1d2c3b4a51' },
                seenAt: { N: String(Math.floor(NOW_S)) },
                expiresAt: { N: String(Math.floor(NOW_S) + 172_800) },
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName: TABLE,
              Item: {
                pk: { S: 'resource#service/acme-backend' },
                lastActionAt: { N: String(NOW_S) },
                lastEventId: { S: '0b5f2c1e-5d7a-4c3e-9f6a-0e1d2c3b4a51' },
                expiresAt: { N: String(NOW_S + 600 + 86_400) },
              },
              ConditionExpression: 'attribute_not_exists(pk) OR lastActionAt <= :cutoff',
              ExpressionAttributeValues: { ':cutoff': { N: String(NOW_S - 600) } },
            },
          },
          {
            Put: {
              TableName: TABLE,
              Item: {
                pk: { S: 'budget#scale-out' },
                times: { L: [{ N: String(NOW_S) }] },
                version: { N: '1' },
                expiresAt: { N: String(NOW_S + 7200) },
              },
              ConditionExpression: 'attribute_not_exists(pk) OR version = :version',
              ExpressionAttributeValues: { ':version': { N: '0' } },
            },
          },
        ],
      },
    ]);
    assert.equal(published().length, 1);
    assert.equal(published()[0]!.TopicArn, TOPIC);
    assert.equal(
      published()[0]!.Subject,
      'Remediation: raise backend (acme-backend) from 2 to 3 tasks (max 6)',
    );
    assert.deepEqual(JSON.parse(published()[0]!.Message!), {
      alarm: 'acme-backend-cpu-high',
      alarmReason:
        'Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (80.0).',
      eventId: '0b5f2c1e-5d7a-4c3e-9f6a-0e1d2c3b4a51',
      rule: 'scale-out',
      dryRun: false,
      outcome: 'acted',
      action: 'raise backend (acme-backend) from 2 to 3 tasks (max 6)',
      detail: 'desired count set to 3',
    });
  });

  it('does nothing on a duplicate delivery of the same event', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'acme-backend', status: 'ACTIVE', desiredCount: 2 }] });
    dynamo.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));
    const result = await remediate(loadEvent('remediate', 'service-cpu-alarm.json'), deps().deps);
    assert.deepEqual(result, {
      outcome: 'duplicate',
      action: 'raise backend (acme-backend) from 2 to 3 tasks (max 6)',
    });
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 0);
    assert.equal(published().length, 0);
  });

  it('does nothing while the service is cooling down, or when the window budget is spent', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'acme-backend', status: 'ACTIVE', desiredCount: 2 }] });
    dynamo.on(TransactWriteItemsCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed', 'None'));
    const event = loadEvent('remediate', 'service-cpu-alarm.json');
    assert.equal((await remediate(event, deps().deps)).outcome, 'cooling-down');
    // Six scale-outs in the last hour (the budget of this kind): refused without writing anything.
    const times = Array.from({ length: 6 }, (_, i) => ({ N: String(NOW_S - 3000 + i * 60) }));
    dynamo
      .on(GetItemCommand)
      .resolves({ Item: { pk: { S: 'budget#scale-out' }, times: { L: times }, version: { N: '6' } } });
    assert.equal((await remediate(event, deps().deps)).outcome, 'budget-exhausted');
    assert.equal(dynamo.commandCalls(TransactWriteItemsCommand).length, 1);
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 0);
    assert.equal(published().length, 0);
  });

  it('retries a claim that lost a transaction conflict, then acts once', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'acme-backend', status: 'ACTIVE', desiredCount: 5 }] });
    ecs.on(UpdateServiceCommand).resolves({});
    dynamo
      .on(TransactWriteItemsCommand)
      .rejectsOnce(cancelled('None', 'None', 'TransactionConflict'))
      .resolves({});
    const result = await remediate(loadEvent('remediate', 'service-cpu-alarm.json'), deps().deps);
    assert.equal(result.outcome, 'acted');
    assert.equal(dynamo.commandCalls(TransactWriteItemsCommand).length, 2);
    assert.deepEqual(ecs.commandCalls(UpdateServiceCommand)[0]!.args[0].input, {
      cluster: CLUSTER,
      service: 'acme-backend',
      desiredCount: 6,
    });
  });

  it('at the declared maximum: no action, one notice per event', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'acme-backend', status: 'ACTIVE', desiredCount: 6 }] });
    dynamo
      .on(PutItemCommand)
      .resolvesOnce({})
      .rejects(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }));
    const event = loadEvent('remediate', 'service-cpu-alarm.json');
    assert.deepEqual(await remediate(event, deps().deps), { outcome: 'no-action', reason: 'at-maximum' });
    assert.deepEqual(await remediate(event, deps().deps), {
      outcome: 'duplicate',
      action: 'none (at-maximum)',
    });
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 0);
    assert.equal(dynamo.commandCalls(TransactWriteItemsCommand).length, 0);
    assert.deepEqual(dynamo.commandCalls(PutItemCommand)[0]!.args[0].input.Item!.pk, {
      S: 'event#0b5f2c1e-5d7a-4c3e-9f6a-0e1d2c3b4a51',
    });
    assert.equal(published().length, 1);
    assert.equal(published()[0]!.Subject, 'Remediation: no action for acme-backend-cpu-high');
    assert.equal(
      JSON.parse(published()[0]!.Message!).detail,
      'backend already wants 6 tasks; its declared maximum is 6',
    );
  });

  it('dry run: claims and notifies, changes nothing', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'acme-backend', status: 'ACTIVE', desiredCount: 2 }] });
    dynamo.on(TransactWriteItemsCommand).resolves({});
    const result = await remediate(
      loadEvent('remediate', 'service-cpu-alarm.json'),
      deps({ dryRun: true }).deps,
    );
    assert.deepEqual(result, {
      outcome: 'dry-run',
      action: 'raise backend (acme-backend) from 2 to 3 tasks (max 6)',
    });
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 0);
    assert.equal(
      published()[0]!.Subject,
      'Remediation (dry run): raise backend (acme-backend) from 2 to 3 tasks (max 6)',
    );
  });

  it('ignores OK transitions and alarms without a rule, without any AWS call', async () => {
    assert.deepEqual(await remediate(loadEvent('remediate', 'service-cpu-ok.json'), deps().deps), {
      outcome: 'skipped',
      reason: 'not-in-alarm',
    });
    const other = loadEvent<{ detail: { alarmName: string } }>('remediate', 'service-cpu-alarm.json');
    other.detail.alarmName = 'someone-elses-alarm';
    assert.deepEqual(await remediate(other, deps().deps), { outcome: 'skipped', reason: 'no-rule' });
    for (const m of [ecs, ec2, cloudwatch, sns, dynamo]) assert.equal(m.calls().length, 0);
  });

  it('reports a non-alarm event as invalid without acting', async () => {
    const result = await remediate({ 'detail-type': 'EC2 Instance State-change Notification' }, deps().deps);
    assert.equal(result.outcome, 'invalid-event');
    for (const m of [ecs, ec2, cloudwatch, sns, dynamo]) assert.equal(m.calls().length, 0);
  });

  it('notifies and rethrows when the action fails', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'acme-backend', status: 'ACTIVE', desiredCount: 2 }] });
    ecs
      .on(UpdateServiceCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    dynamo.on(TransactWriteItemsCommand).resolves({});
    await assert.rejects(
      remediate(loadEvent('remediate', 'service-cpu-alarm.json'), deps().deps),
      /not authorized/,
    );
    assert.equal(
      published()[0]!.Subject,
      'Remediation FAILED: raise backend (acme-backend) from 2 to 3 tasks (max 6)',
    );
    assert.equal(JSON.parse(published()[0]!.Message!).error, 'AccessDeniedException: not authorized');
  });
});

describe('remediate: restart the unhealthy tasks of a service, never a release', () => {
  const task = (n: number, healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN') => ({
    taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/${CLUSTER}/${n}`,
    healthStatus,
    lastStatus: 'RUNNING',
  });
  function service(tasks: ReturnType<typeof task>[], deployments = 1) {
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          serviceName: 'acme-frontend',
          status: 'ACTIVE',
          runningCount: tasks.length,
          deployments: Array.from({ length: deployments }, (_, i) => ({ id: `d${i}` })),
        },
      ],
    });
    ecs.on(ListTasksCommand).resolves({ taskArns: tasks.map((t) => t.taskArn) });
    ecs.on(DescribeTasksCommand).resolves({ tasks });
    ecs.on(StopTaskCommand).resolves({});
    dynamo.on(TransactWriteItemsCommand).resolves({});
  }
  const stopped = () => ecs.commandCalls(StopTaskCommand).map((c) => c.args[0].input.task);

  it('stops the tasks ECS reports UNHEALTHY (the service replaces them from its current revision): no UpdateService, no new deployment', async () => {
    service([task(1, 'HEALTHY'), task(2, 'UNHEALTHY'), task(3, 'HEALTHY'), task(4, 'UNHEALTHY')]);
    const result = await remediate(loadEvent('remediate', 'anomaly-rate-alarm.json'), deps().deps);
    assert.equal(result.outcome, 'acted');
    assert.deepEqual(stopped(), [task(2, 'UNHEALTHY').taskArn, task(4, 'UNHEALTHY').taskArn]);
    assert.deepEqual(
      ecs.commandCalls(StopTaskCommand).map((c) => [c.args[0].input.cluster, c.args[0].input.reason]),
      [
        [CLUSTER, 'remediation: container health check UNHEALTHY (alarm acme-frontend-anomaly-rate)'],
        [CLUSTER, 'remediation: container health check UNHEALTHY (alarm acme-frontend-anomaly-rate)'],
      ],
    );
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 0);
  });

  it('stops at most half of the running tasks, so the service keeps serving while they are replaced', async () => {
    service([task(1, 'UNHEALTHY'), task(2, 'UNHEALTHY'), task(3, 'UNHEALTHY'), task(4, 'HEALTHY')]);
    await remediate(loadEvent('remediate', 'anomaly-rate-alarm.json'), deps().deps);
    assert.equal(stopped().length, 2);
  });

  it('stops nothing when no task is unhealthy, or while a deployment is in progress (the release decides)', async () => {
    service([task(1, 'HEALTHY'), task(2, 'HEALTHY')]);
    const healthy = await remediate(loadEvent('remediate', 'anomaly-rate-alarm.json'), deps().deps);
    assert.equal(healthy.outcome, 'acted');
    assert.match(JSON.stringify(healthy), /no task of acme-frontend is unhealthy; nothing stopped/);
    assert.deepEqual(stopped(), []);
    ecs.reset();
    service([task(1, 'UNHEALTHY'), task(2, 'HEALTHY')], 2);
    const releasing = await remediate(loadEvent('remediate', 'anomaly-rate-alarm.json'), deps().deps);
    assert.match(
      JSON.stringify(releasing),
      /a deployment of acme-frontend is in progress; its own rollback decides/,
    );
    assert.deepEqual(stopped(), []);
  });
});

describe('remediate: drain and reboot the busiest instance', () => {
  const arn = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:container-instance/${CLUSTER}/${n}`;
  function cluster(instances: Array<{ n: number; id: string }>) {
    ecs
      .on(ListContainerInstancesCommand, { status: 'ACTIVE' })
      .resolves({ containerInstanceArns: instances.map((i) => arn(i.n)) });
    ecs.on(ListContainerInstancesCommand, { status: 'DRAINING' }).resolves({ containerInstanceArns: [] });
    ecs
      .on(DescribeContainerInstancesCommand, { containerInstances: instances.map((i) => arn(i.n)) })
      .resolves({
        containerInstances: instances.map((i) => ({
          containerInstanceArn: arn(i.n),
          ec2InstanceId: i.id,
          status: 'ACTIVE',
          agentConnected: true,
          runningTasksCount: 3,
        })),
      });
  }

  it('drains the hottest instance, waits for its tasks, reboots it, waits for the agent, reactivates it', async () => {
    cluster([
      { n: 1, id: 'i-0aaa' },
      { n: 2, id: 'i-0bbb' },
    ]);
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'cpu0', Label: 'i-0aaa', Values: [40, 45] },
        { Id: 'cpu1', Label: 'i-0bbb', Values: [97.5, 90] },
      ],
    });
    ecs
      .on(DescribeContainerInstancesCommand, { containerInstances: [arn(2)] })
      .resolvesOnce({ containerInstances: [{ runningTasksCount: 2, agentConnected: true }] })
      .resolvesOnce({ containerInstances: [{ runningTasksCount: 0, agentConnected: true }] })
      .resolves({ containerInstances: [{ runningTasksCount: 0, agentConnected: false }] });
    ecs.on(UpdateContainerInstancesStateCommand).resolves({});
    ec2.on(RebootInstancesCommand).resolves({});
    dynamo.on(TransactWriteItemsCommand).resolves({});
    const { deps: d, slept } = deps();

    const result = await remediate(loadEvent('remediate', 'instance-cpu-alarm.json'), d);

    assert.deepEqual(result, {
      outcome: 'acted',
      action: 'drain and reboot i-0bbb (CPU 97.5%)',
      completed: true,
      detail: 'i-0bbb drained, rebooted and set ACTIVE again',
    });
    assert.deepEqual(
      ecs.commandCalls(UpdateContainerInstancesStateCommand).map((c) => c.args[0].input),
      [
        { cluster: CLUSTER, containerInstances: [arn(2)], status: 'DRAINING' },
        { cluster: CLUSTER, containerInstances: [arn(2)], status: 'ACTIVE' },
      ],
    );
    assert.deepEqual(
      ec2.commandCalls(RebootInstancesCommand).map((c) => c.args[0].input),
      [{ InstanceIds: ['i-0bbb'] }],
    );
    // One wait while two tasks still drain; the agent is already gone at the first look after the reboot.
    assert.deepEqual(slept, [10_000]);
    const claim =
      dynamo.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems![1]!.Put!.Item!.pk;
    assert.deepEqual(claim, { S: 'resource#cluster/reboot' }, 'one reboot at a time per cluster');
    const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!;
    assert.deepEqual(
      queries.map((q) => q.MetricStat?.Metric?.Dimensions),
      [[{ Name: 'InstanceId', Value: 'i-0aaa' }], [{ Name: 'InstanceId', Value: 'i-0bbb' }]],
    );
  });

  it('does not reboot an instance whose tasks do not drain in time, and sets it ACTIVE again', async () => {
    cluster([
      { n: 1, id: 'i-0aaa' },
      { n: 2, id: 'i-0bbb' },
    ]);
    cloudwatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: 'cpu0', Label: 'i-0aaa', Values: [99] }] });
    ecs
      .on(DescribeContainerInstancesCommand, { containerInstances: [arn(1)] })
      .resolves({ containerInstances: [{ runningTasksCount: 1, agentConnected: true }] });
    ecs.on(UpdateContainerInstancesStateCommand).resolves({});
    dynamo.on(TransactWriteItemsCommand).resolves({});
    const result = await remediate(loadEvent('remediate', 'instance-cpu-alarm.json'), deps().deps);
    assert.deepEqual(result, {
      outcome: 'acted',
      action: 'drain and reboot i-0aaa (CPU 99.0%)',
      completed: false,
      detail: 'i-0aaa still runs tasks after 30 s; not rebooted, set ACTIVE again',
    });
    assert.equal(ec2.commandCalls(RebootInstancesCommand).length, 0);
    assert.deepEqual(
      ecs.commandCalls(UpdateContainerInstancesStateCommand).map((c) => c.args[0].input.status),
      ['DRAINING', 'ACTIVE'],
    );
    assert.equal(published()[0]!.Subject, 'Remediation (incomplete): drain and reboot i-0aaa (CPU 99.0%)');
  });

  it('never drains the last active instance', async () => {
    cluster([{ n: 1, id: 'i-0aaa' }]);
    cloudwatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: 'cpu0', Label: 'i-0aaa', Values: [99] }] });
    dynamo.on(PutItemCommand).resolves({});
    const result = await remediate(loadEvent('remediate', 'instance-cpu-alarm.json'), deps().deps);
    assert.deepEqual(result, { outcome: 'no-action', reason: 'last-active-instance' });
    assert.equal(ecs.commandCalls(UpdateContainerInstancesStateCommand).length, 0);
    assert.equal(ec2.commandCalls(RebootInstancesCommand).length, 0);
  });

  it('reboots one instance at a time per cluster: none while another is DRAINING', async () => {
    cluster([
      { n: 1, id: 'i-0aaa' },
      { n: 2, id: 'i-0bbb' },
    ]);
    ecs
      .on(ListContainerInstancesCommand, { status: 'DRAINING' })
      .resolves({ containerInstanceArns: [arn(3)] });
    ecs.on(DescribeContainerInstancesCommand, { containerInstances: [arn(1), arn(2), arn(3)] }).resolves({
      containerInstances: [
        { containerInstanceArn: arn(1), ec2InstanceId: 'i-0aaa', status: 'ACTIVE', agentConnected: true },
        { containerInstanceArn: arn(2), ec2InstanceId: 'i-0bbb', status: 'ACTIVE', agentConnected: true },
        { containerInstanceArn: arn(3), ec2InstanceId: 'i-0ccc', status: 'DRAINING', agentConnected: true },
      ],
    });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    dynamo.on(PutItemCommand).resolves({});
    const result = await remediate(loadEvent('remediate', 'instance-cpu-alarm.json'), deps().deps);
    assert.deepEqual(result, { outcome: 'no-action', reason: 'reboot-in-progress' });
    assert.equal(ecs.commandCalls(UpdateContainerInstancesStateCommand).length, 0);
  });
});
