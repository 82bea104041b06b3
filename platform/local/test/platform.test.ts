import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  App,
  Image,
  InternalService,
  type Manifest,
  ModelEndpoint,
  Platform,
  WebService,
} from '../../../config/index.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { type RunningPlatform, type RuntimeState, StartError, startPlatform } from '../platform.ts';
import { PortInUseError } from '../ports.ts';
import { groupAlive } from '../supervisor.ts';

/**
 * The orchestrator on its own: a manifest whose services, model, sidecars and function are small fixture
 * processes, so readiness, routing, log forwarding, restart and shutdown are tested without the real parts.
 */

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const FIXTURE = 'platform/local/test/fixtures/http-service.ts';
const PARTS = {
  sidecarEntry: FIXTURE,
  predictHandler: 'platform/local/test/fixtures/handler.ts#handler',
  lambdaHostEntry: 'platform/local/lambda-host.ts',
};

function fixtureManifest(options: { backendHealthy?: boolean } = {}): Manifest {
  const app = new App();
  const platform = new Platform(app, 'demo', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  new ModelEndpoint(platform, 'log-anomaly', {
    image: Image.fromDockerfile('Dockerfile.model', { entry: FIXTURE }),
    artifactDir: 'model/artifacts/default',
  });
  const backend = new InternalService(platform, 'backend', {
    image: Image.fromDockerfile('D', { entry: FIXTURE }),
    port: 8081,
    stopTimeoutSeconds: 2,
    healthCheck: { intervalSeconds: 5, timeoutSeconds: 2, unhealthyThreshold: 2, startPeriodSeconds: 0 },
    environment: {
      FIXTURE_NAME: 'backend',
      ...(options.backendHealthy === false ? { FIXTURE_HEALTHY: '0' } : {}),
    },
  });
  new WebService(platform, 'docs', {
    image: Image.fromDockerfile('D', { entry: FIXTURE }),
    port: 8090,
    paths: ['/docs/*'],
    environment: { FIXTURE_NAME: 'docs' },
  });
  new WebService(platform, 'frontend', {
    image: Image.fromDockerfile('D', { entry: FIXTURE }),
    port: 8080,
    talksTo: [backend],
    environment: { FIXTURE_NAME: 'frontend' },
  });
  return app.synth();
}

function sink() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return { out, text: () => text };
}

