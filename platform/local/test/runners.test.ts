import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { App, Image, InternalService, Platform, WebService } from '../../../config/index.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { type RunningPlatform, startPlatform } from '../platform.ts';
import { groupAlive } from '../supervisor.ts';

/**
 * Services that are not TypeScript entries, run by their runners with the same wiring: a Python
 * service by its Dockerfile's own CMD from its build context (its base image cannot be pulled here),
 * a Node service by its declared local command.
 */

const TEAM = fileURLToPath(new URL('./fixtures/team', import.meta.url));

function teamWiring() {
  const app = new App();
  const platform = new Platform(app, 'team', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  const orders = new InternalService(platform, 'orders', {
    image: Image.fromDockerfile('orders/Dockerfile'),
    port: 3000,
    anomaly: { enabled: false },
    environment: { RUNNER_NOTE: 'declared command' },
    local: { command: ['node', 'orders/server.mjs'] },
  });
  new WebService(platform, 'pyapi', {
    image: Image.fromDockerfile('pyapi/Dockerfile'),
    port: 8000,
    talksTo: [orders],
    anomaly: { enabled: false },
  });
  return wirePlatform(app.synth());
}

describe('runners for services in any language', () => {
  let platform: RunningPlatform;
  let output = '';
  before(async () => {
    const out = new PassThrough();
    out.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    platform = await startPlatform({
      wiring: teamWiring(),
      root: TEAM,
      webPort: 0,
      apiPort: 0,
      modelPort: 0,
      out,
      readyTimeoutMs: 60_000,
    });
  });
  after(async () => {
    await platform?.stop();
  });

  it('prints the runner each service uses', () => {
    assert.match(output, /orders +\| \[local\] runner: declared local command: node orders\/server\.mjs/);
    assert.match(
      output,
      /pyapi +\| \[local\] runner: the Dockerfile's own command on the host, in its build context pyapi\/: python3 \/app\/app\.py \((its base image python:3\.11-slim is not in local storage and no registry is reachable; )?no Docker or Podman engine answers here/,
    );
  });

  it("runs the Dockerfile's CMD in its build context with the image's ENV and the wiring's variables", async () => {
    const answer = (await (await fetch(`${platform.urls.web}/`)).json()) as Record<string, string>;
    const ordersAddress = platform.state().processes.find((p) => p.label === 'orders');
    assert.ok(ordersAddress);
    assert.equal(answer.service, 'pyapi');
    assert.equal(answer.greeting, 'hello from the image');
    assert.equal(answer.cwd, `${TEAM}/pyapi`);
    assert.match(answer.ordersUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    // The Python service reaches the Node service through its callee URL.
    const orders = (await (await fetch(`${platform.urls.web}/orders`)).json()) as Record<string, string>;
    assert.deepEqual(orders, { service: 'orders', runner: 'declared command' });
    await waitFor(
      'both services log their requests through the log router',
      10_000,
      () => output.includes('pyapi served /orders') && output.includes('orders served /orders'),
    );
  });

  it('stops every runner, leaving no process group behind', async () => {
    const groups = platform.state().processes.flatMap((p) => p.processGroups);
    assert.ok(groups.length >= 2);
    await platform.stop();
    for (const group of groups) assert.equal(groupAlive(group), false, `group ${group}`);
  });
});
