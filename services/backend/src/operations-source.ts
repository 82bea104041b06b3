import type { ServiceStatus } from '../../../contracts/console-api.ts';
import type {
  AlarmsResponse,
  CapacityResponse,
  DeploymentsResponse,
  OperationsSourceKind,
  RemediationResponse,
} from '../../../contracts/console-ops.ts';
import type { JobsResponse } from '../../../contracts/job-runs.ts';

/**
 * The operations port: service health, deployments, remediation actions, alarm states and capacity.
 * Two adapters implement it, as the anomaly port has two: {@link LocalOperationsSource} (health probes
 * and the local runtime's state files) and {@link AwsOperationsSource} (ECS, CloudWatch alarms and the
 * remediation ledger in DynamoDB).
 */
export interface OperationsSource {
  readonly kind: OperationsSourceKind;
  serviceHealth(signal?: AbortSignal): Promise<ServiceHealth>;
  deployments(signal?: AbortSignal): Promise<DeploymentsResponse>;
  remediation(signal?: AbortSignal): Promise<RemediationResponse>;
  alarms(signal?: AbortSignal): Promise<AlarmsResponse>;
  capacity(signal?: AbortSignal): Promise<CapacityResponse>;
  /** Every declared scheduled job with its latest runs. */
  jobs(signal?: AbortSignal): Promise<JobsResponse>;
}

export interface ServiceHealth {
  readonly healthSource: 'probe' | 'ecs';
  readonly services: ServiceStatus[];
}
