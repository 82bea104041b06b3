import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Props of {@link deadLetterQueue}. */
export interface DeadLetterQueueProps {
  /** The platform key the queue is encrypted with (SSE-KMS). */
  readonly key: kms.IKey;
  /** What ends up here, for the acknowledgement reasons: e.g. 'the log-scorer function'. */
  readonly source: string;
  /**
   * Days a failed event stays. Failed events carry raw log lines: kept long enough to look at and
   * redrive after a weekend, not longer.
   * @default 4
   */
  readonly retentionDays?: number;
  /**
   * An AWS service that sends to the queue itself (e.g. `events.amazonaws.com` for an EventBridge
   * target's DLQ), allowed to use the key for this queue only (`aws:SourceArn` is the sender).
   * @default - only IAM principals granted with {@link KeyedQueueDestination} or `grantSendMessages`
   */
  readonly sendingService?: { readonly principal: string; readonly sourceArn: string };
}

/**
 * A dead-letter queue: SSE-KMS with the platform key, TLS only, no redrive into it, short retention.
 * Its two acknowledgements (it has no DLQ of its own) sit on it.
 *
 * @example
 * const dlq = deadLetterQueue(this, 'DeadLetterQueue', { key: logging.key, source: 'the log-scorer function' });
 */
export function deadLetterQueue(scope: Construct, id: string, props: DeadLetterQueueProps): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    // Data keys are reused for 5 minutes: fewer KMS calls on a burst of failures.
    dataKeyReuse: Duration.minutes(5),
    enforceSSL: true,
    retentionPeriod: Duration.days(props.retentionDays ?? 4),
    redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
  });
  if (props.sendingService) {
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(props.sendingService.principal)],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:SourceArn': props.sendingService.sourceArn } },
      }),
    );
  }
  Validations.of(queue).acknowledge(
    {
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: `This queue is itself the dead-letter destination of ${props.source}; nothing consumes it as a work queue.`,
    },
    {
      id: 'cdk-validator-cfnguard::sqs_dlq_check',
      reason: `This queue is the dead-letter destination of ${props.source}, not a work queue to redrive from.`,
    },
  );
  return queue;
}

/**
 * A Lambda on-failure destination on a KMS-encrypted queue, granting exactly `sqs:SendMessage` on the
 * queue and `kms:GenerateDataKey`/`kms:Decrypt` on its key (`SqsDestination` grants `kms:ReEncrypt*`
 * and `kms:GenerateDataKey*` too, wildcards a sender never needs).
 */
export class KeyedQueueDestination implements lambda.IDestination {
  constructor(
    private readonly queue: sqs.IQueue,
    private readonly key: kms.IKey,
  ) {}

  bind(_scope: Construct, fn: lambda.IFunction): lambda.DestinationConfig {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
      }),
    );
    return { destination: this.queue.queueArn };
  }
}
