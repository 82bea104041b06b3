import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declarePlatform } from '../declaration.ts';
import {
  App,
  DeclarationError,
  DeclarationErrors,
  Deployment,
  EdgeAuth,
  Image,
  InternalService,
  type InternalService as InternalServiceType,
  ManifestSchema,
  ManualApproval,
  ModelEndpoint,
  Platform,
  type PlatformProps,
  RollbackAlarm,
  Secret,
  type ServiceProps,
  WebService,
  type WebServiceProps,
} from '../index.ts';

// A shared builder: a valid platform that each test bends in one place.
const image = (name: string) =>
  Image.fromDockerfile(`Dockerfile.${name}`, { entry: `services/${name}/main.ts` });
const capacity = { instanceTypes: ['t3.medium', 't3a.medium'] };

function platformOf(props: Partial<PlatformProps> = {}, withModel = true): { app: App; platform: Platform } {
  const app = new App();
  const platform = new Platform(app, 'acme', { capacity, ...props });
  if (withModel) {
    new ModelEndpoint(platform, 'log-anomaly', {
      image: image('model'),
      artifactDir: 'model/artifacts/default',
    });
  }
  return { app, platform };
}

function backendOf(platform: Platform, props: Partial<ServiceProps> = {}): InternalServiceType {
  return new InternalService(platform, 'backend', { image: image('backend'), port: 8081, ...props });
}

function frontendOf(platform: Platform, props: Partial<WebServiceProps> = {}): WebService {
  return new WebService(platform, 'frontend', { image: image('frontend'), port: 8080, ...props });
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the declaration to be rejected');
}

