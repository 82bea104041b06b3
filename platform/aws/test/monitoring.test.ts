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
    // instance CPU; frontend CPU, memory, 5xx, unhealthy, anomaly; backend CPU, memory; endpoint errors, latency; 1 function
    assert.equal(alarms.length, 11);
    const topicRef = f.stack.resolve(f.notifications.topic.topicArn);
    for (const alarm of alarms) {
      assert.deepEqual(alarm.Properties.AlarmActions, [topicRef]);
      assert.deepEqual(alarm.Properties.OKActions, [topicRef]);
      assert.equal(alarm.Properties.TreatMissingData, 'notBreaching');
    }
  });

  it('alarms on the anomaly rate from the shared metric names, per service', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: '100 * anomalous / MAX([scored, 1])' }),
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
        ['frontend-UnhealthyHosts', 'force-new-deployment', 'acme-frontend', 4],
        ['frontend-AnomalyRate', 'force-new-deployment', 'acme-frontend', 4],
        ['backend-CpuHigh', 'scale-out', 'acme-backend', 6],
      ],
    );
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
