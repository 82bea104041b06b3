import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import type { Json } from '../../../test/support/template-json.ts';
import { TEST_ROUTE_PORTS, wirePlatform } from '../../wiring/index.ts';
import { createPlatformApp, type PlatformAppOptions } from '../app.ts';
import { manifestFixture, synthPlatform } from './builder.ts';

/**
 * Releases and infrastructure are separate owners (DESIGN.md, "Deployments: who owns what"): ECS
 * moves traffic on the rules the template creates, the deploy command releases images, and a
 * `cdk deploy` of unchanged infrastructure changes nothing ECS or the deploy command owns.
 */

const resources = (template: Template) =>
  template.toJSON().Resources as Record<string, { Type: string; Properties: Json; DeletionPolicy?: string }>;
const ofType = (template: Template, type: string) =>
  Object.entries(resources(template)).filter(([, r]) => r.Type === type);

/** The service `name`'s load-balancer entry (target group, AdvancedConfiguration). */
function loadBalancerOf(template: Template, name: string): Json {
  const [service] = ofType(template, 'AWS::ECS::Service').filter(
    ([, r]) => r.Properties.ServiceName === name,
  );
  assert.ok(service, `service ${name}`);
  return service[1].Properties.LoadBalancers[0];
}

/** The forward action of a rule, as `{ targetGroup logical id: weight }`. */
function weightsOf(rule: Json): Record<string, number> {
  const forward = rule.Properties.Actions.find((a: Json) => a.Type === 'forward');
  assert.ok(forward?.ForwardConfig, 'a weighted forward (ForwardConfig), not a single target group');
  return Object.fromEntries(
    forward.ForwardConfig.TargetGroups.map((t: Json) => [t.TargetGroupArn.Ref, t.Weight]),
  );
}

describe('Traffic shifting: the rules ECS moves traffic on (the declaration: frontend canary, backend rolling)', () => {
  const platform = synthPlatform();
  const { template } = platform;
  after(() => platform.dispose());
  /** The resource `id` of the template (it must exist). */
  const byId = (id: string) => {
    const found = resources(template)[id];
    assert.ok(found, id);
    return found;
  };

  it('attaches the alternate target group to the production rule at weight 0, as AWS samples do', () => {
    const lb = loadBalancerOf(template, 'frontend');
    const production = byId(lb.AdvancedConfiguration.ProductionListenerRule.Ref);
    assert.deepEqual(weightsOf(production), {
      [lb.TargetGroupArn.Ref]: 100,
      [lb.AdvancedConfiguration.AlternateTargetGroupArn.Ref]: 0,
    });
  });

  it('names a test listener rule: on its own listener port, the service’s paths, both target groups (alternate at 0)', () => {
    const lb = loadBalancerOf(template, 'frontend');
    const testRuleId = lb.AdvancedConfiguration.TestListenerRule?.Ref;
    assert.ok(testRuleId, 'AdvancedConfiguration.TestListenerRule');
    const testRule = byId(testRuleId);
    const production = byId(lb.AdvancedConfiguration.ProductionListenerRule.Ref);
    assert.notEqual(testRule.Properties.ListenerArn.Ref, production.Properties.ListenerArn.Ref);
    const listener = byId(testRule.Properties.ListenerArn.Ref);
    assert.equal(listener.Properties.Port, TEST_ROUTE_PORTS.HTTPS);
    assert.equal(listener.Properties.Protocol, 'HTTPS');
    assert.deepEqual(testRule.Properties.Conditions, production.Properties.Conditions);
    assert.deepEqual(weightsOf(testRule), weightsOf(production));
    // Nothing else answers on the test port: no match is the JSON 404.
    assert.equal(listener.Properties.DefaultActions[0].Type, 'fixed-response');
  });

  it('opens the test port only to the NAT gateways’ addresses (where the gate’s probes leave the VPC)', () => {
    const eips = ofType(template, 'AWS::EC2::EIP').map(([id]) => id);
    assert.equal(eips.length, 2, 'one NAT gateway per AZ');
    const onTestPort = [
      ...ofType(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties),
      ...ofType(template, 'AWS::EC2::SecurityGroup').flatMap(
        ([, r]) => r.Properties.SecurityGroupIngress ?? [],
      ),
    ].filter((rule: Json) => rule.FromPort === TEST_ROUTE_PORTS.HTTPS);
    assert.deepEqual(
      onTestPort.map((rule: Json) => rule.CidrIp).sort(),
      eips.map((id) => ({ 'Fn::Join': ['', [{ Ref: id }, '/32']] })).sort(),
    );
  });

  it('keeps sign-in on every production rule and forwards the test port only through the network restriction', () => {
    const lb = loadBalancerOf(template, 'frontend');
    const production = byId(lb.AdvancedConfiguration.ProductionListenerRule.Ref);
    const actions = [...production.Properties.Actions].sort((a: Json, b: Json) => a.Order - b.Order);
    assert.deepEqual(
      actions.map((a: Json) => a.Type),
      ['authenticate-cognito', 'forward'],
    );
  });

  it('at every stage ECS passes through (weights moved on the forward action only), every production path still signs in first', () => {
    // ECS rewrites the forward action's weights of the production and test rules: test traffic to
    // 100 % new, production to the canary percent, then to 100 %, and back on a rollback. The
    // template gives it rules where sign-in is a separate action before that forward.
    const lb = loadBalancerOf(template, 'frontend');
    const primary = lb.TargetGroupArn.Ref;
    const alternate = lb.AdvancedConfiguration.AlternateTargetGroupArn.Ref;
    const stages: Array<[string, Record<string, number>]> = [
      ['before', { [primary]: 100, [alternate]: 0 }],
      ['canary 10 %', { [primary]: 90, [alternate]: 10 }],
      ['all traffic', { [primary]: 0, [alternate]: 100 }],
      ['rolled back', { [primary]: 100, [alternate]: 0 }],
    ];
    const production = byId(lb.AdvancedConfiguration.ProductionListenerRule.Ref);
    for (const [stage, weights] of stages) {
      const shifted = structuredClone(production);
      const forward = shifted.Properties.Actions.find((a: Json) => a.Type === 'forward');
      forward.ForwardConfig.TargetGroups = Object.entries(weights).map(([id, weight]) => ({
        TargetGroupArn: { Ref: id },
        Weight: weight,
      }));
      const ordered = [...shifted.Properties.Actions].sort((a: Json, b: Json) => a.Order - b.Order);
      const forwardAt = ordered.findIndex((a: Json) => a.Type === 'forward');
      assert.ok(
        ordered.slice(0, forwardAt).some((a: Json) => a.Type.startsWith('authenticate-')),
        `${stage}: sign-in before the forward`,
      );
    }
  });

  it('renders no test route for a rolling service (nothing shifts)', () => {
    assert.equal(
      loadBalancerOf(template, 'frontend').AdvancedConfiguration.TestListenerRule !== undefined,
      true,
    );
    const backend = ofType(template, 'AWS::ECS::Service').find(
      ([, r]) => r.Properties.ServiceName === 'backend',
    );
    assert.equal(backend?.[1].Properties.LoadBalancers, undefined);
  });
});

