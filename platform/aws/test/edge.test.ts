import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { logicalIdOf, manifestFixture, synthPlatform } from './builder.ts';

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
      { Key: 'deletion_protection.enabled', Value: 'true' },
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

  it('serves HTTP only on 80 without a certificate, defaulting to the /* service', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    const frontend = logicalIdOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: frontend } }],
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
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

  it('admits 80 from anywhere on the ALB group and nothing else', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Internet-facing ALB'),
      SecurityGroupIngress: [
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 80, ToPort: 80, IpProtocol: 'tcp' }),
      ],
    });
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
      });
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

  it('routes the declared path pattern at the declared priority', () => {
    const docs = logicalIdOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup', {
      Properties: { Port: 8090 },
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 10,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/docs/*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: docs } }],
    });
    assert.equal(Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).length, 1);
  });
});
