import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { declarePlatform as declareRepository } from '../../config/declaration.ts';
import type { App } from '../../config/index.ts';
import { createPlatformApp } from '../aws/app.ts';
import { wirePlatform } from '../wiring/index.ts';
import { declarePlatform as declareShop } from './fixtures/shop-environments.declaration.ts';

/**
 * Issue 22, environments: one declaration synthesised as staging and as production side by side. Two
 * environments share an account, so no physical name may be the same in both; and once the
 * environment's name is normalised away, the templates may differ only where the declaration says
 * they do. The test lists every difference and fails on any other.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Rendered {
  readonly stacks: Record<string, Json>;
}

const outdirs: string[] = [];

function render(declare: () => App, environment: string): Rendered {
  const outdir = mkdtempSync(join(tmpdir(), `environments-${environment}-`));
  outdirs.push(outdir);
  const wiring = wirePlatform(declare().synth({ environment }));
  const { stack, bootstrapStack } = createPlatformApp({
    wiring,
    outdir,
    env: { region: 'eu-west-1' },
    validate: false,
    // Path metadata names every resource by its construct path, which the comparison keys resources by.
    context: { '@aws-cdk/core:appMode': 'inmemory', 'aws:cdk:enable-path-metadata': true },
  });
  return {
    stacks: {
      [bootstrapStack.stackName]: Template.fromStack(bootstrapStack).toJSON() as Json,
      [stack.stackName]: Template.fromStack(stack).toJSON() as Json,
    },
  };
}

/**
 * The environment's name (and the names made of it) replaced by one placeholder, in both renderings,
 * and every logical id by its construct path: a logical id's hash covers the stack's name (a security
 * group rule's id names its peer by path), so ids differ where the resources do not.
 */
