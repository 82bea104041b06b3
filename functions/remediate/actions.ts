import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { type EC2Client, RebootInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Action, InstanceView } from './decision.ts';

/**
 * The remediation adapters: read what the decision needs from ECS/CloudWatch, carry out an action,
 * publish a notice. All calls are scoped to one cluster (the IAM policy says the same).
 */

/** Clients and settings of {@link ClusterOperations}. */
export interface ClusterOperationsOptions {
  readonly ecs: Pick<ECSClient, 'send'>;
  readonly ec2: Pick<EC2Client, 'send'>;
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  readonly sns: Pick<SNSClient, 'send'>;
  readonly clusterName: string;
  readonly topicArn: string;
  /** How long to wait for a draining instance to run no tasks before rebooting. @default 240 s */
  readonly drainTimeoutMs?: number;
  /** How long to wait for the ECS agent to disconnect after the reboot call. @default 60 s */
  readonly rebootTimeoutMs?: number;
  /** Poll interval while waiting. @default 5 s */
  readonly pollIntervalMs?: number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What happened to an executed action. */
export interface ActionReport {
  readonly completed: boolean;
  readonly detail: string;
}

export class ClusterOperations {
  private readonly o: Required<ClusterOperationsOptions>;

  constructor(options: ClusterOperationsOptions) {
    this.o = {
      drainTimeoutMs: 240_000,
      rebootTimeoutMs: 60_000,
      pollIntervalMs: 5000,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: Date.now,
      ...options,
    };
  }

  /** The service's current desired count, or undefined when the cluster has no such (active) service. */
  async desiredCount(serviceName: string): Promise<number | undefined> {
    const out = await this.o.ecs.send(
      new DescribeServicesCommand({ cluster: this.o.clusterName, services: [serviceName] }),
    );
    const service = out.services?.find((s) => s.serviceName === serviceName && s.status === 'ACTIVE');
    return service?.desiredCount;
  }

