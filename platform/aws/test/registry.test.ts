import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { synthPlatform } from './builder.ts';

describe('Registry (in the bootstrap stack, deployed before the platform)', () => {
  // GIVEN the repository's declaration WHEN rendered
  const platform = synthPlatform();
  const template = platform.bootstrapTemplate;
  after(() => platform.dispose());

  it('creates one repository per image a task runs (the model is a CDK image asset of the endpoint)', () => {
    const names = Object.values(template.findResources('AWS::ECR::Repository'))
      .map((r) => r.Properties.RepositoryName as string)
      .sort();
    assert.deepEqual(names, ['acme/backend', 'acme/frontend', 'acme/log-router', 'acme/sidecar']);
  });

  it('scans on push, forbids tag overwrites, encrypts, expires old images; deleted with the stack, images and all', () => {
    template.allResourcesProperties('AWS::ECR::Repository', {
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      // AES-256 server-side encryption is ECR's default and cannot be turned off; CDK renders it as absent.
      EncryptionConfiguration: Match.absent(),
    });
    for (const resource of Object.values(template.findResources('AWS::ECR::Repository'))) {
      // Fixed names: a retained repository would make the re-created stack fail with "already exists".
      assert.equal(resource.DeletionPolicy, 'Delete');
      const policy = JSON.parse(resource.Properties.LifecyclePolicy.LifecyclePolicyText) as {
        rules: unknown[];
      };
      assert.deepEqual(policy.rules, [
        {
          rulePriority: 1,
          selection: {
            tagStatus: 'untagged',
            countType: 'sinceImagePushed',
            countNumber: 7,
            countUnit: 'days',
          },
          action: { type: 'expire' },
        },
        {
          rulePriority: 2,
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 50 },
          action: { type: 'expire' },
        },
      ]);
    }
    // EmptyOnDelete: CloudFormation deletes the images with the repository instead of failing on them.
    template.allResourcesProperties('AWS::ECR::Repository', { EmptyOnDelete: true });
  });

  it('is not referenced by the platform stack through an export (either stack can be re-created alone)', () => {
    assert.deepEqual(Object.keys(template.toJSON().Outputs ?? {}).sort(), [
      'InfrastructureRoleArn',
      'PushRoleArn',
      'RepositoryPrefix',
      'RolloutRoleArn',
    ]);
    assert.doesNotMatch(JSON.stringify(platform.template.toJSON()), /Fn::ImportValue/);
  });
});
