import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  App,
  Deployment,
  Image,
  InternalService,
  ModelEndpoint,
  Platform,
  type PlatformProps,
  Schedule,
  ScheduledJob,
  WebService,
  WorkerService,
} from '../index.ts';

// One declaration, two environments: staging smaller, production protected with its own domain and pager.
const image = (name: string) => Image.fromDockerfile(`${name}/Dockerfile`, { entry: `${name}/main.ts` });
const capacity = { instanceTypes: ['t3.medium', 't3a.medium'], minInstances: 2, maxInstances: 6 };
const environments: PlatformProps['environments'] = {
  staging: {
    capacity: { minInstances: 2, maxInstances: 3 },
    edge: { domainName: 'staging.shop.example.com' },
  },
  production: {
    protected: true,
    capacity: { maxInstances: 12 },
    edge: { domainName: 'shop.example.com' },
    observability: { alarmEmail: ['oncall@shop.example.com', 'lead@shop.example.com'] },
  },
};

function shop(props: Partial<PlatformProps> = {}): { app: App; platform: Platform } {
  const app = new App();
  const platform = new Platform(app, 'shop', { capacity, environments, ...props });
  new ModelEndpoint(platform, 'log-anomaly', { image: image('model'), artifactDir: 'model/artifacts' });
  return { app, platform };
}

function declareServices(platform: Platform): void {
  const orders = new InternalService(platform, 'orders', {
    image: image('orders'),
    port: 3000,
    scaling: { min: 2, max: 6 },
    environments: { production: { scaling: { min: 3, max: 12 } } },
  });
  new WebService(platform, 'storefront', {
    image: image('storefront'),
    port: 8000,
    talksTo: [orders],
    environments: {
      staging: { scaling: { min: 1, max: 2 } },
      production: { deployment: Deployment.canary({ percent: 10, bakeMinutes: 10 }) },
    },
  });
  new WorkerService(platform, 'mailer', {
    image: image('mailer'),
    environments: { production: { scaling: { max: 10 } } },
  });
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the declaration to be rejected');
}

describe('environments of one declaration', () => {
  it('lists the declared environments in promotion order with whether each is protected', () => {
    const { app, platform } = shop();
    declareServices(platform);
    const expected = [
      { name: 'staging', protected: false },
      { name: 'production', protected: true },
    ];
    assert.deepEqual(app.environments, expected);
    assert.deepEqual(app.synth({ environment: 'production' }).environments, expected);
    assert.deepEqual(app.synth().environments, expected);
  });

  it('renders each environment with its overrides merged over the shared declaration', () => {
    const { app, platform } = shop();
    declareServices(platform);
    const staging = app.synth({ environment: 'staging' });
    const production = app.synth({ environment: 'production' });
    assert.deepEqual(staging.environment, { name: 'staging', protected: false });
    assert.deepEqual(production.environment, { name: 'production', protected: true });
    assert.equal(staging.platform.name, 'shop');
    assert.deepEqual(
      [staging.platform.capacity.minInstances, staging.platform.capacity.maxInstances],
      [2, 3],
    );
    assert.deepEqual(
      [production.platform.capacity.minInstances, production.platform.capacity.maxInstances],
      [2, 12],
    );
    assert.equal(staging.platform.edge.domainName, 'staging.shop.example.com');
    assert.equal(production.platform.edge.domainName, 'shop.example.com');
    assert.deepEqual(staging.platform.observability.alarmEmails, []);
    assert.deepEqual(production.platform.observability.alarmEmails, [
      'oncall@shop.example.com',
      'lead@shop.example.com',
    ]);
    const scaling = (m: typeof staging, name: string) =>
      [...m.services, ...m.workers].find((s) => s.name === name)!.scaling;
    // A scaling override is merged over the service's own scaling; what it leaves out is shared.
    assert.deepEqual([scaling(staging, 'orders').minTasks, scaling(staging, 'orders').maxTasks], [2, 6]);
    assert.deepEqual(
      [scaling(production, 'orders').minTasks, scaling(production, 'orders').maxTasks],
      [3, 12],
    );
    assert.equal(scaling(staging, 'storefront').maxTasks, 2);
    assert.equal(scaling(production, 'mailer').maxTasks, 10);
    assert.equal(scaling(staging, 'mailer').maxTasks, 6);
    const storefront = (m: typeof staging) => m.services.find((s) => s.name === 'storefront')!;
    assert.equal(storefront(staging).deployment.strategy, 'rolling');
    assert.equal(storefront(production).deployment.strategy, 'canary');
  });

  it('renders the shared declaration (start runs it as the local environment) with no environment chosen', () => {
    const { app, platform } = shop();
    declareServices(platform);
    const base = app.synth();
    assert.equal(base.environment, null);
    assert.equal(base.platform.capacity.maxInstances, 6);
    assert.equal(base.platform.edge.domainName, null);
  });

  it('renders a declaration without environments as before: no environment, an empty list', () => {
    const app = new App();
    const platform = new Platform(app, 'shop', { capacity });
    new ModelEndpoint(platform, 'log-anomaly', { image: image('model'), artifactDir: 'model/artifacts' });
    declareServicesWithoutOverrides(platform);
    const manifest = app.synth();
    assert.equal(manifest.environment, null);
    assert.deepEqual(manifest.environments, []);
  });
});

