import { ArnFormat, Duration, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { guardRule } from '../validation.ts';
import { denyGrantsExceptForAwsServices } from './key-policy.ts';

/** Props of {@link PlatformLogging}. */
export interface PlatformLoggingProps {
  /** Platform name; log group names are `/<platform>/…`. */
  readonly platformName: string;
  /** Retention of every application, router and anomaly log group, in days. */
  readonly retentionDays: number;
}

/**
 * The platform's CloudWatch Logs storage: one customer-managed KMS key (rotated) that CloudWatch Logs
 * may use only for this account's log groups, the shared anomaly log group the sidecars write their
 * EMF metrics and anomaly records to, and a factory for further encrypted log groups.
 *
 * @example
 * const logging = new PlatformLogging(stack, 'Logging', { platformName: 'acme', retentionDays: 30 });
 * const group = logging.createLogGroup(service, 'AppLogs', 'frontend/app');
 */
export class PlatformLogging extends Construct {
  /** Encrypts every log group the platform creates. */
  readonly key: kms.Key;
  /** `/<platform>/anomaly`: sidecar output (EMF metrics, anomaly records), one stream prefix per service. */
  readonly anomalyLogGroup: logs.LogGroup;
  private readonly platformName: string;
  private readonly retention: logs.RetentionDays;

  constructor(scope: Construct, id: string, props: PlatformLoggingProps) {
    super(scope, id);
    this.platformName = props.platformName;
    this.retention = retentionDays(this, props.retentionDays);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `${props.platformName}: CloudWatch Logs encryption`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      // Retained: deleting the key would make every retained log group unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts with the key on behalf of log groups in this account and region only.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    denyGrantsExceptForAwsServices(this.key);
    this.anomalyLogGroup = this.createLogGroup(this, 'AnomalyLogGroup', 'anomaly');
  }

  /** Creates a log group for `<platform>/<suffix>` (CloudFormation names it), encrypted with {@link key}, with the platform's retention. */
  createLogGroup(
    scope: Construct,
    id: string,
    suffix: string,
    retentionDaysOverride?: number,
  ): logs.LogGroup {
    const group = new logs.LogGroup(scope, id, {
      // No fixed name: retained groups would make a re-created stack fail with "already exists". The
      // generated name starts with the stack's; renderers pass it to whoever writes or reads the group.
      // `suffix` stays the group's description in the construct tree (its id path).
      encryptionKey: this.key,
      retention:
        retentionDaysOverride === undefined ? this.retention : retentionDays(scope, retentionDaysOverride),
      // Logs are evidence; a stack deletion must not take them along.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const days = retentionDaysOverride ?? this.retention;
    if (days < 365) {
      Validations.of(group).acknowledge({
        id: guardRule('cloudwatch_log_group_retention_period_check'),
        reason: `Retention (${days} days) is declared in the platform manifest (observability.logRetentionDays / network.flowLogRetentionDays): operational logs, kept short for cost and data minimisation; declare ≥ 365 where a year of retention is required.`,
      });
    }
    // Generated names are opaque: the tag says which platform log this is.
    Tags.of(group).add('platform-log', `${this.platformName}/${suffix}`);
    return group;
  }
}

/** Maps a day count to CloudWatch's fixed retention values, rejecting the ones it does not accept. */
export function retentionDays(scope: Construct, days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) {
    throw new Error(
      `${scope.node.path}: log retention (${days} days) is not one CloudWatch Logs accepts. Fix: use one of ${allowed
        .filter((v) => v > 0)
        .sort((a, b) => a - b)
        .join(', ')}.`,
    );
  }
  return days as logs.RetentionDays;
}
