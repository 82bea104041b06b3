import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RemediationAction, RemediationRuleInput } from '../../../contracts/remediation-rules.ts';
import { type PlatformWiring, WiringInvariantError } from '../../wiring/index.ts';
import type { PlatformLogging } from './logging.ts';
import { nagResource, PlatformFunction } from './platform-function.ts';

/** A service remediation may act on. */
export interface RemediableService {
  /** The declared name (notices). */
  readonly name: string;
  /** The ECS service name. */
  readonly serviceName: string;
  /** The declared maximum task count. */
  readonly maxTasks: number;
  /**
   * Whether a target-tracking policy scales it; remediation then adds no task while that policy is
   * scaling out. @default true (every platform service declares `scaling.targetCpuPercent`)
   */
  readonly targetTracking?: boolean;
}

/** One alarm and what remediation does when it enters ALARM. */
export interface RemediationTarget {
  readonly alarm: cloudwatch.IAlarm;
  readonly action: RemediationAction;
  /** Required for `scale-out` and `restart-unhealthy-tasks`. */
  readonly service?: RemediableService;
  /**
   * `restart-unhealthy-tasks` only: alarms of server-side symptoms, one of which must be in ALARM too.
   * @default - none: the alarm is itself the symptom (unhealthy targets)
   */
  readonly requireAlarms?: readonly cloudwatch.IAlarm[];
}

/** Props of {@link Remediation}. */
export interface RemediationProps {
  readonly platformName: string;
  /** `manifest.platform.remediation`: dry run, cooldown, budget. */
  readonly settings: PlatformWiring['remediation'];
  readonly cluster: ecs.ICluster;
  /** The VPC and private subnets the function runs in. */
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The capacity's Auto Scaling group: only its instances may be rebooted. */
  readonly autoScalingGroupName: string;
  readonly topic: sns.ITopic;
  /** The topic's key, when it is encrypted with a customer-managed key. @default - none */
  readonly topicKey?: kms.IKey;
  readonly logging: PlatformLogging;
  readonly targets: readonly RemediationTarget[];
  /** Concurrent invocations at most (the ledger keeps them consistent). @default 2 */
  readonly reservedConcurrency?: number;
}

/**
 * CPU-driven (and anomaly-driven) remediation: an EventBridge rule on the given alarms' transitions
 * into ALARM → the `remediate` function (reserved concurrency, no automatic retries, failures to an
 * encrypted SQS queue) → ECS/EC2 actions scoped to this cluster and its Auto Scaling group, and notices
 * on the operator topic. Idempotency, per-resource cooldown and the per-kind sliding budgets live in a
 * small DynamoDB table written only with conditional transactions (functions/remediate/ledger.ts).
 *
 * @example
 * new Remediation(stack, 'Remediation', { platformName, settings: manifest.platform.remediation, cluster, autoScalingGroupName, topic, topicKey, logging, targets: monitoring.remediationTargets });
 */
export class Remediation extends Construct {
  readonly function: PlatformFunction;
  readonly ledger: dynamodb.Table;
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RemediationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { settings } = props;
    for (const [i, target] of props.targets.entries()) {
      if (target.action !== 'reboot-instance' && !target.service) {
        throw new WiringInvariantError(
          this.node.path,
          `targets[${i}] (${target.action}) has no service; the monitoring names the service each alarm concerns`,
        );
      }
    }
    if (props.targets.length === 0) {
      throw new WiringInvariantError(this.node.path, 'no remediation targets; the monitoring gives them');
    }

