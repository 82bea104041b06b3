import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Monitoring } from '../constructs/monitoring.ts';
import { serverlessFixture } from './serverless-builder.ts';

describe('Monitoring', () => {
  // GIVEN a web and an internal service WHEN monitoring is rendered
  const f = serverlessFixture();
  after(() => f.dispose());
  const monitoring = new Monitoring(f.stack, 'Monitoring', {
    platformName: 'acme',
    clusterName: 'acme-cluster',
    autoScalingGroupName: 'acme-asg',
    loadBalancerFullName: 'app/acme/0123',
    services: [
      {
        name: 'frontend',
        serviceName: 'acme-frontend',
        maxTasks: 4,
        anomalyScoring: true,
        targetGroupFullName: 'targetgroup/fe/1',
      },
      { name: 'backend', serviceName: 'acme-backend', maxTasks: 6, anomalyScoring: false },
    ],
    endpoint: { endpointName: 'log-anomaly', variantName: 'AllTraffic' },
    topic: f.notifications.topic,
  });
  const fn = lambda.Function.fromFunctionName(f.stack, 'Fn', 'acme-predict');
  monitoring.monitorFunctions([fn]);
  const template = Template.fromStack(f.stack);

  it('creates the declared alarms, each notifying the topic on ALARM and OK', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    // instance CPU; frontend CPU, memory, 5xx, unhealthy, anomaly, scoring stopped; backend CPU, memory;
    // endpoint errors, latency; 1 function
    assert.equal(alarms.length, 12);
    const topicRef = f.stack.resolve(f.notifications.topic.topicArn);
    for (const alarm of alarms) {
      assert.deepEqual(alarm.Properties.AlarmActions, [topicRef]);
      assert.deepEqual(alarm.Properties.OKActions, [topicRef]);
      const scoringStopped = String(alarm.Properties.AlarmDescription).includes('no log line scored');
      assert.equal(alarm.Properties.TreatMissingData, scoringStopped ? 'breaching' : 'notBreaching');
    }
  });

  it('alarms when a scored service publishes no LinesScored at all (a dead sidecar is not silence)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'LinesScored',
      Namespace: 'Platform/LogAnomaly',
      Dimensions: [{ Name: 'Service', Value: 'frontend' }],
      Statistic: 'Sum',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
  });

  it('computes the anomaly rate with valid metric math, and only above a minimum volume', () => {
    const rate = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      String(a.Properties.AlarmDescription).startsWith('frontend: anomalous'),
    )!.Properties;
    const expression = (rate.Metrics as Array<{ Expression?: string }>).find((m) => m.Expression)!
      .Expression!;
    assert.equal(expression, 'IF(FILL(scored, 0) >= 200, 100 * FILL(anomalous, 0) / FILL(scored, 0), 0)');
    // MAX/MIN/AVG/SUM take a time series or an array of time series; a constant inside is invalid.
    for (const [, args] of expression.matchAll(/\b(?:MAX|MIN|AVG|SUM)\(\[([^\]]*)\]\)/g)) {
      for (const arg of args!.split(',').map((a) => a.trim())) {
        assert.match(arg, /^[a-z]\w*$/, `'${arg}' in ${expression} is not a time series`);
      }
    }
    assert.match(String(rate.AlarmDescription), /at least 200 lines per 5 minutes/);
  });

  it('alarms on the anomaly rate from the shared metric names, per service', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('^IF\\(FILL\\(scored, 0\\) >= 200') }),
        Match.objectLike({
          Id: 'anomalous',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'Platform/LogAnomaly',
              MetricName: 'AnomalousLines',
              Dimensions: [{ Name: 'Service', Value: 'frontend' }],
            },
          }),
        }),
      ]),
    });
  });

  it('exposes the remediable alarms with their actions and service bounds', () => {
    assert.deepEqual(
      monitoring.remediationTargets.map((t) => [
        t.alarm.node.id,
        t.action,
        t.service?.serviceName,
        t.service?.maxTasks,
      ]),
      [
        ['InstanceCpuHigh', 'reboot-instance', undefined, undefined],
        ['frontend-CpuHigh', 'scale-out', 'acme-frontend', 4],
        ['frontend-UnhealthyHosts', 'restart-unhealthy-tasks', 'acme-frontend', 4],
        ['frontend-AnomalyRate', 'restart-unhealthy-tasks', 'acme-frontend', 4],
        ['backend-CpuHigh', 'scale-out', 'acme-backend', 6],
      ],
    );
  });

  it('redeploys on an anomaly rate only with a server-side symptom of the same service', () => {
    const anomaly = monitoring.remediationTargets.find((t) => t.alarm.node.id === 'frontend-AnomalyRate')!;
    assert.deepEqual(
      anomaly.requireAlarms?.map((a) => a.node.id),
      ['frontend-MemoryHigh', 'frontend-Target5xx', 'frontend-UnhealthyHosts'],
    );
    const cpu = monitoring.remediationTargets.find((t) => t.alarm.node.id === 'backend-CpuHigh')!;
    assert.equal(cpu.service?.targetTracking, true, 'scale-out defers to target tracking');
  });

  it('draws one dashboard with service, instance, ALB, anomaly, function and endpoint widgets', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    assert.equal(dashboards.length, 1);
    assert.equal(dashboards[0]!.Properties.DashboardName, 'acme-platform');
    const body = JSON.stringify(dashboards[0]!.Properties.DashboardBody);
    for (const title of [
      'frontend: CPU / memory (%)',
      'backend: tasks (running / desired)',
      'frontend: anomaly score (max / mean)',
      'frontend: healthy / unhealthy hosts',
      'Instances: memory (max, %)',
      'Instances: root disk used (max, %)',
      'Endpoint: invocations',
      'Functions: duration p90 (ms)',
    ]) {
      assert.ok(body.includes(title), `dashboard lacks "${title}"`);
    }
    assert.equal(body.includes('backend: anomaly score'), false);
  });
});
