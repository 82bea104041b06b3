import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import { logicalIdOf, manifestFixture, synthPlatform } from './builder.ts';
import { githubTrustedRoles } from './trust.ts';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };

/** Flattens an `Fn::Join` (or a literal) into text, tokens rendered as `<LogicalId>` / `<LogicalId.Attr>` / `<Pseudo>`. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  const getAtt = v['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
  const join = v['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(flatten).join(join[0]);
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

describe('PlatformStack composition (the real declaration, synthesised once)', () => {
  // GIVEN this repository's declaration WHEN the real app renders it
  const manifest = manifestFixture();
  const platform = synthPlatform({ manifest });
  const { template, stack } = platform;
  after(() => platform.dispose());
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, asserted field by field below
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
  const statements = (): Array<Statement & { policy: string; roles: unknown[] }> =>
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
      .flatMap(([id, r]) =>
        (r.Properties.PolicyDocument.Statement as Statement[]).map((s) => ({
          ...s,
          policy: id,
          roles: r.Properties.Roles,
        })),
      );
  const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  const functionId = (name: string) =>
    logicalIdOf(template, 'AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp(name) },
    });
  const model = manifest.model;
  assert.ok(model, 'the declaration declares a model endpoint');

  it('names the SageMaker endpoint after the manifest model, and every InvokeEndpoint grant targets exactly it', () => {
    template.resourceCountIs('AWS::SageMaker::Endpoint', 1);
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: model.name });
    assert.equal(stack.inference?.endpointName, model.name);

    const invokes = statements().filter((s) => actions(s).includes('sagemaker:InvokeEndpoint'));
    const expected = `arn:<AWS::Partition>:sagemaker:us-east-1:<AWS::AccountId>:endpoint/${model.name}`;
    assert.deepEqual(
      invokes.map((s) => flatten(s.Resource)),
      invokes.map(() => expected),
    );
    // The two task roles (sidecars), predict and log-scorer.
    const grantees = invokes.flatMap((s) => s.roles.map((r) => flatten(r).replace(/[0-9A-F]{8}>$/, '>')));
    assert.deepEqual(grantees.sort(), [
      '<LogPipelineLogScorerRole>',
      '<PredictionApiPredictRole>',
      '<ServicebackendTaskDefinitionTaskRole>',
      '<ServicefrontendTaskDefinitionTaskRole>',
    ]);
  });

  it('serves POST /predict with an API key required, proxied to the predict function', () => {
    const predictResource = logicalIdOf(template, 'AWS::ApiGateway::Resource', {
      Properties: { PathPart: 'predict' },
    });
    const methods = template.findResources('AWS::ApiGateway::Method', {
      Properties: { ResourceId: { Ref: predictResource } },
    });
    assert.deepEqual(
      Object.values(methods).map((m) => [m.Properties.HttpMethod, m.Properties.ApiKeyRequired]),
      [['POST', true]],
    );
    const integration = Object.values(methods)[0]!.Properties.Integration;
    assert.equal(integration.Type, 'AWS_PROXY');
    assert.match(flatten(integration.Uri), new RegExp(`<${functionId('POST /predict')}\\.Arn>/invocations$`));
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { KeyType: 'API_KEY' });
  });

  it('subscribes the instance log group to log-scorer', () => {
    const filters = Object.values(template.findResources('AWS::Logs::SubscriptionFilter'));
    assert.deepEqual(
      filters.map((f) => [f.Properties.LogGroupName, f.Properties.DestinationArn]),
      [
        [
          {
            Ref: Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) =>
              id.startsWith('LogPipelineInstanceLogs'),
            ),
          },
          { 'Fn::GetAtt': [functionId('instance log subscription'), 'Arn'] },
        ],
      ],
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('instance log subscription'),
      Environment: { Variables: Match.objectLike({ MODEL_ENDPOINT_NAME: model.name }) },
    });
  });

  it("routes the monitoring's remediable alarms to the remediate function through one EventBridge rule", () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    assert.equal(rules.length, 1);
    const rule = rules[0]!.Properties;
    assert.deepEqual(
      rule.Targets.map((t: { Arn: unknown }) => t.Arn),
      [{ 'Fn::GetAtt': [functionId('alarm → scale out'), 'Arn'] }],
    );
    const alarmIds = stack.monitoring.remediationTargets.map((t) =>
      stack.getLogicalId(t.alarm.node.defaultChild as never),
    );
    // Instance CPU, CPU per service, unhealthy hosts of the web service, anomaly rate per service.
    assert.equal(alarmIds.length, 1 + 2 + 1 + 2);
    assert.deepEqual(
      rule.EventPattern.resources,
      alarmIds.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
    );
    assert.deepEqual(rule.EventPattern.detail, { state: { value: ['ALARM'] } });
  });

  it('builds one dashboard with rows per service, and function alarms for all four functions', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    assert.equal(dashboards.length, 1);
    assert.equal(dashboards[0]!.Properties.DashboardName, 'acme-platform');
    const body = JSON.parse(
      flatten(dashboards[0]!.Properties.DashboardBody).replace(/<[^>]+>/g, 'TOKEN'),
    ) as { widgets: Array<{ properties: { title?: string } }> };
    const titles = body.widgets.flatMap((w) => (w.properties.title ? [w.properties.title] : []));
    for (const service of manifest.services.map((s) => s.name)) {
      for (const row of ['CPU / memory (%)', 'tasks (running / desired)', 'anomaly score (max / mean)']) {
        assert.ok(titles.includes(`${service}: ${row}`), `${service}: ${row} in ${titles.join(', ')}`);
      }
    }
    assert.ok(titles.includes('frontend: ALB requests'));
    assert.ok(!titles.includes('backend: ALB requests'), 'the internal service has no ALB row');
    assert.ok(titles.includes('Endpoint: invocations'));
    assert.ok(titles.includes('Functions: errors'));
    const functionAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'Errors' && a.Properties.Namespace === 'AWS/Lambda',
    );
    assert.deepEqual(
      functionAlarms.map((a) => a.Properties.Dimensions[0].Value.Ref).sort(),
      [
        functionId('alarm → scale out'),
        functionId('instance log subscription'),
        functionId('POST /predict'),
        functionId('deployment lifecycle hook'),
      ].sort(),
    );
  });

  it('stages each function with its own bundle', () => {
    const keys = ['alarm → scale out', 'instance log subscription', 'POST /predict'].map(
      (d) => resources[functionId(d)]!.Properties.Code.S3Key,
    );
    assert.equal(new Set(keys).size, 3);
  });

  it('trusts no GitHub workflow: every delivery role is the bootstrap stack’s', () => {
    assert.deepEqual(githubTrustedRoles(template), []);
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
  });

  it('names the ECS services after the manifest and the cluster after the platform', () => {
    const names = Object.values(template.findResources('AWS::ECS::Service')).map(
      (s) => s.Properties.ServiceName,
    );
    assert.deepEqual(names.sort(), ['backend', 'frontend']);
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'acme' });
  });

  it('outputs the predict URL, the endpoint name and the cluster name (the delivery roles are the bootstrap stack’s)', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    assert.deepEqual(
      Object.keys(outputs).filter((key) => key.endsWith('RoleArn')),
      [],
    );
    assert.deepEqual(outputs.ModelEndpointName?.Value, model.name);
    assert.deepEqual(outputs.ClusterName?.Value, { Ref: logicalIdOf(template, 'AWS::ECS::Cluster') });
    assert.match(
      flatten(outputs.PredictUrl?.Value),
      /^https:\/\/<PredictionApi[0-9A-F]{8}>\.execute-api\.us-east-1\.<AWS::URLSuffix>\/<PredictionApiDeploymentStagev1[0-9A-F]{8}>\/predict$/,
    );
  });

  it('matches what .github/workflows/deploy.yml addresses: services, containers, ECR repositories', () => {
    const workflow = parse(
      readFileSync(new URL('../../../.github/workflows/deploy.yml', import.meta.url), 'utf8'),
    ) as {
      env: Record<string, string>;
      jobs: Record<string, { steps: Array<{ id?: string; run?: string }> }>;
    };
    // Each stage's rollout job (`rollout-<environment>`, written by `berth workflow`) rolls out the same images.
    const rollout = workflow.jobs['rollout-production']!.steps.at(-1)!.run!;
    // The deploy command resolves services and containers from the wiring; the workflow names images.
    const rolled = [...rollout.matchAll(/--image "([a-z-]+)=/g)].map((m) => m[1]);
    assert.deepEqual(rolled.sort(), ['backend', 'frontend', 'log-router', 'sidecar']);
    const wired = stack.wiring.tasks.flatMap((t) => t.containers.map((c) => c.image));
    for (const image of rolled) assert.ok(wired.includes(image as string), `${image} runs in a task`);
    // Images are pushed to `<ECR_REPOSITORY_PREFIX><image>` with the prefix "acme/".
    const tags = workflow.jobs.images!.steps.find((s) => s.id === 'tags')!.run!;
    const pushed = tags.match(/for image in ([a-z -]+);/)?.[1]?.split(' ') ?? [];
    // The registry stack creates exactly the wiring's images' repositories.
    assert.deepEqual(
      [...stack.imageRepositories.keys()].sort(),
      stack.wiring.images.map((i) => i.name).sort(),
    );
    for (const image of pushed.filter((i) => i !== 'model')) {
      assert.ok(stack.imageRepositories.has(image), `acme/${image} is pulled by a task`);
    }
  });
});
