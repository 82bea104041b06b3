import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { IntakeResult } from '../src/intake.ts';
import { ScoringPipeline } from '../src/scoring-pipeline.ts';
import {
  type EndpointMode,
  eventually,
  type SwitchableEndpoint,
  scorerFor,
  startSwitchableEndpoint,
  testConfig,
} from './support.ts';

/**
 * Issue 14, finding 1: an endpoint that fails must be treated as failing (breaker, requeue, bounded
 * retries), whatever HTTP class SageMaker wraps the failure in; only a genuine input rejection splits a
 * batch, and that split is bounded. Real SageMaker runtime client, real inference server behind a front.
 */

const body = (n: number, from = 0, mark = 'INFO'): IntakeResult => ({
  records: Array.from({ length: n }, (_, i) => ({
    time: 1718000000000,
    line: `${mark} request ${from + i} served in ${i % 9} ms`,
    container: 'backend',
  })),
  rejected: { malformed: 0, oversized: 0 },
});

let endpoint: SwitchableEndpoint;
let pipelines: ScoringPipeline[] = [];
const endpointNames = new Map<ScoringPipeline, string>();

/**
 * The production defaults (batch 500, 3 attempts, breaker 5 / 2 s) with a fast backoff, calling an
 * endpoint name of its own: the calls a test counts are its pipeline's, whatever another pipeline
 * still has in flight on a loaded machine (issue 25: a batch requeued by the slow-endpoint case,
 * retried during the next case, made "33 calls for one batch of 500"). The call deadline is long
 * (10 s) unless a case is about deadlines, so a loaded machine never turns an answer into a timeout.
 */
function pipeline(overrides: Parameters<typeof testConfig>[0] = {}, timeoutMs = 10_000): ScoringPipeline {
  const name = `log-anomaly-${endpointNames.size + 1}`;
  const p = new ScoringPipeline(
    testConfig({ retryBaseMs: 5, retryMaxMs: 20, batchMaxAgeMs: 20, ...overrides }),
    {
      scorer: scorerFor(endpoint.url, timeoutMs, name),
      writeOut: () => {},
      stdoutBacklog: () => 0,
      log: () => {},
    },
  );
  pipelines.push(p);
  endpointNames.set(p, name);
  return p;
}

/** The invocations `p` made. */
const callsOf = (p: ScoringPipeline): number[] => endpoint.callsTo(endpointNames.get(p)!);

before(async () => {
  endpoint = await startSwitchableEndpoint();
});
after(async () => {
  await endpoint.close();
});
beforeEach(() => {
  endpoint.mode = 'up';
  endpoint.poison = undefined;
});
afterEach(async () => {
  for (const p of pipelines) await p.stop(0);
  pipelines = [];
});

describe('endpoint failures are failures, whatever SageMaker wraps them in', () => {
  for (const mode of ['model_error', 'missing', 'down', 'throttled'] as EndpointMode[]) {
    it(`${mode}: 1,000 lines cost at most 60 calls, open the breaker, and are scored once it heals`, async () => {
      endpoint.mode = mode;
      const p = pipeline({ breakerOpenMs: 300 });
      p.ingest(body(500));
      p.ingest(body(500, 500));
      await eventually(() => p.breaker.state === 'open', 5000, 'the breaker to open');
      await new Promise((resolve) => setTimeout(resolve, 400));
      const callsDuringOutage = callsOf(p).length;
      assert.ok(callsDuringOutage <= 60, `${callsDuringOutage} calls for 1,000 lines`);
      assert.equal(p.metrics.dropped.get('rejected_by_model'), 0, 'a failing endpoint rejected nothing');
      assert.ok(p.metrics.breakerOpened.get() >= 1);
      endpoint.mode = 'up';
      const healedAt = Date.now();
      await eventually(() => p.queueDepth === 0 && p.metrics.scored.get() > 0, 5000, 'recovery');
      assert.ok(Date.now() - healedAt < 5000);
      await p.whenIdle();
      // Every line is either scored or dropped under a failure reason, never as the model's rejection.
      const dropped = p.metrics.dropped.get();
      assert.equal(p.metrics.scored.get() + dropped, 1000);
      assert.equal(p.metrics.dropped.get('retries_exhausted'), dropped);
    });
  }

  it('failed probes during a long outage cost records nothing while the queue has room', async () => {
    endpoint.mode = 'model_error';
    const p = pipeline({ breakerOpenMs: 200 });
    p.ingest(body(200));
    // Several probes fail (each re-opens the breaker), however long the machine takes to get there.
    await eventually(() => p.metrics.breakerOpened.get() >= 4, 15_000, 'four failed probes');
    endpoint.mode = 'up';
    await eventually(() => p.metrics.scored.get() === 200, 5000, 'every line scored');
    assert.equal(p.metrics.dropped.get(), 0);
  });

  it('a batch that fails through every probe is dropped after a bounded number of outage rounds', async () => {
    endpoint.mode = 'model_error';
    const p = pipeline({ breakerOpenMs: 20 });
    p.ingest(body(10));
    await eventually(() => p.metrics.dropped.get('retries_exhausted') === 10, 8000, 'the bounded drop');
    assert.ok(callsOf(p).length <= 16, `${callsOf(p).length} calls: 3 + 2 closed, then 10 probes`);
  });

  it('a slow endpoint (past the deadline) is a timeout failure, not a rejection', async () => {
    endpoint.mode = 'slow';
    endpoint.delayMs = 700;
    const p = pipeline({ breakerOpenMs: 300 }, 500);
    p.ingest(body(20));
    await eventually(() => p.breaker.state === 'open', 8000, 'the breaker to open');
    assert.ok(p.metrics.endpointErrors.get('timeout') >= 1);
    assert.equal(p.metrics.dropped.get('rejected_by_model'), 0);
  });
});

describe('a genuine input rejection splits a batch, within bounds', () => {
  it('a model that rejects every line costs a bounded number of calls per batch', async () => {
    endpoint.poison = 'POISON';
    const p = pipeline();
    p.ingest(body(500, 0, 'POISON'));
    await p.whenIdle();
    assert.equal(p.metrics.dropped.get('rejected_by_model'), 500, 'counted, every line');
    assert.ok(callsOf(p).length <= 32, `${callsOf(p).length} calls for one batch of 500`);
    assert.equal(p.breaker.state, 'closed', 'a model that answers is not a down endpoint');
  });

  it('one bad line in 500 is isolated; the 499 others are scored', async () => {
    endpoint.poison = 'POISON';
    const p = pipeline();
    const batch = body(500);
    (batch.records[321] as { line: string }).line = 'INFO POISON';
    p.ingest(batch);
    await p.whenIdle();
    assert.equal(p.metrics.scored.get(), 499);
    assert.equal(p.metrics.dropped.get('rejected_by_model'), 1);
    assert.ok(callsOf(p).length <= 19, `${callsOf(p).length} calls: 1 + 2 per level, 9 levels`);
  });
});
