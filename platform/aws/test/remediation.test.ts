import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { RemediationRulesSchema } from '../../../contracts/remediation-rules.ts';
import { Remediation } from '../constructs/remediation.ts';
import { PRIVATE, serverlessFixture } from './serverless-builder.ts';

describe('Remediation', () => {
  // GIVEN two remediable alarms WHEN remediation is rendered
  const f = serverlessFixture();
  after(() => f.dispose());
  const metric = new cloudwatch.Metric({ namespace: 'AWS/ECS', metricName: 'CPUUtilization' });
  const cpu = new cloudwatch.Alarm(f.stack, 'BackendCpu', { metric, threshold: 80, evaluationPeriods: 3 });
  const instance = new cloudwatch.Alarm(f.stack, 'InstanceCpu', {
    metric,
    threshold: 85,
    evaluationPeriods: 5,
  });
  const anomalyRate = new cloudwatch.Alarm(f.stack, 'AnomalyRate', {
    metric,
    threshold: 5,
    evaluationPeriods: 2,
  });
  const target5xx = new cloudwatch.Alarm(f.stack, 'Target5xx', {
    metric,
    threshold: 10,
    evaluationPeriods: 3,
  });
  new Remediation(f.stack, 'Remediation', {
    platformName: 'acme',
    settings: { dryRun: true, cooldownSeconds: 600, maxActionsPerHour: 6 },
    cluster: f.cluster,
    vpc: f.vpc,
    subnets: PRIVATE,
    autoScalingGroupName: 'acme-asg',
    topic: f.notifications.topic,
    topicKey: f.notifications.key,
    logging: f.logging,
    targets: [
      {
        alarm: cpu,
        action: 'scale-out',
        service: { name: 'backend', serviceName: 'acme-backend', maxTasks: 6 },
      },
      { alarm: instance, action: 'reboot-instance' },
      {
        alarm: anomalyRate,
        action: 'restart-unhealthy-tasks',
        service: { name: 'frontend', serviceName: 'acme-frontend', maxTasks: 4 },
        requireAlarms: [target5xx],
      },
    ],
  });
  const template = Template.fromStack(f.stack);
  const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0]!.Properties;

  it('passes rules and settings the function’s own schema accepts', () => {
    const env = fn.Environment.Variables;
    assert.deepEqual(
      {
        DRY_RUN: env.DRY_RUN,
        COOLDOWN_SECONDS: env.COOLDOWN_SECONDS,
        MAX_ACTIONS_PER_WINDOW: env.MAX_ACTIONS_PER_WINDOW,
      },
      { DRY_RUN: 'true', COOLDOWN_SECONDS: '600', MAX_ACTIONS_PER_WINDOW: '6' },
    );
    // Alarm names are deploy-time references; substitute them to check the JSON the function will read.
    const json = (env.REMEDIATION_RULES['Fn::Join'][1] as unknown[])
      .map((p) => (typeof p === 'string' ? p : 'resolved-alarm-name'))
      .join('');
    let n = 0;
    const rules = RemediationRulesSchema.safeParse(
      JSON.parse(json.replaceAll('resolved-alarm-name', () => `alarm-${++n}`)),
    );
    assert.equal(rules.success, true, JSON.stringify(rules.error?.issues));
    assert.deepEqual(
      rules.data!.map((r) => r.action),
      ['scale-out', 'reboot-instance', 'restart-unhealthy-tasks'],
    );
    const redeploy = rules.data![2] as Extract<
      (typeof rules.data)[number],
      { action: 'restart-unhealthy-tasks' }
    >;
    assert.deepEqual(redeploy.requireAlarms, ['alarm-4'], 'the symptom alarm travels with the rule');
    assert.equal(rules.data![0]!.action === 'scale-out' && rules.data![0]!.service.targetTracking, true);
  });

  it('reserves concurrency, never retries asynchronously, and dead-letters failures', () => {
    assert.equal(fn.ReservedConcurrentExecutions, 2);
    assert.equal(fn.Timeout, 360);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RemediationDeadLetterQueue'), 'Arn'] },
        },
      },
    });
  });

  it('routes only these alarms entering ALARM to the function', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [
          { 'Fn::GetAtt': [Match.stringLikeRegexp('^BackendCpu'), 'Arn'] },
          { 'Fn::GetAtt': [Match.stringLikeRegexp('^InstanceCpu'), 'Arn'] },
          { 'Fn::GetAtt': [Match.stringLikeRegexp('^AnomalyRate'), 'Arn'] },
        ],
        detail: { state: { value: ['ALARM'] } },
      },
      Targets: [
        Match.objectLike({ RetryPolicy: { MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 4 } }),
      ],
    });
  });

  it('may read alarm states (stale events, symptoms, target tracking) and its budget items', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>,
    );
    const describe = statements.find((s) => s.Action === 'cloudwatch:DescribeAlarms')!;
    assert.match(JSON.stringify(describe.Resource), /:cloudwatch:.*:alarm:\*/);
    const ledger = statements.find((s) => JSON.stringify(s.Action).includes('dynamodb:GetItem'))!;
    assert.deepEqual(ledger.Action, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
  });

  it('keeps its ledger in an encrypted on-demand table with TTL and point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('scopes ECS actions to the cluster and reboots to the Auto Scaling group’s instances', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>,
    );
    const reboot = statements.find((s) => s.Action === 'ec2:RebootInstances')!;
    assert.deepEqual(reboot.Condition, {
      StringEquals: { 'ec2:ResourceTag/aws:autoscaling:groupName': 'acme-asg' },
    });
    const drain = statements.find((s) => JSON.stringify(s.Action).includes('UpdateContainerInstancesState'))!;
    assert.deepEqual(Object.keys(drain.Condition as object), ['ArnEquals']);
    const update = statements.find((s) => JSON.stringify(s.Action).includes('ecs:UpdateService'))!;
    assert.match(JSON.stringify(update.Resource), /:service\/",\{"Ref":"Cluster/);
    assert.equal(
      statements.some((s) => s.Action === '*' || JSON.stringify(s.Action).includes('ecs:*')),
      false,
    );
  });

  it('rejects a service action without a service', () => {
    const g = serverlessFixture();
    try {
      const alarm = new cloudwatch.Alarm(g.stack, 'A', { metric, threshold: 1, evaluationPeriods: 1 });
      assert.throws(
        () =>
          new Remediation(g.stack, 'Bad', {
            platformName: 'acme',
            settings: { dryRun: false, cooldownSeconds: 0, maxActionsPerHour: 1 },
            cluster: g.cluster,
            vpc: g.vpc,
            subnets: PRIVATE,
            autoScalingGroupName: 'asg',
            topic: g.notifications.topic,
            logging: g.logging,
            targets: [{ alarm, action: 'restart-unhealthy-tasks' }],
          }),
        {
          message:
            'Serverless/Bad: targets[0] (restart-unhealthy-tasks) has no service; the monitoring names the service each alarm concerns (a broken wiring invariant, not a declaration error)',
        },
      );
    } finally {
      g.dispose();
    }
  });
});
