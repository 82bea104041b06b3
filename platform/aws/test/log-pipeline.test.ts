import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LogPipeline } from '../constructs/log-pipeline.ts';
import { fakeEndpoint, PRIVATE, serverlessFixture } from './serverless-builder.ts';

describe('LogPipeline', () => {
  // GIVEN the instances' role and user data WHEN the pipeline is rendered
  const f = serverlessFixture();
  after(() => f.dispose());
  const pipeline = new LogPipeline(f.stack, 'LogPipeline', {
    platformName: 'acme',
    logging: f.logging,
    endpoint: fakeEndpoint(f.stack),
    budget: 0.001,
    instanceRole: f.instanceRole,
    instanceUserData: f.userData,
    vpc: f.vpc,
    subnets: PRIVATE,
  });
  const template = Template.fromStack(f.stack);

  it('stores the agent configuration in SSM: metrics by group and instance, system and ECS logs', () => {
    const param = Object.values(template.findResources('AWS::SSM::Parameter'))[0]!.Properties;
    assert.equal(param.Name, '/acme/cloudwatch-agent/config');
    const text = JSON.stringify(param.Value);
    for (const needle of [
      'mem_used_percent',
      'cpu_usage_active',
      'diskio',
      'bytes_recv',
      '/var/log/messages',
      '/var/log/ecs/ecs-agent.log',
    ]) {
      assert.ok(text.includes(needle), `agent config lacks ${needle}`);
    }
  });

  it('installs and starts the agent from that parameter in the instance user data', () => {
    const script = f.userData.render();
    assert.match(script, /dnf install -y amazon-cloudwatch-agent rsyslog/);
    assert.match(
      script,
      /amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c ssm:\/acme\/cloudwatch-agent\/config/,
    );
  });

  it('subscribes the log-scorer to the encrypted instance log group, with all events', () => {
    const group = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) =>
      id.startsWith('LogPipelineInstanceLogs'),
    );
    assert.ok(group?.[1].Properties.KmsKeyId, 'instance logs encrypted');
    template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      FilterPattern: '',
      DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogPipelineLogScorerFunction'), 'Arn'] },
    });
  });

  it('writes scores into the anomaly log group and dead-letters failed deliveries after two retries', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: Match.objectLike({
        LogGroup: { Ref: Match.stringLikeRegexp('^LoggingAnomalyLogGroup') },
      }),
      Environment: {
        Variables: {
          MODEL_ENDPOINT_NAME: 'log-anomaly',
          MODEL_TIMEOUT_MS: '5000',
          DEFAULT_SERVICE: 'instances',
          // The model endpoint's declared alert budget decides the instance logs' anomalies.
          ANOMALY_BUDGET: '0.001',
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] } },
      },
    });
    assert.equal(pipeline.function.function.node.path, 'Serverless/LogPipeline/LogScorer/Function');
  });

  it('keeps failed batches (raw log lines) 4 days in a queue encrypted with the platform key', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 4 * 24 * 3600,
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LoggingKey'), 'Arn'] },
      RedriveAllowPolicy: { redrivePermission: 'denyAll' },
    });
    // The function may send to it and use the key for that, with no wildcard actions.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] },
          },
          {
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LoggingKey'), 'Arn'] },
          },
        ]),
      },
    });
  });

  it('reads the agent configuration with ssm:GetParameter on that one parameter (no DescribeParameters)', () => {
    const actions = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>)
      .flatMap((st) => [st.Action].flat())
      .filter((a) => a.startsWith('ssm:'));
    assert.deepEqual(actions, ['ssm:GetParameter']);
  });

  it('lets the instances write only their log group and the CWAgent namespace', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^InstanceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogPipelineInstanceLogs'), 'Arn'] },
          }),
          Match.objectLike({
            Action: 'cloudwatch:PutMetricData',
            Condition: { StringEquals: { 'cloudwatch:namespace': 'CWAgent' } },
          }),
        ]),
      },
    });
  });
});
