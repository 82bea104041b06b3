import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ANOMALY_METRICS } from '../../../contracts/anomaly.ts';
import { addFunctionRow, type DashboardService, renderDashboard } from './dashboard.ts';
import { PlatformMetrics } from './monitoring-metrics.ts';
import type { RemediableService, RemediationTarget } from './remediation.ts';

/** A monitored service. */
export interface MonitoredService extends RemediableService, DashboardService {}

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  readonly platformName: string;
  readonly clusterName: string;
  readonly autoScalingGroupName: string;
  /** The ALB's `LoadBalancerFullName`. */
  readonly loadBalancerFullName: string;
  readonly services: readonly MonitoredService[];
  /**
   * The SageMaker endpoint (and its variant): its error and latency alarms and dashboard row.
   * @default - no endpoint alarms or widgets (a platform without a model endpoint)
   */
  readonly endpoint?: { readonly endpointName: string; readonly variantName: string };
  /** Every alarm notifies here on ALARM and OK. */
  readonly topic: sns.ITopic;
  /** Thresholds. @default - see {@link DEFAULT_THRESHOLDS} */
  readonly thresholds?: Partial<MonitoringThresholds>;
}

/** Alarm thresholds, with units in their names. */
export interface MonitoringThresholds {
  readonly instanceCpuPercent: number;
  readonly serviceCpuPercent: number;
  readonly serviceMemoryPercent: number;
  readonly target5xxPerMinute: number;
  readonly anomalyRatePercent: number;
  /**
   * Lines scored in 5 minutes below which the anomaly rate counts as 0: at low volume one error line is a
   * high rate, and a handful of requests from anyone would be enough to raise it.
   */
  readonly anomalyMinLinesPer5Minutes: number;
  readonly endpointLatencyMs: number;
}

export const DEFAULT_THRESHOLDS: MonitoringThresholds = {
  instanceCpuPercent: 85,
  serviceCpuPercent: 80,
  serviceMemoryPercent: 85,
  target5xxPerMinute: 10,
  anomalyRatePercent: 5,
  anomalyMinLinesPer5Minutes: 200,
  endpointLatencyMs: 1000,
};

/**
 * The anomaly rate in percent, 0 below the minimum volume. Metric math: `MAX` takes a time series or an
 * array of time series (a constant is neither, so `MAX([scored, 1])` is invalid); `FILL` makes a period
 * without lines 0 instead of missing, and `IF` returns the rate only where enough lines were scored.
 */
export function anomalyRateExpression(minLines: number): string {
  return `IF(FILL(scored, 0) >= ${minLines}, 100 * FILL(anomalous, 0) / FILL(scored, 0), 0)`;
}

/**
 * Alarms and the dashboard. Alarms: instance CPU (→ drain and reboot), service CPU (→ scale out),
 * service memory, ALB 5xx and unhealthy hosts (→ restart its unhealthy tasks), anomaly rate per scored service
 * (→ restart its unhealthy tasks, only while a server-side symptom of the same service is in ALARM too: an anomaly
 * rate alone is something anyone who can make the service log errors can raise), scoring stopped (no
 * `LinesScored` at all: the sidecar is dead or cut off; missing data is breaching), Lambda errors,
 * endpoint errors and latency. Every alarm notifies the topic; the
 * remediable ones are exposed as {@link remediationTargets} for {@link Remediation}. One dashboard
 * with per-service, instance, ALB, anomaly, Lambda and endpoint rows.
 *
 * @example
 * const monitoring = new Monitoring(stack, 'Monitoring', { platformName, clusterName, autoScalingGroupName, loadBalancerFullName, services, endpoint, topic });
 * monitoring.monitorFunctions([predict, logScorer, remediate]);
 */