    this.ledger = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: false,
      // Short-lived claims (TTL): nothing worth keeping once the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter destination of the remediate function and its rule.',
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'cdk-validator-cfnguard::sqs_dlq_check',
      reason:
        'This queue is the dead-letter destination itself (Lambda on-failure / EventBridge DLQ), not a work queue to redrive from.',
    });

    const rules: RemediationRuleInput[] = props.targets.map((t) => {
      if (t.action === 'reboot-instance') return { alarmName: t.alarm.alarmName, action: t.action };
      const service = {
        name: t.service!.name,
        serviceName: t.service!.serviceName,
        maxTasks: t.service!.maxTasks,
        targetTracking: t.service!.targetTracking ?? true,
      };
      if (t.action === 'scale-out') return { alarmName: t.alarm.alarmName, action: t.action, service };
      return {
        alarmName: t.alarm.alarmName,
        action: t.action,
        service,
        requireAlarms: (t.requireAlarms ?? []).map((a) => a.alarmName),
      };
    });
    this.function = new PlatformFunction(this, 'Remediate', {
      functionName: 'remediate',
      description: `${props.platformName}: alarm → scale out, restart unhealthy tasks, or drain and reboot (dry run: ${settings.dryRun})`,
      logGroup: props.logging.createLogGroup(this, 'FunctionLogs', 'functions/remediate'),
      environment: {
        CLUSTER_NAME: props.cluster.clusterName,
        TOPIC_ARN: props.topic.topicArn,
        LEDGER_TABLE_NAME: this.ledger.tableName,
        REMEDIATION_RULES: stack.toJsonString(rules),
        DRY_RUN: String(settings.dryRun),
        COOLDOWN_SECONDS: String(settings.cooldownSeconds),
        MAX_ACTIONS_PER_WINDOW: String(settings.maxActionsPerHour),
        WINDOW_SECONDS: '3600',
      },
      // Draining waits up to 240 s, the agent's disconnect up to 60 s.
      timeout: Duration.minutes(6),
      memoryMiB: 256,
      vpc: props.vpc,
      subnets: props.subnets,
      reservedConcurrentExecutions: props.reservedConcurrency ?? 2,
      // At most once: the ledger claim precedes the action, so a retry could never act anyway.
      retryAttempts: 0,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    this.grantClusterActions(props);

    this.rule = new events.Rule(this, 'AlarmRule', {
      description: `${props.platformName}: remediable alarms entering ALARM`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: props.targets.map((t) => t.alarm.alarmArn),
        detail: { state: { value: ['ALARM'] } },
      },
      targets: [
        new targets.LambdaFunction(this.function.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 4,
          // The function skips events older than 10 minutes anyway; retrying them longer only queues noise.
          maxEventAge: Duration.minutes(10),
        }),
      ],
    });
  }

  private grantClusterActions(props: RemediationProps): void {
    const stack = Stack.of(this);
    const role = this.function.function;
    const clusterName = props.cluster.clusterName;
    const ecsArn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'ecs', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const serviceArns = ecsArn('service', `${clusterName}/*`);
    const taskArns = ecsArn('task', `${clusterName}/*`);
    const instanceArns = ecsArn('container-instance', `${clusterName}/*`);
    const ec2Instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    role.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
        resources: [serviceArns],
      }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:ListContainerInstances', 'ecs:ListTasks'],
        resources: [props.cluster.clusterArn],
      }),
    );
    // Restarting a service's unhealthy tasks: StopTask, never UpdateService forceNewDeployment (a
    // release of a canary service).
    role.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
        resources: [taskArns],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeContainerInstances', 'ecs:UpdateContainerInstancesState'],
        resources: [instanceArns],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ec2:RebootInstances'],
        resources: [ec2Instances],
        conditions: {
          StringEquals: { 'ec2:ResourceTag/aws:autoscaling:groupName': props.autoScalingGroupName },
        },
      }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:GetMetricData'],
        resources: ['*'],
      }),
    );
    // DescribeAlarms: is the event's alarm still in ALARM, is a symptom alarm, is target tracking scaling.
    const alarms = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: [alarms] }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [this.ledger.tableArn],
      }),
    );
    props.topic.grantPublish(role);
    props.topicKey?.grant(role, 'kms:GenerateDataKey*', 'kms:Decrypt');
    const finding = (resource: string) =>
      `AwsSolutions::AwsSolutions-IAM5[Resource::${nagResource(this, resource)}]`;
    Validations.of(this.function).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudwatch:GetMetricData (instance CPU, to pick the busiest instance) has no resource-level permissions.',
      },
      {
        id: finding(alarms),
        reason:
          'cloudwatch:DescribeAlarms reads alarm states only; target-tracking alarms are named by Application Auto Scaling, so the names are not known at synth.',
      },
      {
        id: finding(ec2Instances),
        reason:
          'ec2:RebootInstances is limited by condition to instances tagged with this platform’s Auto Scaling group.',
      },
      {
        id: finding(serviceArns),
        reason: 'Services of this cluster only (ECS service ARNs are cluster/service).',
      },
      {
        id: finding(taskArns),
        reason:
          'Tasks of this cluster only (task ids exist only once they run), also pinned by the ecs:cluster condition: remediation stops the unhealthy ones.',
      },
      {
        id: finding(instanceArns),
        reason: 'Container instances of this cluster only, also pinned by the ecs:cluster condition.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: 'Publishing to the KMS-encrypted operator topic needs the data-key actions on that one key.',
      },
    );
  }
}
