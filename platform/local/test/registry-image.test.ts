import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  App,
  Image,
  InternalService,
  ModelEndpoint,
  Platform,
  Secret,
  WebService,
} from '../../../config/index.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { type RunningPlatform, startPlatform } from '../platform.ts';
import { groupAlive } from '../supervisor.ts';

/**
 * Issue 21, item 3 (c): a registry-style image — built here with buildah (no registry is reachable),
 * tagged and declared by that reference — runs under `start` through the engine-less runner: its own
 * entrypoint under `buildah run --isolation chroot`, with the wiring's port, callee URL and secret, a
 * declared writable path, answering through the local ALB, its logs scored by its sidecar and the model.
 *
 * Needs root and buildah (CI has both); skipped, loudly, elsewhere.
 */

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const BUILD = fileURLToPath(new URL('./fixtures/echo-image/build.sh', import.meta.url));
const IMAGE = 'localhost/team/echo:1';
const FIXTURE = 'platform/local/test/fixtures/http-service.ts';

const buildah = spawnSync('buildah', ['--version'], { stdio: 'ignore' }).status === 0;
const root = process.getuid?.() === 0;
const skip = buildah && root ? false : `needs root and buildah (${buildah ? 'not root' : 'buildah missing'})`;
if (skip) {
  console.error(`\n*** SKIPPED registry-image.test.ts: the engine-less runner ${skip} ***\n`);
}

function teamWiring() {
  const app = new App();
  const platform = new Platform(app, 'team', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  new ModelEndpoint(platform, 'log-anomaly');
  const backend = new InternalService(platform, 'backend', {
    image: Image.fromDockerfile('D', { entry: FIXTURE }),
    port: 8081,
    environment: { FIXTURE_NAME: 'backend' },
    anomaly: { enabled: false },
  });
  new WebService(platform, 'echo', {
    image: Image.fromRegistry(IMAGE, { writablePaths: ['/scratch'] }),
    port: 5678,
    talksTo: [backend],
    secrets: { ECHO_TOKEN: Secret.fromSsmParameter('/team/echo/token') },
  });
  return wirePlatform(app.synth());
}

describe('a registry image under start, without an engine', { skip }, () => {
  let platform: RunningPlatform;
  let output = '';
  before(async () => {
    const built = spawnSync('bash', [BUILD, IMAGE], { encoding: 'utf8' });
    assert.equal(built.status, 0, `building ${IMAGE}: ${built.stderr}`);
    const out = new PassThrough();
    out.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    platform = await startPlatform({
      wiring: teamWiring(),
      root: ROOT,
      webPort: 0,
      apiPort: 0,
      modelPort: 0,
      out,
      secretValues: { ECHO_TOKEN: 'local-echo-token' },
      readyTimeoutMs: 90_000,
    });
  });
  after(async () => {
    await platform?.stop();
  });

  it('prints the engine-less runner and the command it runs: the image’s own', () => {
    assert.match(
      output,
      /echo +\| \[local\] runner: the image localhost\/team\/echo:1 on buildah \(no Docker or Podman engine answers here\): buildah run --isolation chroot, its command \/usr\/local\/bin\/node \/srv\/echo\.mjs/,
    );
  });

  it('answers through the local ALB from inside the image, with the wiring and a writable tmpfs', async () => {
    const answer = (await (await fetch(`${platform.urls.web}/hello`)).json()) as Record<string, unknown>;
    const echo = platform.state().processes.find((p) => p.label === 'echo');
    assert.equal(answer.service, 'echo');
    assert.equal(answer.port, echo?.port);
    // The image's WORKDIR and ENV, the platform's user, the declared secret and callee URL.
    assert.equal(answer.cwd, '/srv');
    assert.equal(answer.greeting, 'hello from the echo image');
    assert.equal(answer.uid, 1000);
    assert.equal(answer.secret, 'present');
    assert.match(String(answer.backendUrl), /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(answer.scratchWritable, true);
  });

  it("routes the container's logs through the log router to its sidecar, which scores them", async () => {
    for (let i = 0; i < 5; i++) await (await fetch(`${platform.urls.web}/echo/fail`)).arrayBuffer();
    const sidecar = platform.state().processes.find((p) => p.label === 'echo/sidecar');
    assert.ok(sidecar?.port, 'the echo service has a sidecar');
    let scored = 0;
    await waitFor('the echo lines scored by its sidecar', 30_000, async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${sidecar.port}/metrics`)).text();
      scored = Number(/^sidecar_records_scored_total(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1] ?? 0);
      return scored >= 5;
    });
    assert.ok(scored >= 5, `scored ${scored}`);
    assert.match(output, /^echo +\| echo served GET \/echo\/fail$/m);
  });

  it('stops the container with the platform, leaving no process group or working container', async () => {
    const groups = platform.state().processes.flatMap((p) => p.processGroups);
    await platform.stop();
    for (const group of groups) assert.equal(groupAlive(group), false, `group ${group}`);
    const containers = spawnSync('buildah', ['containers', '--format', '{{.ContainerName}}'], {
      encoding: 'utf8',
    }).stdout;
    assert.doesNotMatch(containers, /^berth-team-echo$/m);
  });
});
