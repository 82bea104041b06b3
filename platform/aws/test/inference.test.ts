import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { InferenceEndpoint } from '../constructs/inference.ts';
import { PRIVATE, ROOT_DIR, serverlessFixture } from './serverless-builder.ts';

describe('InferenceEndpoint', () => {
  // GIVEN the repository's declared model WHEN the endpoint is rendered
  const f = serverlessFixture();
  after(() => f.dispose());
  const model = f.manifest.model!;
  new InferenceEndpoint(f.stack, 'Inference', { model, rootDir: ROOT_DIR, vpc: f.vpc, subnets: PRIVATE });
  const template = Template.fromStack(f.stack);

  it('runs the model network-isolated in the private subnets, from the image and artifact assets', () => {
    const models = template.findResources('AWS::SageMaker::Model');
    assert.equal(Object.keys(models).length, 1);
    const props = Object.values(models)[0]!.Properties;
    assert.equal(props.EnableNetworkIsolation, true);
    assert.equal(props.PrimaryContainer.Mode, 'SingleModel');
    assert.match(JSON.stringify(props.PrimaryContainer.Image), /dkr\.ecr/);
    assert.match(JSON.stringify(props.PrimaryContainer.ModelDataUrl), /^\{"Fn::Sub":"s3:\/\/cdk-/);
    assert.equal(props.VpcConfig.Subnets.length, 2);
    const privateSubnets = f.vpc.privateSubnets.map((s) => f.stack.resolve(s.subnetId));
    assert.deepEqual(props.VpcConfig.Subnets, privateSubnets);
  });

  it('serves two instances of the declared type with KMS-encrypted storage, under the declared name', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^InferenceKey'), 'Arn'] },
      ProductionVariants: [
        Match.objectLike({
          VariantName: 'AllTraffic',
          InitialInstanceCount: 2,
          InstanceType: model.instanceType,
        }),
      ],
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: model.name });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('gives the ENIs a security group with neither ingress nor egress', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('network-isolated'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
      SecurityGroupIngress: Match.absent(),
    });
  });

  it('rejects a single instance with the construct path and the fix', () => {
    const g = serverlessFixture();
    try {
      assert.throws(
        () =>
          new InferenceEndpoint(g.stack, 'Single', {
            model: { ...model, instanceCount: 1 },
            rootDir: ROOT_DIR,
            vpc: g.vpc,
            subnets: PRIVATE,
          }),
        {
          message:
            'Serverless/Single: model.instanceCount (1) must be ≥ 2. Fix: keep two instances so an AZ or instance failure leaves the endpoint serving.',
        },
      );
    } finally {
      g.dispose();
    }
  });
});
