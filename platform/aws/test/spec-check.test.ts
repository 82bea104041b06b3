import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { checkTemplate, formatSpecFindings, loadResourceSpec, type ResourceSpec } from '../spec-check.ts';

/** Each check of the CloudFormation spec validator, on a small template with one planted defect. */

let spec: ResourceSpec;
before(async () => {
  spec = await loadResourceSpec();
});

/** A valid small template; each test breaks one thing in a copy. */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, changed field by field in the tests
type Json = Record<string, any>;
function template(): Json {
  return {
    Parameters: { ImageTag: { Type: 'String' } },
    Resources: {
      Logs: {
        Type: 'AWS::Logs::LogGroup',
        Properties: {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
          LogGroupName: { 'Fn::Sub': '/acme/${AWS::StackName}/${ImageTag}' },
          RetentionInDays: 30,
        },
        DeletionPolicy: 'Retain',
      },
      Topic: {
        Type: 'AWS::SNS::Topic',
        Properties: {
          DisplayName: 'alarms',
          Tags: [{ Key: 'platform', Value: 'acme' }],
        },
      },
      Group: {
        Type: 'AWS::EC2::SecurityGroup',
        Properties: { GroupDescription: 'alarm sources', VpcId: 'vpc-0123' },
      },
      Alarm: {
        Type: 'AWS::CloudWatch::Alarm',
        DependsOn: ['Logs'],
        Properties: {
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 1,
          Threshold: 5,
          MetricName: 'LinesScored',
          Namespace: 'Platform/LogAnomaly',
          Period: 60,
          Statistic: 'Sum',
          AlarmActions: [{ Ref: 'Topic' }],
          AlarmDescription: { 'Fn::Join': ['', ['log group ', { 'Fn::GetAtt': ['Logs', 'Arn'] }]] },
        },
      },
    },
    Outputs: { TopicArn: { Value: { 'Fn::GetAtt': ['Topic', 'TopicArn'] } } },
  };
}

function findings(change: (t: Json) => void): string {
  const t = template();
  change(t);
  return formatSpecFindings(checkTemplate(t, spec));
}

describe('checkTemplate', () => {
  it('accepts a valid template (intrinsics, tags, Fn::Sub with pseudo parameters and parameters)', () => {
    assert.equal(
      findings(() => {}),
      '',
    );
  });

  it('refuses an unknown property', () => {
    assert.equal(
      findings((t) => {
        t.Resources.Topic.Properties.DisplayNmae = 'typo';
      }),
      "Topic (Properties.DisplayNmae): unknown property 'DisplayNmae' of AWS::SNS::Topic",
    );
  });

  it('refuses an unknown property inside a nested property type', () => {
    assert.equal(
      findings((t) => {
        t.Resources.Topic.Properties.Tags[0].Propagate = true;
      }),
      "Topic (Properties.Tags.0.Propagate): unknown property 'Propagate' of Tag",
    );
  });

  it('refuses a missing required property', () => {
    assert.equal(
      findings((t) => {
        delete t.Resources.Group.Properties.GroupDescription;
      }),
      "Group (Properties.GroupDescription): required property 'GroupDescription' of AWS::EC2::SecurityGroup is missing",
    );
  });

  it('refuses a missing required property of a nested type', () => {
    assert.equal(
      findings((t) => {
        t.Resources.Task = {
          Type: 'AWS::ECS::TaskDefinition',
          Properties: { ContainerDefinitions: [{ Name: 'app', Memory: '512' }] },
        };
      }),
      "Task (Properties.ContainerDefinitions.0.Image): required property 'Image' of ContainerDefinition is missing",
    );
  });

  it('refuses a value of the wrong kind', () => {
    assert.equal(
      findings((t) => {
        t.Resources.Alarm.Properties.AlarmActions = { Ref: 'Topic', Extra: 1 };
        t.Resources.Logs.Properties.RetentionInDays = 'thirty';
      }),
      [
        'Logs (Properties.RetentionInDays): must be a number, got string "thirty"',
        'Alarm (Properties.AlarmActions): must be a list, got an object',
      ].join('\n'),
    );
  });

  it('refuses a dangling Ref, GetAtt, Fn::Sub name and DependsOn', () => {
    assert.equal(
      findings((t) => {
        t.Resources.Alarm.Properties.AlarmActions = [{ Ref: 'Topik' }];
        t.Resources.Alarm.DependsOn = ['Gone'];
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
        t.Resources.Logs.Properties.LogGroupName = { 'Fn::Sub': '/acme/${Tag}' };
        t.Outputs.TopicArn.Value = { 'Fn::GetAtt': ['Nothing', 'Arn'] };
      }),
      [
        "Logs (Properties.LogGroupName): Fn::Sub names 'Tag', which this template does not declare",
        'Alarm (DependsOn): depends on "Gone", which is not a resource of this template',
        "Alarm (Properties.AlarmActions.0): Ref to 'Topik', which this template does not declare",
        "Outputs.TopicArn (Value): Fn::GetAtt on 'Nothing', which is not a resource of this template",
      ].join('\n'),
    );
  });

  it('refuses a GetAtt attribute the type does not have', () => {
    assert.equal(
      findings((t) => {
        t.Outputs.TopicArn.Value = { 'Fn::GetAtt': 'Topic.Arn' };
      }),
      "Outputs.TopicArn (Value): Fn::GetAtt Topic.Arn: AWS::SNS::Topic has no attribute 'Arn' (it has TopicArn, TopicName)",
    );
  });

  it('refuses an unknown resource type and an unknown resource attribute', () => {
    assert.equal(
      findings((t) => {
        t.Resources.Topic.Type = 'AWS::SNS::Topics';
        t.Resources.Logs.DeletionPolicy = 'Retain';
        t.Resources.Logs.Retain = true;
      }),
      [
        "Logs (Retain): unknown resource attribute 'Retain'",
        "Topic (Type): unknown resource type 'AWS::SNS::Topics'",
      ].join('\n'),
    );
  });
});
