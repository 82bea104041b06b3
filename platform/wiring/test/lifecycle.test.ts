import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declarePlatform } from '../../../config/declaration.ts';
import type { Manifest } from '../../../config/index.ts';
import { TEST_ROUTE_PORTS, wirePlatform } from '../index.ts';

const manifestOf = (change?: (m: Manifest) => void): Manifest => {
  const manifest = structuredClone(declarePlatform().synth());
  change?.(manifest);
  return manifest;
};
const frontendOf = (manifest: Manifest) => manifest.services.find((s) => s.name === 'frontend')!;

describe('the test route', () => {
  it('is a listener port of its own, HTTPS, reachable only from the NAT gateways, when a service shifts traffic', () => {
    const wiring = wirePlatform(manifestOf());
    assert.deepEqual(wiring.testRoute, { port: 8443, protocol: 'HTTPS', reachableFrom: 'nat-gateways' });
    const task = (name: string) => wiring.tasks.find((t) => t.service === name)!;
    assert.equal(task('frontend').deployment.testTraffic, true);
    assert.equal(task('backend').deployment.testTraffic, false, 'a rolling service takes no test traffic');
  });

  it('is plain HTTP on its own port where the edge is HTTP-only, never the production port', () => {
    const wiring = wirePlatform(
      manifestOf((m) => {
        m.platform.edge = { ...m.platform.edge, insecureHttpOnly: true };
      }),
    );
    assert.deepEqual(wiring.testRoute, {
      port: TEST_ROUTE_PORTS.HTTP,
      protocol: 'HTTP',
      reachableFrom: 'nat-gateways',
    });
    assert.notEqual(TEST_ROUTE_PORTS.HTTP, 80);
    assert.notEqual(TEST_ROUTE_PORTS.HTTPS, 443);
  });

  it('does not exist without a NAT gateway (nothing could reach the ALB from the VPC) or without traffic shifting', () => {
    const noNat = wirePlatform(
      manifestOf((m) => {
        m.platform.network = { ...m.platform.network, natGateways: 0 };
      }),
    );
    assert.equal(noNat.testRoute, null);
    assert.equal(noNat.tasks.find((t) => t.service === 'frontend')!.deployment.testTraffic, false);
    const rolling = wirePlatform(
      manifestOf((m) => {
        frontendOf(m).deployment = { strategy: 'rolling', probes: ['/'], onScorerOutage: 'judge-on-errors' };
      }),
    );
    assert.equal(rolling.testRoute, null);
  });
});

describe('the pause for a person', () => {
  it("is ECS's pause hook at the declared stage, rolling back on a timeout unless declared otherwise", () => {
    const wiring = wirePlatform(
      manifestOf((m) => {
        frontendOf(m).approval = {
          stage: 'POST_TEST_TRAFFIC_SHIFT',
          timeoutMinutes: 90,
          onTimeout: 'roll-back',
        };
      }),
    );
    assert.deepEqual(wiring.tasks.find((t) => t.service === 'frontend')!.deployment.pause, {
      stage: 'POST_TEST_TRAFFIC_SHIFT',
      timeoutMinutes: 90,
      onTimeout: 'ROLLBACK',
    });
    assert.equal(wiring.tasks.find((t) => t.service === 'backend')!.deployment.pause, null);
  });
});

describe('release records', () => {
  it('name one SSM parameter per Dockerfile-built image under /<platform>/release/', () => {
    assert.deepEqual(
      wirePlatform(manifestOf()).images.map((i) => [i.name, i.releaseParameter]),
      [
        ['backend', '/acme/release/backend'],
        ['frontend', '/acme/release/frontend'],
        ['log-router', '/acme/release/log-router'],
        ['sidecar', '/acme/release/sidecar'],
      ].sort(
        (a, b) =>
          (a[0] === 'log-router' || a[0] === 'sidecar' ? 1 : 0) -
          (b[0] === 'log-router' || b[0] === 'sidecar' ? 1 : 0),
      ),
    );
  });
});

describe('the teardown', () => {
  it('deletes the platform, then the bootstrap stage; keeps the access logs, the logs and the user pool with their reasons', () => {
    const teardown = wirePlatform(manifestOf()).teardown;
    assert.deepEqual(teardown.order, ['platform', 'bootstrap']);
    assert.equal(teardown.loadBalancerDeletionProtection, false);
    assert.deepEqual(
      teardown.retained.map((r) => r.what),
      ['access-log-bucket', 'log-groups', 'user-pool'],
    );
    for (const kept of teardown.retained) {
      assert.ok(kept.reason.split(' ').length > 10, `${kept.what} has a reason`);
      assert.match(kept.deleteWith, /^aws /, `${kept.what} says what deletes it`);
    }
  });

  it('keeps only what CloudFormation cannot delete when logs and the user pool are declared disposable', () => {
    const teardown = wirePlatform(
      manifestOf((m) => {
        m.platform.teardown = {
          loadBalancerDeletionProtection: true,
          retainLogs: false,
          retainUserPool: false,
        };
      }),
    ).teardown;
    assert.deepEqual(
      teardown.retained.map((r) => r.what),
      ['access-log-bucket'],
    );
    assert.equal(teardown.loadBalancerDeletionProtection, true);
  });
});
