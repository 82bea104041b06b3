import { join } from 'node:path';
import { AssetStaging, Duration, FileAssetPackaging, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import type { ModelWiring } from '../../wiring/index.ts';
import { denyGrantsExceptForAwsServices } from './key-policy.ts';
import type { PlatformLogging } from './logging.ts';

/** What a caller of the model needs: its name and a way to be allowed to invoke it. */
export interface ScoringEndpoint {
  readonly endpointName: string;
  /** Allows `grantee` `sagemaker:InvokeEndpoint` on this endpoint only. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;
}

/** Props of {@link InferenceEndpoint}. */
export interface InferenceEndpointProps {
  /** The wiring's model endpoint. */
  readonly model: ModelWiring;
  /** Repository root: the Dockerfile and the artifact directory are relative to it. */
  readonly rootDir: string;
  readonly vpc: ec2.IVpc;
  /** Where the endpoint's ENIs live: private subnets in at least two AZs. */
  readonly subnets: ec2.SubnetSelection;
  /**
   * Creates the endpoint's own log group (`/aws/sagemaker/Endpoints/<name>`, which SageMaker would
   * otherwise create without retention or encryption).
   */
  readonly logging: PlatformLogging;
}

/**
 * The SageMaker real-time endpoint: the model image (an ECR image asset built from the declared
 * Dockerfile) and `model.tar.gz` (a file asset under a `.tar.gz` key), an endpoint configuration with at least two instances
 * (SageMaker spreads them over AZs), storage encrypted with a rotated customer-managed key, ENIs in
 * the private subnets behind a security group without ingress, and network isolation (the container
 * has no network access at all; SageMaker fetches the artifact for it).
 *
 * @example
 * const inference = new InferenceEndpoint(stack, 'Inference', { model: manifest.model, rootDir, vpc, subnets: network.privateSubnets });
 * inference.grantInvoke(fn);
 */
export class InferenceEndpoint extends Construct implements ScoringEndpoint {
  readonly endpointName: string;
  readonly endpointArn: string;
  readonly variantName = 'AllTraffic';
  readonly key: kms.Key;
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;
  readonly endpoint: sagemaker.CfnEndpoint;

  constructor(scope: Construct, id: string, props: InferenceEndpointProps) {
    super(scope, id);
    const { model } = props;
    const stack = Stack.of(this);
    this.endpointName = model.name;
    this.endpointArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'endpoint',
      resourceName: model.name,
    });

    const image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: props.rootDir,
      file: model.image.dockerfile,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });
    const artifact = modelArtifact(this, join(props.rootDir, model.artifactDir, 'model.tar.gz'));
    this.key = new kms.Key(this, 'Key', {
      description: `${model.name}: SageMaker endpoint storage encryption`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    denyGrantsExceptForAwsServices(this.key);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${model.name} SageMaker endpoint ENIs (network-isolated container; no ingress; HTTPS to ECR and S3 only)`,
      allowAllOutbound: false,
    });

    const endpointLogs = props.logging.createNamedLogGroup(
      this,
      'EndpointLogs',
      `/aws/sagemaker/Endpoints/${model.name}`,
    );
    this.role = new iam.Role(this, 'ExecutionRole', {
      // Confused-deputy guard: SageMaker may assume the role only on behalf of this account.
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `${model.name}: pulls the model image and its model.tar.gz, writes endpoint logs and metrics`,
    });
    image.repository.grantPull(this.role);
    // Exactly the one object, not the assets bucket.
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [artifact.objectArn] }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [this.key.keyArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [endpointLogs.logGroupArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': ['/aws/sagemaker/Endpoints'] } },
      }),
    );
    // VPC-attached models: SageMaker creates and removes ENIs with the execution role (the actions the
    // SageMaker guide lists for a model in a VPC, DescribeVpcEndpoints included). None supports
    // resource-level permissions except through the subnets and groups it is given.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:CreateNetworkInterfacePermission',
          'ec2:DeleteNetworkInterface',
          'ec2:DeleteNetworkInterfacePermission',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeVpcs',
          'ec2:DescribeVpcEndpoints',
          'ec2:DescribeDhcpOptions',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        resources: ['*'],
      }),
    );

    const subnets = props.vpc.selectSubnets(props.subnets);
    const cfnModel = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      enableNetworkIsolation: true,
      primaryContainer: {
        image: image.imageUri,
        modelDataUrl: artifact.s3ObjectUrl,
        mode: 'SingleModel',
      },
      vpcConfig: { subnets: subnets.subnetIds, securityGroupIds: [this.securityGroup.securityGroupId] },
    });
    // The role's policy must exist before SageMaker validates it by pulling the image.
    cfnModel.node.addDependency(this.role);

    const config = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', {
      kmsKeyId: this.key.keyArn,
      productionVariants: [
        {
          variantName: this.variantName,
          modelName: cfnModel.attrModelName,
          initialInstanceCount: model.instances.count,
          instanceType: model.instances.type,
          initialVariantWeight: 1,
        },
      ],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'SageMaker VPC ENI management (ec2:CreateNetworkInterface, Describe*) and ecr:GetAuthorizationToken have no resource-level permissions; cloudwatch:PutMetricData is limited by the cloudwatch:namespace condition to /aws/sagemaker/Endpoints.',
    });
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: model.name,
      endpointConfigName: config.attrEndpointConfigName,
    });
  }

  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint'],
      resourceArns: [this.endpointArn],
    });
  }
}

/** Where the model artifact lands: its S3 URL for `ModelDataUrl` and the one object ARN to read. */
interface ModelArtifactLocation {
  readonly s3ObjectUrl: string;
  readonly objectArn: string;
}

/**
 * Publishes `model.tar.gz` as a file asset whose object key ends in `.tar.gz`, as CreateModel documents
 * for `ModelDataUrl`. `s3_assets.Asset` names the key `<hash>` plus the file's last extension (`.gz`);
 * the synthesizer appends that extension to the source hash, so the hash is given the `.tar` part.
 */
function modelArtifact(scope: Construct, path: string): ModelArtifactLocation {
  const stack = Stack.of(scope);
  const staging = new AssetStaging(scope, 'Artifact', { sourcePath: path });
  const location = stack.synthesizer.addFileAsset({
    sourceHash: `${staging.assetHash}.tar`,
    fileName: staging.relativeStagedPath(stack),
    packaging: FileAssetPackaging.FILE,
  });
  const bucket = s3.Bucket.fromBucketName(scope, 'ArtifactBucket', location.bucketName);
  return { s3ObjectUrl: location.s3ObjectUrl, objectArn: bucket.arnForObjects(location.objectKey) };
}
