import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PredictionApi } from '../constructs/prediction-api.ts';
import { API_WIRING, fakeEndpoint, PRIVATE, serverlessFixture } from './serverless-builder.ts';

describe('PredictionApi', () => {
  // GIVEN an endpoint WHEN the API is rendered
  const f = serverlessFixture();
  after(() => f.dispose());
  new PredictionApi(f.stack, 'PredictionApi', {
    platformName: 'acme',
    api: {
      ...API_WIRING,
      keys: [
        { name: 'billing', rateLimitPerSecond: 20, burstLimit: 40, dailyQuota: 50_000 },
        { name: 'ops', rateLimitPerSecond: 5, burstLimit: 10, dailyQuota: 1_000 },
      ],
    },
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

  it('gives every declared client its own API key and usage plan (throttle, daily quota)', () => {
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 2);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 2);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 2);
    for (const [name, rate, burst, quota] of [
      ['billing', 20, 40, 50_000],
      ['ops', 5, 10, 1_000],
    ] as const) {
      const key = Object.keys(
        template.findResources('AWS::ApiGateway::ApiKey', {
          Properties: { Name: `acme-prediction-${name}` },
        }),
      );
      const plan = Object.keys(
        template.findResources('AWS::ApiGateway::UsagePlan', {
          Properties: {
            UsagePlanName: `acme-prediction-${name}`,
            Throttle: { RateLimit: rate, BurstLimit: burst },
            Quota: { Limit: quota, Period: 'DAY' },
          },
        }),
      );
      assert.equal(key.length, 1, name);
      assert.equal(plan.length, 1, name);
      // That key belongs to that plan only.
      template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
        KeyId: { Ref: key[0] },
        UsagePlanId: { Ref: plan[0] },
      });
    }
    // The stage's own ceiling is the sum of the plans.
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 })],
    });
  });

  it('puts a WAF web ACL on the stage, the common set’s 8 KB body rule counting only (bodies are up to 5 MB)', () => {
    const acl = Object.keys(template.findResources('AWS::WAFv2::WebACL'))[0]!;
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Name: 'acme-prediction',
      Scope: 'REGIONAL',
      Rules: [
        Match.objectLike({
          Name: 'rate-limit-per-ip',
          Statement: { RateBasedStatement: Match.objectLike({ AggregateKeyType: 'IP' }) },
        }),
        Match.objectLike({
          Name: 'aws-common-rule-set',
          Statement: {
            ManagedRuleGroupStatement: {
              VendorName: 'AWS',
              Name: 'AWSManagedRulesCommonRuleSet',
              RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
            },
          },
        }),
      ],
    });
    const stage = Object.keys(template.findResources('AWS::ApiGateway::Stage'))[0]!;
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [acl, 'Arn'] },
      ResourceArn: {
        'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/restapis/'), '/stages/', { Ref: stage }])],
      },
    });
  });

  it('creates the execution log group API Gateway writes to, encrypted, with retention, before the stage', () => {
    const api = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0]!;
    const group = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([, g]) =>
      String(JSON.stringify(g.Properties.LogGroupName)).includes('API-Gateway-Execution-Logs_'),
    );
    assert.ok(group);
    assert.deepEqual(group[1].Properties.LogGroupName, {
      'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: api }, '/v1']],
    });
    assert.equal(group[1].Properties.RetentionInDays, 30);
    assert.ok(group[1].Properties.KmsKeyId);
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0]!;
    assert.ok((stage.DependsOn as string[]).includes(group[0]));
  });

  it("leaves the region's API Gateway logging role alone: no AWS::ApiGateway::Account unless declared", () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    assert.deepEqual(
      Object.values(template.findResources('AWS::IAM::Role')).filter((r) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('apigateway.amazonaws.com'),
      ),
      [],
    );
  });

  it('creates the account-wide logging role where declared, assumable only by API Gateway acting for this account', () => {
    const declared = serverlessFixture();
    try {
      new PredictionApi(declared.stack, 'PredictionApi', {
        platformName: 'acme',
        api: { ...API_WIRING, createsAccountLoggingRole: true },
        endpoint: fakeEndpoint(declared.stack),
        logging: declared.logging,
        vpc: declared.vpc,
        subnets: PRIVATE,
      });
      const rendered = Template.fromStack(declared.stack);
      rendered.resourceCountIs('AWS::ApiGateway::Account', 1);
      rendered.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            Match.objectLike({
              Principal: { Service: 'apigateway.amazonaws.com' },
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            }),
          ],
        },
      });
    } finally {
      declared.dispose();
    }
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
