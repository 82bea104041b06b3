import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { Json } from '../../../test/support/template-json.ts';
import { DEFAULT_ROUTE } from '../../wiring/index.ts';
import { DEFAULT_SERVICE_RULE_PRIORITY, PLACEHOLDER_DOMAIN } from '../constructs/edge.ts';
import { logicalIdOf, manifestFixture, synthPlatform } from './builder.ts';

/**
 * Every forward an internet-reachable listener or rule performs, with whether an authenticate action
 * comes before it (Order lower, as the ALB runs them) and the target group it reaches. A listener is
 * internet-reachable when it belongs to an internet-facing load balancer and its port is open to
 * 0.0.0.0/0 (the test route's port admits only the NAT gateways).
 */
function forwardsOf(
  template: Template,
): Array<{ where: string; targetGroup: string; authenticated: boolean }> {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const internetFacing = new Set(
    Object.entries(resources)
      .filter(
        ([, r]) =>
          r.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer' && r.Properties.Scheme === 'internet-facing',
      )
      .map(([id]) => id),
  );
  const ingress = [
    ...Object.values(resources).flatMap((r) =>
      r.Type === 'AWS::EC2::SecurityGroup' ? (r.Properties.SecurityGroupIngress ?? []) : [],
    ),
    ...Object.values(resources).flatMap((r) =>
      r.Type === 'AWS::EC2::SecurityGroupIngress' ? [r.Properties] : [],
    ),
  ];
  const openToAnyone = (port: number) =>
    ingress.some((rule: Json) => rule.CidrIp === '0.0.0.0/0' && rule.FromPort <= port && port <= rule.ToPort);
  const listeners = new Set(
    Object.entries(resources)
      .filter(
        ([, r]) =>
          r.Type === 'AWS::ElasticLoadBalancingV2::Listener' &&
          internetFacing.has(r.Properties.LoadBalancerArn?.Ref) &&
          openToAnyone(r.Properties.Port),
      )
      .map(([id]) => id),
  );
  const found: Array<{ where: string; targetGroup: string; authenticated: boolean }> = [];
  const walk = (where: string, actions: Json[]) => {
    const ordered = [...actions].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
    ordered.forEach((action, index) => {
      if (action.Type !== 'forward') return;
      const groups = action.TargetGroupArn
        ? [action.TargetGroupArn]
        : (action.ForwardConfig?.TargetGroups ?? []).map((t: Json) => t.TargetGroupArn);
      const authenticated = ordered.slice(0, index).some((a) => a.Type.startsWith('authenticate-'));
      for (const group of groups) found.push({ where, targetGroup: group.Ref, authenticated });
    });
  };
  for (const [id, r] of Object.entries(resources)) {
    if (listeners.has(id)) walk(id, r.Properties.DefaultActions);
    if (
      r.Type === 'AWS::ElasticLoadBalancingV2::ListenerRule' &&
      listeners.has(r.Properties.ListenerArn?.Ref)
    ) {
      walk(id, r.Properties.Actions);
    }
  }
  return found;
}

/** Forwards to a service that is not declared public, with no authenticate action before them. */
function anonymousForwards(template: Template, publicTargetGroups: readonly string[] = []): string[] {
  return forwardsOf(template)
    .filter((f) => !f.authenticated && !publicTargetGroups.includes(f.targetGroup))
    .map((f) => `${f.where} → ${f.targetGroup}`);
}

/** The production target group of web service `name` (not its alternate). */
function targetGroupOf(template: Template, name: string): string {
  const ids = Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup')).filter((id) =>
    new RegExp(`^Edge${name}TargetGroup[0-9A-F]{8}$`).test(id),
  );
  assert.equal(ids.length, 1, `one production target group of ${name}`);
  return ids[0]!;
}

