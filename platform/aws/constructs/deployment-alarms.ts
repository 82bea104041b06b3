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
   * The wiring's rollback policy: a period's rate counts only above the minimum volume (a handful of
   * lines or requests must not roll a release back, nor could an outsider's few bad requests), and it
   * must breach in consecutive evaluation periods.
   */
  readonly policy: RollbackPolicyWiring;
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
  private readonly policy: RollbackPolicyWiring;

  constructor(scope: Construct, id: string, props: DeploymentAlarmsProps) {
    super(scope, id);
    this.topic = props.topic;
    this.policy = props.policy;
    const period = Duration.seconds(props.policy.periodSeconds);
    const volume = props.policy.minimumVolume;
    const groups = props.targetGroups ?? [];
    for (const alarm of props.deployment.rollbackOn) {
      if (alarm.kind === 'anomaly-rate') {
        const metric = (name: string) =>
          new cloudwatch.Metric({
            namespace: ANOMALY_METRIC_NAMESPACE,
            metricName: name,
            dimensionsMap: { [ANOMALY_DIMENSIONS.service]: props.service },
            statistic: 'Sum',
            period,
          });
        this.add(
          'AnomalyRate',
          `${props.service}: anomaly rate ≥ ${alarm.percent} % during a deployment`,
          new cloudwatch.MathExpression({
            expression: `IF(scored >= ${volume.lines}, 100 * anomalous / scored, 0)`,
            usingMetrics: {
              scored: metric(ANOMALY_METRICS.linesScored),
              anomalous: metric(ANOMALY_METRICS.anomalousLines),
            },
            period,
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
          period,
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
            expression: `IF((${requests.expression}) >= ${volume.requests}, 100 * (${errors.expression}) / (${requests.expression}), 0)`,
            usingMetrics: { ...errors.usingMetrics, ...requests.usingMetrics },
            period,
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
            period,
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
      // Consecutive bad periods: one noisy minute does not roll back a release.
      evaluationPeriods: this.policy.evaluationPeriods,
      datapointsToAlarm: this.policy.evaluationPeriods,
      // No lines or requests is no evidence either way; the gate handles "no data" at each stage.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
