import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ANOMALY_DIMENSIONS, ANOMALY_METRIC_NAMESPACE, ANOMALY_METRICS } from '../../../contracts/anomaly.ts';
import type { DeploymentWiring, RollbackPolicyWiring } from '../../wiring/index.ts';

/** Props of {@link DeploymentAlarms}. */
export interface DeploymentAlarmsProps {
  readonly service: string;
  readonly deployment: DeploymentWiring;
  /**
   * The wiring's minimum volume, per one-minute period: below it a rate says nothing, so a handful of lines
   * or requests (an outsider's few bad requests) cannot roll a release back.
   */
  readonly minimumVolume: RollbackPolicyWiring['minimumVolume'];
  /** The load balancer's full name (`app/…/…`), for target-group metrics. */
  readonly loadBalancerFullName?: string;
  /** The service's target groups (production and, for traffic-shifting services, alternate). */
  readonly targetGroups?: readonly elbv2.ApplicationTargetGroup[];
  /** Operators hear of an alarm that rolls a deployment back. */
  readonly topic: sns.ITopic;
}

/**
 * The alarms ECS watches while a deployment of one service runs (`deploymentAlarms`, rolling back on
 * ALARM): its anomaly rate, its 5xx rate and unhealthy targets, as `rollbackOn` declares. They read
 * service-wide metrics — a static alarm cannot name a revision that does not exist yet — so during a
 * canary the new revision's own anomaly rate is compared with the old one's by the deployment gate
 * (functions/deployment-gate) at each traffic-shift stage, on the sidecars' `Revision` dimension.
 */
export class DeploymentAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  private readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: DeploymentAlarmsProps) {
    super(scope, id);
    this.topic = props.topic;
    const minute = Duration.minutes(1);
    const groups = props.targetGroups ?? [];
    for (const alarm of props.deployment.rollbackOn) {
      if (alarm.kind === 'anomaly-rate') {
        const metric = (name: string) =>
          new cloudwatch.Metric({
            namespace: ANOMALY_METRIC_NAMESPACE,
            metricName: name,
            dimensionsMap: { [ANOMALY_DIMENSIONS.service]: props.service },
            statistic: 'Sum',
            period: minute,
          });
        this.add(
          'AnomalyRate',
          `${props.service}: anomaly rate ≥ ${alarm.percent} % during a deployment`,
          new cloudwatch.MathExpression({
            expression: `IF(scored >= ${props.minimumVolume.lines}, 100 * anomalous / scored, 0)`,
            usingMetrics: {
              scored: metric(ANOMALY_METRICS.linesScored),
              anomalous: metric(ANOMALY_METRICS.anomalousLines),
            },
            period: minute,
          }),
          alarm.percent,
        );
        continue;
      }
      if (groups.length === 0 || !props.loadBalancerFullName) continue;
      const albMetric = (name: string, group: elbv2.ApplicationTargetGroup, statistic: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/ApplicationELB',
          metricName: name,
          dimensionsMap: {
            LoadBalancer: props.loadBalancerFullName!,
            TargetGroup: group.targetGroupFullName,
          },
          statistic,
          period: minute,
        });
      const sumOf = (name: string, prefix: string) => {
        const usingMetrics = Object.fromEntries(
          groups.map((g, i) => [`${prefix}${i}`, albMetric(name, g, 'Sum')]),
        );
        return {
          usingMetrics,
          expression: Object.keys(usingMetrics)
            .map((k) => `FILL(${k}, 0)`)
            .join(' + '),
        };
      };
      if (alarm.kind === 'error-rate') {
        const errors = sumOf('HTTPCode_Target_5XX_Count', 'e');
        const requests = sumOf('RequestCount', 'r');
        this.add(
          'ErrorRate',
          `${props.service}: 5xx ≥ ${alarm.percent} % of requests during a deployment`,
          new cloudwatch.MathExpression({
            expression: `IF((${requests.expression}) >= ${props.minimumVolume.requests}, 100 * (${errors.expression}) / (${requests.expression}), 0)`,
            usingMetrics: { ...errors.usingMetrics, ...requests.usingMetrics },
            period: minute,
          }),
          alarm.percent,
        );
      } else {
        const unhealthy = Object.fromEntries(
          groups.map((g, i) => [`u${i}`, albMetric('UnHealthyHostCount', g, 'Maximum')]),
        );
        this.add(
          'UnhealthyTargets',
          `${props.service}: an unhealthy target during a deployment`,
          new cloudwatch.MathExpression({
            expression: `MAX([${Object.keys(unhealthy)
              .map((k) => `FILL(${k}, 0)`)
              .join(', ')}])`,
            usingMetrics: unhealthy,
            period: minute,
          }),
          1,
        );
      }
    }
  }

  private add(id: string, description: string, metric: cloudwatch.IMetric, threshold: number): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Two bad minutes in a row: one noisy minute does not roll back a release.
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      // No lines or requests is no evidence either way; the gate handles "no data" at each stage.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
