import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { RemediationRulesSchema } from '../../../contracts/remediation-rules.ts';
import { loadEvent } from '../../shared/fixtures.ts';
import { ClusterOperations } from '../actions.ts';
import { type RemediationOutcome, remediate } from '../core.ts';
import { DynamoDbLedger, timesInWindow } from '../ledger.ts';
import { MiniDynamo } from './mini-dynamo.ts';

/**
 * Issue 14, finding 3, replayed through the real remediation code (core, ClusterOperations, the
 * DynamoDB ledger over an in-memory table): a flood of client errors raises two services' anomaly-rate
 * alarms again and again for 25 minutes; no task may be restarted, and a genuine CPU alarm at the
 * end must still scale out. Defaults of the platform: cooldown 300 s, 10 actions per hour.
 */

const ecs = mockClient(ECSClient);
const cloudwatch = mockClient(CloudWatchClient);
const sns = mockClient(SNSClient);
const dynamo = mockClient(DynamoDBClient);
const region = { region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
const START = Date.parse('2025-11-28T12:00:00Z');

const rules = RemediationRulesSchema.parse([
  {
    alarmName: 'acme-backend-cpu-high',
    action: 'scale-out',
    service: { name: 'backend', serviceName: 'acme-backend', maxTasks: 6, targetTracking: true },
  },
  ...['frontend', 'shop'].flatMap((name) => [
    {
      alarmName: `acme-${name}-anomaly-rate`,
      action: 'restart-unhealthy-tasks',
      service: { name, serviceName: `acme-${name}`, maxTasks: 4 },
      requireAlarms: [`acme-${name}-target-5xx`, `acme-${name}-unhealthy-hosts`],
    },
    {
      alarmName: `acme-${name}-unhealthy-hosts`,
      action: 'restart-unhealthy-tasks',
      service: { name, serviceName: `acme-${name}`, maxTasks: 4 },
    },
  ]),
]);

/** Alarm states as CloudWatch would answer DescribeAlarms; anything not listed is OK. */
let alarmStates: Map<string, string>;
let clock: number;
let table: MiniDynamo;

beforeEach(() => {
  for (const m of [ecs, cloudwatch, sns, dynamo]) m.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  alarmStates = new Map();
  clock = START;
  table = new MiniDynamo();
  table.attach(dynamo);
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
    services: [{ serviceName: input.services[0], status: 'ACTIVE', desiredCount: 2, deployments: [{}] }],
  }));
  ecs.on(UpdateServiceCommand).resolves({});
  // Each service runs two tasks, one of them failing its container health check.
  ecs.on(ListTasksCommand).resolves({ taskArns: ['task/1', 'task/2'] });
  ecs.on(DescribeTasksCommand).resolves({
    tasks: [
      { taskArn: 'task/1', healthStatus: 'UNHEALTHY' },
      { taskArn: 'task/2', healthStatus: 'HEALTHY' },
    ],
  });
  ecs.on(StopTaskCommand).resolves({});
  cloudwatch.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => {
    if (input.AlarmNamePrefix !== undefined) {
      const names = [...alarmStates.keys()].filter((n) => n.startsWith(input.AlarmNamePrefix!));
      return {
        MetricAlarms: names
          .filter((n) => input.StateValue === undefined || alarmStates.get(n) === input.StateValue)
          .map((n) => ({ AlarmName: n, StateValue: alarmStates.get(n) })),
      };
    }
    return {
      MetricAlarms: (input.AlarmNames ?? []).map((n) => ({
        AlarmName: n,
        StateValue: alarmStates.get(n) ?? 'OK',
      })),
    };
  });
});

function deps() {
  const operations = new ClusterOperations({
    ecs: new ECSClient(region),
    ec2: new EC2Client(region),
    cloudwatch: new CloudWatchClient(region),
    sns: new SNSClient(region),
    clusterName: 'acme-cluster',
    topicArn: 'arn:aws:sns:eu-west-1:123456789012:acme-ops',
    now: () => clock,
  });
  const ledger = new DynamoDbLedger({
    client: new DynamoDBClient(region),
    tableName: 'ledger',
    cooldownSeconds: 300,
    maxActionsPerWindow: 10,
  });
  return { rules, operations, ledger, dryRun: false, now: () => clock };
}