describe('Releases belong to the deploy command: a cdk deploy of unchanged infrastructure changes nothing', () => {
  /** The platform template of this repository's declaration, synthesised as a release pipeline would. */
  const synthWith = (release: Record<string, string>) => {
    const outdir = mkdtempSync(join(tmpdir(), 'platform-release-'));
    const saved = { ...process.env };
    Object.assign(process.env, release);
    try {
      // Whatever a release might pass (an image tag): the template must not depend on it.
      const options = {
        wiring: wirePlatform(manifestFixture()),
        outdir,
        env: { region: 'us-east-1' },
        validate: false,
        context: { '@aws-cdk/core:appMode': 'inmemory' },
        imageTag: release.IMAGE_TAG,
      } as PlatformAppOptions;
      const { stack } = createPlatformApp(options);
      return Template.fromStack(stack).toJSON();
    } finally {
      process.env = saved;
      rmSync(outdir, { recursive: true, force: true });
    }
  };

  it('renders identical templates for two releases (no image tag or digest in the template)', () => {
    const first = synthWith({ IMAGE_TAG: 'a1b2c3d' });
    const second = synthWith({ IMAGE_TAG: 'e4f5a6b' });
    assert.deepEqual(second, first);
  });

  it('takes every platform image from its release parameter, so an infrastructure change never brings back an old one', () => {
    const platform = synthPlatform();
    try {
      const wiring = wirePlatform(manifestFixture());
      const images = ofType(platform.template, 'AWS::ECS::TaskDefinition').flatMap(([, r]) =>
        r.Properties.ContainerDefinitions.map((c: Json) => [c.Name, c.Image]),
      );
      const allowed = new Set(wiring.images.map((i) => `{{resolve:ssm:${i.releaseParameter}}}`));
      assert.ok(images.length >= 6);
      assert.deepEqual(
        images.filter(([, image]: [string, unknown]) => !allowed.has(image as string)),
        [],
      );
      // CloudFormation resolves at most 60 dynamic references per template.
      assert.ok(JSON.stringify(platform.template.toJSON()).split('{{resolve:').length - 1 <= 60);
    } finally {
      platform.dispose();
    }
  });

  it('names each service’s task-definition family, not a revision: a CloudFormation update of the service runs the last released revision', () => {
    const platform = synthPlatform();
    try {
      const wiring = wirePlatform(manifestFixture());
      for (const [, service] of ofType(platform.template, 'AWS::ECS::Service')) {
        const task = wiring.tasks.find((t) => t.service === service.Properties.ServiceName)!;
        assert.equal(service.Properties.TaskDefinition, task.family, task.service);
      }
    } finally {
      platform.dispose();
    }
  });
});

describe('A manual approval renders an ECS pause hook', () => {
  const platform = synthPlatform({
    manifest: manifestFixture((m) => {
      const frontend = m.services.find((s) => s.name === 'frontend')!;
      frontend.approval = { stage: 'POST_TEST_TRAFFIC_SHIFT', timeoutMinutes: 120, onTimeout: 'roll-back' };
    }),
  });
  after(() => platform.dispose());

  it('pauses the frontend’s release after test traffic, rolling back when nobody answers within 120 minutes', () => {
    const [, frontend] = ofType(platform.template, 'AWS::ECS::Service').find(
      ([, r]) => r.Properties.ServiceName === 'frontend',
    )!;
    const hooks = frontend.Properties.DeploymentConfiguration.LifecycleHooks as Json[];
    assert.deepEqual(
      hooks.filter((h) => h.TargetType === 'PAUSE'),
      [
        {
          TargetType: 'PAUSE',
          LifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'],
          TimeoutConfiguration: { TimeoutInMinutes: 120, Action: 'ROLLBACK' },
        },
      ],
    );
    // The gate's Lambda hook stays.
    assert.equal(hooks.filter((h) => h.HookTargetArn !== undefined).length, 1);
  });

  it('renders none where no approval is declared', () => {
    const plain = synthPlatform();
    try {
      for (const [, service] of ofType(plain.template, 'AWS::ECS::Service')) {
        const hooks = (service.Properties.DeploymentConfiguration.LifecycleHooks ?? []) as Json[];
        assert.deepEqual(
          hooks.filter((h) => h.TargetType === 'PAUSE'),
          [],
        );
      }
    } finally {
      plain.dispose();
    }
  });
});