describe('Edge', () => {
  // GIVEN the repository's declaration (no certificate, 90-day access logs) WHEN rendered
  const platform = synthPlatform();
  const { template } = platform;
  after(() => platform.dispose());
  const bucket = logicalIdOf(template, 'AWS::S3::Bucket');

  it('is an internet-facing ALB in the public subnets that drops invalid headers and logs access to the bucket', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      Type: 'application',
      Subnets: [
        { Ref: Match.stringLikeRegexp('^NetworkVpcpublicSubnet1') },
        { Ref: Match.stringLikeRegexp('^NetworkVpcpublicSubnet2') },
      ],
    });
    const expected = [
      // A teardown is never stopped at the ALB (teardown.loadBalancerDeletionProtection defaults to off).
      { Key: 'deletion_protection.enabled', Value: 'false' },
      { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      { Key: 'access_logs.s3.enabled', Value: 'true' },
      { Key: 'access_logs.s3.bucket', Value: { Ref: bucket } },
      { Key: 'idle_timeout.timeout_seconds', Value: '60' },
    ];
    for (const attribute of expected) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        LoadBalancerAttributes: Match.arrayWith([attribute]),
      });
    }
  });

  it('stores access logs encrypted (SSE-S3), private, versioned, expiring after the declared days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ Id: 'expire-access-logs', Status: 'Enabled', ExpirationInDays: 90 })],
      },
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    // Object-created events go to EventBridge (Control Tower CT.S3.PR.4), without a custom resource.
    template.hasResourceProperties('AWS::S3::Bucket', {
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    });
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  it('denies non-TLS access and lets ELB log delivery write', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Action: 's3:PutObject' }),
        ]),
      },
    });
  });

  it('serves HTTPS (TLS 1.3/1.2) with a DNS-validated certificate for the placeholder domain; port 80 only redirects', () => {
    // 443, the redirect on 80, and the canary's test route (rollout.test.ts).
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 3);
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: PLACEHOLDER_DOMAIN,
      ValidationMethod: 'DNS',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [
        { CertificateArn: { Ref: logicalIdOf(template, 'AWS::CertificateManager::Certificate') } },
      ],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } },
      ],
    });
    // The listener's own default is the wiring's JSON 404; the /* service is a rule evaluated last.
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      DefaultActions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: {
            StatusCode: '404',
            ContentType: DEFAULT_ROUTE.contentType,
            MessageBody: DEFAULT_ROUTE.body,
          },
        },
      ],
    });
    // The console's production rule and its test rule.
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 2);
  });

  it('signs people in with the Cognito user pool before forwarding to the console (the /* service)', () => {
    // The console deploys canary: ECS shifts traffic between its target group and the alternate one.
    const frontend = targetGroupOf(template, 'frontend');
    const groups = Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
    assert.equal(groups.length, 2);
    const alternate = groups.find((id) => id !== frontend)!;
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: DEFAULT_SERVICE_RULE_PRIORITY,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
      Actions: [
        Match.objectLike({
          Order: 1,
          Type: 'authenticate-cognito',
          AuthenticateCognitoConfig: Match.objectLike({
            UserPoolArn: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::Cognito::UserPool'), 'Arn'] },
          }),
        }),
        {
          Order: 2,
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: { Ref: frontend }, Weight: 100 },
              { TargetGroupArn: { Ref: alternate }, Weight: 0 },
            ],
          },
        },
      ],
    });
    // Operators are invited, MFA is required, the client uses the code flow against the ALB callback.
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      DeletionProtection: 'ACTIVE',
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 14 }) },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: true,
      AllowedOAuthFlows: ['code'],
      CallbackURLs: [`https://${PLACEHOLDER_DOMAIN}/oauth2/idpresponse`],
    });
  });

  it('has no forward on an internet-reachable listener or rule that is not preceded by an authenticate action', () => {
    assert.ok(forwardsOf(template).length > 0);
    assert.deepEqual(anonymousForwards(template), []);
  });

  it('puts a WAF web ACL (per-IP rate limit, AWS common rule set) on the ALB', () => {
    const acl = logicalIdOf(template, 'AWS::WAFv2::WebACL', { Properties: { Name: 'acme-edge' } });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Name: 'acme-edge',
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Name: 'rate-limit-per-ip',
          Priority: 0,
          Action: { Block: {} },
          Statement: {
            RateBasedStatement: { Limit: 1000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 },
          },
        }),
        Match.objectLike({
          Name: 'aws-common-rule-set',
          Priority: 1,
          OverrideAction: { None: {} },
          Statement: {
            ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' },
          },
        }),
      ],
    });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { Ref: logicalIdOf(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer') },
      WebACLArn: { 'Fn::GetAtt': [acl, 'Arn'] },
    });
  });

  it('checks the web service’s health path quickly and deregisters fast', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      Port: 8080,
      Protocol: 'HTTP',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Matcher: { HttpCode: '200-299' },
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '15' }]),
    });
  });

  it('admits 80 and 443 from anywhere on the ALB group; egress is HTTPS to the IdP and the targets', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Internet-facing ALB'),
      SecurityGroupIngress: Match.arrayWith([
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 80, ToPort: 80, IpProtocol: 'tcp' }),
      ]),
      SecurityGroupEgress: [
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
      ],
    });
  });
});

