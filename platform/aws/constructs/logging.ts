import { ArnFormat, Duration, RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { WiringInvariantError } from '../../wiring/index.ts';
import { guardRule } from '../validation.ts';
import { denyGrantsExceptForAwsServices } from './key-policy.ts';

/** Props of {@link PlatformLogging}. */
export interface PlatformLoggingProps {
  /** Platform name; log group names are `/<platform>/…`. */
  readonly platformName: string;
  /** Retention of every application, router and anomaly log group, in days. */
  readonly retentionDays: number;
  /**
   * Keep the log groups and their key when the stack is deleted (the wiring's teardown).
   * @default true
   */
  readonly retainLogs?: boolean;
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
  private readonly removalPolicy: RemovalPolicy;
  private retentionAcknowledged = false;

  constructor(scope: Construct, id: string, props: PlatformLoggingProps) {
    super(scope, id);
    this.platformName = props.platformName;
    this.retention = retentionDays(this, props.retentionDays);
    // Logs are evidence: kept on a teardown unless the declaration says otherwise. Their names are
    // generated, so a kept group never collides with the next stack's.
    this.removalPolicy = (props.retainLogs ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `${props.platformName}: CloudWatch Logs encryption`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      // Kept with the logs: deleting the key would make every kept log group unreadable.
      removalPolicy: this.removalPolicy,
    });
    Tags.of(this.key).add('platform', props.platformName);
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

  /**
   * Creates a log group under the exact `name` an AWS service writes to on its own (e.g.
   * `/aws/sagemaker/Endpoints/<endpoint>`), so it has the platform's key and retention instead of none.
   * A literal name is fixed, so that group is always deleted with the stack: kept, it would make the
   * next stack's creation fail with "already exists". A name built from a resource of the stack (an
   * API's id) is new with every stack, so that group is kept like the others.
   */
  createNamedLogGroup(scope: Construct, id: string, name: string): logs.LogGroup {
    const removal = Token.isUnresolved(name) ? this.removalPolicy : RemovalPolicy.DESTROY;
    return this.encryptedLogGroup(scope, id, name, name, undefined, removal);
  }

  /**
   * Creates the platform's log `<platform>/<suffix>`, encrypted with {@link key}, with the platform's
   * retention. CloudFormation names it: retained groups with fixed names would make a re-created stack
   * fail with "already exists"; the renderers pass the generated name to whoever writes or reads it.
   */
  createLogGroup(
    scope: Construct,
    id: string,
    suffix: string,
    retentionDaysOverride?: number,
  ): logs.LogGroup {
    return this.encryptedLogGroup(
      scope,
      id,
      undefined,
      `${this.platformName}/${suffix}`,
      retentionDaysOverride,
    );
  }

  private encryptedLogGroup(
    scope: Construct,
    id: string,
    logGroupName: string | undefined,
    label: string,
    retentionDaysOverride?: number,
    removalPolicy: RemovalPolicy = this.removalPolicy,
  ): logs.LogGroup {
    const group = new logs.LogGroup(scope, id, {
      ...(logGroupName === undefined ? {} : { logGroupName }),
      encryptionKey: this.key,
      retention:
        retentionDaysOverride === undefined ? this.retention : retentionDays(scope, retentionDaysOverride),
      removalPolicy,
    });
    const days = retentionDaysOverride ?? this.retention;
    if (days < 365 && !this.retentionAcknowledged) {
      // One decision for every log group of the stack, all created here with a retention the manifest
      // declares: acknowledged once, on the stack, instead of once per group.
      this.retentionAcknowledged = true;
      Validations.of(Stack.of(this)).acknowledge({
        id: guardRule('cloudwatch_log_group_retention_period_check'),
        reason:
          'Every log group of the stack is created through PlatformLogging with the retention the platform manifest declares (observability.logRetentionDays, network.flowLogRetentionDays): operational logs, kept short for cost and data minimisation; declare ≥ 365 where a year of retention is required.',
      });
    }
    // Generated names are opaque: the tags say whose and which platform log this is (a person finds
    // the kept ones by them after a teardown).
    Tags.of(group).add('platform-log', label);
    Tags.of(group).add('platform', this.platformName);
    return group;
  }
}

/** A day count as CloudWatch's retention value (config/ admits only the values CloudWatch Logs accepts). */
export function retentionDays(scope: Construct, days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) {
    throw new WiringInvariantError(
      scope.node.path,
      `log retention ${days} days is not a CloudWatch Logs value`,
    );
  }
  return days as logs.RetentionDays;
}
