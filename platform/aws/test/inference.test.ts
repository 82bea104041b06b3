import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { InferenceEndpoint } from '../constructs/inference.ts';
import { PRIVATE, ROOT_DIR, serverlessFixture } from './serverless-builder.ts';

describe('InferenceEndpoint', () => {
  // GIVEN the repository's declared model WHEN the endpoint is rendered
  const f = serverlessFixture();
  after(() => f.dispose());
  const model = f.wiring.model!;
  new InferenceEndpoint(f.stack, 'Inference', {
    model,
    rootDir: ROOT_DIR,
    vpc: f.vpc,
    subnets: PRIVATE,
    logging: f.logging,
  });
  const template = Template.fromStack(f.stack);

  it('runs the model network-isolated in the private subnets, from the image and artifact assets', () => {
    const models = template.findResources('AWS::SageMaker::Model');
    assert.equal(Object.keys(models).length, 1);
    const props = Object.values(models)[0]!.Properties;
    assert.equal(props.EnableNetworkIsolation, true);
    assert.equal(props.PrimaryContainer.Mode, 'SingleModel');
    assert.match(JSON.stringify(props.PrimaryContainer.Image), /dkr\.ecr/);
    // CreateModel documents ModelDataUrl as a .tar.gz object; CDK's own asset key would end in .gz only.
    assert.match(props.PrimaryContainer.ModelDataUrl['Fn::Sub'], /^s3:\/\/cdk-[^/]+\/[0-9a-f]{64}\.tar\.gz$/);
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
          InstanceType: model.instances.type,
        }),
      ],
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: model.name });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('gives the ENIs a security group without ingress (egress is the network’s, see network.test.ts)', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('network-isolated'),
      SecurityGroupIngress: Match.absent(),
    });
  });

  it('reads only its own model object, with a trust limited to this account and the VPC actions SageMaker documents', () => {
    const role = Object.values(template.findResources('AWS::IAM::Role')).find((r) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('sagemaker.amazonaws.com'),
    );
    assert.deepEqual(role?.Properties.AssumeRolePolicyDocument.Statement, [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'sagemaker.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
    );
    const s3 = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    assert.equal(s3.length, 1);
    assert.equal(s3[0]!.Action, 's3:GetObject');
    const url = Object.values(template.findResources('AWS::SageMaker::Model'))[0]!.Properties.PrimaryContainer
      .ModelDataUrl['Fn::Sub'] as string;
    const key = url.split('/').at(-1)!;
    assert.ok(JSON.stringify(s3[0]!.Resource).endsWith(`/${key}"]]}`), JSON.stringify(s3[0]!.Resource));
    const ec2 = statements.find((s) => [s.Action].flat().includes('ec2:CreateNetworkInterface'));
    assert.ok([ec2!.Action].flat().includes('ec2:DescribeVpcEndpoints'));
    // No wildcard action anywhere on the role (no s3:GetObject*, kms:GenerateDataKey*).
    assert.deepEqual(
      statements.flatMap((s) => [s.Action].flat()).filter((a) => a.endsWith('*') && !a.startsWith('ecs:')),
      [],
    );
  });

  it('creates the log group SageMaker writes to, with retention and the platform key', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/sagemaker/Endpoints/${model.name}`,
      RetentionInDays: 30,
      KmsKeyId: Match.anyValue(),
    });
  });
});