describe('Edge walk fails on an anonymous forward', () => {
  // GIVEN the explicit insecure choice (plain HTTP, no sign-in) WHEN rendered
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (message: string) => warnings.push(message);
  const platform = synthPlatform({
    manifest: manifestFixture((m) => {
      m.platform.edge.insecureHttpOnly = true;
    }),
  });
  console.warn = warn;
  after(() => platform.dispose());

  it('finds the forward that has no authenticate action before it', () => {
    // The console's rule, to both of its target groups (the canary's primary and alternate).
    const found = anonymousForwards(platform.template);
    assert.equal(found.length, 2);
    assert.equal(new Set(found.map((f) => f.split(' → ')[0])).size, 1);
  });

  it('serves plain HTTP only, announced loudly at synth', () => {
    // Port 80, and the canary's test route on 8080 (its port admits only the NAT gateways).
    platform.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    platform.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 8080,
      Protocol: 'HTTP',
    });
    platform.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
    });
    platform.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /INSECURE EDGE: edge\.insecureHttpOnly is declared\. .* no sign-in\./);
  });
});

describe('Edge with a certificate and a second web service', () => {
  // GIVEN a certificate and an extra web service routed by path WHEN rendered
  const certificateArn = 'arn:aws:acm:us-east-1:111122223333:certificate/0000-test';
  const platform = synthPlatform({
    manifest: manifestFixture((m) => {
      m.platform.edge.certificateArn = certificateArn;
      const frontend = m.services.find((s) => s.name === 'frontend')!;
      m.services.push({
        ...structuredClone(frontend),
        name: 'docs',
        path: 'acme/docs',
        port: 8090,
        talksTo: [],
        paths: ['/docs/*'],
        priority: 10,
        public: true,
        deployment: { strategy: 'rolling', probes: ['/'], onScorerOutage: 'judge-on-errors' },
      });
      m.platform.edge.auth = {
        kind: 'oidc',
        issuer: 'https://login.example.com',
        authorizationEndpoint: 'https://login.example.com/authorize',
        tokenEndpoint: 'https://login.example.com/token',
        userInfoEndpoint: 'https://login.example.com/userinfo',
        clientId: 'console',
        clientSecretName: 'acme/console-oidc',
      };
    }),
  });
  const { template } = platform;
  after(() => platform.dispose());

  it('serves HTTPS with a TLS 1.2+ policy and redirects HTTP to it', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: certificateArn }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } },
      ],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Internet-facing ALB'),
      SecurityGroupIngress: Match.arrayWith([Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443 })]),
    });
  });

  it('routes the declared path pattern at the declared priority, straight to the public service', () => {
    const docs = targetGroupOf(template, 'docs');
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 10,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/docs/*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: docs } }],
    });
    // The walk sees that forward as anonymous; it is allowed only because docs is declared public.
    assert.deepEqual(anonymousForwards(template), [
      `${logicalIdOf(template, 'AWS::ElasticLoadBalancingV2::ListenerRule', { Properties: { Priority: 10 } })} → ${docs}`,
    ]);
    assert.deepEqual(anonymousForwards(template, [docs]), []);
  });

  it('signs in through the declared OIDC provider, the client secret a Secrets Manager reference', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: DEFAULT_SERVICE_RULE_PRIORITY,
      Actions: [
        Match.objectLike({
          Type: 'authenticate-oidc',
          AuthenticateOidcConfig: Match.objectLike({
            Issuer: 'https://login.example.com',
            ClientId: 'console',
            ClientSecret: '{{resolve:secretsmanager:acme/console-oidc:SecretString:::}}',
          }),
        }),
        Match.objectLike({ Type: 'forward' }),
      ],
    });
    template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    // docs (rolling), the console's production rule and its test rule.
    assert.equal(Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).length, 3);
  });
});