function declareServicesWithoutOverrides(platform: Platform): void {
  new WebService(platform, 'storefront', { image: image('storefront'), port: 8000 });
}

describe('environment declaration errors (path, value, fix)', () => {
  it('refuses an override of something environments may not differ in', () => {
    const bad = {
      staging: { network: { cidr: '10.1.0.0/16' } },
    } as unknown as PlatformProps['environments'];
    assert.equal(
      messageOf(() => shop({ environments: bad })),
      `shop: environments.staging.network ({"cidr":"10.1.0.0/16"}) is not overridable: environments differ only in capacity, scaling, domain (edge.domainName, edge.certificateArn), alarm subscribers (observability.alarmEmail), deployment strategy and protected. Fix: declare network once on the Platform (every environment shares it), or remove it from environments.staging.`,
    );
  });

  it('checks each alarm subscriber of an environment as an e-mail address', () => {
    assert.equal(
      messageOf(() =>
        shop({
          environments: {
            production: { observability: { alarmEmail: ['oncall@shop.example.com', 'pager'] } },
          },
        }),
      ),
      "shop: environments.production.observability.alarmEmail[1] ('pager') is not an e-mail address. Fix: use an address such as ops@example.com.",
    );
  });

  it('refuses an edge or observability override other than the domain and the alarm subscriber', () => {
    const bad = {
      production: { edge: { idleTimeoutSeconds: 120 } },
    } as unknown as PlatformProps['environments'];
    assert.equal(
      messageOf(() => shop({ environments: bad })),
      `shop: environments.production.edge.idleTimeoutSeconds (120) is not overridable: environments differ only in capacity, scaling, domain (edge.domainName, edge.certificateArn), alarm subscribers (observability.alarmEmail), deployment strategy and protected. Fix: declare edge.idleTimeoutSeconds once on the Platform (every environment shares it), or remove it from environments.production.`,
    );
  });

  it('refuses a service override of something but scaling and deployment', () => {
    const { platform } = shop();
    assert.equal(
      messageOf(
        () =>
          new WebService(platform, 'storefront', {
            image: image('storefront'),
            port: 8000,
            environments: { production: { cpuUnits: 1024 } as never },
          }),
      ),
      `shop/storefront: environments.production.cpuUnits (1024) is not overridable: a service differs between environments only in scaling and deployment. Fix: declare cpuUnits once on the service (every environment shares it), or remove it from environments.production.`,
    );
  });

  it("refuses a worker's deployment override (a worker always rolls)", () => {
    const { platform } = shop();
    assert.equal(
      messageOf(
        () =>
          new WorkerService(platform, 'mailer', {
            image: image('mailer'),
            environments: { production: { deployment: Deployment.rolling() } as never },
          }),
      ),
      `shop/mailer: environments.production.deployment ({"strategy":"rolling"}) is not overridable: a worker differs between environments only in scaling. Fix: declare deployment once on the worker (every environment shares it), or remove it from environments.production.`,
    );
  });

  it('refuses environments on a scheduled job and the model endpoint, the same in every environment', () => {
    const { platform } = shop();
    const production = { production: { timeoutSeconds: 60 } };
    assert.equal(
      messageOf(
        () =>
          new ScheduledJob(platform, 'report', {
            image: image('report'),
            schedule: Schedule.rate(1, 'hour'),
            ...({ environments: production } as object),
          }),
      ),
      `shop/report: environments ({"production":{"timeoutSeconds":60}}) is not overridable: a scheduled job runs the same in every environment. Fix: remove environments; what differs between environments is the platform's capacity and the services' scaling and deployment.`,
    );
    const other = new App();
    const p = new Platform(other, 'shop', { capacity, environments });
    assert.equal(
      messageOf(
        () =>
          new ModelEndpoint(p, 'log-anomaly', {
            ...({ environments: { staging: { instanceCount: 1 } } } as object),
          }),
      ),
      `shop/log-anomaly: environments ({"staging":{"instanceCount":1}}) is not overridable: a model endpoint runs the same in every environment. Fix: remove environments; what differs between environments is the platform's capacity and the services' scaling and deployment.`,
    );
  });

  it('refuses a service override for an environment the platform does not declare', () => {
    const { platform } = shop();
    assert.equal(
      messageOf(
        () =>
          new InternalService(platform, 'orders', {
            image: image('orders'),
            port: 3000,
            environments: { prod: { scaling: { min: 3 } } },
          }),
      ),
      `shop/orders: environments.prod ({"scaling":{"min":3}}) is not an environment of the platform. Fix: use one of staging, production, or declare prod in new Platform(app, 'shop', { environments }).`,
    );
  });

  it('checks an override as the prop itself is checked, naming the environment', () => {
    assert.equal(
      messageOf(() => shop({ environments: { staging: { capacity: { minInstances: 8 } } } })),
      'shop: environments.staging.capacity.maxInstances (6) must be ≥ capacity.minInstances (8). Fix: raise environments.staging.capacity.maxInstances to at least 8 or lower capacity.minInstances.',
    );
    const { platform } = shop();
    assert.equal(
      messageOf(
        () =>
          new InternalService(platform, 'orders', {
            image: image('orders'),
            port: 3000,
            environments: { staging: { scaling: { min: 0 } } },
          }),
      ),
      'shop/orders: environments.staging.scaling.min (0) must be ≥ 1. Fix: set environments.staging.scaling.min to 1 or more.',
    );
  });

  it("reserves 'local' (what start runs) and checks environment names", () => {
    assert.equal(
      messageOf(() => shop({ environments: { local: {} } })),
      `shop: environments.local ({}) is reserved: start runs the shared declaration as the local environment. Fix: rename it, e.g. 'dev' or 'staging'.`,
    );
    assert.equal(
      messageOf(() => shop({ environments: { Production: {} } })),
      `shop: environments.Production ('Production') must be 2-16 lowercase letters, digits or hyphens, starting with a letter (it is part of every physical name). Fix: rename it, e.g. 'production'.`,
    );
  });

  it('refuses what one account holds once when two environments would each create it', () => {
    assert.equal(
      messageOf(() => shop({ delivery: { githubRepository: 'shop/shop', createOidcProvider: true } })),
      `shop: delivery.createOidcProvider (true) would create GitHub's OIDC provider in each of 2 environments, and IAM holds one per issuer in an account. Fix: create it once (aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com) and remove createOidcProvider: every environment imports it.`,
    );
    assert.equal(
      messageOf(() => shop({ account: { apiGatewayLoggingRole: true } })),
      `shop: account.apiGatewayLoggingRole (true) would set API Gateway's one logging role of the region from each of 2 environments, and tearing one down would leave the other's API without logs. Fix: set it once for the account (aws apigateway update-account) and remove account.apiGatewayLoggingRole.`,
    );
  });

  it('refuses a GitHub environment for the deploy job beside environments (each deploys from its own)', () => {
    assert.equal(
      messageOf(() => shop({ delivery: { githubRepository: 'shop/shop', environment: 'prod' } })),
      `shop: delivery.environment ('prod') names the one GitHub environment of a declaration deployed once; with environments, each deploys from the GitHub environment of its own name (staging, production). Fix: remove delivery.environment, and protect those GitHub environments.`,
    );
  });

  it('refuses an environment whose physical names would outgrow a platform name', () => {
    const app = new App();
    assert.equal(
      messageOf(
        () =>
          new Platform(app, 'shop-with-a-long-name-platform', {
            capacity,
            environments: { production: {} },
          }),
      ),
      `shop-with-a-long-name-platform: environments.production ({}) makes the physical names 'shop-with-a-long-name-platform-production' (41 characters), more than the 32 of a platform's name. Fix: shorten the environment's name or the platform's id.`,
    );
  });

  it('refuses an environment the declaration does not declare when one is chosen', () => {
    const { app, platform } = shop();
    declareServices(platform);
    assert.equal(
      messageOf(() => app.synth({ environment: 'prod' })),
      `shop: environment ('prod') is not declared. Fix: choose one of staging, production (--env or PLATFORM_ENVIRONMENT), or declare it in new Platform(app, 'shop', { environments }).`,
    );
    const plain = new App();
    const p = new Platform(plain, 'plain', { capacity });
    new WebService(p, 'web', { image: image('web'), port: 8000, anomaly: { enabled: false } });
    assert.equal(
      messageOf(() => plain.synth({ environment: 'staging' })),
      `plain: environment ('staging') is not declared. Fix: declare environments in new Platform(app, 'plain', { environments: { staging: {} } }), or choose none.`,
    );
  });
});