export class Monitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly thresholds: MonitoringThresholds;
  private readonly targets: RemediationTarget[] = [];
  private readonly alarmList: cloudwatch.Alarm[] = [];
  private readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = props.topic;
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...props.thresholds };
    const metrics = new PlatformMetrics(props);

    // Instance CPU: the busiest instance (Maximum over the group) for 5 minutes.
    this.remediable(
      this.alarm(
        'InstanceCpuHigh',
        `${props.platformName}: an instance above ${this.thresholds.instanceCpuPercent}% CPU`,
        metrics.instanceCpu(),
        this.thresholds.instanceCpuPercent,
        5,
      ),
      'reboot-instance',
    );
    for (const service of props.services) this.serviceAlarms(service, metrics);
    if (props.endpoint) this.endpointAlarms(props.endpoint, metrics);
    this.dashboard = renderDashboard(this, props, metrics);
  }

  /** Adds error alarms and an errors/duration row for the platform's functions. */
  monitorFunctions(functions: readonly lambda.IFunction[]): void {
    for (const [i, fn] of functions.entries()) {
      this.alarm(
        `Function${i}-Errors`,
        `Lambda ${fn.node.path}: errors`,
        fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
        1,
        3,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
    }
    addFunctionRow(this.dashboard, functions);
  }

  /**
   * CPU (→ scale out), memory, and for web services target 5xx and unhealthy hosts (→ restart its unhealthy tasks);
   * for scored services the anomaly rate (→ restart its unhealthy tasks, only with a server-side symptom in ALARM
   * too) and scoring stopped.
   */
  private serviceAlarms(service: MonitoredService, metrics: PlatformMetrics): void {
    const t = this.thresholds;
    const s = service.name;
    this.remediable(
      this.alarm(
        `${s}-CpuHigh`,
        `${s}: CPU above ${t.serviceCpuPercent}%`,
        metrics.ecs(service, 'CPUUtilization'),
        t.serviceCpuPercent,
        3,
      ),
      'scale-out',
      service,
    );
    const symptoms: cloudwatch.IAlarm[] = [];
    symptoms.push(
      this.alarm(
        `${s}-MemoryHigh`,
        `${s}: memory above ${t.serviceMemoryPercent}%`,
        metrics.ecs(service, 'MemoryUtilization'),
        t.serviceMemoryPercent,
        5,
      ),
    );
    if (service.targetGroupFullName) {
      const target5xx = this.alarm(
        `${s}-Target5xx`,
        `${s}: more than ${t.target5xxPerMinute} target 5xx per minute`,
        metrics.alb('HTTPCode_Target_5XX_Count', service, 'Sum'),
        t.target5xxPerMinute,
        3,
      );
      const unhealthy = this.alarm(
        `${s}-UnhealthyHosts`,
        `${s}: unhealthy targets`,
        metrics.alb('UnHealthyHostCount', service, 'Maximum'),
        1,
        3,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
      this.remediable(unhealthy, 'restart-unhealthy-tasks', service);
      symptoms.push(target5xx, unhealthy);
    }
    if (!service.anomalyScoring) return;
    const rate = new cloudwatch.MathExpression({
      expression: anomalyRateExpression(t.anomalyMinLinesPer5Minutes),
      usingMetrics: {
        anomalous: metrics.anomaly(service, ANOMALY_METRICS.anomalousLines, 'Sum'),
        scored: metrics.anomaly(service, ANOMALY_METRICS.linesScored, 'Sum'),
      },
      label: `${s} anomaly rate (%)`,
      period: Duration.minutes(5),
    });
    this.remediable(
      this.alarm(
        `${s}-AnomalyRate`,
        `${s}: anomalous log lines above ${t.anomalyRatePercent}% (of at least ${t.anomalyMinLinesPer5Minutes} lines per 5 minutes)`,
        rate,
        t.anomalyRatePercent,
        2,
      ),
      'restart-unhealthy-tasks',
      service,
      symptoms,
    );
    // A dead sidecar publishes nothing; with missing data "not breaching" scoring would stop unseen.
    this.alarm(
      `${s}-ScoringStopped`,
      `${s}: no log line scored for 15 minutes (anomaly sidecar down or cut off from the endpoint)`,
      metrics.anomaly(service, ANOMALY_METRICS.linesScored, 'Sum'),
      1,
      3,
      cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      cloudwatch.TreatMissingData.BREACHING,
    );
  }

  /** The model endpoint's invocation errors and p90 latency. */
  private endpointAlarms(endpoint: NonNullable<MonitoringProps['endpoint']>, metrics: PlatformMetrics): void {
    this.alarm(
      'EndpointErrors',
      `${endpoint.endpointName}: invocation errors`,
      new cloudwatch.MathExpression({
        expression: 'e4 + e5',
        usingMetrics: {
          e4: metrics.endpoint(endpoint, 'Invocation4XXErrors', 'Sum'),
          e5: metrics.endpoint(endpoint, 'Invocation5XXErrors', 'Sum'),
        },
        label: 'endpoint errors',
        period: Duration.minutes(1),
      }),
      1,
      3,
      cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    // ModelLatency is in microseconds.
    this.alarm(
      'EndpointLatency',
      `${endpoint.endpointName}: p90 model latency above ${this.thresholds.endpointLatencyMs} ms`,
      metrics.endpoint(endpoint, 'ModelLatency', 'p90'),
      this.thresholds.endpointLatencyMs * 1000,
      5,
    );
  }

  /** Alarms remediation acts on (a copy). */
  get remediationTargets(): RemediationTarget[] {
    return [...this.targets];
  }

  /** Every alarm (a copy). */
  get alarms(): cloudwatch.Alarm[] {
    return [...this.alarmList];
  }

  private alarm(
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    evaluationPeriods: number,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    // No data (a scaled-in service, an idle endpoint) is not a failure, unless the metric's absence is.
    treatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      comparisonOperator,
      treatMissingData,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarmList.push(alarm);
    return alarm;
  }

  private remediable(
    alarm: cloudwatch.Alarm,
    action: RemediationTarget['action'],
    service?: MonitoredService,
    requireAlarms?: readonly cloudwatch.IAlarm[],
  ): void {
    if (!service) {
      this.targets.push({ alarm, action });
      return;
    }
    this.targets.push({
      alarm,
      action,
      service: {
        name: service.name,
        serviceName: service.serviceName,
        maxTasks: service.maxTasks,
        targetTracking: service.targetTracking ?? true,
      },
      ...(requireAlarms ? { requireAlarms } : {}),
    });
  }
}
