import { Duration, Stack, TimeZone, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { JobWiring } from '../../wiring/index.ts';
import { deadLetterQueue } from './dead-letter.ts';
import type { TaskPlacementProps } from './service.ts';
import { renderTaskDefinition } from './task-definition.ts';

/** Props of {@link ScheduledJobUnit}: where its runs are placed, and the job. */
export interface ScheduledJobUnitProps extends TaskPlacementProps {
  /** The job as the wiring decided it. */
  readonly job: JobWiring;
}

/**
 * One scheduled job on ECS: its own `awsvpc` EC2 task definition (FireLens router, app, sidecar when
 * scored, the deadline ending a run at its timeout) with its own task and execution roles; an
 * EventBridge Scheduler schedule whose target is ECS `RunTask` on the EC2 capacity provider in the
 * private subnets, with a role allowed exactly that (and passing the two roles), a retry policy for
 * starts and a dead-letter queue for starts that never happened; and a failed-run rule and alarm.
 *
 * The target names the task-definition family without a revision, so a run always starts the latest
 * ACTIVE revision: the deploy command registers new revisions without touching this template
 * (DESIGN.md: a new image never changes the template).
 */
export class ScheduledJobUnit extends Construct {
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly taskRole: iam.IRole;
  readonly executionRole: iam.IRole;
  readonly securityGroup: ec2.SecurityGroup;
  /** The role EventBridge Scheduler assumes to start a run. */
  readonly schedulerRole: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedule: scheduler.Schedule;
  /** Matches a run that failed: a non-zero exit (the deadline's 124 included) or a task that never started. */
  readonly failedRunRule: events.Rule;
  readonly failedRunAlarm: cloudwatch.Alarm;
  readonly name: string;

  constructor(scope: Construct, id: string, props: ScheduledJobUnitProps) {
    super(scope, id);
    const { job } = props;
    this.name = job.job;
    const rendered = renderTaskDefinition(this, {
      task: { family: job.family, service: job.job, containers: job.containers },
      images: props.images,
      logging: props.logging,
      sources: props.sources,
      cluster: props.cluster,
      rolePath: props.rolePath,
      ...(props.endpointArn ? { endpointArn: props.endpointArn } : {}),
    });
    this.taskDefinition = rendered.taskDefinition;
    this.taskRole = rendered.taskRole;
    this.executionRole = rendered.executionRole;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: `${job.job} runs: a scheduled job, no ingress`,
      allowAllOutbound: false,
    });

    const stack = Stack.of(this);
    // The family without a revision: RunTask starts its latest ACTIVE revision.
    const familyArn = stack.formatArn({
      service: 'ecs',
      resource: 'task-definition',
      resourceName: job.family,
    });
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', {
      key: props.logging.key,
      source: `the ${job.job} schedule (runs Scheduler could not start)`,
    });
    this.schedulerRole = this.renderSchedulerRole(familyArn, props);
    const subnetIds = props.cluster.vpc.selectSubnets(props.subnets).subnetIds;
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `${job.job}: ${job.schedule.expression} (${job.schedule.timeZone})`,
      schedule: scheduler.ScheduleExpression.expression(
        job.schedule.expression,
        TimeZone.of(job.schedule.timeZone),
      ),
      // Runs start on time: a flexible window would move them and could make two runs overlap.
      timeWindow: scheduler.TimeWindow.off(),
      target: {
        bind: () => ({
          arn: props.cluster.clusterArn,
          role: this.schedulerRole,
          retryPolicy: {
            maximumRetryAttempts: job.retry.attempts,
            maximumEventAgeInSeconds: job.retry.maxEventAgeSeconds,
          },
          deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
          ecsParameters: {
            taskDefinitionArn: familyArn,
            taskCount: 1,
            capacityProviderStrategy: [
              { capacityProvider: props.capacityProvider.capacityProviderName, weight: 1 },
            ],
            networkConfiguration: {
              awsvpcConfiguration: {
                subnets: subnetIds,
                securityGroups: [this.securityGroup.securityGroupId],
                assignPublicIp: 'DISABLED',
              },
            },
          },
        }),
      },
    });
    // The target names the family by ARN, not by reference: the first revision must exist first.
    this.schedule.node.addDependency(this.taskDefinition);

    this.failedRunRule = new events.Rule(this, 'FailedRun', {
      description: `${job.job}: a run failed (non-zero exit, timed out, or never started)`,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [props.cluster.clusterArn],
          group: [`family:${job.family}`],
          lastStatus: ['STOPPED'],
          // Every other container exits 0 when the task stops (the deadline too); any other code is the
          // app's failure or the deadline's timeout.
          $or: [{ containers: { exitCode: [{ numeric: ['>', 0] }] } }, { stopCode: ['TaskFailedToStart'] }],
        },
      },
      targets: [new eventsTargets.SnsTopic(props.alarmTopic)],
    });
    this.failedRunAlarm = new cloudwatch.Alarm(this, 'FailedRunAlarm', {
      alarmDescription: `${job.job}: a scheduled run failed (exit code, timeout after ${job.timeoutSeconds} s, or no start)`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensionsMap: { RuleName: this.failedRunRule.ruleName },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failedRunAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
  }

  /**
   * Scheduler's role: RunTask on the job's family only, in this cluster; PassRole of exactly the run's
   * task and execution roles, to ECS tasks only; sending to its own dead-letter queue.
   */
  private renderSchedulerRole(familyArn: string, props: ScheduledJobUnitProps): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `EventBridge Scheduler starts ${props.job.job} runs`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        // The family, and each of its revisions (`family:*`): the deploy command registers new ones.
        resources: [familyArn, `${familyArn}:*`],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.taskRole.roleArn, this.executionRole.roleArn],
        conditions: { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    // Exactly sending to its dead-letter queue (grantSendMessages adds queue reads a sender never needs).
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.logging.key.keyArn],
      }),
    );
    // cdk-nag names the resource as rendered: tokens as <AWS::…>, a region or account given to the stack as is.
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${region}:${account}:task-definition/${props.job.family}:*]`,
      reason:
        "Every revision of this job's own family: the deploy command registers a new revision per release, and the schedule runs the latest.",
    });
    return role;
  }

  /** Lets the run's tasks open connections to `callee` (a service it talksTo). */
  get connections(): ec2.Connections {
    return this.securityGroup.connections;
  }
}
