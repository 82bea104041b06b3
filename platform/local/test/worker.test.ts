import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  App,
  Image,
  InternalService,
  ModelEndpoint,
  Platform,
  WebService,
  WorkerService,
} from '../../../config/index.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { type RunningPlatform, startPlatform } from '../platform.ts';

/**
 * Workers under `start`: port-less processes, their output routed to their own sidecar, calling the
 * service they talk to through its stable address, healthy by their declared command or by staying up.
 */

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const FIXTURE = 'platform/local/test/fixtures/http-service.ts';
const WORKER = 'platform/local/test/fixtures/worker.ts';
const ALIVE = join(tmpdir(), `worker-alive-${process.pid}`);

function workerManifest() {
  const app = new App();
  const platform = new Platform(app, 'demo', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  new ModelEndpoint(platform, 'log-anomaly', {
    image: Image.fromDockerfile('Dockerfile.model', { entry: FIXTURE }),
    artifactDir: 'model/artifacts/default',
  });
  const backend = new InternalService(platform, 'backend', {
    image: Image.fromDockerfile('D', { entry: FIXTURE }),
    port: 8081,
    environment: { FIXTURE_NAME: 'backend' },
  });
  new WebService(platform, 'frontend', {
    image: Image.fromDockerfile('D', { entry: FIXTURE }),
    port: 8080,
    platformAccess: { readAnomalies: true },
    environment: { FIXTURE_NAME: 'frontend' },
  });
  new WorkerService(platform, 'mailer', {
    image: Image.fromDockerfile('D', { entry: WORKER }),
    talksTo: [backend],
  });
  new WorkerService(platform, 'indexer', {
    image: Image.fromDockerfile('D', { entry: WORKER }),
    environment: { WORKER_ALIVE_FILE: ALIVE },
    healthCheck: { command: ['test', '-f', ALIVE], intervalSeconds: 5, timeoutSeconds: 2 },
    anomaly: { enabled: false },
  });
  return app.synth();
}

describe('workers under start', () => {
  let platform: RunningPlatform;
  let printed = '';
  const out = new PassThrough();
  out.on('data', (c: Buffer) => {
    printed += c.toString();
  });

  before(async () => {
    rmSync(ALIVE, { force: true });
    platform = await startPlatform({
      wiring: wirePlatform(workerManifest()),
      root: ROOT,
      webPort: 0,
      apiPort: 0,
      modelPort: 0,
      out,
      parts: {
        sidecarEntry: FIXTURE,
        predictHandler: 'platform/local/test/fixtures/handler.ts#handler',
        lambdaHostEntry: 'platform/local/lambda-host.ts',
      },
      readyTimeoutMs: 30_000,
    });
  });
  after(async () => {
    await platform?.stop();
    rmSync(ALIVE, { force: true });
  });

  it('runs each worker on no port, healthy by its command or by staying up', () => {
    const processes = platform.state().processes;
    const mailer = processes.find((p) => p.label === 'mailer');
    const indexer = processes.find((p) => p.label === 'indexer');
    assert.equal(mailer?.port, null);
    assert.equal(mailer?.healthy, true);
    assert.equal(indexer?.port, null);
    assert.equal(indexer?.healthy, true);
    assert.equal(
      processes.some((p) => p.label === 'indexer/sidecar'),
      false,
      'scoring off: no sidecar',
    );
  });

  it("routes the worker's output to its own sidecar, after it called the service it talks to", async () => {
    const sidecar = platform.state().processes.find((p) => p.label === 'mailer/sidecar');
    type Rec = { log: string; container_name: string };
    let records: Rec[] = [];
    await waitFor('the worker’s lines at its sidecar', 10_000, async () => {
      records = (await (await fetch(`http://127.0.0.1:${sidecar!.port}/received`)).json()) as Rec[];
      return records.some((r) => r.log.startsWith('tick '));
    });
    assert.ok(records.some((r) => r.log === 'backend answered 200' && r.container_name === 'mailer'));
    assert.match(printed, /^mailer\s+\| tick \d+$/m);
  });

  it('lists workers in the service directory, scored ones with their sidecars, none with a health URL', async () => {
    const frontend = platform.state().processes.find((p) => p.label === 'frontend');
    const echoed = (await (await fetch(`http://127.0.0.1:${frontend!.port}/x`)).json()) as {
      env: Record<string, string>;
    };
    const directory = JSON.parse(echoed.env.SERVICES!) as Array<Record<string, unknown>>;
    const mailer = directory.find((e) => e.name === 'mailer');
    assert.equal(mailer?.kind, 'worker');
    assert.equal(mailer?.healthUrl, undefined);
    assert.match(String(mailer?.sidecarUrl), /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(
      directory.find((e) => e.name === 'indexer'),
      { name: 'indexer', kind: 'worker' },
    );
  });

  it('refuses a local rehearsal of a worker, saying why', async () => {
    const outcome = await platform.deploy('mailer', {}, () => {});
    assert.equal(outcome.status, 'failed');
    assert.match((outcome as { reason: string }).reason, /^mailer is a worker: the local rehearsal judges/);
  });
});
