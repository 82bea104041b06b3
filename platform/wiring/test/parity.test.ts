import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { declarePlatform } from '../../../config/declaration.ts';
import {
  App,
  Image,
  InternalService,
  type Manifest,
  ModelEndpoint,
  Platform,
  Secret,
  WebService,
} from '../../../config/index.ts';
import { createPlatformApp } from '../../aws/app.ts';
import { listenerRules } from '../../local/alb.ts';
import { planLocalRun, portsNeeded } from '../../local/plan.ts';
import { type ContainerRole, DEFAULT_ROUTE, wirePlatform } from '../index.ts';
import { awsRendering, localRendering, type Rendering, undeclaredDifferences } from './renderings.ts';

const image = (name: string) =>
  Image.fromDockerfile(`Dockerfile.${name}`, { entry: `services/${name}/main.ts` });

/** A worker with a secret behind an API, and a second web service on `/admin/*`. */
function workerAndAdmin(): Manifest {
  const app = new App();
  const platform = new Platform(app, 'shop', { capacity: { instanceTypes: ['m6i.large', 'm6a.large'] } });
  new ModelEndpoint(platform, 'log-anomaly', {
    image: Image.fromDockerfile('Dockerfile.model', { entry: 'model/serve/main.ts' }),
    artifactDir: 'model/artifacts/default',
  });
  const worker = new InternalService(platform, 'worker', {
    image: image('worker'),
    port: 9000,
    secrets: { DB_PASSWORD: Secret.fromSecretsManager('shop/db', { field: 'password' }) },
    environment: { QUEUE: 'orders' },
    anomaly: { threshold: 0.9 },
  });
  const api = new InternalService(platform, 'api', {
    image: image('api'),
    port: 9100,
    talksTo: [worker],
    platformAccess: { readAnomalies: true, invokeModel: true },
    healthCheck: { path: '/ready', intervalSeconds: 15, timeoutSeconds: 4, startPeriodSeconds: 30 },
    stopTimeoutSeconds: 45,
  });
  new WebService(platform, 'admin', {
    image: image('admin'),
    port: 8090,
    paths: ['/admin/*'],
    talksTo: [api],
  });
  new WebService(platform, 'site', {
    image: image('site'),
    port: 8080,
    talksTo: [api],
    anomaly: { enabled: false },
  });
  return app.synth();
}

/** One web service, no model, nothing scored. */
function minimal(): Manifest {
  const app = new App();
  const platform = new Platform(app, 'tiny', { capacity: { instanceTypes: ['t3.small', 't3a.small'] } });
  new WebService(platform, 'web', { image: image('web'), port: 8080, anomaly: { enabled: false } });
  return app.synth();
}

const ROLES: Record<string, ContainerRole> = {
  app: 'app',
  'anomaly-sidecar': 'sidecar',
  log_router: 'log-router',
};

function renderBoth(manifest: Manifest): { aws: Rendering; local: Rendering; dispose(): void } {
  const outdir = mkdtempSync(join(tmpdir(), 'parity-'));
  const wiring = wirePlatform(manifest);
  const { stack } = createPlatformApp({
    wiring,
    outdir,
    env: { region: 'eu-west-1' },
    imageTag: 'parity',
    validate: false,
    context: { '@aws-cdk/core:appMode': 'inmemory' },
  });
  const families = Object.fromEntries(wiring.tasks.map((t) => [t.service, t.family]));
  const aws = awsRendering(Template.fromStack(stack), families);
  const ports = Array.from({ length: portsNeeded(wiring) }, (_, i) => 42000 + i);
  const secretValues = Object.fromEntries(
    manifest.services.flatMap((s) => Object.keys(s.secrets)).map((k) => [k, 'local-value']),
  );
  const plan = planLocalRun(wiring, {
    root: '/repo',
    modelPort: 41999,
    internalPorts: ports,
    secretValues,
  });
  const local = localRendering(plan, listenerRules(wiring), DEFAULT_ROUTE);
  return { aws, local, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
}

const fixtures: [string, () => Manifest][] = [
  ["this repository's declaration", () => declarePlatform().synth()],
  ['a worker with a secret and a second web service on /admin/*', workerAndAdmin],
  ['a minimal platform (one web service, no model)', minimal],
];

describe('parity: the AWS template and the local plan render the same wiring', () => {
  for (const [name, build] of fixtures) {
    describe(name, () => {
      const rendered = renderBoth(build());
      after(() => rendered.dispose());

      it('differs only where a declared difference says so (environment, health, stop timeouts, ports, grants, routes)', () => {
        assert.deepEqual(undeclaredDifferences(rendered.aws, rendered.local, ROLES), []);
      });

      it('compares something real: every task has its app container on both sides', () => {
        for (const [service, task] of Object.entries(rendered.aws.tasks)) {
          assert.ok(task.containers.app, `${service}: app on AWS`);
          assert.ok(rendered.local.tasks[service]?.containers.app, `${service}: app locally`);
          assert.ok(task.containers.app.environment.includes('PORT'), `${service}: PORT on AWS`);
        }
      });
    });
  }

  describe('fails when a fact is added to one renderer only (planted inside the test)', () => {
    const rendered = renderBoth(workerAndAdmin());
    after(() => rendered.dispose());
    const clone = (r: Rendering): Rendering => structuredClone(r);

    it('a variable only the local runtime sets', () => {
      const local = clone(rendered.local);
      (local.tasks.api!.containers.app!.environment as string[]).push('FEATURE_FLAG');
      assert.deepEqual(undeclaredDifferences(rendered.aws, local, ROLES), [
        'api/app: FEATURE_FLAG only locally',
      ]);
    });

    it('a variable only the AWS renderer sets', () => {
      const aws = clone(rendered.aws);
      (aws.tasks.worker!.containers['anomaly-sidecar']!.environment as string[]).push('BATCH_MAX_RECORDS');
      assert.deepEqual(undeclaredDifferences(aws, rendered.local, ROLES), [
        'worker/anomaly-sidecar: BATCH_MAX_RECORDS only on AWS',
      ]);
    });

    it('a health check, a stop timeout and a grant changed on one side', () => {
      const local = clone(rendered.local);
      const app = local.tasks.api!.containers.app as {
        health: { interval: number };
        stopTimeoutSeconds: number;
      };
      app.health.interval = 10;
      app.stopTimeoutSeconds = 30;
      (local.tasks.site!.grants as string[]).push('invoke-model');
      assert.deepEqual(undeclaredDifferences(rendered.aws, local, ROLES), [
        'api/app: health {"interval":15,"timeout":4,"retries":3,"startPeriod":30,"path":"/ready"} on AWS, {"interval":10,"timeout":4,"retries":3,"startPeriod":30,"path":"/ready"} locally',
        'api/app: stop timeout 45s on AWS, 30s locally',
        'site: grants none on AWS, invoke-model locally',
      ]);
    });

    it('a route on one side', () => {
      const aws = clone(rendered.aws);
      (aws.routes.rules as { service: string; paths: string[]; priority: number }[])[0]!.paths.push('/ops/*');
      const found = undeclaredDifferences(aws, rendered.local, ROLES);
      assert.equal(found.length, 1);
      assert.match(found[0]!, /^routes: .*"\/ops\/\*".* on AWS/);
    });
  });
});
