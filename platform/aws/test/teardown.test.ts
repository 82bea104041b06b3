import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Template } from 'aws-cdk-lib/assertions';
import type { Json } from '../../../test/support/template-json.ts';
import { manifestFixture, synthPlatform } from './builder.ts';

type Resources = Record<string, { Type: string; Properties?: Json; DeletionPolicy?: string }>;

/**
 * `cdk destroy` of the platform stack, then of the bootstrap stack, read as CloudFormation will:
 * nothing refuses deletion, nothing hangs, and what is kept on purpose is exactly what the wiring
 * declares, none of it under a fixed name a new stack would collide with.
 */

/** Properties that name a resource uniquely in an account and region: a kept one blocks a re-create. */
const UNIQUE_NAMES: Record<string, string> = {
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::ECR::Repository': 'RepositoryName',
  'AWS::Cognito::UserPoolDomain': 'Domain',
  'AWS::SSM::Parameter': 'Name',
  'AWS::IAM::Role': 'RoleName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::ECS::Cluster': 'ClusterName',
};

const resources = (template: Template) => template.toJSON().Resources as Resources;
const kept = (template: Template) =>
  Object.entries(resources(template)).filter(([, r]) => r.DeletionPolicy === 'Retain');
const keptTypes = (template: Template) => [...new Set(kept(template).map(([, r]) => r.Type))].sort();

function assertNothingKeptUnderAFixedName(template: Template): void {
  const blocking = kept(template).flatMap(([id, r]) => {
    const property = UNIQUE_NAMES[r.Type];
    // A literal name is fixed; one built from a resource of the stack (an API id) is new with the stack.
    return property && typeof r.Properties?.[property] === 'string' ? [`${id} (${r.Type} ${property})`] : [];
  });
  assert.deepEqual(blocking, []);
}

describe('Teardown with the defaults (logs and the user pool kept)', () => {
  const platform = synthPlatform();
  const { template, bootstrapTemplate } = platform;
  after(() => platform.dispose());

  it('keeps nothing under a fixed name, in either stack (a new stack never collides with what is left)', () => {
    assertNothingKeptUnderAFixedName(template);
    assertNothingKeptUnderAFixedName(bootstrapTemplate);
  });

  it('deletes the log group SageMaker names itself (/aws/sagemaker/Endpoints/log-anomaly)', () => {
    const named = Object.entries(resources(template)).filter(
      ([, r]) => r.Type === 'AWS::Logs::LogGroup' && typeof r.Properties?.LogGroupName === 'string',
    );
    assert.deepEqual(
      named.map(([, r]) => [r.Properties.LogGroupName, r.DeletionPolicy]),
      [['/aws/sagemaker/Endpoints/log-anomaly', 'Delete']],
    );
  });

  it('lets the Auto Scaling group terminate its instances (no managed termination protection: aws-cdk #18179)', () => {
    const providers = Object.values(resources(template)).filter(
      (r) => r.Type === 'AWS::ECS::CapacityProvider',
    );
    assert.equal(providers.length, 1);
    const provider = providers[0]!.Properties.AutoScalingGroupProvider;
    assert.equal(provider.ManagedTerminationProtection, 'DISABLED');
    // Draining still happens: ECS drains an instance's tasks before the group terminates it.
    assert.equal(provider.ManagedDraining, 'ENABLED');
    const groups = Object.values(resources(template)).filter(
      (r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup',
    );
    assert.equal(groups.length, 1);
    assert.notEqual(groups[0]!.Properties.NewInstancesProtectedFromScaleIn, true);
  });

  it('does not protect the ALB from deletion', () => {
    const [alb] = Object.values(resources(template)).filter(
      (r) => r.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer',
    );
    assert.ok(
      (alb!.Properties.LoadBalancerAttributes as Json[]).some(
        (a) => a.Key === 'deletion_protection.enabled' && a.Value === 'false',
      ),
    );
  });

  it('keeps exactly what the wiring declares: the access-log bucket, the logs and their key, the user pool', () => {
    assert.deepEqual(keptTypes(template), [
      'AWS::Cognito::UserPool',
      'AWS::KMS::Key',
      'AWS::Logs::LogGroup',
      'AWS::S3::Bucket',
    ]);
    // The user pool's deletion protection follows the choice to keep it (it would fail a delete).
    const [pool] = Object.values(resources(template)).filter((r) => r.Type === 'AWS::Cognito::UserPool');
    assert.equal(pool!.Properties.DeletionProtection, 'ACTIVE');
    assert.deepEqual(keptTypes(bootstrapTemplate), []);
  });
});

describe('Teardown of a platform that declares logs and the user pool disposable', () => {
  const platform = synthPlatform({
    manifest: manifestFixture((m) => {
      m.platform.teardown = {
        loadBalancerDeletionProtection: false,
        retainLogs: false,
        retainUserPool: false,
      };
    }),
  });
  after(() => platform.dispose());

  it('keeps only the access-log bucket (CloudFormation cannot delete one that holds objects)', () => {
    assert.deepEqual(keptTypes(platform.template), ['AWS::S3::Bucket']);
    const [pool] = Object.values(resources(platform.template)).filter(
      (r) => r.Type === 'AWS::Cognito::UserPool',
    );
    assert.equal(pool!.Properties.DeletionProtection, 'INACTIVE');
  });
});
