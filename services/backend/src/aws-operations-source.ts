import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import { type DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import type { ServiceStatus } from '../../../contracts/console-api.ts';
import type {
  AlarmStatus,
  AlarmsResponse,
  CapacityResponse,
  DeploymentsResponse,
  InstanceCapacity,
  RemediationResponse,
} from '../../../contracts/console-ops.ts';
import { ApiError } from '../../../contracts/errors.ts';
import type { JobDirectory, JobsResponse } from '../../../contracts/job-runs.ts';
import { toServiceDeployments } from './ecs-deployments.ts';
import { type GateJudgements, withJudgements } from './gate-judgements.ts';
import { ecsJobRuns } from './job-runs.ts';
import type { OperationsSource, ServiceHealth } from './operations-source.ts';
import { toRemediationResponse } from './remediation-ledger-view.ts';

/** Options for {@link AwsOperationsSource}. */
export interface AwsOperationsSourceOptions {
  readonly ecs: Pick<ECSClient, 'send'>;
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  readonly cluster: string;
  /** Console name → ECS service name (and its kind: a worker's card says so). */
  readonly services: readonly {
    readonly name: string;
    readonly ecsService: string;
    readonly kind?: 'web' | 'internal' | 'worker';
  }[];
  /** Only alarms whose names start with this. @default - every alarm of the account and region */
  readonly alarmNamePrefix?: string;
  /** The remediation ledger (functions/remediate/ledger.ts). @default - no remediation view */
  readonly remediationTable?: string;
  /** The remediate Lambda's settings, so the view can say what the ledger means. */
  readonly cooldownSeconds: number;
  readonly maxActionsPerWindow: number;
  readonly windowSeconds: number;
  /** The deployment gate's logged decisions, for the deployments view. @default - none shown */
  readonly gateJudgements?: GateJudgements;
  /** The platform's scheduled jobs (`JOBS`): their runs are their families' tasks. @default [] */
  readonly jobs?: JobDirectory;
  /** @default Date.now */
  readonly now?: () => number;
}

/** DescribeServices takes at most 10 services, DescribeTasks and DescribeContainerInstances 100. */
const SERVICES_PER_CALL = 10;
const ARNS_PER_CALL = 100;
/** Bounds the cost and latency of one view; a console is not an inventory tool. */
const MAX_PAGES = 5;

/**
 * The AWS adapter of the operations port: health and deployments from ECS `DescribeServices`,
 * capacity from `ListContainerInstances`/`DescribeContainerInstances` and `ListTasks`/`DescribeTasks`
 * (task ENIs), alarms from CloudWatch `DescribeAlarms`, remediation from the remediate Lambda's
 * DynamoDB ledger (`Scan` of its `resource#` and `window#` items).
 *
 * @example
 * const ops = new AwsOperationsSource({ ecs: new ECSClient({}), cloudwatch: new CloudWatchClient({}), dynamodb: new DynamoDBClient({}), cluster: 'acme', services: [{ name: 'backend', ecsService: 'backend' }], cooldownSeconds: 600, maxActionsPerWindow: 6, windowSeconds: 3600 });
 */
export class AwsOperationsSource implements OperationsSource {
  readonly kind = 'aws' as const;
  private readonly options: AwsOperationsSourceOptions;
  private readonly now: () => number;

  constructor(options: AwsOperationsSourceOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async serviceHealth(signal?: AbortSignal): Promise<ServiceHealth> {
    const checkedAt = new Date(this.now()).toISOString();
    const found = await this.describeServices(signal);
    const services = this.options.services.map((target): ServiceStatus => {
      const service = found.get(target.ecsService);
      if (!service) {
        return { name: target.name, health: 'unknown', detail: 'not found in the cluster', checkedAt };
      }
      const running = service.runningCount ?? 0;
      const desired = service.desiredCount ?? 0;
      const pending = service.pendingCount ?? 0;
      const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
      const rollout = lowerRollout(primary?.rolloutState);
      // Down only when nothing runs although something should; fewer than desired is degraded, said in detail.
      const health = desired > 0 && running === 0 ? 'down' : desired === 0 ? 'unknown' : 'up';
      const detail =
        desired === 0
          ? 'scaled to zero'
          : running < desired
            ? `${running} of ${desired} tasks running`
            : undefined;
      return {
        name: target.name,
        ...(target.kind ? { kind: target.kind } : {}),
        health,
        ...(detail ? { detail } : {}),
        checkedAt,
        tasks: { running, desired, pending },
        ...(rollout ? { rollout } : {}),
      };
    });
    return { healthSource: 'ecs', services };
  }

  async jobs(signal?: AbortSignal): Promise<JobsResponse> {
    return ecsJobRuns({
      ecs: this.options.ecs,
      cluster: this.options.cluster,
      jobs: this.options.jobs ?? [],
      ...(signal ? { signal } : {}),
    });
  }

  async deployments(signal?: AbortSignal): Promise<DeploymentsResponse> {
    const found = await this.describeServices(signal);
    const gate = this.options.gateJudgements;
    const services = await Promise.all(
      this.options.services.flatMap((target) => {
        const service = found.get(target.ecsService);
        if (!service) return [];
        const view = toServiceDeployments(target.name, service);
        if (!gate) return [Promise.resolve(view)];
        // The judgements enrich the view; without them (a throttled read) it still shows the revisions.
        return [
          gate.of(target.ecsService, signal).then(
            (judgements) => withJudgements(view, judgements),
            () => view,
          ),
        ];
      }),
    );
    return { source: 'aws', services };
  }

  async remediation(signal?: AbortSignal): Promise<RemediationResponse> {
    const table = this.options.remediationTable;
    if (!table) {
      return {
        source: 'aws',
        cooldownSeconds: this.options.cooldownSeconds,
        budget: null,
        actions: [],
        note: 'REMEDIATION_TABLE is not set',
      };
    }
    const items: NonNullable<ScanCommandOutput['Items']> = [];
    let startKey: ScanCommandOutput['LastEvaluatedKey'];
    let pages = 0;
    do {
      const output: ScanCommandOutput = await this.call(
        () =>
          this.options.dynamodb.send(
            new ScanCommand({
              TableName: table,
              // Event items (one per alarm delivery) are many and say nothing the view needs.
              FilterExpression: 'begins_with(pk, :resource) OR begins_with(pk, :window)',
              ExpressionAttributeValues: { ':resource': { S: 'resource#' }, ':window': { S: 'window#' } },
              ExclusiveStartKey: startKey,
            }),
            { abortSignal: signal },
          ),
        'DynamoDB',
      );
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
      pages += 1;
    } while (startKey && pages < MAX_PAGES);
    return toRemediationResponse(items, {
      cooldownSeconds: this.options.cooldownSeconds,
      maxActionsPerWindow: this.options.maxActionsPerWindow,
      windowSeconds: this.options.windowSeconds,
      nowMs: this.now(),
    });
  }

  async alarms(signal?: AbortSignal): Promise<AlarmsResponse> {
    const byEcsName = new Map(this.options.services.map((s) => [s.ecsService, s.name]));
    const alarms: AlarmStatus[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const output: DescribeAlarmsCommandOutput = await this.call(
        () =>
          this.options.cloudwatch.send(
            new DescribeAlarmsCommand({
              AlarmNamePrefix: this.options.alarmNamePrefix,
              // The platform makes metric alarms only, and its role may read only those named with
              // its prefix: CloudWatch returns composite alarms to a role scoped to `*` alone.
              AlarmTypes: ['MetricAlarm'],
              NextToken: nextToken,
            }),
            { abortSignal: signal },
          ),
        'CloudWatch alarms',
      );
      for (const alarm of output.MetricAlarms ?? []) {
        const dimension = alarm.Dimensions?.find((d) => d.Name === 'ServiceName' || d.Name === 'Service');
        const service = dimension?.Value ? (byEcsName.get(dimension.Value) ?? dimension.Value) : undefined;
        alarms.push({
          name: alarm.AlarmName ?? '(unnamed)',
          state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
          reason: alarm.StateReason ?? '',
          since: (alarm.StateUpdatedTimestamp ?? new Date(0)).toISOString(),
          ...(alarm.MetricName ? { metric: `${alarm.Namespace ?? ''}/${alarm.MetricName}` } : {}),
          ...(service ? { service } : {}),
        });
      }
      nextToken = output.NextToken;
      pages += 1;
    } while (nextToken && pages < MAX_PAGES);
    // Alarms firing first, then the most recent change.
    const rank = { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2 } as const;
    alarms.sort((a, b) => rank[a.state] - rank[b.state] || Date.parse(b.since) - Date.parse(a.since));
    return { source: 'aws', alarms };
  }

  async capacity(signal?: AbortSignal): Promise<CapacityResponse> {
    const { cluster } = this.options;
    const instanceArns = await this.listAll(async (nextToken) => {
      const o = await this.options.ecs.send(new ListContainerInstancesCommand({ cluster, nextToken }), {
        abortSignal: signal,
      });
      return { arns: o.containerInstanceArns, nextToken: o.nextToken };
    });
    const taskArns = await this.listAll(async (nextToken) => {
      const o = await this.options.ecs.send(
        new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', nextToken }),
        { abortSignal: signal },
      );
      return { arns: o.taskArns, nextToken: o.nextToken };
    });
    const enisByInstance = new Map<string, number>();
    for (const arns of chunks(taskArns, ARNS_PER_CALL)) {
      const output = await this.call(
        () =>
          this.options.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }), { abortSignal: signal }),
        'ECS',
      );
      for (const task of output.tasks ?? []) {
        const enis = (task.attachments ?? []).filter(
          (a) => a.type === 'ElasticNetworkInterface' && a.status !== 'DELETED',
        ).length;
        const key = task.containerInstanceArn ?? '';
        enisByInstance.set(key, (enisByInstance.get(key) ?? 0) + enis);
      }
    }
    const instances: InstanceCapacity[] = [];
    for (const arns of chunks(instanceArns, ARNS_PER_CALL)) {
      const output = await this.call(
        () =>
          this.options.ecs.send(
            new DescribeContainerInstancesCommand({ cluster, containerInstances: arns }),
            {
              abortSignal: signal,
            },
          ),
        'ECS',
      );
      for (const instance of output.containerInstances ?? []) {
        const attribute = (name: string) => instance.attributes?.find((a) => a.name === name)?.value;
        const resource = (list: typeof instance.registeredResources, name: string) =>
          list?.find((r) => r.name === name)?.integerValue ?? 0;
        const instanceType = attribute('ecs.instance-type');
        const availabilityZone = attribute('ecs.availability-zone');
        instances.push({
          id: instance.ec2InstanceId ?? instance.containerInstanceArn ?? '(unknown)',
          ...(instanceType ? { instanceType } : {}),
          ...(availabilityZone ? { availabilityZone } : {}),
          status: instance.status ?? 'UNKNOWN',
          runningTasks: instance.runningTasksCount ?? 0,
          pendingTasks: instance.pendingTasksCount ?? 0,
          cpu: {
            registered: resource(instance.registeredResources, 'CPU'),
            remaining: resource(instance.remainingResources, 'CPU'),
          },
          memoryMiB: {
            registered: resource(instance.registeredResources, 'MEMORY'),
            remaining: resource(instance.remainingResources, 'MEMORY'),
          },
          enis: enisByInstance.get(instance.containerInstanceArn ?? '') ?? 0,
        });
      }
    }
    const found = await this.describeServices(signal);
    const tasks = this.options.services.flatMap((target) => {
      const service = found.get(target.ecsService);
      return service
        ? [
            {
              service: target.name,
              desired: service.desiredCount ?? 0,
              running: service.runningCount ?? 0,
              pending: service.pendingCount ?? 0,
            },
          ]
        : [];
    });
    return { source: 'aws', instances, tasks, processes: [] };
  }

  private async describeServices(signal?: AbortSignal): Promise<Map<string, Service>> {
    const found = new Map<string, Service>();
    const names = this.options.services.map((s) => s.ecsService);
    for (const batch of chunks(names, SERVICES_PER_CALL)) {
      const output = await this.call(
        () =>
          this.options.ecs.send(
            new DescribeServicesCommand({ cluster: this.options.cluster, services: batch }),
            {
              abortSignal: signal,
            },
          ),
        'ECS',
      );
      for (const service of output.services ?? [])
        if (service.serviceName) found.set(service.serviceName, service);
    }
    return found;
  }

  private async listAll(
    page: (nextToken: string | undefined) => Promise<{ arns?: string[]; nextToken?: string }>,
  ): Promise<string[]> {
    const all: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const output = await this.call(() => page(nextToken), 'ECS');
      all.push(...(output.arns ?? []));
      nextToken = output.nextToken;
      pages += 1;
    } while (nextToken && pages < MAX_PAGES);
    return all;
  }

  /** SDK failures become 504 (timeout) or 502 with a safe message, as in the anomaly adapter. */
  private async call<T>(send: () => Promise<T>, what: string): Promise<T> {
    try {
      return await send();
    } catch (error) {
      const name = (error as { name?: string } | null)?.name ?? '';
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new ApiError('gateway_timeout', `${what} did not answer in time`);
      }
      throw new ApiError('bad_gateway', `${what} call failed (${name || 'network error'})`);
    }
  }
}

function lowerRollout(state: string | undefined): ServiceStatus['rollout'] {
  if (state === 'IN_PROGRESS') return 'in-progress';
  if (state === 'COMPLETED') return 'completed';
  if (state === 'FAILED') return 'failed';
  return undefined;
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
