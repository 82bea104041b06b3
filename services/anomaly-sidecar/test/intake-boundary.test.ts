import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SIDECAR_INTAKE_TOKEN_HEADER } from '../../../contracts/sidecar.ts';
import { type ServiceProcess, spawnService } from '../../../test/support/service-process.ts';
import { createSidecar, type Sidecar } from '../src/sidecar.ts';
import {
  firelensRecord,
  ROUTER_HEADERS,
  type SwitchableEndpoint,
  scorerFor,
  startSwitchableEndpoint,
  TEST_INTAKE_TOKEN,
  testConfig,
} from './support.ts';

/**
 * The intake's boundary (issue 25): a local user posted 200 forged error records to a sidecar (all
 * counted anomalous), and 64 idle connections failed its health check three times. Only the task's log
 * router, holding the intake token, may post; idle connections cannot starve the health check.
 */

let endpoint: SwitchableEndpoint;
let sidecar: Sidecar;
before(async () => {
  endpoint = await startSwitchableEndpoint();
  sidecar = createSidecar(testConfig({ batchMaxAgeMs: 5 }), {
    scorer: scorerFor(endpoint.url),
    writeOut: () => {},
    stdoutBacklog: () => 0,
    log: () => {},
  });
});
after(async () => {
  await sidecar.pipeline.stop(0);
  await endpoint.close();
});

const forged = JSON.stringify(
  Array.from({ length: 200 }, (_, i) => firelensRecord(`ERROR forged failure ${i}: FATAL kernel panic`)),
);
const post = (headers: Record<string, string>) =>
  sidecar.app.request('/logs', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: forged,
  });

describe('the intake takes records from the task’s log router only', () => {
  it('200 forged error records without the token, or with a wrong one, are refused; none is scored', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { [SIDECAR_INTAKE_TOKEN_HEADER]: 'guess' },
      { [SIDECAR_INTAKE_TOKEN_HEADER]: `${TEST_INTAKE_TOKEN}x` },
    ];
    for (const headers of attempts) {
      const res = await post(headers);
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), {
        error: {
          code: 'unauthorized',
          message:
            "the intake takes records from the task's log router only (x-intake-token missing or wrong)",
        },
      });
    }
    await sidecar.pipeline.whenIdle();
    assert.equal(sidecar.pipeline.metrics.scored.get(), 0);
    assert.deepEqual(sidecar.pipeline.history.newest(500), []);
    assert.equal(sidecar.pipeline.metrics.bodiesRejected.get('unauthorized'), 3);
  });

  it('the router’s own bodies are taken', async () => {
    const res = await post(ROUTER_HEADERS);
    assert.equal(res.status, 202);
    await sidecar.pipeline.whenIdle();
    assert.equal(sidecar.pipeline.metrics.scored.get(), 200);
  });
});

describe('the sidecar process under idle intake connections', () => {
  let process_: ServiceProcess;
  const idle: Socket[] = [];
  before(async () => {
    process_ = await spawnService(fileURLToPath(new URL('../main.ts', import.meta.url)), {
      SERVICE_NAME: 'backend',
      ENDPOINT_NAME: 'log-anomaly',
      ENDPOINT_URL: endpoint.url,
      INTAKE_TOKEN: TEST_INTAKE_TOKEN,
    });
  });
  after(async () => {
    for (const socket of idle) socket.destroy();
    await process_?.close();
  });

  it('128 idle connections leave the health check answering, as ECS probes it (5 s timeout, 5 probes)', async () => {
    const { port } = new URL(process_.url);
    await Promise.all(
      Array.from(
        { length: 128 },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect({ host: '127.0.0.1', port: Number(port) }, () => resolve());
            socket.on('error', () => resolve());
            idle.push(socket);
          }),
      ),
    );
    for (let probe = 0; probe < 5; probe++) {
      const res = await fetch(`${process_.url}/health`, { signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 200, `probe ${probe}`);
      await res.arrayBuffer();
    }
  });
});
