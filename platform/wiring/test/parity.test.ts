import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
import { type ContainerRole, DEFAULT_ROUTE, ROLLBACK_POLICY, wirePlatform } from '../index.ts';
import { awsRendering } from './aws-rendering.ts';
import { localRendering } from './local-rendering.ts';
import { type PartFacts, type Rendering, undeclaredDifferences } from './renderings.ts';
import { wiringParts } from './wiring-parts.ts';

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

interface Rendered {
  readonly aws: Rendering;
  readonly local: Rendering;
  /** The parts as the wiring decides them. */
  readonly expected: PartFacts;
  dispose(): void;
}

async function renderBoth(manifest: Manifest): Promise<Rendered> {
  const outdir = mkdtempSync(join(tmpdir(), 'parity-'));
  const wiring = wirePlatform(manifest);
  const { stack } = createPlatformApp({
    wiring,
    outdir,
    env: { region: 'eu-west-1' },
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
  return {
    aws,
    local,
    expected: wiringParts(wiring),
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

const fixtures: [string, () => Manifest][] = [
  ["this repository's declaration", () => declarePlatform().synth()],
  ['a worker with a secret and a second web service on /admin/*', workerAndAdmin],
  ['a minimal platform (one web service, no model)', minimal],
];

describe('parity: the AWS template and the local runtime render the same wiring', () => {
  for (const [name, build] of fixtures) {
    describe(name, () => {
      let rendered: Rendered;
      before(async () => {
        rendered = await renderBoth(build());
      });
      after(() => rendered?.dispose());

      it('differs only where a declared difference says so, task by task and part by part', () => {
        assert.deepEqual(undeclaredDifferences(rendered.aws, rendered.local, ROLES, rendered.expected), []);
      });

      it('compares something real: every task has its app container, scaling and gate stages on AWS, the rollback policy on both sides', () => {
        for (const [service, task] of Object.entries(rendered.aws.tasks)) {
          assert.ok(task.containers.app, `${service}: app on AWS`);
          assert.ok(rendered.local.tasks[service]?.containers.app, `${service}: app locally`);
          assert.ok(task.containers.app.environment.includes('PORT'), `${service}: PORT on AWS`);
          assert.ok(`task ${service}: scaling` in rendered.aws.parts, `${service}: scaling on AWS`);
          assert.ok(
            `task ${service}: gate stages` in rendered.local.parts,
            `${service}: gate stages locally`,
          );
        }
        for (const side of [rendered.aws, rendered.local]) {
          assert.deepEqual(side.parts['rollback minimum volume'], { ...ROLLBACK_POLICY.minimumVolume });
          assert.ok(side.parts.directory === undefined || Array.isArray(side.parts.directory));
        }
      });
    });
  }

  describe('fails when a fact is added to one renderer only (planted inside the test)', () => {
    let rendered: Rendered;
    before(async () => {
      rendered = await renderBoth(workerAndAdmin());
    });
    after(() => rendered?.dispose());
    const clone = (r: Rendering): Rendering => structuredClone(r);
    const differences = (aws: Rendering, local: Rendering) =>
      undeclaredDifferences(aws, local, ROLES, rendered.expected);

    it('a variable only the local runtime sets', () => {
      const local = clone(rendered.local);
      (local.tasks.api!.containers.app!.environment as string[]).push('FEATURE_FLAG');
      assert.deepEqual(differences(rendered.aws, local), ['api/app: FEATURE_FLAG only locally']);
    });

    it('a variable only the AWS renderer sets', () => {
      const aws = clone(rendered.aws);
      (aws.tasks.worker!.containers['anomaly-sidecar']!.environment as string[]).push('BATCH_MAX_RECORDS');
      assert.deepEqual(differences(aws, rendered.local), [
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
      assert.deepEqual(differences(rendered.aws, local), [
        'api/app: health {"interval":15,"timeout":4,"retries":3,"startPeriod":30,"path":"/ready"} on AWS, {"interval":10,"timeout":4,"retries":3,"startPeriod":30,"path":"/ready"} locally',
        'api/app: stop timeout 45s on AWS, 30s locally',
        'site: grants none on AWS, invoke-model locally',
      ]);
    });

    it("a one-sided health check: the target group's own check decided by the AWS renderer", () => {
      const aws = clone(rendered.aws);
      (aws.parts['task admin: target group'] as { path: string; healthy: number }).healthy = 5;
      assert.deepEqual(differences(aws, rendered.local), [
        'task admin: target group: {"codes":"200-299","deregistration":15,"grace":45,"healthy":5,"interval":10,"path":"/healthz","port":8090,"timeout":5,"unhealthy":3} on AWS, the wiring says {"codes":"200-299","deregistration":15,"grace":45,"healthy":2,"interval":10,"path":"/healthz","port":8090,"timeout":5,"unhealthy":3}',
      ]);
    });

    it('a scaling value on one side', () => {
      const aws = clone(rendered.aws);
      (aws.parts['task worker: scaling'] as { max: number }).max = 9;
      assert.deepEqual(differences(aws, rendered.local), [
        'task worker: scaling: {"max":9,"min":2,"scaleInCooldown":120,"scaleOutCooldown":60,"targetCpu":60} on AWS, the wiring says {"max":6,"min":2,"scaleInCooldown":120,"scaleOutCooldown":60,"targetCpu":60}',
      ]);
    });

    it('a directory entry only one side hands the console', () => {
      const local = clone(rendered.local);
      (local.parts.directory as { name: string; kind: string }[]).push({ name: 'billing', kind: 'internal' });
      const found = differences(rendered.aws, local);
      assert.equal(found.length, 1);
      assert.match(found[0]!, /^directory: .*"name":"billing".* locally, the wiring says /);
    });

    it('a minimum volume of its own in the rehearsal (as the local runtime once had: 20 lines, 10 requests)', () => {
      const local = clone(rendered.local);
      local.parts['rollback minimum volume'] = { lines: 20, requests: 10 };
      assert.deepEqual(differences(rendered.aws, local), [
        'rollback minimum volume: {"lines":20,"requests":10} locally, the wiring says {"lines":50,"requests":20}',
      ]);
    });

    it('a gate that reads its own minimum volume on AWS (as the gate once did: 200 lines, 100 requests)', () => {
      const aws = clone(rendered.aws);
      aws.parts['rollback minimum volume'] = { lines: [50, 200], requests: [20, 100] };
      assert.deepEqual(differences(aws, rendered.local), [
        'rollback minimum volume: {"lines":[50,200],"requests":[20,100]} on AWS, the wiring says {"lines":50,"requests":20}',
      ]);
    });

    it('a part one side leaves out without a declared difference (the API route locally)', () => {
      const local = clone(rendered.local);
      delete (local.parts as Record<string, unknown>)['api route'];
      assert.deepEqual(differences(rendered.aws, local), ['api route: not rendered locally']);
    });

    it('a route on one side', () => {
      const aws = clone(rendered.aws);
      (aws.routes.rules as { service: string; paths: string[]; priority: number }[])[0]!.paths.push('/ops/*');
      const found = differences(aws, rendered.local);
      assert.equal(found.length, 1);
      assert.match(found[0]!, /^routes: .*"\/ops\/\*".* on AWS/);
    });
  });
});
