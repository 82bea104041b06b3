import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { deadLetterQueue, KeyedQueueDestination } from './dead-letter.ts';
import type { ScoringEndpoint } from './inference.ts';
import type { PlatformLogging } from './logging.ts';
import { PlatformFunction } from './platform-function.ts';

/** Props of {@link LogPipeline}. */
export interface LogPipelineProps {
  readonly platformName: string;
  readonly logging: PlatformLogging;
  readonly endpoint: ScoringEndpoint;
  /** The VPC and private subnets the function runs in. */
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The container instances' role: gets the agent's permissions. */
  readonly instanceRole: iam.IRole;
  /** The instances' user data (the capacity's launch template): installs and starts the agent. */
  readonly instanceUserData: ec2.UserData;
  /** The service name instance-log records and metrics carry. @default 'instances' */
  readonly serviceLabel?: string;
  /** The alert budget of the instance logs (the model endpoint's declared `budget`). */
  readonly budget: number;
}

/** The CloudWatch agent namespace for instance metrics. */
export const AGENT_METRIC_NAMESPACE = 'CWAgent';

/**
 * The seed's log pipeline: the CloudWatch agent on every container instance (CPU, memory, disk,
 * disk I/O and network metrics; system and ECS agent logs to an encrypted log group), configured
 * from an SSM parameter; a subscription filter from that log group to the `log-scorer` function,
 * which writes its EMF metrics and anomaly records into the platform's anomaly log group; failed
 * deliveries (after Lambda's two retries) go to a dead-letter queue encrypted with the platform key,
 * kept 4 days (failed batches hold raw log lines).
 *
 * @example
 * new LogPipeline(stack, 'LogPipeline', { platformName, logging, endpoint: inference, instanceRole: capacity.instanceRole, instanceUserData: capacity.launchTemplate.userData! });
 */
export class LogPipeline extends Construct {
  readonly instanceLogGroup: logs.LogGroup;
  readonly agentConfig: ssm.StringParameter;
  readonly function: PlatformFunction;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: LogPipelineProps) {
    super(scope, id);
    const { logging, platformName } = props;
    this.instanceLogGroup = logging.createLogGroup(this, 'InstanceLogs', 'instances/system');

    // A literal name: the user data reads it on the instance, where no CloudFormation reference resolves.
    const parameterName = `/${platformName}/cloudwatch-agent/config`;
    this.agentConfig = new ssm.StringParameter(this, 'AgentConfig', {
      parameterName,
      description: `${platformName}: CloudWatch agent configuration of the container instances`,
      stringValue: Stack.of(this).toJsonString(agentConfiguration(this.instanceLogGroup.logGroupName)),
      tier: ssm.ParameterTier.STANDARD,
    });
    props.instanceUserData.addCommands(
      // Amazon Linux 2023 logs to journald only; rsyslog gives the agent /var/log/messages to tail.
      'dnf install -y amazon-cloudwatch-agent rsyslog',
      'systemctl enable --now rsyslog',
      `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c ssm:${parameterName}`,
    );
    const agentPolicy = new iam.Policy(this, 'AgentPolicy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [this.instanceLogGroup.logGroupArn],
        }),
        // fetch-config reads the one parameter (GetParameter only: grantRead would add
        // ssm:DescribeParameters, which supports no resource ARN and the agent never calls).
        new iam.PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: [this.agentConfig.parameterArn],
        }),
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': AGENT_METRIC_NAMESPACE } },
        }),
        // The agent reads the instance's aws:autoscaling:groupName tag for the aggregation dimension.
        new iam.PolicyStatement({ actions: ['ec2:DescribeTags'], resources: ['*'] }),
      ],
    });
    props.instanceRole.attachInlinePolicy(agentPolicy);
    Validations.of(agentPolicy).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:PutMetricData and ec2:DescribeTags have no resource-level permissions; PutMetricData is limited to the CWAgent namespace by condition.',
    });

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', {
      key: logging.key,
      source: 'the log-scorer function (instance log batches it failed to score)',
    });
    this.function = new PlatformFunction(this, 'LogScorer', {
      functionName: 'log-scorer',
      description: `${platformName}: instance log subscription → SageMaker ${props.endpoint.endpointName} → anomaly metrics and records`,
      // EMF metrics and anomaly records land where the sidecars' do, where the backend and alarms read them.
      logGroup: logging.anomalyLogGroup,
      environment: {
        MODEL_ENDPOINT_NAME: props.endpoint.endpointName,
        MODEL_TIMEOUT_MS: '5000',
        DEFAULT_SERVICE: props.serviceLabel ?? 'instances',
        ANOMALY_BUDGET: String(props.budget),
      },
      timeout: Duration.seconds(60),
      vpc: props.vpc,
      subnets: props.subnets,
      memoryMiB: 512,
      retryAttempts: 2,
      onFailure: new KeyedQueueDestination(this.deadLetterQueue, logging.key),
    });
    props.endpoint.grantInvoke(this.function.function);

    new logs.SubscriptionFilter(this, 'ToLogScorer', {
      logGroup: this.instanceLogGroup,
      destination: new logsDestinations.LambdaDestination(this.function.function),
      filterPattern: logs.FilterPattern.allEvents(),
    });
  }
}

/** The agent's configuration: metrics by instance and by Auto Scaling group, system and ECS logs. */
export function agentConfiguration(logGroupName: string): Record<string, unknown> {
  const file = (path: string) => ({
    file_path: path,
    log_group_name: logGroupName,
    log_stream_name: '{instance_id}',
    retention_in_days: -1,
  });
  return {
    // root: /var/log/messages and the ECS agent logs are readable by root only.
    agent: { metrics_collection_interval: 60, run_as_user: 'root' },
    metrics: {
      namespace: AGENT_METRIC_NAMESPACE,
      // The agent's own placeholders, resolved on the instance (not template literals).
      append_dimensions: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudWatch agent placeholder
        InstanceId: '${aws:InstanceId}',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudWatch agent placeholder
        AutoScalingGroupName: '${aws:AutoScalingGroupName}',
      },
      aggregation_dimensions: [['AutoScalingGroupName'], ['InstanceId']],
      metrics_collected: {
        cpu: { measurement: ['cpu_usage_active', 'cpu_usage_iowait'], totalcpu: true },
        mem: { measurement: ['mem_used_percent'] },
        disk: { measurement: ['used_percent'], resources: ['/'], drop_device: true },
        diskio: { measurement: ['read_bytes', 'write_bytes', 'io_time'], resources: ['*'] },
        net: { measurement: ['bytes_recv', 'bytes_sent'], resources: ['*'] },
      },
    },
    logs: {
      logs_collected: {
        files: {
          collect_list: [
            file('/var/log/messages'),
            file('/var/log/ecs/ecs-agent.log'),
            file('/var/log/ecs/ecs-init.log'),
          ],
        },
      },
    },
  };
}
