import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  App,
  Deployment,
  Image,
  InternalService,
  ModelEndpoint,
  Platform,
  RollbackAlarm,
  WebService,
  WorkerService,
  type WorkerServiceProps,
} from '../index.ts';

// GIVEN a shop with a model, an API the worker calls and the web service every platform needs.
const image = (name: string) => Image.fromDockerfile(`${name}/Dockerfile`, { entry: `${name}/main.ts` });

function shop(): { app: App; platform: Platform; orders: InternalService } {
  const app = new App();
  const platform = new Platform(app, 'shop', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  new ModelEndpoint(platform, 'log-anomaly', {
    image: Image.fromDockerfile('Dockerfile.model', { entry: 'model/serve/main.ts' }),
    artifactDir: 'model/artifacts/default',
  });
  const orders = new InternalService(platform, 'orders', { image: image('orders'), port: 3000 });
  new WebService(platform, 'storefront', { image: image('storefront'), port: 8000, talksTo: [orders] });
  return { app, platform, orders };
}

function refusal(props: Record<string, unknown>): string {
  const { platform } = shop();
  try {
    new WorkerService(platform, 'mailer', { image: image('mailer'), ...props } as WorkerServiceProps);
  } catch (error) {
    return (error as Error).message;
  }
  return assert.fail('expected the worker to be refused');
}

describe('WorkerService', () => {
  it('synthesises a worker with every default applied, and makes it a caller of what it talksTo', () => {
    // Prepare
    const { app, platform, orders } = shop();
    // Act
    new WorkerService(platform, 'mailer', { image: image('mailer'), talksTo: [orders] });
    const manifest = app.synth();
    // Assess
    assert.deepEqual(manifest.workers, [
      {
        name: 'mailer',
        path: 'shop/mailer',
        image: {
          kind: 'dockerfile',
          dockerfile: 'mailer/Dockerfile',
          context: 'mailer',
          entry: 'mailer/main.ts',
        },
        cpuUnits: 256,
        memoryMiB: 512,
        healthCheck: {
          command: null,
          intervalSeconds: 30,
          timeoutSeconds: 5,
          retries: 3,
          startPeriodSeconds: 15,
        },
        scaling: {
          minTasks: 2,
          maxTasks: 6,
          targetCpuPercent: 60,
          scaleInCooldownSeconds: 120,
          scaleOutCooldownSeconds: 60,
        },
        stopTimeoutSeconds: 30,
        environment: {},
        secrets: {},
        talksTo: ['orders'],
        anomaly: { enabled: true, budget: 0.001, threshold: null, sidecar: { cpuUnits: 64, memoryMiB: 128 } },
        rollbackOn: [{ kind: 'anomaly-rate', percent: 5 }],
      },
    ]);
    assert.deepEqual(manifest.services.find((s) => s.name === 'orders')?.reachableFrom, [
      'storefront',
      'mailer',
    ]);
  });

  it('keeps a declared health command and anomaly-rate threshold', () => {
    const { app, platform } = shop();
    new WorkerService(platform, 'mailer', {
      image: image('mailer'),
      healthCheck: { command: ['test', '-f', '/tmp/alive'], intervalSeconds: 10 },
      rollbackOn: [RollbackAlarm.anomalyRate({ percent: 2 })],
    });
    const [worker] = app.synth().workers;
    assert.deepEqual(worker?.healthCheck.command, ['test', '-f', '/tmp/alive']);
    assert.equal(worker?.healthCheck.intervalSeconds, 10);
    assert.deepEqual(worker?.rollbackOn, [{ kind: 'anomaly-rate', percent: 2 }]);
  });

  it('refuses a port: a worker takes no connections', () => {
    assert.equal(
      refusal({ port: 8080 }),
      'shop/mailer: port (8080) must not be set: a worker takes no connections, so it listens on no port. Fix: remove port, or declare an InternalService (called by its callers) or a WebService (behind the ALB).',
    );
  });

  it('refuses load-balancer props: paths, public, a traffic-shifting deployment', () => {
    assert.equal(
      refusal({ paths: ['/mail/*'] }),
      'shop/mailer: paths (["/mail/*"]) must not be set: a worker has no load balancer to route paths from. Fix: remove paths, or declare a WebService to be routed from the ALB.',
    );
    assert.equal(
      refusal({ public: true }),
      'shop/mailer: public (true) must not be set: a worker has no load balancer to be reached through. Fix: remove public, or declare a WebService to be reached through the ALB.',
    );
    assert.match(
      refusal({ deployment: Deployment.canary() }),
      /^shop\/mailer: deployment \(.*\) must not be set: a worker is always deployed rolling \(traffic-shifting strategies need a load balancer\)\. Fix: remove deployment; the worker rolls, and its anomaly-rate alarm rolls it back\.$/,
    );
  });

  it('refuses rollback alarms on answers it never gives, and an HTTP health path', () => {
    assert.equal(
      refusal({ rollbackOn: [RollbackAlarm.errorRate()] }),
      "shop/mailer: rollbackOn[0] ('error-rate') watches answers at a load balancer, and a worker answers no requests. Fix: use RollbackAlarm.anomalyRate() (the default).",
    );
    assert.equal(
      refusal({ healthCheck: { path: '/healthz' } }),
      "shop/mailer: healthCheck.path ('/healthz') must not be set: a worker answers no HTTP requests. Fix: declare healthCheck.command (exit 0 is healthy), or omit it: the worker is healthy while its process runs.",
    );
    assert.equal(
      refusal({ healthCheck: { command: [] } }),
      "shop/mailer: healthCheck.command ([]) must hold a program and its arguments, none empty. Fix: write it in exec form, e.g. ['test', '-f', '/tmp/alive'].",
    );
  });

  it('cannot be called: talksTo naming a worker is refused', () => {
    const { platform } = shop();
    const mailer = new WorkerService(platform, 'mailer', { image: image('mailer') });
    assert.throws(
      () =>
        new InternalService(platform, 'billing', {
          image: image('billing'),
          port: 3100,
          talksTo: [mailer as unknown as InternalService],
        }),
      {
        message:
          "shop/billing: talksTo[0] ('shop/mailer') is not an InternalService. Fix: only internal services can be called; web services are reached through the ALB.",
      },
    );
  });

  it('shares the platform ids with services and needs the model to be scored', () => {
    const app = new App();
    const platform = new Platform(app, 'shop', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
    new WebService(platform, 'storefront', {
      image: image('storefront'),
      port: 8000,
      anomaly: { enabled: false },
    });
    new WorkerService(platform, 'mailer', { image: image('mailer') });
    assert.throws(() => app.synth(), {
      message:
        "the declaration has 1 error:\n- shop/mailer: anomaly.enabled (true) needs a model endpoint. Fix: declare new ModelEndpoint(platform, 'log-anomaly', …) or set anomaly.enabled to false.",
    });
    assert.throws(() => new WorkerService(platform, 'storefront', { image: image('x') }), {
      message: /^shop\/storefront: id \('storefront'\) is already taken by the WebService shop\/storefront\./,
    });
  });
});