let eventSeq = 0;
/** An ALARM event for `alarmName`, emitted now (its alarm is put in ALARM, as CloudWatch would). */
function alarmEvent(alarmName: string, fixture = 'anomaly-rate-alarm.json') {
  const event = loadEvent('remediate', fixture) as Record<string, unknown> & {
    detail: Record<string, unknown>;
  };
  eventSeq += 1;
  alarmStates.set(alarmName, 'ALARM');
  return {
    ...event,
    id: `replay-${eventSeq}`,
    time: new Date(clock).toISOString(),
    resources: [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarmName}`],
    detail: { ...event.detail, alarmName },
  };
}

const restarts = () => ecs.commandCalls(StopTaskCommand).length;
const forcedDeployments = () =>
  ecs.commandCalls(UpdateServiceCommand).filter((c) => c.args[0].input.forceNewDeployment === true).length;
const scaleOuts = () =>
  ecs.commandCalls(UpdateServiceCommand).filter((c) => c.args[0].input.desiredCount !== undefined).length;

describe('remediation abuse replay', () => {
  it('a 25-minute flood of client errors restarts no task; a genuine CPU alarm then scales out', async () => {
    const d = deps();
    const outcomes: RemediationOutcome['outcome'][] = [];
    // Every 150 s each service's anomaly alarm flaps back into ALARM (the flood comes in waves).
    for (let t = 0; t < 25 * 60_000; t += 150_000) {
      clock = START + t;
      for (const name of ['frontend', 'shop']) {
        outcomes.push((await remediate(alarmEvent(`acme-${name}-anomaly-rate`), d)).outcome);
      }
    }
    assert.equal(outcomes.length, 20);
    assert.equal(restarts(), 0, 'no restart without a server-side symptom');
    assert.equal(forcedDeployments(), 0, 'and never a forced deployment');
    assert.deepEqual([...new Set(outcomes)], ['no-action']);

    clock = START + 26 * 60_000;
    const genuine = await remediate(alarmEvent('acme-backend-cpu-high', 'service-cpu-alarm.json'), d);
    assert.equal(genuine.outcome, 'acted', JSON.stringify(genuine));
    assert.equal(scaleOuts(), 1);
  });

  it('restarts that exhaust their own budget never starve a scale-out', async () => {
    const d = deps();
    // Genuinely unhealthy targets on two services, past each cooldown, for an hour: restarts allowed.
    for (let t = 0; t < 60 * 60_000; t += 310_000) {
      clock = START + t;
      for (const name of ['frontend', 'shop']) await remediate(alarmEvent(`acme-${name}-unhealthy-hosts`), d);
    }
    assert.equal(restarts(), 10, 'the restart budget is spent');
    assert.equal(forcedDeployments(), 0);
    clock += 1000;
    const genuine = await remediate(alarmEvent('acme-backend-cpu-high', 'service-cpu-alarm.json'), d);
    assert.equal(genuine.outcome, 'acted', JSON.stringify(genuine));
  });

  it('an anomaly alarm with a server-side symptom in ALARM restarts the unhealthy task, starting no release', async () => {
    alarmStates.set('acme-frontend-target-5xx', 'ALARM');
    const result = await remediate(alarmEvent('acme-frontend-anomaly-rate'), deps());
    assert.equal(result.outcome, 'acted');
    assert.deepEqual(
      ecs.commandCalls(StopTaskCommand).map((c) => c.args[0].input.task),
      ['task/1'],
    );
    assert.equal(forcedDeployments(), 0);
  });
});

describe('remediation edge cases', () => {
  it('skips an event older than 10 minutes (the async queue keeps events for hours)', async () => {
    const event = alarmEvent('acme-backend-cpu-high', 'service-cpu-alarm.json');
    clock += 5 * 3600_000;
    assert.deepEqual(await remediate(event, deps()), { outcome: 'skipped', reason: 'stale-event' });
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 0);
  });

  it('skips an event whose alarm is no longer in ALARM (DescribeAlarms)', async () => {
    const event = alarmEvent('acme-backend-cpu-high', 'service-cpu-alarm.json');
    alarmStates.set('acme-backend-cpu-high', 'OK');
    clock += 60_000;
    assert.deepEqual(await remediate(event, deps()), { outcome: 'skipped', reason: 'no-longer-in-alarm' });
    assert.equal(ecs.commandCalls(UpdateServiceCommand).length, 0);
  });

  it('the budget window slides: 20 claims in 60 s across the hour boundary yield 10', async () => {
    const ledger = deps().ledger;
    let claimed = 0;
    for (let i = 0; i < 20; i++) {
      const at = Date.parse('2025-11-28T12:59:30Z') + i * 3000;
      if ((await ledger.claimAction(`e-${i}`, `service/s-${i}`, 'scale-out', at)) === 'claimed') claimed += 1;
    }
    assert.equal(claimed, 10);
    assert.deepEqual(timesInWindow([100, 5000, 4000], 7000, 3600), [4000, 5000]);
  });

  it('defers to target tracking while its high alarm is in ALARM', async () => {
    alarmStates.set('TargetTracking-service/acme-cluster/acme-backend-AlarmHigh-0f1e2d', 'ALARM');
    const result = await remediate(alarmEvent('acme-backend-cpu-high', 'service-cpu-alarm.json'), deps());
    assert.deepEqual(result, { outcome: 'no-action', reason: 'target-tracking-scaling' });
    assert.equal(scaleOuts(), 0);
  });
});
