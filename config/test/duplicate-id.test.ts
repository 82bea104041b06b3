import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  App,
  DeclarationError,
  Image,
  InternalService,
  ModelEndpoint,
  Platform,
  WebService,
} from '../index.ts';

/** A second construct with an id already taken gets the path and the fix, not the constructs library's error. */

const image = (name: string) =>
  Image.fromDockerfile(`Dockerfile.${name}`, { entry: `services/${name}/main.ts` });
const capacity = { instanceTypes: ['t3.medium', 't3a.medium'] };

function declarationError(declare: () => void): string {
  try {
    declare();
  } catch (error) {
    assert.ok(error instanceof DeclarationError, `a DeclarationError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('no error thrown');
}

describe('a duplicate construct id', () => {
  it('names the path, what holds the id and the fix (two services)', () => {
    const message = declarationError(() => {
      const platform = new Platform(new App(), 'acme', { capacity });
      new InternalService(platform, 'backend', { image: image('backend'), port: 8081 });
      new WebService(platform, 'backend', { image: image('frontend'), port: 8080 });
    });
    assert.equal(
      message,
      "acme/backend: id ('backend') is already taken by the InternalService acme/backend. Fix: give each service and model endpoint of a platform its own id (the id is its name on AWS and locally).",
    );
  });

  it('covers a model endpoint sharing a service id', () => {
    const message = declarationError(() => {
      const platform = new Platform(new App(), 'acme', { capacity });
      new WebService(platform, 'scorer', { image: image('frontend'), port: 8080 });
      new ModelEndpoint(platform, 'scorer', {
        image: image('model'),
        artifactDir: 'model/artifacts/default',
      });
    });
    assert.equal(
      message,
      "acme/scorer: id ('scorer') is already taken by the WebService acme/scorer. Fix: give each service and model endpoint of a platform its own id (the id is its name on AWS and locally).",
    );
  });

  it('covers a second platform with the same id', () => {
    const message = declarationError(() => {
      const app = new App();
      new Platform(app, 'acme', { capacity });
      new Platform(app, 'acme', { capacity });
    });
    assert.equal(
      message,
      "acme: id ('acme') is already taken by the Platform acme. Fix: declare one Platform per App.",
    );
  });
});
