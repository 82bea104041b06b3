import { Annotations, Duration, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  DEFAULT_ROUTE,
  type PlatformWiring,
  type RouteWiring,
  type TaskWiring,
  WiringInvariantError,
} from '../../wiring/index.ts';
import { guardRule } from '../validation.ts';
import { signInAction } from './sign-in.ts';
import { renderTestListener, type TestListenerProps } from './test-listener.ts';
import { RegionalWebAcl } from './web-acl.ts';

/** The context key (`cdk synth -c platform:domainName=…`, or `PLATFORM_DOMAIN` in main.ts) naming the console's domain. */
export const DOMAIN_CONTEXT_KEY = 'platform:domainName';

/**
 * The domain the certificate is requested for when neither the declaration nor the context names one:
 * synth works offline and renders the secure form, but a deploy would wait on a DNS validation that can
 * never succeed, so the synth warns.
 */
export const PLACEHOLDER_DOMAIN = 'console.example.com';

/** The `/*` service's rule priority: after every declared pattern (ALB priorities go to 50000). */
export const DEFAULT_SERVICE_RULE_PRIORITY = 50_000;

/** Props of {@link Edge}. */
export interface EdgeProps {
  /** The wiring's edge (`platform.edge` as declared). */
  readonly edge: PlatformWiring['edge'];
  readonly vpc: ec2.IVpc;
  /** The public subnets of every AZ. */
  readonly subnets: ec2.SubnetSelection;
  /** Every wired task; the web ones get their target group, and an alternate one when deployments shift traffic. */
  readonly tasks: readonly TaskWiring[];
  /** The wiring's listener routes, in evaluation order. */
  readonly routes: readonly RouteWiring[];
  /**
   * The wiring's test route (the tasks whose deployments take test traffic get a rule on it).
   * @default - no test listener
   */
  readonly testRoute?: TestListenerProps;
  /**
   * Refuse `DeleteLoadBalancer` until turned off (a `cdk destroy` then stops at the ALB).
   * @default false
   */
  readonly deletionProtection?: boolean;
  /**
   * Keep the console's Cognito user pool (operators, MFA) when the stack is deleted.
   * @default true
   */
  readonly retainUserPool?: boolean;
  /**
   * Names the Cognito user pool, its hosted sign-in domain prefix and the web ACL.
   * @default 'platform'
   */
  readonly platformName?: string;
}

/**
 * The public edge: an internet-facing ALB in the public subnets that drops invalid header fields and
 * writes access logs to an encrypted, private, SSL-only S3 bucket with an expiry, behind an AWS WAF web
 * ACL (per-IP rate limit, AWS managed common rule set).
 *
 * Secure by default: HTTPS on 443 (TLS 1.3/1.2 policy) with the declared certificate or a DNS-validated
 * one for the console's domain; port 80 only redirects. Every forward to a web service that is not
 * `public` is preceded by an authenticate action: the Cognito user pool created here (no self sign-up,
 * MFA required) or the declared OIDC identity provider. `edge.insecureHttpOnly` is the only way to
 * plain HTTP and anonymous services, and it is announced loudly at synth.
 *
 * One IP target group per web service as the wiring decides it (health check, deregistration delay);
 * listener rules from the wiring's routes, the `/*` service's evaluated last. Targets are
 * attached by the services (`ServiceUnit` registers its ECS service with its target group).
 */
