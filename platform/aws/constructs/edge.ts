import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { PlatformManifest, ServiceManifest } from '../../../config/index.ts';
import { guardRule } from '../validation.ts';

/** Props of {@link Edge}. */
export interface EdgeProps {
  /** `manifest.platform.edge`. */
  readonly edge: PlatformManifest['edge'];
  readonly vpc: ec2.IVpc;
  /** The public subnets of every AZ. */
  readonly subnets: ec2.SubnetSelection;
  /** Every manifest service; the web ones get a target group and a listener rule. */
  readonly services: readonly ServiceManifest[];
  /**
   * Refuse `DeleteLoadBalancer` until turned off.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Seconds the ALB keeps sending in-flight requests to a deregistering target.
   * @default 15 - short: tasks stop within their stop timeout anyway, and rollouts stay fast
   */
  readonly deregistrationDelaySeconds?: number;
}

/**
 * The public edge: an internet-facing ALB in the public subnets that drops invalid header fields and
 * writes access logs to an encrypted, private, SSL-only S3 bucket with an expiry; an HTTP listener
 * (or HTTPS with TLS 1.2+ plus an HTTP→HTTPS redirect when a certificate is declared); one IP target
 * group per web service with the manifest's health check, and listener rules from the manifest's path
 * patterns and priorities, the `/*` service being the default action.
 *
 * Targets are attached by the services (`ServiceUnit` registers its ECS service with its target group),
 * which also opens the service's port to the ALB's group and nothing else.
 */
export class Edge extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  readonly accessLogBucket: s3.Bucket;
  /** The listener that serves traffic: HTTPS when a certificate is declared, otherwise HTTP. */
  readonly listener: elbv2.ApplicationListener;
  private readonly targetGroups = new Map<string, elbv2.ApplicationTargetGroup>();

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    const { edge } = props;
    const web = props.services.filter((s) => s.kind === 'web');

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      // ALB log delivery supports SSE-S3 only (not SSE-KMS).
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(edge.accessLogRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogBucket).acknowledge(
      {
        id: 'AwsSolutions-S1',
        reason:
          'Terminal log bucket: only the ELB log-delivery service writes to it. Server access logs of it would need yet another log bucket; object-level access is auditable with CloudTrail S3 data events.',
      },
      {
        id: guardRule('s3_bucket_logging_enabled_check'),
        reason: 'Same as AwsSolutions-S1: terminal log bucket written only by ELB log delivery.',
      },
      {
        id: guardRule('s3_bucket_default_encryption_kms_check'),
        reason: 'ALB access-log delivery supports SSE-S3 only; a KMS default encryption makes delivery fail.',
      },
      {
        id: guardRule('s3_event_notifications_enabled_check'),
        reason: 'Access logs are queried on demand (Athena); nothing consumes object-created events.',
      },
      {
        id: guardRule('s3_bucket_object_lock_enabled_check'),
        reason:
          'Operational logs with a declared expiry (edge.accessLogRetentionDays); they are not compliance records, and Object Lock would fight the lifecycle expiry.',
      },
    );

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Internet-facing ALB: HTTP/HTTPS from anywhere; egress only to registered targets',
      allowAllOutbound: false,
    });
    Validations.of(this.securityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        "The internet-facing ALB: 0.0.0.0/0 on the listener ports (80, and 443 with a certificate) only. It forwards only to the web services' target groups.",
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: true,
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection ?? true,
      idleTimeout: Duration.seconds(edge.idleTimeoutSeconds),
      desyncMitigationMode: elbv2.DesyncMitigationMode.DEFENSIVE,
      http2Enabled: true,
    });
    this.loadBalancer.logAccessLogs(this.accessLogBucket);

    if (edge.certificateArn) {
      this.listener = this.loadBalancer.addListener('HttpsListener', {
        protocol: elbv2.ApplicationProtocol.HTTPS,
        port: 443,
        certificates: [elbv2.ListenerCertificate.fromArn(edge.certificateArn)],
        // TLS 1.3 and 1.2 only.
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: true,
        defaultAction: elbv2.ListenerAction.fixedResponse(404, {
          contentType: 'text/plain',
          messageBody: 'not found',
        }),
      });
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
    } else {
      this.listener = this.loadBalancer.addListener('HttpListener', {
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: 80,
        open: true,
        defaultAction: elbv2.ListenerAction.fixedResponse(404, {
          contentType: 'text/plain',
          messageBody: 'not found',
        }),
      });
      Validations.of(this.listener).acknowledge({
        id: guardRule('alb_http_to_https_redirection_check'),
        reason:
          'No certificate is declared (edge.certificateArn is null), so there is no HTTPS listener to redirect to; declaring one renders HTTPS (TLS 1.2+) and an HTTP→HTTPS redirect instead of this listener.',
      });
    }

    const deregistrationDelay = Duration.seconds(props.deregistrationDelaySeconds ?? 15);
    for (const service of web) {
      const health = service.healthCheck;
      const targetGroup = new elbv2.ApplicationTargetGroup(this, `${service.name}TargetGroup`, {
        vpc: props.vpc,
        targetType: elbv2.TargetType.IP,
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: service.port,
        deregistrationDelay,
        healthCheck: {
          path: health.path,
          interval: Duration.seconds(health.intervalSeconds),
          timeout: Duration.seconds(health.timeoutSeconds),
          healthyThresholdCount: health.healthyThreshold,
          unhealthyThresholdCount: health.unhealthyThreshold,
          healthyHttpCodes: '200-299',
        },
      });
      this.targetGroups.set(service.name, targetGroup);
      const isDefault = service.paths.length === 1 && service.paths[0] === '/*';
      if (isDefault) {
        this.listener.addTargetGroups(`${service.name}Default`, { targetGroups: [targetGroup] });
      } else {
        this.listener.addTargetGroups(`${service.name}Rule`, {
          targetGroups: [targetGroup],
          priority: service.priority,
          conditions: [elbv2.ListenerCondition.pathPatterns(service.paths)],
        });
      }
    }
  }

  /** The target group of web service `name`; throws when it is not a web service. */
  targetGroup(name: string): elbv2.ApplicationTargetGroup {
    const group = this.targetGroups.get(name);
    if (!group) {
      throw new Error(
        `${this.node.path}: no target group for service '${name}'. Web services: ${[...this.targetGroups.keys()].join(', ')}.`,
      );
    }
    return group;
  }

  /** Target groups by web-service name (a copy). */
  get allTargetGroups(): ReadonlyMap<string, elbv2.ApplicationTargetGroup> {
    return new Map(this.targetGroups);
  }
}
