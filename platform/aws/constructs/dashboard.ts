import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { ANOMALY_METRICS } from '../../../contracts/anomaly.ts';
import type { MetricService, PlatformMetrics, PlatformMetricsProps } from './monitoring-metrics.ts';

/** A row's service on the dashboard. */
export interface DashboardService extends MetricService {
  /** Whether its logs are scored (anomaly metrics exist). */
  readonly anomalyScoring: boolean;
}

/** What the dashboard shows. */
export interface PlatformDashboardProps {
  readonly platformName: string;
  readonly services: readonly DashboardService[];
  readonly endpoint?: PlatformMetricsProps['endpoint'];
}

const graph = (title: string, left: cloudwatch.IMetric[], width = 8) =>
  new cloudwatch.GraphWidget({ title, left, width, height: 6 });

/**
 * One dashboard with a row per service (CPU and memory, tasks, scored and anomalous lines, scores; ALB
 * requests, latency, 5xx and hosts for web services), the instances' row and the endpoint's row.
 */
export function renderDashboard(
  scope: Construct,
  props: PlatformDashboardProps,
  metrics: PlatformMetrics,
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: `${props.platformName}-platform`,
    defaultInterval: Duration.hours(3),
  });
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown: `# ${props.platformName}\nServices, instances, ALB, anomalies, functions, model endpoint.`,
      width: 24,
      height: 2,
    }),
  );
  for (const service of props.services) {
    const s = service.name;
    dashboard.addWidgets(
      graph(
        `${s}: CPU / memory (%)`,
        [metrics.ecs(service, 'CPUUtilization'), metrics.ecs(service, 'MemoryUtilization')],
        6,
      ),
      graph(
        `${s}: tasks (running / desired)`,
        [metrics.insights(service, 'RunningTaskCount'), metrics.insights(service, 'DesiredTaskCount')],
        6,
      ),
      ...(service.anomalyScoring
        ? [
            graph(
              `${s}: log lines (scored / anomalous)`,
              [
                metrics.anomaly(service, ANOMALY_METRICS.linesScored, 'Sum'),
                metrics.anomaly(service, ANOMALY_METRICS.anomalousLines, 'Sum'),
              ],
              6,
            ),
            graph(
              `${s}: anomaly score (max / mean)`,
              [
                metrics.anomaly(service, ANOMALY_METRICS.maxScore, 'Maximum'),
                metrics.anomaly(service, ANOMALY_METRICS.meanScore, 'Average'),
              ],
              6,
            ),
          ]
        : []),
    );
    if (service.targetGroupFullName) {
      dashboard.addWidgets(
        graph(`${s}: ALB requests`, [metrics.alb('RequestCount', service, 'Sum')], 6),
        graph(`${s}: ALB latency p90 (s)`, [metrics.alb('TargetResponseTime', service, 'p90')], 6),
        graph(`${s}: target 5xx`, [metrics.alb('HTTPCode_Target_5XX_Count', service, 'Sum')], 6),
        graph(
          `${s}: healthy / unhealthy hosts`,
          [
            metrics.alb('HealthyHostCount', service, 'Minimum'),
            metrics.alb('UnHealthyHostCount', service, 'Maximum'),
          ],
          6,
        ),
      );
    }
  }
  dashboard.addWidgets(
    graph('Instances: CPU (max, %)', [metrics.instanceCpu()]),
    graph('Instances: memory (max, %)', [metrics.agent('mem_used_percent')]),
    graph('Instances: root disk used (max, %)', [metrics.agent('disk_used_percent')]),
  );
  const endpoint = props.endpoint;
  if (endpoint) {
    dashboard.addWidgets(
      graph('Endpoint: invocations', [metrics.endpoint(endpoint, 'Invocations', 'Sum')], 12),
      graph(
        'Endpoint: model latency p50 / p90 (µs)',
        [
          metrics.endpoint(endpoint, 'ModelLatency', 'p50'),
          metrics.endpoint(endpoint, 'ModelLatency', 'p90'),
        ],
        12,
      ),
    );
  }
  return dashboard;
}

/** Errors and duration of the platform's functions, as one dashboard row. */
export function addFunctionRow(
  dashboard: cloudwatch.Dashboard,
  functions: readonly {
    metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
    metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  }[],
): void {
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Functions: errors',
      left: functions.map((f) => f.metricErrors({ statistic: 'Sum' })),
      width: 12,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Functions: duration p90 (ms)',
      left: functions.map((f) => f.metricDuration({ statistic: 'p90' })),
      width: 12,
      height: 6,
    }),
  );
}