  /** Current state of each named alarm (metric and composite alarms; 100 names per call). */
  async alarmStates(alarmNames: readonly string[]): Promise<Map<string, string>> {
    const states = new Map<string, string>();
    const names = [...new Set(alarmNames)];
    for (let i = 0; i < names.length; i += 100) {
      const out = await this.o.cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: names.slice(i, i + 100),
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        }),
      );
      for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (a.AlarmName && a.StateValue) states.set(a.AlarmName, a.StateValue);
      }
    }
    return states;
  }

  /**
   * Whether the service's target-tracking policy is scaling out: Application Auto Scaling names its
   * alarms `TargetTracking-service/<cluster>/<service>-AlarmHigh-<id>`.
   */
  async targetTrackingScaling(serviceName: string): Promise<boolean> {
    const out = await this.o.cloudwatch.send(
      new DescribeAlarmsCommand({
        AlarmNamePrefix: `TargetTracking-service/${this.o.clusterName}/${serviceName}-AlarmHigh-`,
        StateValue: 'ALARM',
        AlarmTypes: ['MetricAlarm'],
      }),
    );
    return (out.MetricAlarms ?? []).length > 0;
  }

  /**
   * The ACTIVE and DRAINING container instances of the cluster (paginated, described 100 at a time):
   * a DRAINING one means a reboot is under way.
   */
  async instances(): Promise<InstanceView[]> {
    const arns: string[] = [];
    for (const status of ['ACTIVE', 'DRAINING'] as const) {
      let nextToken: string | undefined;
      do {
        const page = await this.o.ecs.send(
          new ListContainerInstancesCommand({ cluster: this.o.clusterName, status, nextToken }),
        );
        arns.push(...(page.containerInstanceArns ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
    }
    const views: InstanceView[] = [];
    for (let i = 0; i < arns.length; i += 100) {
      const out = await this.o.ecs.send(
        new DescribeContainerInstancesCommand({
          cluster: this.o.clusterName,
          containerInstances: arns.slice(i, i + 100),
        }),
      );
      for (const ci of out.containerInstances ?? []) {
        if (!ci.containerInstanceArn || !ci.ec2InstanceId) continue;
        views.push({
          containerInstanceArn: ci.containerInstanceArn,
          ec2InstanceId: ci.ec2InstanceId,
          status: ci.status ?? 'UNKNOWN',
          agentConnected: ci.agentConnected === true,
        });
      }
    }
    return views;
  }

  /** Highest 1-minute average CPU of each instance over the last 10 minutes (detailed monitoring). */
  async cpuByInstance(instanceIds: readonly string[]): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    if (instanceIds.length === 0) return result;
    const end = this.o.now();
    // GetMetricData takes 500 queries per call; a cluster is far smaller.
    const out = await this.o.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(end - 10 * 60_000),
        EndTime: new Date(end),
        MetricDataQueries: instanceIds.slice(0, 500).map((id, i) => ({
          Id: `cpu${i}`,
          Label: id,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/EC2',
              MetricName: 'CPUUtilization',
              Dimensions: [{ Name: 'InstanceId', Value: id }],
            },
            Period: 60,
            Stat: 'Average',
          },
        })),
      }),
    );
    for (const series of out.MetricDataResults ?? []) {
      const values = series.Values ?? [];
      if (series.Label && values.length > 0) result.set(series.Label, Math.max(...values));
    }
    return result;
  }

  /** Carries out an action. Throws on an AWS error; a bounded wait that runs out is reported, not thrown. */
  async execute(action: Action): Promise<ActionReport> {
    const cluster = this.o.clusterName;
    switch (action.kind) {
      case 'set-desired-count':
        await this.o.ecs.send(
          new UpdateServiceCommand({
            cluster,
            service: action.service.serviceName,
            desiredCount: action.desiredCount,
          }),
        );
        return { completed: true, detail: `desired count set to ${action.desiredCount}` };
      case 'restart-unhealthy-tasks':
        return this.restartUnhealthyTasks(action.service.serviceName, action.alarm);
      case 'drain-and-reboot':
        return this.drainAndReboot(action.containerInstanceArn, action.ec2InstanceId);
    }
  }

  /**
   * Stops the service's tasks whose container health check ECS reports UNHEALTHY, at most half of the
   * running ones: the service scheduler replaces them from the revision it runs. Never UpdateService
   * with forceNewDeployment: on a canary, linear or blue/green service that starts a full release of
   * the current revision, gate and all. While a deployment is in progress nothing is stopped: the
   * release's own alarms and gate decide, and a stopped task there would be counted against it.
   */
  private async restartUnhealthyTasks(service: string, alarm: string): Promise<ActionReport> {
    const cluster = this.o.clusterName;
    const described = await this.o.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
    const current = described.services?.[0];
    if ((current?.deployments?.length ?? 0) > 1) {
      return {
        completed: true,
        detail: `a deployment of ${service} is in progress; its own rollback decides`,
      };
    }
    const listed = await this.o.ecs.send(
      new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING' }),
    );
    const arns = listed.taskArns ?? [];
    // DescribeTasks takes 100 tasks per call; a service is far smaller.
    const tasks =
      arns.length === 0
        ? []
        : ((await this.o.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(0, 100) }))).tasks ??
          []);
    const unhealthy = tasks.filter((t) => t.healthStatus === 'UNHEALTHY' && t.taskArn);
    if (unhealthy.length === 0) {
      return { completed: true, detail: `no task of ${service} is unhealthy; nothing stopped` };
    }
    const limit = Math.max(1, Math.floor(tasks.length / 2));
    const stopping = unhealthy.slice(0, limit);
    for (const task of stopping) {
      await this.o.ecs.send(
        new StopTaskCommand({
          cluster,
          task: task.taskArn!,
          reason: `remediation: container health check UNHEALTHY (alarm ${alarm})`,
        }),
      );
    }
    return {
      completed: true,
      detail: `stopped ${stopping.length} unhealthy task(s) of ${service}; ECS replaces them from the running revision`,
    };
  }

  /**
   * Drain (ECS moves the tasks, respecting each service's minimum healthy percent), wait until no task
   * runs, reboot, wait for the agent to drop, then mark the instance ACTIVE again: ECS places nothing on
   * a disconnected agent, so tasks return only once it is back. If draining does not finish in time the
   * instance is not rebooted and is set ACTIVE again: left DRAINING it would take no task for good.
   */
  private async drainAndReboot(containerInstanceArn: string, ec2InstanceId: string): Promise<ActionReport> {
    const cluster = this.o.clusterName;
    await this.o.ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster,
        containerInstances: [containerInstanceArn],
        status: 'DRAINING',
      }),
    );
    const drained = await this.waitFor(
      this.o.drainTimeoutMs,
      async (ci) => (ci.runningTasksCount ?? 0) === 0,
      containerInstanceArn,
    );
    if (!drained) {
      await this.o.ecs.send(
        new UpdateContainerInstancesStateCommand({
          cluster,
          containerInstances: [containerInstanceArn],
          status: 'ACTIVE',
        }),
      );
      return {
        completed: false,
        detail: `${ec2InstanceId} still runs tasks after ${this.o.drainTimeoutMs / 1000} s; not rebooted, set ACTIVE again`,
      };
    }
    await this.o.ec2.send(new RebootInstancesCommand({ InstanceIds: [ec2InstanceId] }));
    const dropped = await this.waitFor(
      this.o.rebootTimeoutMs,
      async (ci) => ci.agentConnected === false,
      containerInstanceArn,
    );
    await this.o.ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster,
        containerInstances: [containerInstanceArn],
        status: 'ACTIVE',
      }),
    );
    return {
      completed: true,
      detail: dropped
        ? `${ec2InstanceId} drained, rebooted and set ACTIVE again`
        : `${ec2InstanceId} drained and rebooted; its agent did not disconnect within ${this.o.rebootTimeoutMs / 1000} s, set ACTIVE again`,
    };
  }

  private async waitFor(
    timeoutMs: number,
    done: (ci: { runningTasksCount?: number; agentConnected?: boolean }) => Promise<boolean>,
    containerInstanceArn: string,
  ): Promise<boolean> {
    const deadline = this.o.now() + timeoutMs;
    for (;;) {
      const out = await this.o.ecs.send(
        new DescribeContainerInstancesCommand({
          cluster: this.o.clusterName,
          containerInstances: [containerInstanceArn],
        }),
      );
      const ci = out.containerInstances?.[0];
      if (ci && (await done(ci))) return true;
      if (this.o.now() + this.o.pollIntervalMs > deadline) return false;
      await this.o.sleep(this.o.pollIntervalMs);
    }
  }

  /** Publishes a notice to the operator topic. */
  async notify(subject: string, message: Record<string, unknown>): Promise<void> {
    await this.o.sns.send(
      new PublishCommand({
        TopicArn: this.o.topicArn,
        // SNS subjects: at most 100 ASCII characters, no line breaks.
        Subject: subject.replace(/[^\x20-\x7e]/g, ' ').slice(0, 100),
        Message: JSON.stringify(message, null, 2),
      }),
    );
  }
}