function normalise(template: Json): Json {
  const resources = (template as { Resources: Record<string, { Metadata?: Record<string, string> }> })
    .Resources;
  let text = JSON.stringify(template);
  const ids = Object.keys(resources).sort((a, b) => b.length - a.length);
  // A path may embed another construct's unique id (`to shopstagingplatformNetwork…7C56C731:443`), whose
  // hash covers the stack's name: the name is normalised and the hash dropped.
  const pathOf = new Map(
    ids.map((id) => {
      const path = resources[id]!.Metadata?.['aws:cdk:path']?.replace(/^[^/]*\//, '') ?? id;
      const normalised = path
        .replace(/staging|production/g, 'ENV')
        .replace(/(ENVplatform[A-Za-z0-9]*?)[0-9A-F]{8}(?![A-Za-z0-9])/g, '$1');
      return [id, `<${normalised}>`];
    }),
  );
  text = text.replace(
    new RegExp(`(?<![A-Za-z0-9])(${ids.join('|')})(?![A-Za-z0-9])`, 'g'),
    (id) => pathOf.get(id)!,
  );
  // Generated ids in values (a policy's name, a statement's Sid) embed the same hashes.
  const normalisedText = text
    .replace(/staging|production/g, 'ENV')
    .replace(/(ENVplatform[A-Za-z0-9]*?)[0-9A-F]{8}(?![A-Za-z0-9])/g, '$1');
  const normalised = JSON.parse(normalisedText) as {
    Resources: Record<string, { Metadata?: unknown }>;
  };
  for (const resource of Object.values(normalised.Resources)) delete resource.Metadata;
  return normalised as Json;
}

/**
 * Every leaf where two JSON values differ, as `path: a → b`: a resource only one side has by its type,
 * a long text by the first place it differs.
 */
function differences(a: Json | undefined, b: Json | undefined, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const typeOf = (v: Json | undefined) => (v as { Type?: string } | undefined)?.Type;
  if (a === undefined || b === undefined) {
    return [
      `${path}: ${a === undefined ? `(none) → ${typeOf(b) ?? JSON.stringify(b)}` : `${typeOf(a) ?? JSON.stringify(a)} → (none)`}`,
    ];
  }
  if (typeof a === 'string' && typeof b === 'string' && (a.length > 120 || b.length > 120)) {
    let at = 0;
    while (a[at] === b[at]) at++;
    const around = (s: string) => JSON.stringify(s.slice(Math.max(0, at - 30), at + 30));
    return [`${path} @${at}: …${around(a)}… → …${around(b)}…`];
  }
  const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences(a[k], b[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    return a.flatMap((v, i) => differences(v, b[i], `${path}[${i}]`));
  }
  return [`${path}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`];
}

/**
 * The properties that name a resource in an account and region (two resources of one type cannot share
 * the value), by resource type. An ECS service's and a Cloud Map service's names are scoped by their
 * cluster and namespace, whose names are checked.
 */
const NAMING_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::ApiGateway::ApiKey': 'Name',
  'AWS::ApiGateway::RestApi': 'Name',
  'AWS::ApiGateway::UsagePlan': 'UsagePlanName',
  'AWS::AutoScaling::AutoScalingGroup': 'AutoScalingGroupName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::Cognito::UserPool': 'UserPoolName',
  'AWS::Cognito::UserPoolDomain': 'Domain',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::EC2::LaunchTemplate': 'LaunchTemplateName',
  'AWS::EC2::SecurityGroup': 'GroupName',
  'AWS::ECR::Repository': 'RepositoryName',
  'AWS::ECS::CapacityProvider': 'Name',
  'AWS::ECS::Cluster': 'ClusterName',
  'AWS::ECS::TaskDefinition': 'Family',
  'AWS::ElasticLoadBalancingV2::LoadBalancer': 'Name',
  'AWS::ElasticLoadBalancingV2::TargetGroup': 'Name',
  'AWS::Events::Rule': 'Name',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::OIDCProvider': 'Url',
  'AWS::IAM::Role': 'RoleName',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SageMaker::Endpoint': 'EndpointName',
  'AWS::SageMaker::EndpointConfig': 'EndpointConfigName',
  'AWS::SageMaker::Model': 'ModelName',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::Scheduler::ScheduleGroup': 'Name',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::ServiceDiscovery::PrivateDnsNamespace': 'Name',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SSM::Parameter': 'Name',
  'AWS::WAFv2::WebACL': 'Name',
};

/**
 * The physical names a template gives, as `Type Property value`, where the value is fixed text (pseudo
 * parameters such as the account id kept as `${…}`); a name made from a generated one is unique already.
 */
function physicalNames(template: Json): string[] {
  const resources = (
    template as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }
  ).Resources;
  const names: string[] = [];
  for (const resource of Object.values(resources)) {
    const prop = NAMING_PROPERTIES[resource.Type];
    const text = prop ? fixedText(resource.Properties?.[prop]) : undefined;
    if (text !== undefined) names.push(`${resource.Type} ${prop} ${text}`);
  }
  return names.sort();
}

function fixedText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') return v.Ref.startsWith('AWS::') ? `\${${v.Ref}}` : undefined;
    const join = v['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) {
      const parts = join[1].map(fixedText);
      return parts.every((p) => p !== undefined) ? parts.join(join[0]) : undefined;
    }
  }
  return undefined;
}

/**
 * Renders `declare` as staging and as production and checks the two: their own stacks, no physical
 * name in common, and, the environment's name normalised, exactly the `expected` differences.
 */