describe('a valid declaration', () => {
  it('synthesises a manifest with every default applied', () => {
    // Prepare
    const { app, platform } = platformOf();
    const backend = backendOf(platform);
    frontendOf(platform, { talksTo: [backend] });

    // Act
    const manifest = app.synth();

    // Assess
    assert.equal(ManifestSchema.safeParse(manifest).success, true);
    assert.deepEqual(manifest.platform.network, {
      cidr: '10.0.0.0/16',
      availabilityZones: 2,
      natGateways: 2,
      vpcEndpoints: true,
      flowLogRetentionDays: 90,
    });
    assert.deepEqual(manifest.platform.capacity, {
      instanceTypes: ['t3.medium', 't3a.medium'],
      minInstances: 2,
      maxInstances: 6,
      targetCapacityPercent: 100,
      rootVolumeGiB: 30,
    });
    const [back, front] = manifest.services;
    assert.deepEqual(back, {
      name: 'backend',
      path: 'acme/backend',
      kind: 'internal',
      image: {
        kind: 'dockerfile',
        dockerfile: 'Dockerfile.backend',
        context: '.',
        entry: 'services/backend/main.ts',
      },
      port: 8081,
      cpuUnits: 256,
      memoryMiB: 512,
      healthCheck: {
        path: '/healthz',
        intervalSeconds: 10,
        timeoutSeconds: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
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
      talksTo: [],
      reachableFrom: ['frontend'],
      paths: [],
      priority: 0,
      // The alert budget: the model endpoint's, 0.001 unless declared.
      anomaly: { enabled: true, budget: 0.001, threshold: null, sidecar: { cpuUnits: 64, memoryMiB: 128 } },
      platformAccess: { readAnomalies: false, invokeModel: false },
      deployment: { strategy: 'rolling', probes: ['/healthz'], onScorerOutage: 'judge-on-errors' },
      approval: null,
      rollbackOn: [{ kind: 'anomaly-rate', percent: 5 }],
      public: false,
      local: null,
    });
    // Nothing account-wide is taken over, and a teardown is never blocked: no ALB deletion protection.
    assert.deepEqual(manifest.platform.account, { apiGatewayLoggingRole: false });
    assert.deepEqual(manifest.platform.teardown, {
      loadBalancerDeletionProtection: false,
      retainLogs: true,
      retainUserPool: true,
    });
    // Secure by default: HTTPS with Cognito sign-in, every web service behind it.
    assert.deepEqual(manifest.platform.edge, {
      certificateArn: null,
      domainName: null,
      auth: { kind: 'cognito' },
      insecureHttpOnly: false,
      idleTimeoutSeconds: 60,
      accessLogRetentionDays: 90,
    });
    assert.equal(front?.public, false);
    assert.equal(front?.kind, 'web');
    assert.deepEqual(front?.talksTo, ['backend']);
    assert.deepEqual(front?.reachableFrom, []);
    assert.deepEqual(front?.paths, ['/*']);
    // An idle web release is probed on its health path and its root.
    assert.deepEqual(front?.deployment, {
      strategy: 'rolling',
      probes: ['/healthz', '/'],
      onScorerOutage: 'judge-on-errors',
    });
  });

  it('keeps declared probes and the scorer-outage policy with the strategy', () => {
    const { app, platform } = platformOf();
    backendOf(platform, {
      deployment: Deployment.rolling({ probes: ['/healthz', '/api/orders'], onScorerOutage: 'roll-back' }),
    });
    frontendOf(platform, { deployment: Deployment.canary({ percent: 10, bakeMinutes: 5, probes: ['/'] }) });
    const [back, front] = app.synth().services;
    assert.deepEqual(back?.deployment, {
      strategy: 'rolling',
      probes: ['/healthz', '/api/orders'],
      onScorerOutage: 'roll-back',
    });
    assert.deepEqual(front?.deployment, {
      strategy: 'canary',
      percent: 10,
      bakeMinutes: 5,
      probes: ['/'],
      onScorerOutage: 'judge-on-errors',
    });
  });

  it('records a manual approval with its stage, timeout and what a timeout does', () => {
    const { app, platform } = platformOf();
    frontendOf(platform, {
      deployment: Deployment.canary(),
      approval: ManualApproval.beforeProductionTraffic({ timeoutMinutes: 120 }),
    });
    const web = new WebService(platform, 'docs', {
      image: image('docs'),
      port: 8090,
      paths: ['/docs/*'],
      deployment: Deployment.blueGreen(),
      approval: ManualApproval.afterProductionTraffic({ onTimeout: 'continue' }),
    });
    const manifest = app.synth();
    const approval = (name: string) => manifest.services.find((s) => s.name === name)?.approval;
    assert.deepEqual(approval('frontend'), {
      stage: 'POST_TEST_TRAFFIC_SHIFT',
      timeoutMinutes: 120,
      onTimeout: 'roll-back',
    });
    assert.deepEqual(approval(web.name), {
      stage: 'POST_PRODUCTION_TRAFFIC_SHIFT',
      timeoutMinutes: 60,
      onTimeout: 'continue',
    });
  });

  it("gives each service its declared alert budget, else the model endpoint's, else 0.001", () => {
    const app = new App();
    const platform = new Platform(app, 'acme', { capacity });
    new ModelEndpoint(platform, 'log-anomaly', {
      image: image('model'),
      artifactDir: 'model/artifacts/default',
      budget: 0.0005,
    });
    backendOf(platform, { anomaly: { budget: 0.01 } });
    frontendOf(platform);
    const manifest = app.synth();
    const budgets = Object.fromEntries(manifest.services.map((s) => [s.name, s.anomaly.budget]));
    assert.deepEqual(budgets, { backend: 0.01, frontend: 0.0005 });
    assert.equal(manifest.model?.budget, 0.0005);
    const plain = platformOf();
    frontendOf(plain.platform);
    assert.equal(plain.app.synth().model?.budget, 0.001);
  });

  it('keeps secrets as references and plain environment as values', () => {
    const { app, platform } = platformOf();
    frontendOf(platform, {
      environment: { LOG_LEVEL: 'info' },
      secrets: {
        DB_PASSWORD: Secret.fromSecretsManager('acme/db', { field: 'password' }),
        FEATURE_FLAGS: Secret.fromSsmParameter('/acme/flags'),
      },
    });
    const [front] = app.synth().services;
    assert.deepEqual(front?.environment, { LOG_LEVEL: 'info' });
    assert.deepEqual(front?.secrets, {
      DB_PASSWORD: { source: 'secretsmanager', secretName: 'acme/db', field: 'password' },
      FEATURE_FLAGS: { source: 'ssm', parameterName: '/acme/flags' },
    });
  });

  it('keeps a Python service built from its Dockerfile (context its folder) with its declared local command', () => {
    const { app, platform } = platformOf();
    new WebService(platform, 'pyapi', {
      image: Image.fromDockerfile('pyapi/Dockerfile', { entry: 'app.py' }),
      port: 8000,
      local: { command: ['python3', 'pyapi/app.py'] },
    });
    new WebService(platform, 'worker', {
      image: Image.fromDockerfile('worker/Dockerfile'),
      port: 8001,
      paths: ['/w/*'],
    });
    const manifest = app.synth();
    const [pyapi, worker] = manifest.services;
    assert.deepEqual(pyapi?.image, {
      kind: 'dockerfile',
      dockerfile: 'pyapi/Dockerfile',
      context: 'pyapi',
      entry: 'app.py',
    });
    assert.deepEqual(pyapi?.local, { command: ['python3', 'pyapi/app.py'] });
    assert.deepEqual(worker?.image, {
      kind: 'dockerfile',
      dockerfile: 'worker/Dockerfile',
      context: 'worker',
      entry: null,
    });
    assert.equal(worker?.local, null);
    // Without props, the model endpoint is the one this package ships.
    const bare = new App();
    const shop = new Platform(bare, 'shop', { capacity });
    new ModelEndpoint(shop, 'log-anomaly');
    new WebService(shop, 'web', { image: Image.fromDockerfile('Dockerfile'), port: 3000 });
    assert.deepEqual(
      { ...bare.synth().model, apiClients: undefined },
      {
        name: 'log-anomaly',
        path: 'shop/log-anomaly',
        image: {
          kind: 'dockerfile',
          dockerfile: 'Dockerfile.model',
          context: '.',
          entry: 'model/serve/main.ts',
        },
        artifactDir: 'model/artifacts/default',
        budget: 0.001,
        source: 'platform',
        instanceType: 'ml.m5.large',
        instanceCount: 2,
        apiClients: undefined,
      },
    );
  });

  it('gives explicit web paths listener priorities in declaration order, the catch-all none', () => {
    const { app, platform } = platformOf();
    frontendOf(platform);
    new WebService(platform, 'docs', { image: image('docs'), port: 8090, paths: ['/docs/*'] });
    new WebService(platform, 'status', {
      image: image('status'),
      port: 8091,
      paths: ['/status', '/status/*'],
    });
    const byName = Object.fromEntries(app.synth().services.map((s) => [s.name, s.priority]));
    assert.deepEqual(byName, { frontend: 0, docs: 10, status: 20 });
  });

  it("is deterministic: this repository's declaration synthesises to the same manifest twice", () => {
    assert.deepEqual(declarePlatform().synth(), declarePlatform().synth());
  });

  it("declares this repository's platform: frontend public, backend reachable only from it, the model endpoint", () => {
    const manifest = declarePlatform().synth();
    const byName = new Map(manifest.services.map((s) => [s.name, s]));
    assert.equal(byName.get('frontend')?.kind, 'web');
    assert.equal(byName.get('backend')?.kind, 'internal');
    assert.deepEqual(byName.get('backend')?.reachableFrom, ['frontend']);
    assert.deepEqual(byName.get('backend')?.platformAccess, { readAnomalies: true, invokeModel: true });
    assert.deepEqual(byName.get('frontend')?.platformAccess, { readAnomalies: false, invokeModel: false });
    assert.equal(manifest.model?.name, 'log-anomaly');
    assert.equal(manifest.model?.instanceCount, 2);
    assert.deepEqual(manifest.model?.apiClients, [
      { name: 'default', rateLimitPerSecond: 50, burstLimit: 100, dailyQuota: 100_000 },
    ]);
  });
});

describe('an invalid declaration fails early with the path, the value and the fix', () => {
  const cases: Array<[string, () => unknown, string]> = [
    [
      'a Python entry with no local command (issue 21: it crash-looped under start)',
      () =>
        backendOf(platformOf().platform, { image: Image.fromDockerfile('Dockerfile', { entry: 'app.py' }) }),
      "acme/backend: image.entry ('app.py') is not a TypeScript or JavaScript file, the only entries the local runtime starts itself. Fix: declare local: { command: [...] } (e.g. ['python3', 'app.py']), or leave entry out to run the Dockerfile's CMD.",
    ],
    [
      'an empty local command',
      () => backendOf(platformOf().platform, { local: { command: [] } }),
      "acme/backend: local.command ([]) must name a program and its arguments, none empty. Fix: give e.g. ['python3', 'app.py'].",
    ],
    [
      'a model of its own without its artifacts',
      () => new ModelEndpoint(platformOf({}, false).platform, 'log-anomaly', { image: image('model') }),
      'acme/log-anomaly: artifactDir (undefined) is required with image (a model of your own). Fix: declare both, or neither for the model this package ships.',
    ],
    [
      'scaling.min below 1',
      () => backendOf(platformOf().platform, { scaling: { min: 0 } }),
      'acme/backend: scaling.min (0) must be ≥ 1. Fix: set scaling.min to 1 or more.',
    ],
    [
      'scaling.max below scaling.min',
      () => backendOf(platformOf().platform, { scaling: { min: 4, max: 3 } }),
      'acme/backend: scaling.max (3) must be ≥ scaling.min (4). Fix: raise scaling.max to at least 4 or lower scaling.min.',
    ],
    [
      'target CPU out of range',
      () => backendOf(platformOf().platform, { scaling: { targetCpuPercent: 95 } }),
      'acme/backend: scaling.targetCpuPercent (95) must be ≤ 90. Fix: set scaling.targetCpuPercent to 90 or less.',
    ],
    [
      'fractional port',
      () => backendOf(platformOf().platform, { port: 8081.5 }),
      'acme/backend: port (8081.5) must be a whole number. Fix: set port to a whole number.',
    ],
    [
      'a port the sidecar reserves',
      () => backendOf(platformOf().platform, { port: 9880 }),
      'acme/backend: port (9880) is the anomaly sidecar intake port. Fix: choose another port, e.g. 8080.',
    ],
    [
      'too little memory',
      () => backendOf(platformOf().platform, { memoryMiB: 64 }),
      'acme/backend: memoryMiB (64) must be ≥ 128. Fix: set memoryMiB to 128 MiB or more.',
    ],
    [
      'health-check timeout not below interval',
      () => backendOf(platformOf().platform, { healthCheck: { intervalSeconds: 5, timeoutSeconds: 5 } }),
      'acme/backend: healthCheck.timeoutSeconds (5) must be < healthCheck.intervalSeconds (5). Fix: set healthCheck.timeoutSeconds below 5 or raise healthCheck.intervalSeconds.',
    ],
    [
      'health-check path without a slash',
      () => backendOf(platformOf().platform, { healthCheck: { path: 'healthz' } }),
      "acme/backend: healthCheck.path ('healthz') must start with '/' and hold no spaces. Fix: use a path such as '/healthz'.",
    ],
    [
      'a secret in plain environment',
      () => backendOf(platformOf().platform, { environment: { DB_PASSWORD: 'hunter2' } }),
      "acme/backend: environment.DB_PASSWORD ('(value hidden)') looks like a secret; environment values are stored in plain text in the task definition. Fix: move it to secrets: { DB_PASSWORD: Secret.fromSecretsManager('…') }.",
    ],
    [
      'a name set both as environment and secret',
      () =>
        backendOf(platformOf().platform, {
          environment: { DB_URL: 'x' },
          secrets: { DB_URL: Secret.fromSsmParameter('/db') },
        }),
      "acme/backend: secrets.DB_URL ('DB_URL') is also set in environment. Fix: declare it in one of environment or secrets.",
    ],
    [
      'an invalid service name',
      () => new InternalService(platformOf().platform, 'Back_End', { image: image('x'), port: 8081 }),
      "acme/Back_End: id ('Back_End') must be 2-32 lowercase letters, digits or hyphens, starting with a letter. Fix: rename the service, e.g. 'backend'.",
    ],
    [
      'a canary on an internal service',
      () => backendOf(platformOf().platform, { deployment: Deployment.canary({ percent: 10 }) }),
      "acme/backend: deployment ('canary') a canary deployment shifts traffic at the load balancer, and an internal service has none. Fix: use Deployment.rolling() (the default) for internal services, or declare the service as a WebService.",
    ],
    [
      'a canary percent out of range',
      () =>
        new WebService(platformOf().platform, 'web', {
          image: image('web'),
          port: 8080,
          deployment: Deployment.canary({ percent: 150 }),
        }),
      'acme/web: deployment.percent (150) must be between 0.1 and 100. Fix: set deployment.percent to a number from 0.1 to 100.',
    ],
    [
      'a linear step finer than ECS allows',
      () =>
        new WebService(platformOf().platform, 'web', {
          image: image('web'),
          port: 8080,
          deployment: Deployment.linear({ stepPercent: 12.25 }),
        }),
      'acme/web: deployment.stepPercent (12.25) must be a multiple of 0.1 (ECS). Fix: round deployment.stepPercent to one decimal place.',
    ],
    [
      'a blue/green bake longer than a day',
      () =>
        new WebService(platformOf().platform, 'web', {
          image: image('web'),
          port: 8080,
          deployment: Deployment.blueGreen({ bakeMinutes: 2000 }),
        }),
      'acme/web: deployment.bakeMinutes (2000) must be ≤ 1440. Fix: set deployment.bakeMinutes to 1440 minutes or less.',
    ],
    [
      'an empty probe list',
      () => backendOf(platformOf().platform, { deployment: Deployment.rolling({ probes: [] }) }),
      'acme/backend: deployment.probes ([]) must list at least one path: an idle release is judged on its probes. Fix: omit probes for the default (the health check path, and / for web services), or list GET paths such as /healthz.',
    ],
    [
      'a probe that is not a path',
      () =>
        backendOf(platformOf().platform, {
          deployment: Deployment.rolling({ probes: ['/healthz', 'api/orders'] }),
        }),
      "acme/backend: deployment.probes[1] ('api/orders') must be a path: '/' then up to 200 characters, no spaces or '*'. Fix: write it as a GET path such as /api/orders.",
    ],
    [
      'a probe listed twice',
      () =>
        new WebService(platformOf().platform, 'web', {
          image: image('web'),
          port: 8080,
          deployment: Deployment.canary({ probes: ['/', '/'] }),
        }),
      "acme/web: deployment.probes[1] ('/') is listed twice. Fix: list each path once.",
    ],
    [
      'too many probes',
      () =>
        backendOf(platformOf().platform, {
          deployment: Deployment.rolling({ probes: Array.from({ length: 11 }, (_, i) => `/p${i}`) }),
        }),
      'acme/backend: deployment.probes (11) must list at most 10 paths. Fix: probe the routes that matter most.',
    ],
    [
      'an unknown scorer-outage policy',
      () =>
        backendOf(platformOf().platform, {
          deployment: Deployment.rolling({ onScorerOutage: 'ignore' as 'roll-back' }),
        }),
      "acme/backend: deployment.onScorerOutage ('ignore') must be 'roll-back' or 'judge-on-errors'. Fix: use 'judge-on-errors' (the default: the error rates decide alone) or 'roll-back'.",
    ],
    [
      'a manual approval on a rolling deployment',
      () => frontendOf(platformOf().platform, { approval: ManualApproval.beforeProductionTraffic() }),
      "acme/frontend: approval ('POST_TEST_TRAFFIC_SHIFT') pauses at a traffic-shift stage, and a rolling deployment shifts no traffic. Fix: declare deployment: Deployment.canary(), .linear() or .blueGreen() on a WebService, or remove approval.",
    ],
    [
      'a manual approval waiting longer than ECS allows',
      () =>
        frontendOf(platformOf().platform, {
          deployment: Deployment.canary(),
          approval: ManualApproval.afterProductionTraffic({ timeoutMinutes: 30000 }),
        }),
      'acme/frontend: approval.timeoutMinutes (30000) must be ≤ 20160. Fix: set approval.timeoutMinutes to 20160 minutes or less.',
    ],
    [
      'an OIDC provider both created and imported',
      () =>
        platformOf({
          delivery: {
            githubRepository: 'acme/platform',
            createOidcProvider: true,
            oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
          },
        }),
      'acme: delivery.createOidcProvider (true) cannot be combined with delivery.oidcProviderArn (that provider is imported). Fix: remove createOidcProvider to import the provider, or remove oidcProviderArn to create one.',
    ],
    [
      'a rollback alarm at 0 %',
      () => backendOf(platformOf().platform, { rollbackOn: [RollbackAlarm.anomalyRate({ percent: 0 })] }),
      'acme/backend: rollbackOn[0].percent (0) must be between 0.1 and 100. Fix: set rollbackOn[0].percent to a number from 0.1 to 100.',
    ],
    [
      'one instance type',
      () => new Platform(new App(), 'acme', { capacity: { instanceTypes: ['t3.medium'] } }),
      "acme: capacity.instanceTypes ([\"t3.medium\"]) must name at least two instance types. Fix: add a second type of the same size, e.g. ['t3.medium', 't3a.medium'].",
    ],
    [
      'a malformed instance type',
      () => new Platform(new App(), 'acme', { capacity: { instanceTypes: ['t3.medium', 'big'] } }),
      "acme: capacity.instanceTypes[1] ('big') is not an EC2 instance type. Fix: use a name such as 't3.medium'.",
    ],
    [
      'a single Availability Zone',
      () => new Platform(new App(), 'acme', { capacity, network: { availabilityZones: 1 } }),
      'acme: network.availabilityZones (1) must be ≥ 2. Fix: set network.availabilityZones to 2 or more.',
    ],
    [
      'more NAT gateways than AZs',
      () => new Platform(new App(), 'acme', { capacity, network: { natGateways: 3 } }),
      'acme: network.natGateways (3) must be ≤ 2. Fix: set network.natGateways to 2 or less.',
    ],
    [
      'a CIDR wider than /16',
      () => new Platform(new App(), 'acme', { capacity, network: { cidr: '10.0.0.0/8' } }),
      "acme: network.cidr ('10.0.0.0/8') must be an IPv4 CIDR from /16 to /24. Fix: use a private range such as '10.0.0.0/16'.",
    ],
    [
      'max instances below min',
      () => new Platform(new App(), 'acme', { capacity: { ...capacity, minInstances: 4, maxInstances: 2 } }),
      'acme: capacity.maxInstances (2) must be ≥ capacity.minInstances (4). Fix: raise capacity.maxInstances to at least 4 or lower capacity.minInstances.',
    ],
    [
      'a certificate that is not an ACM ARN',
      () => new Platform(new App(), 'acme', { capacity, edge: { certificateArn: 'my-cert' } }),
      "acme: edge.certificateArn ('my-cert') is not an ACM certificate ARN. Fix: use the ARN of an ACM certificate in the deployment region.",
    ],
    [
      'an insecure edge with a domain',
      () =>
        new Platform(new App(), 'acme', {
          capacity,
          edge: { insecureHttpOnly: true, domainName: 'console.example.com' },
        }),
      'acme: edge.insecureHttpOnly (true) cannot be combined with a certificate or a domain. Fix: remove insecureHttpOnly to serve HTTPS with sign-in.',
    ],
    [
      'an OIDC issuer over plain HTTP',
      () =>
        new Platform(new App(), 'acme', {
          capacity,
          edge: {
            auth: EdgeAuth.oidc({
              issuer: 'http://login.example.com',
              authorizationEndpoint: 'https://login.example.com/authorize',
              tokenEndpoint: 'https://login.example.com/token',
              userInfoEndpoint: 'https://login.example.com/userinfo',
              clientId: 'console',
              clientSecretName: 'acme/console-oidc',
            }),
          },
        }),
      "acme: edge.auth.issuer ('http://login.example.com') must be an https:// URL. Fix: copy it from the identity provider's /.well-known/openid-configuration.",
    ],
    [
      'an anomaly threshold above 1',
      () => backendOf(platformOf().platform, { anomaly: { threshold: 1.5 } }),
      'acme/backend: anomaly.threshold (1.5) must be between 0 and 1. Fix: set anomaly.threshold to a number from 0 to 1.',
    ],
    [
      'an anomaly budget above 5 %',
      () => backendOf(platformOf().platform, { anomaly: { budget: 0.2 } }),
      'acme/backend: anomaly.budget (0.2) must be between 0.000001 and 0.05. Fix: set anomaly.budget to a number from 0.000001 to 0.05.',
    ],
    [
      'an anomaly budget of 0',
      () => backendOf(platformOf().platform, { anomaly: { budget: 0 } }),
      'acme/backend: anomaly.budget (0) must be between 0.000001 and 0.05. Fix: set anomaly.budget to a number from 0.000001 to 0.05.',
    ],
    [
      'both an anomaly threshold and a budget',
      () => backendOf(platformOf().platform, { anomaly: { budget: 0.01, threshold: 0.7 } }),
      'acme/backend: anomaly.threshold (0.7) would override anomaly.budget (0.01); declare one. Fix: remove anomaly.threshold (the budget 0.01 is the score 0.4) or anomaly.budget.',
    ],
    [
      'a model endpoint budget above 5 %',
      () =>
        new ModelEndpoint(platformOf({}, false).platform, 'log-anomaly', {
          image: image('model'),
          artifactDir: 'model/artifacts/default',
          budget: 0.1,
        }),
      'acme/log-anomaly: budget (0.1) must be between 0.000001 and 0.05. Fix: set budget to a number from 0.000001 to 0.05.',
    ],
    [
      'a second model endpoint',
      () =>
        new ModelEndpoint(platformOf().platform, 'other', { image: image('model'), artifactDir: 'model' }),
      "acme/other: id ('other') is a second model endpoint; a platform has at most one. Fix: remove it or reuse 'log-anomaly'.",
    ],
    [
      'a service calling a web service',
      () => {
        const { platform } = platformOf();
        const front = frontendOf(platform);
        return backendOf(platform, { talksTo: [front as unknown as InternalServiceType] });
      },
      "acme/backend: talksTo[0] ('acme/frontend') is not an InternalService. Fix: only internal services can be called; web services are reached through the ALB.",
    ],
    [
      'a service in another platform',
      () => {
        const other = platformOf().platform;
        return frontendOf(platformOf().platform, { talksTo: [backendOf(other)] });
      },
      "acme/frontend: talksTo[0] ('acme/backend') belongs to another platform. Fix: declare both services in the same Platform.",
    ],
    [
      'too many web path patterns',
      () => frontendOf(platformOf().platform, { paths: ['/a', '/b', '/c', '/d', '/e', '/f'] }),
      'acme/frontend: paths (["/a","/b","/c","/d","/e","/f"]) must hold 1 to 5 patterns (an ALB rule condition allows 5). Fix: use e.g. [\'/*\'] or [\'/docs/*\'].',
    ],
  ];

  for (const [name, declare, expected] of cases) {
    it(name, () => {
      assert.throws(declare, DeclarationError);
      assert.equal(messageOf(declare), expected);
    });
  }
});

describe('late validation at synth reports every cross-service problem together', () => {
  it('needs a model endpoint for anomaly scoring and a web service for the ALB', () => {
    const { app, platform } = platformOf({}, false);
    backendOf(platform);
    const message = messageOf(() => app.synth());
    assert.equal(
      message,
      [
        'the declaration has 2 errors:',
        '- acme: web services (0) must be ≥ 1. Fix: declare a WebService; the ALB needs a public service to route to.',
        "- acme/backend: anomaly.enabled (true) needs a model endpoint. Fix: declare new ModelEndpoint(platform, 'log-anomaly', …) or set anomaly.enabled to false.",
      ].join('\n'),
    );
    assert.throws(() => app.synth(), DeclarationErrors);
  });

  it('refuses two web services on one path', () => {
    const { app, platform } = platformOf();
    frontendOf(platform);
    new WebService(platform, 'shadow', { image: image('shadow'), port: 8090 });
    assert.equal(
      messageOf(() => app.synth()),
      "the declaration has 1 error:\n- acme/shadow: paths ('/*') is already routed to acme/frontend. Fix: give one of the two services a distinct path pattern.",
    );
  });

  it('refuses an app without a platform', () => {
    assert.equal(
      messageOf(() => new App().synth()),
      "the declaration has 1 error:\n- (app): platforms (0) must be exactly 1. Fix: declare one new Platform(app, 'name', …) per app.",
    );
  });

  it('accepts anomaly scoring switched off without a model endpoint', () => {
    const { app, platform } = platformOf({}, false);
    frontendOf(platform, { anomaly: { enabled: false } });
    assert.equal(app.synth().model, null);
  });
});

describe('what only a renderer used to refuse is a declaration error (issue 20)', () => {
  // Each of these passed config before and failed later, in the AWS renderer, with a plain Error.
  const cases: Array<[string, () => unknown, string]> = [
    [
      'a model endpoint with one instance (inference.ts refused it)',
      () =>
        new ModelEndpoint(platformOf({}, false).platform, 'log-anomaly', {
          image: image('model'),
          artifactDir: 'model/artifacts/default',
          instanceCount: 1,
        }),
      'acme/log-anomaly: instanceCount (1) must be ≥ 2. Fix: keep two instances or more, so an AZ or instance failure leaves the endpoint serving.',
    ],
    [
      'a model endpoint from a registry image (inference.ts refused it)',
      () =>
        new ModelEndpoint(platformOf({}, false).platform, 'log-anomaly', {
          image: Image.fromRegistry('public.ecr.aws/acme/model:1'),
          artifactDir: 'model/artifacts/default',
        }),
      "acme/log-anomaly: image ('public.ecr.aws/acme/model:1') is a registry image; the endpoint is built from its Dockerfile (the image and its entry). Fix: declare Image.fromDockerfile('Dockerfile.model', { entry: 'model/serve/main.ts' }).",
    ],
    [
      'no NAT gateway and no VPC endpoints (network.ts refused it)',
      () => new Platform(new App(), 'acme', { capacity, network: { natGateways: 0, vpcEndpoints: false } }),
      'acme: network.natGateways (0) needs network.vpcEndpoints, which is false. Fix: turn network.vpcEndpoints on, or declare at least one NAT gateway; without either, the ECS agent cannot reach ECS, ECR or CloudWatch.',
    ],
    [
      'a log retention CloudWatch Logs does not accept (logging.ts refused it)',
      () => new Platform(new App(), 'acme', { capacity, observability: { logRetentionDays: 10 } }),
      'acme: observability.logRetentionDays (10) is not a retention CloudWatch Logs accepts. Fix: use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653.',
    ],
    [
      'a flow-log retention CloudWatch Logs does not accept (logging.ts refused it)',
      () => new Platform(new App(), 'acme', { capacity, network: { flowLogRetentionDays: 100 } }),
      'acme: network.flowLogRetentionDays (100) is not a retention CloudWatch Logs accepts. Fix: use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653.',
    ],
    [
      'a GitHub owner GitHub would not accept (delivery-role.ts refused it)',
      () => new Platform(new App(), 'acme', { capacity, delivery: { githubRepository: '-acme/platform' } }),
      "acme: delivery.githubRepository ('-acme/platform') must be 'owner/name' as GitHub spells them. Fix: use the repository's 'owner/name', e.g. 'acme/platform'.",
    ],
    [
      'a wildcard branch in the OIDC subject (delivery-role.ts refused it)',
      () =>
        new Platform(new App(), 'acme', { capacity, delivery: { githubRepository: 'acme/p', branch: '*' } }),
      "acme: delivery.branch ('*') must be a plain branch name without wildcards or ':'. Fix: name the one branch that deploys, e.g. 'main'.",
    ],
    [
      'an environment with a colon in the OIDC subject (delivery-role.ts refused it)',
      () =>
        new Platform(new App(), 'acme', {
          capacity,
          delivery: { githubRepository: 'acme/p', environment: 'prod:x' },
        }),
      "acme: delivery.environment ('prod:x') must be a GitHub environment name without wildcards, ':' or '/'. Fix: name the protected environment, e.g. 'production'.",
    ],
    [
      "a service named like one of the platform's images (it would replace the sidecar's image)",
      () => new InternalService(platformOf().platform, 'sidecar', { image: image('sidecar'), port: 8081 }),
      "acme/sidecar: id ('sidecar') is the registry name of the anomaly sidecar's image. Fix: rename the service, e.g. 'web'.",
    ],
  ];

  for (const [name, declare, expected] of cases) {
    it(name, () => {
      assert.throws(declare, DeclarationError);
      assert.equal(messageOf(declare), expected);
    });
  }

  it('still accepts the values the renderers accept (two instances, 30 days, one NAT gateway without endpoints)', () => {
    const { app, platform } = platformOf({
      network: { natGateways: 1, vpcEndpoints: false, flowLogRetentionDays: 365 },
      observability: { logRetentionDays: 30 },
      delivery: {
        githubRepository: 'acme/ecs-anomaly-platform',
        branch: 'release/1.x',
        environment: 'prod-eu',
      },
    });
    frontendOf(platform);
    const manifest = app.synth();
    assert.equal(manifest.model?.instanceCount, 2);
    assert.equal(manifest.platform.network.natGateways, 1);
    assert.equal(manifest.platform.delivery?.branch, 'release/1.x');
  });
});
