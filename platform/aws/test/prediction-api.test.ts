import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PredictionApi } from '../constructs/prediction-api.ts';
import { fakeEndpoint, PRIVATE, serverlessFixture } from './serverless-builder.ts';

describe('PredictionApi', () => {
  // GIVEN an endpoint WHEN the API is rendered
  const f = serverlessFixture();
  after(() => f.dispose());
  new PredictionApi(f.stack, 'PredictionApi', {
    platformName: 'acme',
    endpoint: fakeEndpoint(f.stack),
    logging: f.logging,
    vpc: f.vpc,
    subnets: PRIVATE,
  });
  const template = Template.fromStack(f.stack);

  it('exposes POST /predict with an API key, the JSON-schema model and a body validator, proxied to Lambda', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ApiKeyRequired: true,
      RequestModels: { 'application/json': { Ref: Match.stringLikeRegexp('PredictionRequest') } },
      RequestValidatorId: { Ref: Match.stringLikeRegexp('BodyValidator') },
      Integration: Match.objectLike({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' }),
    });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true });
    const model = Object.values(template.findResources('AWS::ApiGateway::Model'))[0]!.Properties;
    assert.deepEqual(
      model.Schema.oneOf.map((o: { required: string[] }) => o.required),
      [['data'], ['logs']],
    );
    assert.equal(model.Schema.oneOf[1].properties.logs.items.properties.message.maxLength, 65536);
  });

  it('throttles per key with a usage plan and a daily quota', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 50, BurstLimit: 100 },
      Quota: { Limit: 100000, Period: 'DAY' },
    });
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  it('writes JSON access logs to an encrypted group and traces the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      }),
      MethodSettings: [
        Match.objectLike({ LoggingLevel: 'ERROR', MetricsEnabled: true, DataTraceEnabled: false }),
      ],
    });
    const accessGroup = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) =>
      id.startsWith('PredictionApiAccessLogs'),
    );
    assert.ok(accessGroup?.[1].Properties.KmsKeyId, 'access logs encrypted');
  });

  it('answers API Gateway errors in the platform error shape', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: {
        'application/json':
          '{"error":{"code":"invalid_request","message":"body does not match the PredictionRequest schema"}}',
      },
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      StatusCode: '429',
    });
  });

  it('runs predict on arm64 Node.js 24 in the VPC with only InvokeEndpoint on the one endpoint', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 10,
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { MODEL_ENDPOINT_NAME: 'log-anomaly', MODEL_TIMEOUT_MS: '2000' } },
      VpcConfig: Match.objectLike({
        SubnetIds: f.vpc.privateSubnets.map((s) => f.stack.resolve(s.subnetId)),
      }),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'sagemaker:InvokeEndpoint',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':sagemaker:us-east-1:',
                  { Ref: 'AWS::AccountId' },
                  ':endpoint/log-anomaly',
                ],
              ],
            },
          },
        ]),
      },
    });
    template.resourcePropertiesCountIs(
      'AWS::IAM::Role',
      { ManagedPolicyArns: Match.arrayWith([Match.stringLikeRegexp('AWSLambda')]) },
      0,
    );
  });
});
