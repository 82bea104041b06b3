import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Sidecar } from '../src/sidecar.ts';
import { stackTrace } from './fixtures/stack-trace.ts';
import {
  type CloudWatchStandIn,
  fluentBitOrSkip,
  type RouterChain,
  type RunningRouter,
  routerDroppedChunks,
  sendForward,
  startRouterChain,
} from './fluent-bit-harness.ts';
import { eventually } from './support.ts';

/**
 * Issue 12/14: the router's config under the real Fluent Bit 1.9.10. Every key is accepted (an unknown
 * key is only reported when the plugins start), and a record sent with the forward protocol reaches
 * both the sidecar (and is scored) and CloudWatch Logs (a local stand-in).
 */

const found = fluentBitOrSkip();
const skip = 'skip' in found ? found.skip : false;
/** Filesystem buffering needs the storage backlog input, which the shared build lacks. */
const filesystemSkip =
  'skip' in found || found.capabilities.storageBacklog
    ? false
    : `FILESYSTEM BUFFERING NOT TESTED: ${found.bin} has no storage backlog input (FLB_HAVE_IN_STORAGE_BACKLOG); set FLUENT_BIT_BIN to a build with it`;
if (filesystemSkip) process.stderr.write(`\n!!! ${filesystemSkip} !!!\n\n`);

describe('the router config under the real Fluent Bit', { skip }, () => {
  let chain: RouterChain;
  let sidecar: Sidecar;
  let cloudWatch: CloudWatchStandIn;
  let router: RunningRouter;

  before(async () => {
    chain = await startRouterChain((found as { bin: string }).bin, { batchMaxAgeMs: 20 });
    ({ sidecar, cloudWatch, router } = chain);
  });
  after(() => chain?.stop());

  const outputsStarted = () =>
    eventually(
      () =>
        /\[output:http:http\.\d\] worker #0 started/.test(router.log()) &&
        /\[output:cloudwatch_logs:cloudwatch_logs\.\d\] worker #0 started/.test(router.log()),
      15_000,
      'the outputs to start',
    );

  it('starts with every key of the config accepted', async () => {
    await outputsStarted();
    const log = router.log();
    assert.doesNotMatch(log, /unknown configuration property|\[error\]|invalid/i, log);
    assert.match(log, /version=1\.9\.10/);
    assert.match(log, /\[output:cloudwatch_logs:cloudwatch_logs\.\d\] worker #0 started/);
    assert.match(log, /\[output:http:http\.\d\] worker #0 started/);
    // On a build without the storage backlog input the storage keys were removed (announced): memory only.
    assert.match(
      log,
      router.memoryBuffering
        ? /\[storage\] version=[\d.]+, type=memory-only/
        : /\[storage\] version=[\d.]+, type=memory\+filesystem/,
    );
  });

  it('buffers the generated inputs on disk (issue 25)', { skip: filesystemSkip }, async () => {
    await outputsStarted();
    assert.equal(router.memoryBuffering, false);
    assert.match(router.log(), /\[storage\] version=[\d.]+, type=memory\+filesystem/);
    assert.match(router.log(), /\[input:storage_backlog:storage_backlog\.\d\] queue memory limit: [\d.]+M/);
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

  it('delivers a 12-line stack trace line by line to CloudWatch; the sidecar scores it as one event (issue 25)', async () => {
    const deliveredBefore = cloudWatch.events.length;
    const scoredBefore = sidecar.pipeline.metrics.scored.get();
    const trace = stackTrace(3);
    await sendForward(router.forwardPort, ['INFO before the trace', ...trace, 'INFO after the trace']);
    await eventually(() => cloudWatch.events.length >= deliveredBefore + 14, 20_000, 'CloudWatch delivery');
    // The last line waits for a possible continuation until the join's timeout (1 s).
    await eventually(() => sidecar.pipeline.metrics.scored.get() >= scoredBefore + 3, 20_000, 'scoring');
    assert.deepEqual(
      cloudWatch.events.slice(deliveredBefore).map((e) => e.message),
      ['INFO before the trace', ...trace, 'INFO after the trace'],
    );
    assert.equal(sidecar.pipeline.metrics.scored.get(), scoredBefore + 3, 'the trace is one event');
    assert.equal(sidecar.pipeline.metrics.joined.get(), 11);
  });
});
