import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import { createSidecar, type Sidecar } from '../src/sidecar.ts';
import {
  type CloudWatchStandIn,
  fluentBitOrSkip,
  type RunningRouter,
  routerDroppedChunks,
  sendForward,
  startCloudWatchStandIn,
  startRouter,
} from './fluent-bit-harness.ts';
import {
  eventually,
  type SwitchableEndpoint,
  scorerFor,
  startSwitchableEndpoint,
  testConfig,
} from './support.ts';

/**
 * Issue 12/14: the router's config under the real Fluent Bit 1.9.10. Every key is accepted (an unknown
 * key is only reported when the plugins start), and a record sent with the forward protocol reaches
 * both the sidecar (and is scored) and CloudWatch Logs (a local stand-in).
 */

const found = fluentBitOrSkip();
const skip = 'skip' in found ? found.skip : false;

describe('the router config under the real Fluent Bit', { skip }, () => {
  let endpoint: SwitchableEndpoint;
  let sidecar: Sidecar;
  let server: ReturnType<typeof serve>;
  let cloudWatch: CloudWatchStandIn;
  let router: RunningRouter;

  before(async () => {
    endpoint = await startSwitchableEndpoint();
    sidecar = createSidecar(testConfig({ batchMaxAgeMs: 20 }), {
      scorer: scorerFor(endpoint.url),
      writeOut: () => {},
      stdoutBacklog: () => 0,
      log: () => {},
    });
    server = serve({ fetch: sidecar.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    cloudWatch = await startCloudWatchStandIn();
    router = await startRouter({
      bin: (found as { bin: string }).bin,
      sidecarPort: (server.address() as AddressInfo).port,
      cloudWatchHost: cloudWatch.host,
      cloudWatchCaFile: cloudWatch.caFile,
    });
  });
  after(async () => {
    await router?.stop();
    await cloudWatch?.close();
    await sidecar?.pipeline.stop(0);
    await new Promise((resolve) => server?.close(resolve));
    await endpoint?.close();
  });

  it('starts with every key of the config accepted, and bounds the generated inputs', async () => {
    await eventually(
      () =>
        /\[output:http:http\.\d\] worker #0 started/.test(router.log()) &&
        /\[output:cloudwatch_logs:cloudwatch_logs\.\d\] worker #0 started/.test(router.log()),
      15_000,
      'the outputs to start',
    );
    const log = router.log();
    assert.doesNotMatch(log, /unknown configuration property|\[error\]|invalid/i, log);
    assert.match(log, /version=1\.9\.10/);
    assert.match(log, /\[output:cloudwatch_logs:cloudwatch_logs\.\d\] worker #0 started/);
    assert.match(log, /\[output:http:http\.\d\] worker #0 started/);
  });

  it('delivers a forward-protocol record to the sidecar (scored) and to CloudWatch Logs', async () => {
    await sendForward(router.forwardPort, ['INFO request 1 served in 3 ms', 'ERROR disk /dev/sda1 failed']);
    await eventually(() => cloudWatch.events.length >= 2, 15_000, 'CloudWatch delivery');
    await eventually(() => sidecar.pipeline.metrics.scored.get() >= 2, 15_000, 'scoring');
    assert.deepEqual(
      cloudWatch.events.map((e) => e.message),
      ['INFO request 1 served in 3 ms', 'ERROR disk /dev/sda1 failed'],
    );
    assert.equal(cloudWatch.events[0]!.logStreamName, 'backend/app-firelens-0123');
    assert.deepEqual(routerDroppedChunks(router.log()), {}, 'nothing dropped');
  });
});