export class Edge extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  readonly accessLogBucket: s3.Bucket;
  /** The listener that serves traffic: HTTPS, or HTTP with `edge.insecureHttpOnly`. */
  readonly listener: elbv2.ApplicationListener;
  /** The domain the console is served on (HTTPS only). */
  readonly domainName?: string;
  /** The console's user pool (Cognito sign-in only). */
  get userPool(): cognito.UserPool | undefined {
    return this.pool;
  }
  private pool?: cognito.UserPool;
  readonly webAcl: RegionalWebAcl;
  private readonly targetGroups = new Map<string, elbv2.ApplicationTargetGroup>();
  private readonly alternateTargetGroups = new Map<string, elbv2.ApplicationTargetGroup>();
  private readonly rules = new Map<string, elbv2.ApplicationListenerRule>();
  private readonly testRules = new Map<string, elbv2.ApplicationListenerRule>();
  /** The test route's listener (its port admits only the NAT gateways); undefined without a test route. */
  readonly testListener?: elbv2.ApplicationListener;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    const { edge } = props;

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
    // Kept on a teardown (CloudFormation cannot delete a bucket holding objects); the tag finds it.
    Tags.of(this.accessLogBucket).add('platform', props.platformName ?? 'platform');
    // Object events go to EventBridge (free to emit; CloudFormation-native, no notification custom
    // resource), so an audit rule or alert can subscribe to new log objects.
    (this.accessLogBucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    Validations.of(this.accessLogBucket).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-S1',
        reason:
          'Terminal log bucket: only the ELB log-delivery service writes to it. Server access logs of it would need yet another log bucket; object-level access is auditable with CloudTrail S3 data events.',
      },
      {
        id: guardRule('s3_bucket_logging_enabled_check'),
        reason:
          'Terminal log bucket: only the ELB log-delivery service writes to it. Server access logs of it would need yet another log bucket; object-level access is auditable with CloudTrail S3 data events.',
      },
      {
        id: guardRule('s3_bucket_default_encryption_kms_check'),
        reason: 'ALB access-log delivery supports SSE-S3 only; a KMS default encryption makes delivery fail.',
      },
      {
        id: guardRule('s3_bucket_object_lock_enabled_check'),
        reason:
          'Operational logs with a declared expiry (edge.accessLogRetentionDays); they are not compliance records, and Object Lock would fight the lifecycle expiry.',
      },
    );

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description:
        'Internet-facing ALB: HTTP/HTTPS from anywhere; egress to registered targets and the sign-in IdP',
      allowAllOutbound: false,
    });
    Validations.of(this.securityGroup).acknowledge({
      id: 'AwsSolutions::AwsSolutions-EC23',
      reason:
        "The internet-facing ALB: 0.0.0.0/0 on the listener ports only (443, and 80 which only redirects to it). It forwards only to the web services' target groups, after sign-in unless a service is declared public.",
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: true,
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection ?? false,
      idleTimeout: Duration.seconds(edge.idleTimeoutSeconds),
      desyncMitigationMode: elbv2.DesyncMitigationMode.DEFENSIVE,
      http2Enabled: true,
    });
    this.loadBalancer.logAccessLogs(this.accessLogBucket);
    if (!(props.deletionProtection ?? false)) {
      Validations.of(this.loadBalancer).acknowledge({
        id: guardRule('elbv2_deletion_protection_enabled_check'),
        reason:
          'teardown.loadBalancerDeletionProtection is off (the default) so that `cdk destroy` of the platform stack deletes the ALB instead of failing on it; nothing on the ALB holds data (access logs are in their own kept bucket). Declare it to keep the ALB until a person turns it off.',
      });
    }

    const platformName = props.platformName ?? 'platform';
    this.webAcl = new RegionalWebAcl(this, 'WebAcl', { name: `${platformName}-edge` });
    this.webAcl.associate('LoadBalancerAcl', this.loadBalancer.loadBalancerArn);

    // The wiring's default action: the same JSON error the local ALB answers.
    const notFound = elbv2.ListenerAction.fixedResponse(DEFAULT_ROUTE.status, {
      contentType: DEFAULT_ROUTE.contentType,
      messageBody: DEFAULT_ROUTE.body,
    });
    let guard: (next: elbv2.ListenerAction) => elbv2.ListenerAction;
    let certificate: acm.ICertificate | undefined;
    if (edge.insecureHttpOnly) {
      this.listener = this.loadBalancer.addListener('HttpListener', {
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: 80,
        open: true,
        defaultAction: notFound,
      });
      Validations.of(this.listener).acknowledge({
        id: guardRule('alb_http_to_https_redirection_check'),
        reason:
          'edge.insecureHttpOnly is declared: an explicit, announced choice of plain HTTP without sign-in (throwaway accounts only); the default renders HTTPS, sign-in and an HTTP→HTTPS redirect instead.',
      });
      const warning =
        'INSECURE EDGE: edge.insecureHttpOnly is declared. The console and every web service are served over plain HTTP on port 80 to the whole internet, with no sign-in. Remove insecureHttpOnly for HTTPS and authentication.';
      Annotations.of(this).addWarningV2('platform:insecure-edge', warning);
      console.warn(`\n${'!'.repeat(100)}\n${warning}\n${'!'.repeat(100)}\n`);
      guard = (next) => next;
    } else {
      const domainName =
        edge.domainName ??
        (this.node.tryGetContext(DOMAIN_CONTEXT_KEY) as string | undefined) ??
        PLACEHOLDER_DOMAIN;
      this.domainName = domainName;
      if (domainName === PLACEHOLDER_DOMAIN && !edge.certificateArn) {
        Annotations.of(this).addWarningV2(
          'platform:placeholder-domain',
          `No console domain declared: the certificate is requested for ${PLACEHOLDER_DOMAIN}, which cannot be validated. Declare edge.domainName or synth with PLATFORM_DOMAIN=console.example.com before deploying.`,
        );
      }
      certificate = edge.certificateArn
        ? acm.Certificate.fromCertificateArn(this, 'Certificate', edge.certificateArn)
        : new acm.Certificate(this, 'Certificate', {
            domainName,
            // DNS validation without a hosted zone: the deploy waits until the CNAME ACM names is created.
            validation: acm.CertificateValidation.fromDns(),
          });
      this.listener = this.loadBalancer.addListener('HttpsListener', {
        protocol: elbv2.ApplicationProtocol.HTTPS,
        port: 443,
        certificates: [certificate],
        // ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.3 and 1.2 only.
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: true,
        defaultAction: notFound,
      });
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
      // The ALB calls the IdP's token and user-info endpoints itself: HTTPS egress (no fixed addresses).
      this.securityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'HTTPS to the sign-in identity provider (token and user-info endpoints)',
      );
      const signIn = signInAction(this, edge.auth, platformName, domainName, props.retainUserPool ?? true);
      this.pool = signIn.userPool;
      guard = signIn.guard;
    }
    if (props.testRoute) {
      this.testListener = renderTestListener(this.loadBalancer, props.testRoute, notFound, certificate);
    }

    const targetGroupFor = (task: TaskWiring, id: string) => {
      const wired = task.targetGroup;
      if (!wired)
        throw new WiringInvariantError(
          this.node.path,
          `route to '${task.service}', which has no target group`,
        );
      return new elbv2.ApplicationTargetGroup(this, id, {
        vpc: props.vpc,
        targetType: elbv2.TargetType.IP,
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: wired.port,
        deregistrationDelay: Duration.seconds(wired.deregistrationDelaySeconds),
        healthCheck: {
          path: wired.health.path,
          interval: Duration.seconds(wired.health.intervalSeconds),
          timeout: Duration.seconds(wired.health.timeoutSeconds),
          healthyThresholdCount: wired.health.healthyThreshold,
          unhealthyThresholdCount: wired.health.unhealthyThreshold,
          healthyHttpCodes: wired.health.healthyHttpCodes,
        },
      });
    };
    // The wiring's routes, in evaluation order. Every web service gets a listener rule (the `/*` one
    // last): ECS's canary, linear and blue/green deployments shift traffic on a production listener
    // rule, never on the listener's default action, which stays the JSON 404.
    for (const route of props.routes) {
      const task = props.tasks.find((t) => t.service === route.service);
      if (!task)
        throw new WiringInvariantError(this.node.path, `route to '${route.service}', which is no task`);
      const service = task.service;
      const targetGroup = targetGroupFor(task, `${service}TargetGroup`);
      this.targetGroups.set(service, targetGroup);
      const alternate = task.deployment.shiftsTraffic
        ? targetGroupFor(task, `${service}AlternateTargetGroup`)
        : undefined;
      if (alternate) this.alternateTargetGroups.set(service, alternate);
      const forward = forwardTo(targetGroup, alternate);
      const priority = route.priority === 0 ? DEFAULT_SERVICE_RULE_PRIORITY : route.priority;
      const conditions = [
        elbv2.ListenerCondition.pathPatterns(route.priority === 0 ? ['/*'] : [...route.paths]),
      ];
      // A public service is forwarded to as is; every other one only after sign-in. ECS moves the
      // forward action's weights and leaves the authenticate action before it (see README, "Sign-in
      // during traffic shifts").
      const rule = new elbv2.ApplicationListenerRule(this, `${service}Rule`, {
        listener: this.listener,
        priority,
        conditions,
        action: route.public ? forward : guard(forward),
      });
      this.rules.set(service, rule);
      if (this.testListener && task.deployment.testTraffic) {
        // The same paths and target groups on the test port, which only the NAT gateways reach: ECS
        // points it at the new revision during TEST_TRAFFIC_SHIFT, the deployment gate probes it.
        this.testRules.set(
          service,
          new elbv2.ApplicationListenerRule(this, `${service}TestRule`, {
            listener: this.testListener,
            priority,
            conditions,
            action: forwardTo(targetGroup, alternate),
          }),
        );
      }
    }
  }

  /** The alternate target group of a traffic-shifting web service (ECS moves traffic between the two). */
  alternateTargetGroup(name: string): elbv2.ApplicationTargetGroup | undefined {
    return this.alternateTargetGroups.get(name);
  }

  /** The test listener rule of web service `name`; undefined when it takes no test traffic. */
  testRule(name: string): elbv2.ApplicationListenerRule | undefined {
    return this.testRules.get(name);
  }

  /** The production listener rule of web service `name`. */
  rule(name: string): elbv2.ApplicationListenerRule {
    const rule = this.rules.get(name);
    if (!rule) throw new WiringInvariantError(this.node.path, `no listener rule for service '${name}'`);
    return rule;
  }

  /** The target group of web service `name`; throws when it is not a web service. */
  targetGroup(name: string): elbv2.ApplicationTargetGroup {
    const group = this.targetGroups.get(name);
    if (!group) {
      throw new WiringInvariantError(
        this.node.path,
        `no target group for service '${name}' (web services: ${[...this.targetGroups.keys()].join(', ')})`,
      );
    }
    return group;
  }

  /** Target groups by web-service name (a copy). */
  get allTargetGroups(): ReadonlyMap<string, elbv2.ApplicationTargetGroup> {
    return new Map(this.targetGroups);
  }
}

/**
 * A forward to the service's target group; with an alternate, both at once with the alternate at
 * weight 0, as AWS's ECS blue/green samples attach them (ECS then moves the weights).
 */
function forwardTo(
  primary: elbv2.IApplicationTargetGroup,
  alternate: elbv2.IApplicationTargetGroup | undefined,
): elbv2.ListenerAction {
  if (!alternate) return elbv2.ListenerAction.forward([primary]);
  return elbv2.ListenerAction.weightedForward([
    { targetGroup: primary, weight: 100 },
    { targetGroup: alternate, weight: 0 },
  ]);
}