describe('startPlatform with fixture processes', () => {
  let platform: RunningPlatform;
  const log = sink();
  const stateFile = join(tmpdir(), `local-runtime-${process.pid}.json`);

  before(async () => {
    platform = await startPlatform({
      wiring: wirePlatform(fixtureManifest()),
      root: ROOT,
      webPort: 0,
      apiPort: 0,
      modelPort: 0,
      out: log.out,
      parts: PARTS,
      stateFile,
      readyTimeoutMs: 30_000,
      restartPolicy: { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, crashWindowMs: 60_000 },
    });
  });
  after(async () => {
    await platform?.stop();
  });

  it('routes the ALB by listener rule and gives callers the URL of what they talk to', async () => {
    const docs = (await (await fetch(`${platform.urls.web}/docs/a`)).json()) as { name: string };
    assert.equal(docs.name, 'docs');
    const front = (await (await fetch(`${platform.urls.web}/x`)).json()) as {
      name: string;
      env: Record<string, string>;
    };
    assert.equal(front.name, 'frontend');
    const state = platform.state();
    const backendPort = state.processes.find((p) => p.label === 'backend')!.port;
    // Callers get the backend's stable local address, a proxy over its revisions, not a process port.
    assert.match(front.env.BACKEND_URL!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(front.env.BACKEND_URL, `http://127.0.0.1:${backendPort}`);
    const viaAddress = (await (await fetch(`${front.env.BACKEND_URL}/x`)).json()) as { name: string };
    assert.equal(viaAddress.name, 'backend');
    // The frontend holds no grant: it is handed neither credentials nor the model endpoint.
    assert.equal(front.env.AWS_EC2_METADATA_DISABLED, undefined);
    assert.equal(front.env.MODEL_ENDPOINT_URL, undefined);
  });

  it('serves POST /predict through the API Gateway and the Lambda host', async () => {
    const response = await fetch(`${platform.urls.api}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"data":[1,2,3,4]}',
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      method: 'POST',
      path: '/predict',
      body: '{"data":[1,2,3,4]}',
      env: platform.urls.model,
    });
  });

  it("forwards a service's output to its own sidecar in Fluent Bit format, and prints it prefixed", async () => {
    const state = platform.state();
    const backend = state.processes.find((p) => p.label === 'backend')!;
    const sidecar = state.processes.find((p) => p.label === 'backend/sidecar')!;
    const frontendSidecar = state.processes.find((p) => p.label === 'frontend/sidecar')!;
    await fetch(`http://127.0.0.1:${backend.port}/log?line=marker-${process.pid}`);
    type Rec = {
      log: string;
      source: string;
      container_name: string;
      ecs_task_arn: string;
      ecs_cluster: string;
    };
    let records: Rec[] = [];
    await waitFor('the marker at the backend sidecar', 5000, async () => {
      records = (await (await fetch(`http://127.0.0.1:${sidecar.port}/received`)).json()) as Rec[];
      return records.some((r) => r.log === `marker-${process.pid}`);
    });
    const marker = records.find((r) => r.log === `marker-${process.pid}`)!;
    assert.deepEqual(marker, {
      ...marker,
      source: 'stdout',
      container_name: 'backend',
      ecs_task_arn: `arn:aws:ecs:local:000000000000:task/demo/${backend.pid}`,
      ecs_cluster: 'demo',
    });
    assert.ok(records.some((r) => r.source === 'stderr' && r.log === 'backend stderr line'));
    const other = (await (await fetch(`http://127.0.0.1:${frontendSidecar.port}/received`)).json()) as Rec[];
    assert.equal(
      other.filter((r) => r.log.startsWith('marker-')).length,
      0,
      'no line reaches another service’s sidecar',
    );
    assert.match(log.text(), new RegExp(`^backend\\s+\\| marker-${process.pid}$`, 'm'));
  });

  it('restarts a crashed service, keeps its port, prints the event and updates the state file', async () => {
    const before = platform.state().processes.find((p) => p.label === 'backend')!;
    const t0 = Date.now();
    await fetch(`http://127.0.0.1:${before.port}/crash`);
    await waitFor('a healthy replacement of the crashed backend', 10_000, () => {
      const now = platform.state().processes.find((p) => p.label === 'backend')!;
      return now.pid !== before.pid && now.healthy;
    });
    assert.ok(Date.now() - t0 < 10_000);
    // The crashed instance's group is SIGKILLed as soon as its leader exits.
    await waitFor('the old process group to be gone', 2000, () => !groupAlive(before.pid!));
    assert.match(
      log.text(),
      new RegExp(
        `backend\\s+\\| \\[local\\] exited unexpectedly \\(pid ${before.pid}, code 3\\); restarting in 100 ms`,
      ),
    );
    assert.match(log.text(), /backend\s+\| \[local\] restarted \(pid \d+, restart #1\)/);
    await waitFor('the state file to record both backend groups', 5000, () => {
      const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as RuntimeState;
      return saved.processes.find((p) => p.label === 'backend')!.processGroups.length === 2;
    });
    const response = await fetch(`http://127.0.0.1:${before.port}/healthz`);
    assert.equal(response.status, 200);
  });

  it('replaces a process whose health checks keep failing, as ECS replaces an unhealthy task', async () => {
    const before = platform.state().processes.find((p) => p.label === 'backend')!;
    await fetch(`http://127.0.0.1:${before.port}/sick`);
    // First failure within one interval (5 s), the second 1 s later, then the replacement starts.
    await waitFor('a healthy replacement of the unhealthy backend', 12_000, () => {
      const now = platform.state().processes.find((p) => p.label === 'backend')!;
      return now.pid !== before.pid && now.healthy;
    });
    assert.match(
      log.text(),
      /backend\s+\| \[local\] health check failed 2 times \(http:\/\/127\.0\.0\.1:\d+\/healthz\); replacing the process/,
    );
    await waitFor('the old process group to be gone', 2000, () => !groupAlive(before.pid!));
  });

  it('stops every process group it ever started', async () => {
    const groups = platform.state().processes.flatMap((p) => p.processGroups);
    assert.equal(
      groups.length,
      10,
      'model, 3 services, 3 sidecars, predict, the crashed and the unhealthy backend',
    );
    await platform.stop();
    for (const pgid of groups) assert.equal(groupAlive(pgid), false, `group ${pgid} is gone`);
    await assert.rejects(fetch(`${platform.urls.web}/`));
  });
});

describe('startPlatform failures', () => {
  it('refuses a taken port before starting anything', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startPlatform({
          wiring: wirePlatform(fixtureManifest()),
          root: ROOT,
          webPort: port,
          apiPort: 0,
          modelPort: 0,
          out: sink().out,
          parts: PARTS,
        }),
        (error: unknown) => {
          assert.ok(error instanceof PortInUseError);
          assert.match(
            error.message,
            new RegExp(`^port ${port} \\(WEB_PORT\\) is already in use on 127\\.0\\.0\\.1\\.`),
          );
          return true;
        },
      );
      await assert.rejects(
        startPlatform({
          wiring: wirePlatform(fixtureManifest()),
          root: ROOT,
          webPort: 0,
          apiPort: 0,
          modelPort: port,
          out: sink().out,
          parts: PARTS,
        }),
        { name: 'PortInUseError', message: new RegExp(`^port ${port} \\(MODEL_PORT\\)`) },
      );
    } finally {
      blocker.close();
    }
  });

  it('names the service that never became healthy, shows its last output and stops the rest', async () => {
    const log = sink();
    let failure: unknown;
    try {
      await startPlatform({
        wiring: wirePlatform(fixtureManifest({ backendHealthy: false })),
        root: ROOT,
        webPort: 0,
        apiPort: 0,
        modelPort: 0,
        out: log.out,
        parts: PARTS,
        readyTimeoutMs: 4000,
      });
    } catch (error) {
      failure = error;
    }
    assert.ok(failure instanceof StartError, String(failure));
    assert.match(
      failure.message,
      /^not ready: backend never became healthy\n {2}backend: http:\/\/127\.0\.0\.1:\d+\/healthz did not pass within 4 s; last output:\n {4}backend listening on \d+\n {4}backend stderr line$/,
    );
  });

  it('stops what it started when start-up is interrupted (Ctrl-C while waiting for health checks)', async () => {
    const controller = new AbortController();
    const t0 = Date.now();
    setTimeout(() => controller.abort(), 1000);
    await assert.rejects(
      startPlatform({
        wiring: wirePlatform(fixtureManifest({ backendHealthy: false })),
        root: ROOT,
        webPort: 0,
        apiPort: 0,
        modelPort: 0,
        out: sink().out,
        parts: PARTS,
        readyTimeoutMs: 30_000,
        signal: controller.signal,
      }),
      { name: 'StartError', message: 'start-up interrupted; everything started was stopped' },
    );
    assert.ok(Date.now() - t0 < 6000, 'does not wait for the readiness timeout');
  });

  it('names a missing entry point', async () => {
    await assert.rejects(
      startPlatform({
        wiring: wirePlatform(fixtureManifest()),
        root: ROOT,
        webPort: 0,
        apiPort: 0,
        modelPort: 0,
        out: sink().out,
        parts: { ...PARTS, sidecarEntry: 'services/nowhere/main.ts' },
      }),
      {
        name: 'StartError',
        message:
          /^backend\/sidecar: entry point services\/nowhere\/main\.ts does not exist in \/\S+\. Fix: correct the entry in the declaration \(relative to the repository\), or build that part first$/,
      },
    );
  });
});
