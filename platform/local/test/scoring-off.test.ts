import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { App, Image, Platform, WebService } from '../../../config/index.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { type RunningPlatform, startPlatform } from '../platform.ts';

/**
 * A platform without a model endpoint (scoring off): no model, no sidecar, no prediction API; its
 * services still start, answer through the local ALB, and stop.
 */

const ROOT = new URL('../../..', import.meta.url).pathname;
const FIXTURE = 'platform/local/test/fixtures/http-service.ts';

function unscoredWiring() {
  const app = new App();
  const platform = new Platform(app, 'plain', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  new WebService(platform, 'web', {
    image: Image.fromDockerfile('D', { entry: FIXTURE }),
    port: 3000,
    anomaly: { enabled: false },
    environment: { FIXTURE_NAME: 'web' },
  });
  return wirePlatform(app.synth());
}

describe('a platform without a model endpoint', () => {
  let platform: RunningPlatform | undefined;
  after(async () => {
    await platform?.stop();
  });

  it('starts its services with no model, sidecar or API, and serves them through the ALB', async () => {
    const wiring = unscoredWiring();
    assert.equal(wiring.model, null);
    assert.equal(wiring.api, null);
    platform = await startPlatform({
      wiring,
      root: ROOT,
      webPort: 0,
      apiPort: 0,
      modelPort: 0,
      out: new PassThrough(),
      readyTimeoutMs: 30_000,
    });
    assert.equal(platform.urls.model, null);
    assert.deepEqual(
      platform.state().processes.map((p) => p.label),
      ['web'],
    );
    const answer = (await (await fetch(`${platform.urls.web}/anything`)).json()) as { name: string };
    assert.equal(answer.name, 'web');
    // No prediction API without a model: the local API Gateway has no route.
    assert.equal((await fetch(`${platform.urls.api}/predict`, { method: 'POST', body: '{}' })).status, 404);
  });
});
