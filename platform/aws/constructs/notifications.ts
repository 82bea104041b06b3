import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsServices } from './key-policy.ts';

/** Props of {@link PlatformNotifications}. */
export interface PlatformNotificationsProps {
  readonly platformName: string;
  /**
   * Addresses subscribed to the topic (each must confirm its subscription).
   * @default - no subscription; consumers subscribe themselves
   */
  readonly emails?: readonly string[];
}

/**
 * The platform's operator topic: Auto Scaling events, CloudWatch alarms and remediation notices.
 * Encrypted with its own customer-managed key because AWS-managed SNS keys cannot be used by the
 * services that publish here (EC2 Auto Scaling's service-linked role, CloudWatch alarms).
 */
export class PlatformNotifications extends Construct {
  /** The operator topic; alarms and remediation publish here. */
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: PlatformNotificationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `${props.platformName}: operator notifications topic encryption`,
      enableKeyRotation: true,
      // Nothing outlives the topic that this key would have to read: deleted with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // Publishers that encrypt on the topic's behalf: CloudWatch alarms and EventBridge rules …
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [
          new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
          new iam.ServicePrincipal('events.amazonaws.com'),
        ],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    // … and Auto Scaling notifications, sent by this account's Auto Scaling service-linked role. Matched
    // by ARN condition rather than named as principal: a key policy naming a role that does not exist
    // yet (the role appears with the first Auto Scaling group) is rejected; '*' plus the ARN condition
    // grants the role directly, as its own (AWS-managed) policy carries no KMS permissions.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          ArnEquals: {
            'aws:PrincipalArn': stack.formatArn({
              service: 'iam',
              region: '',
              resource: 'role',
              resourceName: 'aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling',
            }),
          },
        },
      }),
    );
    denyGrantsExceptForAwsServices(this.key);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `${props.platformName} platform notifications`,
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}
