import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  App,
  DeclarationError,
  DeclarationErrors,
  Deployment,
  Image,
  InternalService,
  ModelEndpoint,
  OperationsConsole,
  Platform,
  WebService,
} from '../index.ts';

/**
 * The operations console as one construct: its two services (the package's own images), the access its
 * API needs, and its refusals with the path, the value and the fix.
 */

const capacity = { instanceTypes: ['t3.medium', 't3a.medium'] };
const teamImage = (name: string) => Image.fromDockerfile(`${name}/Dockerfile`, { entry: `${name}/main.ts` });

function shop(): { app: App; platform: Platform } {
  const app = new App();
  const platform = new Platform(app, 'shop', { capacity });
  new ModelEndpoint(platform, 'log-anomaly');
  const orders = new InternalService(platform, 'orders', { image: teamImage('orders'), port: 3000 });
  new WebService(platform, 'storefront', { image: teamImage('storefront'), port: 8000, talksTo: [orders] });
  return { app, platform };
}

function declarationError(declare: () => void): string {
  try {
    declare();
  } catch (error) {
    assert.ok(error instanceof DeclarationError, `a DeclarationError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('no error thrown');
}

describe('OperationsConsole', () => {
  it("adds a web service and an API of the package's own images, served under its path", () => {
    const { app, platform } = shop();
    new OperationsConsole(platform, 'console', { path: '/console' });
    const manifest = app.synth();
    const web = manifest.services.find((s) => s.name === 'console');
    const api = manifest.services.find((s) => s.name === 'console-api');
    assert.ok(web && api, `services: ${manifest.services.map((s) => s.name).join(', ')}`);
    assert.equal(web.kind, 'web');
    assert.deepEqual(web.paths, ['/console', '/console/*']);
    assert.deepEqual(web.talksTo, ['console-api']);
    assert.deepEqual(web.environment, { BASE_PATH: '/console', API_SERVICE: 'console-api' });
    assert.deepEqual(web.image, {
      kind: 'dockerfile',
      dockerfile: 'Dockerfile.frontend',
      context: '.',
      entry: 'services/frontend/server/main.ts',
      source: 'platform',
    });
    assert.equal(api.kind, 'internal');
    assert.deepEqual(api.reachableFrom, ['console']);
    assert.deepEqual(api.platformAccess, { readAnomalies: true, invokeModel: true });
    assert.equal(api.image.kind === 'dockerfile' && api.image.source, 'platform');
    // The team's own images stay the team's.
    const storefront = manifest.services.find((s) => s.name === 'storefront')!;
    assert.equal(storefront.image.kind === 'dockerfile' && storefront.image.source, undefined);
  });

  it('takes the default route without a path, and the names a deployed console already has', () => {
    const app = new App();
    const platform = new Platform(app, 'acme', { capacity });
    new ModelEndpoint(platform, 'log-anomaly');
    new OperationsConsole(platform, 'frontend', { apiName: 'backend' });
    const manifest = app.synth();
    assert.deepEqual(
      manifest.services.map((s) => [s.name, s.kind, s.paths, s.deployment.strategy]),
      [
        ['backend', 'internal', [], 'rolling'],
        ['frontend', 'web', ['/*'], 'canary'],
      ],
    );
    // The web server's defaults (the root, an API named backend): nothing to tell it.
    assert.deepEqual(manifest.services[1]!.environment, {});
  });

  it('follows a platform without a model endpoint: its services are not scored and call no model', () => {
    const app = new App();
    const platform = new Platform(app, 'shop', { capacity });
    new WebService(platform, 'storefront', {
      image: teamImage('storefront'),
      port: 8000,
      anomaly: { enabled: false },
    });
    new OperationsConsole(platform, 'console', { path: '/console' });
    const manifest = app.synth();
    const consoleServices = manifest.services.filter((s) => s.name.startsWith('console'));
    assert.deepEqual(
      consoleServices.map((s) => [s.name, s.anomaly.enabled, s.platformAccess.invokeModel]),
      [
        ['console-api', false, false],
        ['console', false, false],
      ],
    );
  });

  it("takes each environment's scaling and deployment for its web server and its API", () => {
    const app = new App();
    const platform = new Platform(app, 'shop', { capacity, environments: { staging: {} } });
    new ModelEndpoint(platform, 'log-anomaly');
    new OperationsConsole(platform, 'console', {
      web: { environments: { staging: { deployment: Deployment.canary({ percent: 50, bakeMinutes: 2 }) } } },
      api: { environments: { staging: { scaling: { min: 1, max: 2 } } } },
    });
    const staging = app.synth({ environment: 'staging' });
    const api = staging.services.find((s) => s.name === 'console-api')!;
    const web = staging.services.find((s) => s.name === 'console')!;
    assert.deepEqual([api.scaling.minTasks, api.scaling.maxTasks], [1, 2]);
    assert.equal(web.deployment.strategy === 'canary' && web.deployment.percent, 50);
    const shared = app.synth();
    assert.equal(shared.services.find((s) => s.name === 'console-api')!.scaling.minTasks, 2);
  });

  it('refuses a second console in one platform', () => {
    const { platform } = shop();
    new OperationsConsole(platform, 'console', { path: '/console' });
    const message = declarationError(() => new OperationsConsole(platform, 'ops', { path: '/ops' }));
    assert.equal(
      message,
      "shop/ops: id ('ops') is a second operations console; a platform has at most one (shop/console). Fix: remove it: one console shows every service, worker and job of the platform.",
    );
  });

  it("refuses a console whose API's name a service already has", () => {
    const app = new App();
    const platform = new Platform(app, 'shop', { capacity });
    new InternalService(platform, 'console-api', { image: teamImage('api'), port: 3000 });
    const message = declarationError(() => new OperationsConsole(platform, 'console', { path: '/console' }));
    assert.equal(
      message,
      "shop/console: apiName ('console-api') is already the name of the InternalService shop/console-api. Fix: give the console another id (its services are named <id> and <id>-api), or set apiName to a free name.",
    );
  });

  it('refuses a console id a service already has', () => {
    const app = new App();
    const platform = new Platform(app, 'shop', { capacity });
    new WebService(platform, 'console', { image: teamImage('site'), port: 3000 });
    const message = declarationError(() => new OperationsConsole(platform, 'console', { path: '/console' }));
    assert.equal(
      message,
      "shop/console: id ('console') is already the name of the WebService shop/console. Fix: give the console another id (its services are named <id> and <id>-api).",
    );
  });

  it('refuses a path that is not one URL segment', () => {
    const { platform } = shop();
    const message = declarationError(() => new OperationsConsole(platform, 'console', { path: '/ops/*' }));
    assert.equal(
      message,
      "shop/console: path ('/ops/*') must be '/' or one path segment such as '/console' (letters, digits, '-' or '_'). Fix: use e.g. path: '/console', or leave it out for the ALB's default route.",
    );
  });

  it("refuses, at synth, the default route when a team's web service has it", () => {
    const { app, platform } = shop();
    new OperationsConsole(platform, 'console');
    assert.throws(
      () => app.synth(),
      (error: unknown) =>
        error instanceof DeclarationErrors &&
        error.errors.includes(
          "shop/console: path ('/') takes the ALB's default route, which shop/storefront already has. Fix: serve the console under its own path, e.g. new OperationsConsole(platform, 'console', { path: '/console' }).",
        ),
    );
  });
});
