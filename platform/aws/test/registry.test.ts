import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { synthPlatform } from './builder.ts';

describe('Registry', () => {
  // GIVEN the repository's declaration WHEN rendered
  const platform = synthPlatform();
  const { template } = platform;
  after(() => platform.dispose());

  it('creates one repository per Dockerfile-built image', () => {
    const names = Object.values(template.findResources('AWS::ECR::Repository'))
      .map((r) => r.Properties.RepositoryName as string)
      .sort();
    assert.deepEqual(names, [
      'acme/backend',
      'acme/frontend',
      'acme/log-router',
      'acme/model',
      'acme/sidecar',
    ]);
  });

  it('scans on push, forbids tag overwrites, encrypts, expires old images and survives stack deletion', () => {
    template.allResourcesProperties('AWS::ECR::Repository', {
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      // AES-256 server-side encryption is ECR's default and cannot be turned off; CDK renders it as absent.
      EncryptionConfiguration: Match.absent(),
    });
    for (const resource of Object.values(template.findResources('AWS::ECR::Repository'))) {
      assert.equal(resource.DeletionPolicy, 'Retain');
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
  });
});