function sideBySide(title: string, declare: () => App, platform: string, expected: readonly string[]): void {
  describe(title, () => {
    let staging: Rendered;
    let production: Rendered;
    before(() => {
      staging = render(declare, 'staging');
      production = render(declare, 'production');
    });
    after(() => {
      for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    it('gives each environment its own stacks', () => {
      assert.deepEqual(Object.keys(staging.stacks), [
        `${platform}-staging-bootstrap`,
        `${platform}-staging-platform`,
      ]);
      assert.deepEqual(Object.keys(production.stacks), [
        `${platform}-production-bootstrap`,
        `${platform}-production-platform`,
      ]);
    });

    it('has no physical name in common (cluster, task families, repositories, release records, endpoint, user pool, web ACLs, usage plans)', () => {
      const inStaging = Object.values(staging.stacks).flatMap(physicalNames);
      const inProduction = new Set(Object.values(production.stacks).flatMap(physicalNames));
      // The scan reads real names: the cluster and the repositories are named in both.
      assert.ok(
        inStaging.includes(`AWS::ECS::Cluster ClusterName ${platform}-staging`),
        inStaging.join('\n'),
      );
      assert.ok(
        inStaging.some((n) => n.startsWith(`AWS::ECR::Repository RepositoryName ${platform}-staging/`)),
      );
      assert.deepEqual(
        inStaging.filter((name) => inProduction.has(name)),
        [],
      );
    });

    it('differs only where the declaration says, once the environment name is normalised', () => {
      const diff = Object.keys(staging.stacks).flatMap((name) => {
        const other = name.replace('staging', 'production');
        return differences(normalise(staging.stacks[name]!), normalise(production.stacks[other]!), name);
      });
      assert.deepEqual(diff.sort(), [...expected].sort());
    });
  });
}

/** Every difference between the shop's staging and production, each from an override it declares. */
const SHOP_DIFFERENCES: string[] = [
  // capacity: staging 2–3 instances, production 3–12
  'shop-staging-platform.Resources.<Capacity/AutoScalingGroup/ASG>.Properties.MaxSize: "3" → "12"',
  'shop-staging-platform.Resources.<Capacity/AutoScalingGroup/ASG>.Properties.MinSize: "2" → "3"',
  // edge.domainName: staging.shop.example.com, shop.example.com (certificate, sign-in callback, the gate's probes)
  'shop-staging-platform.Resources.<DeploymentGate/Gate/Function/Resource>.Properties.Environment.Variables.PROBE_BASE_URL: "https://ENV.shop.example.com:8443" → "https://shop.example.com:8443"',
  'shop-staging-platform.Resources.<Edge/Certificate/Resource>.Properties.DomainName: "ENV.shop.example.com" → "shop.example.com"',
  'shop-staging-platform.Resources.<Edge/UserPool/ConsoleClient/Resource>.Properties.CallbackURLs[0]: "https://ENV.shop.example.com/oauth2/idpresponse" → "https://shop.example.com/oauth2/idpresponse"',
  // observability.alarmEmail: production pages oncall@ and lead@shop.example.com
  'shop-staging-platform.Resources.<Notifications/Topic/lead@shop.example.com/Resource>: (none) → AWS::SNS::Subscription',
  'shop-staging-platform.Resources.<Notifications/Topic/oncall@shop.example.com/Resource>: (none) → AWS::SNS::Subscription',
  // scaling: remediation scales a service out up to its maxTasks
  'shop-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][6]: "\\",\\"maxTasks\\":6,\\"targetTracking\\":true}},{\\"alarmName\\":\\"" → "\\",\\"maxTasks\\":12,\\"targetTracking\\":true}},{\\"alarmName\\":\\""',
  'shop-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][10]: "\\",\\"maxTasks\\":6,\\"targetTracking\\":true},\\"requireAlarms\\":[\\"" → "\\",\\"maxTasks\\":12,\\"targetTracking\\":true},\\"requireAlarms\\":[\\""',
  'shop-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][16]: "\\",\\"maxTasks\\":2,\\"targetTracking\\":true}},{\\"alarmName\\":\\"" → "\\",\\"maxTasks\\":6,\\"targetTracking\\":true}},{\\"alarmName\\":\\""',
  'shop-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][20]: "\\",\\"maxTasks\\":2,\\"targetTracking\\":true},\\"requireAlarms\\":[]},{\\"alarmName\\":\\"" → "\\",\\"maxTasks\\":6,\\"targetTracking\\":true},\\"requireAlarms\\":[]},{\\"alarmName\\":\\""',
  'shop-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][24]: "\\",\\"maxTasks\\":2,\\"targetTracking\\":true},\\"requireAlarms\\":[\\"" → "\\",\\"maxTasks\\":6,\\"targetTracking\\":true},\\"requireAlarms\\":[\\""',
  'shop-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][34]: "\\",\\"maxTasks\\":6,\\"targetTracking\\":true}},{\\"alarmName\\":\\"" → "\\",\\"maxTasks\\":10,\\"targetTracking\\":true}},{\\"alarmName\\":\\""',
  'shop-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][38]: "\\",\\"maxTasks\\":6,\\"targetTracking\\":true},\\"requireAlarms\\":[\\"" → "\\",\\"maxTasks\\":10,\\"targetTracking\\":true},\\"requireAlarms\\":[\\""',
  // scaling: orders 3–12 and mailer up to 10 in production, storefront 1–2 in staging
  'shop-staging-platform.Resources.<Service-mailer/Service/TaskCount/Target/Resource>.Properties.MaxCapacity: 6 → 10',
  'shop-staging-platform.Resources.<Service-orders/Service/Service>.Properties.DesiredCount: 2 → 3',
  'shop-staging-platform.Resources.<Service-orders/Service/TaskCount/Target/Resource>.Properties.MaxCapacity: 6 → 12',
  'shop-staging-platform.Resources.<Service-orders/Service/TaskCount/Target/Resource>.Properties.MinCapacity: 2 → 3',
  'shop-staging-platform.Resources.<Service-storefront/Service/Service>.Properties.DesiredCount: 1 → 2',
  'shop-staging-platform.Resources.<Service-storefront/Service/TaskCount/Target/Resource>.Properties.MaxCapacity: 2 → 6',
  'shop-staging-platform.Resources.<Service-storefront/Service/TaskCount/Target/Resource>.Properties.MinCapacity: 1 → 2',
  // deployment: storefront canary 50 % for 2 minutes in staging, 10 % for 10 minutes in production
  'shop-staging-platform.Resources.<Service-storefront/Service/Service>.Properties.DeploymentConfiguration.CanaryConfiguration.CanaryBakeTimeInMinutes: 2 → 10',
  'shop-staging-platform.Resources.<Service-storefront/Service/Service>.Properties.DeploymentConfiguration.CanaryConfiguration.CanaryPercent: 50 → 10',
  // delivery: production's push role is its promote job's (issue 21): it trusts the production environment,
  // not the branch, and may read staging's repositories (EcrPullPreviousStage) and find what it copied
  `shop-staging-bootstrap.Outputs.PushRoleArn.Description: "vars.AWS_PUSH_ROLE_ARN of the deploy workflow: pushes images (main branch)" → "vars.AWS_PUSH_ROLE_ARN of the ENV environment: copies the release's images from ENV's repositories (promote job)"`,
  'shop-staging-bootstrap.Resources.<Delivery/PushRole/DefaultPolicy/Resource>.Properties.PolicyDocument.Statement: [{"Action":"ecr:GetAuthorizationToken","Effect":"Allow","Resource":"*","Sid":"EcrLogin"},{"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:CompleteLayerUpload","ecr:GetDownloadUrlForLayer","ecr:InitiateLayerUpload","ecr:PutImage","ecr:UploadLayerPart"],"Effect":"Allow","Resource":[{"Fn::GetAtt":["<Registry/orders/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/storefront/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/mailer/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/nightly-report/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/log-router/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/sidecar/Resource>","Arn"]}],"Sid":"EcrPush"}] → [{"Action":"ecr:GetAuthorizationToken","Effect":"Allow","Resource":"*","Sid":"EcrLogin"},{"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:CompleteLayerUpload","ecr:GetDownloadUrlForLayer","ecr:InitiateLayerUpload","ecr:PutImage","ecr:UploadLayerPart"],"Effect":"Allow","Resource":[{"Fn::GetAtt":["<Registry/orders/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/storefront/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/mailer/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/nightly-report/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/log-router/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/sidecar/Resource>","Arn"]}],"Sid":"EcrPush"},{"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:DescribeImages","ecr:GetDownloadUrlForLayer"],"Effect":"Allow","Resource":[{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecr:eu-west-1:",{"Ref":"AWS::AccountId"},":repository/shop-ENV/orders"]]},{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecr:eu-west-1:",{"Ref":"AWS::AccountId"},":repository/shop-ENV/storefront"]]},{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecr:eu-west-1:",{"Ref":"AWS::AccountId"},":repository/shop-ENV/mailer"]]},{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecr:eu-west-1:",{"Ref":"AWS::AccountId"},":repository/shop-ENV/nightly-report"]]},{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecr:eu-west-1:",{"Ref":"AWS::AccountId"},":repository/shop-ENV/log-router"]]},{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecr:eu-west-1:",{"Ref":"AWS::AccountId"},":repository/shop-ENV/sidecar"]]}],"Sid":"EcrPullPreviousStage"},{"Action":"ecr:DescribeImages","Effect":"Allow","Resource":[{"Fn::GetAtt":["<Registry/orders/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/storefront/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/mailer/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/nightly-report/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/log-router/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/sidecar/Resource>","Arn"]}],"Sid":"EcrDescribePromoted"}]',
  'shop-staging-bootstrap.Resources.<Delivery/PushRole/Resource>.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals.token.actions.githubusercontent.com:sub: "repo:shop/shop:ref:refs/heads/main:job_workflow_ref:shop/shop/.github/workflows/deploy.yml@refs/heads/main" → "repo:shop/shop:environment:ENV:job_workflow_ref:shop/shop/.github/workflows/deploy.yml@refs/heads/main"',
  'shop-staging-bootstrap.Resources.<Delivery/PushRole/Resource>.Properties.Description @56: …".github/workflows/deploy.yml, main): push images to ECR, not"… → …".github/workflows/deploy.yml, environment ENV): copy the rel"…',
];

/** Every difference between this repository's staging and production (config/declaration.ts). */
const REPOSITORY_DIFFERENCES: string[] = [
  // capacity: staging 2–3 instances, production 3–12
  'acme-staging-platform.Resources.<Capacity/AutoScalingGroup/ASG>.Properties.MaxSize: "3" → "12"',
  'acme-staging-platform.Resources.<Capacity/AutoScalingGroup/ASG>.Properties.MinSize: "2" → "3"',
  // scaling: remediation scales a service out up to its maxTasks (2 in staging, 12 in production)
  'acme-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][6]: "\\",\\"maxTasks\\":2,\\"targetTracking\\":true}},{\\"alarmName\\":\\"" → "\\",\\"maxTasks\\":12,\\"targetTracking\\":true}},{\\"alarmName\\":\\""',
  'acme-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][10]: "\\",\\"maxTasks\\":2,\\"targetTracking\\":true},\\"requireAlarms\\":[\\"" → "\\",\\"maxTasks\\":12,\\"targetTracking\\":true},\\"requireAlarms\\":[\\""',
  'acme-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][16]: "\\",\\"maxTasks\\":2,\\"targetTracking\\":true}},{\\"alarmName\\":\\"" → "\\",\\"maxTasks\\":12,\\"targetTracking\\":true}},{\\"alarmName\\":\\""',
  'acme-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][20]: "\\",\\"maxTasks\\":2,\\"targetTracking\\":true},\\"requireAlarms\\":[]},{\\"alarmName\\":\\"" → "\\",\\"maxTasks\\":12,\\"targetTracking\\":true},\\"requireAlarms\\":[]},{\\"alarmName\\":\\""',
  'acme-staging-platform.Resources.<Remediation/Remediate/Function/Resource>.Properties.Environment.Variables.REMEDIATION_RULES.Fn::Join[1][24]: "\\",\\"maxTasks\\":2,\\"targetTracking\\":true},\\"requireAlarms\\":[\\"" → "\\",\\"maxTasks\\":12,\\"targetTracking\\":true},\\"requireAlarms\\":[\\""',
  // scaling: backend and frontend 1–2 tasks in staging, 3–12 in production
  'acme-staging-platform.Resources.<Service-backend/Service/Service>.Properties.DesiredCount: 1 → 3',
  'acme-staging-platform.Resources.<Service-backend/Service/TaskCount/Target/Resource>.Properties.MaxCapacity: 2 → 12',
  'acme-staging-platform.Resources.<Service-backend/Service/TaskCount/Target/Resource>.Properties.MinCapacity: 1 → 3',
  'acme-staging-platform.Resources.<Service-frontend/Service/Service>.Properties.DesiredCount: 1 → 3',
  'acme-staging-platform.Resources.<Service-frontend/Service/TaskCount/Target/Resource>.Properties.MaxCapacity: 2 → 12',
  'acme-staging-platform.Resources.<Service-frontend/Service/TaskCount/Target/Resource>.Properties.MinCapacity: 1 → 3',
  // deployment: frontend canary 50 % for 2 minutes in staging, 10 % for 10 minutes in production
  'acme-staging-platform.Resources.<Service-frontend/Service/Service>.Properties.DeploymentConfiguration.CanaryConfiguration.CanaryBakeTimeInMinutes: 2 → 10',
  'acme-staging-platform.Resources.<Service-frontend/Service/Service>.Properties.DeploymentConfiguration.CanaryConfiguration.CanaryPercent: 50 → 10',
  // delivery: production's push role is its promote job's (issue 21): it trusts the production environment,
  // not the branch, and may read staging's repositories (EcrPullPreviousStage) and find what it copied
  `acme-staging-bootstrap.Outputs.PushRoleArn.Description: "vars.AWS_PUSH_ROLE_ARN of the deploy workflow: pushes images (main branch)" → "vars.AWS_PUSH_ROLE_ARN of the ENV environment: copies the release's images from ENV's repositories (promote job)"`,
  'acme-staging-bootstrap.Resources.<Delivery/PushRole/DefaultPolicy/Resource>.Properties.PolicyDocument.Statement: [{"Action":"ecr:GetAuthorizationToken","Effect":"Allow","Resource":"*","Sid":"EcrLogin"},{"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:CompleteLayerUpload","ecr:GetDownloadUrlForLayer","ecr:InitiateLayerUpload","ecr:PutImage","ecr:UploadLayerPart"],"Effect":"Allow","Resource":[{"Fn::GetAtt":["<Registry/backend/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/frontend/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/log-router/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/sidecar/Resource>","Arn"]}],"Sid":"EcrPush"}] → [{"Action":"ecr:GetAuthorizationToken","Effect":"Allow","Resource":"*","Sid":"EcrLogin"},{"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:CompleteLayerUpload","ecr:GetDownloadUrlForLayer","ecr:InitiateLayerUpload","ecr:PutImage","ecr:UploadLayerPart"],"Effect":"Allow","Resource":[{"Fn::GetAtt":["<Registry/backend/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/frontend/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/log-router/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/sidecar/Resource>","Arn"]}],"Sid":"EcrPush"},{"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:DescribeImages","ecr:GetDownloadUrlForLayer"],"Effect":"Allow","Resource":[{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecr:eu-west-1:",{"Ref":"AWS::AccountId"},":repository/acme-ENV/backend"]]},{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecr:eu-west-1:",{"Ref":"AWS::AccountId"},":repository/acme-ENV/frontend"]]},{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecr:eu-west-1:",{"Ref":"AWS::AccountId"},":repository/acme-ENV/log-router"]]},{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecr:eu-west-1:",{"Ref":"AWS::AccountId"},":repository/acme-ENV/sidecar"]]}],"Sid":"EcrPullPreviousStage"},{"Action":"ecr:DescribeImages","Effect":"Allow","Resource":[{"Fn::GetAtt":["<Registry/backend/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/frontend/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/log-router/Resource>","Arn"]},{"Fn::GetAtt":["<Registry/sidecar/Resource>","Arn"]}],"Sid":"EcrDescribePromoted"}]',
  'acme-staging-bootstrap.Resources.<Delivery/PushRole/Resource>.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals.token.actions.githubusercontent.com:sub @31: …"epo:acme/ecs-anomaly-platform:ref:refs/heads/main:job_workfl"… → …"epo:acme/ecs-anomaly-platform:environment:ENV:job_workflow_r"…',
  'acme-staging-bootstrap.Resources.<Delivery/PushRole/Resource>.Properties.Description @72: …".github/workflows/deploy.yml, main): push images to ECR, not"… → …".github/workflows/deploy.yml, environment ENV): copy the rel"…',
];

sideBySide("two environments of a team's declaration, side by side", declareShop, 'shop', SHOP_DIFFERENCES);
sideBySide("this repository's staging and production", declareRepository, 'acme', REPOSITORY_DIFFERENCES);
