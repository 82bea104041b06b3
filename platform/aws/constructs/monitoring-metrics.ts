import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ANOMALY_DIMENSIONS, ANOMALY_METRIC_NAMESPACE } from '../../../contracts/anomaly.ts';
import { AGENT_METRIC_NAMESPACE } from './log-pipeline.ts';

/** What a metric of one service is named by. */
export interface MetricService {
  readonly name: string;
  /** The ECS service's physical name. */
  readonly serviceName: string;
  /** The ALB target group's `TargetGroupFullName` (web services only). */
  readonly targetGroupFullName?: string;
}

/** The names platform metrics are dimensioned by. */
export interface PlatformMetricsProps {
  readonly clusterName: string;
  readonly autoScalingGroupName: string;
  /** The ALB's `LoadBalancerFullName`. */
  readonly loadBalancerFullName: string;
  readonly endpoint?: { readonly endpointName: string; readonly variantName: string };
}

const minute = Duration.minutes(1);

/** The platform's CloudWatch metrics, one factory per namespace; the alarms and the dashboard share them. */
export class PlatformMetrics {
  constructor(private readonly props: PlatformMetricsProps) {}

  ecs(service: MetricService, metricName: string): cloudwatch.Metric {
    return this.serviceAverage('AWS/ECS', service, metricName);
  }

  insights(service: MetricService, metricName: string): cloudwatch.Metric {
    return this.serviceAverage('ECS/ContainerInsights', service, metricName);
  }

  /** A per-minute average of one ECS service of the cluster. */
  private serviceAverage(namespace: string, service: MetricService, metricName: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace,
      metricName,
      dimensionsMap: { ClusterName: this.props.clusterName, ServiceName: service.serviceName },
      statistic: 'Average',
      period: minute,
    });
  }

  alb(metricName: string, service: MetricService, statistic: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ApplicationELB',
      metricName,
      dimensionsMap: {
        LoadBalancer: this.props.loadBalancerFullName,
        ...(service.targetGroupFullName ? { TargetGroup: service.targetGroupFullName } : {}),
      },
      statistic,
      period: minute,
    });
  }

  anomaly(service: MetricService, metricName: string, statistic: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: ANOMALY_METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { [ANOMALY_DIMENSIONS.service]: service.name },
      statistic,
      period: Duration.minutes(5),
    });
  }

  /** The busiest instance's CPU (Maximum over the group). */
  instanceCpu(): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      dimensionsMap: { AutoScalingGroupName: this.props.autoScalingGroupName },
      statistic: 'Maximum',
      period: minute,
    });
  }

  /** A CloudWatch agent metric of the instances (memory, disk). */
  agent(metricName: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AGENT_METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { AutoScalingGroupName: this.props.autoScalingGroupName },
      statistic: 'Maximum',
      period: minute,
    });
  }

  endpoint(
    endpoint: NonNullable<PlatformMetricsProps['endpoint']>,
    metricName: string,
    statistic: string,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName,
      dimensionsMap: { EndpointName: endpoint.endpointName, VariantName: endpoint.variantName },
      statistic,
      period: minute,
    });
  }
}
