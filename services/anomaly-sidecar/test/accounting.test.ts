import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { LogsRequest, PredictionResponse } from '../../../contracts/prediction.ts';
import { EndpointError } from '../../../model/client/scoring-client.ts';
import type { Scorer } from '../src/batch-scorer.ts';
import type { IntakeResult } from '../src/intake.ts';
import { parsePrometheus } from '../src/prometheus.ts';
import { ScoringPipeline } from '../src/scoring-pipeline.ts';
import { stackTrace } from './fixtures/stack-trace.ts';
import { testConfig } from './support.ts';

/**
 * Issue 25: the fault suite's balance (received = scored + dropped + queued) failed under load, because
 * the records of a batch being scored or waiting for its retry were in none of them, and did not settle
 * within the suite's wait. The balance now holds by construction, at every moment, in one `/metrics`
 * answer: received = scored + dropped (every reason) + joined + queued + in flight. A scorer whose calls
 * the test answers one by one holds batches in flight at each step.
 */

/** Calls held until the test answers them. */
class HeldScorer implements Scorer {
  readonly calls: {
    readonly size: number;
    readonly answer: (response: PredictionResponse) => void;
    readonly fail: (error: unknown) => void;
  }[] = [];

  score(request: LogsRequest, signal?: AbortSignal): Promise<PredictionResponse> {
    return new Promise((answer, fail) => {
      // A stopping pipeline aborts its calls, as the SDK client would.
      signal?.addEventListener('abort', () => fail(new Error('aborted')), { once: true });
      this.calls.push({ size: request.logs.length, answer, fail });
    });
  }

  /** Answers the oldest unanswered call with a score per line. */
  succeed(): void {
    const call = this.calls.shift()!;
    call.answer({
      predictions: Array.from({ length: call.size }, () => ({ score: 0.1, anomaly: false })),
      model: { name: 'held', version: '1', threshold: 0.5 },
    });
  }

  /** Fails the oldest unanswered call. */
  failWith(failure: 'unavailable' | 'rejected_input'): void {
    this.calls.shift()!.fail(new EndpointError(failure, failure));
  }
}

const TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/acme-cluster/0123';
const bodyOf = (lines: readonly string[], rejected = { malformed: 0, oversized: 0 }): IntakeResult => ({
  records: lines.map((line) => ({ time: 1718000000000, line, container: 'backend', task: TASK })),
  rejected,
});
const routine = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `INFO request ${from + i} done`);
/** Lets the promise chains of answered calls run to their next wait (no timer involved). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** The balance as the fault suite reads it: one `/metrics` answer. */
function balance(p: ScoringPipeline) {
  const m = parsePrometheus(p.metrics.render());
  const dropped = [...m]
    .filter(([k]) => k.startsWith('sidecar_records_dropped_total{'))
    .reduce((n, [, v]) => n + v, 0);
  const parts = {
    scored: m.get('sidecar_records_scored_total') ?? 0,
    dropped,
    joined: m.get('sidecar_records_joined_total') ?? 0,
    queued: m.get('sidecar_queue_depth') ?? 0,
    inFlight: m.get('sidecar_records_in_flight') ?? 0,
  };
  const accounted = Object.values(parts).reduce((n, v) => n + v, 0);
  return { received: m.get('sidecar_records_received_total') ?? 0, accounted, parts };
}

function assertBalanced(p: ScoringPipeline, when: string): void {
  const { received, accounted, parts } = balance(p);
  assert.equal(accounted, received, `${when}: received ${received} vs ${JSON.stringify(parts)}`);
}

let pipelines: ScoringPipeline[] = [];
afterEach(async () => {
  for (const p of pipelines) await p.stop(0);
  pipelines = [];
});

describe('the sidecar accounts for every record received, at every moment (issue 25)', () => {
  it('while batches are in flight, scored, retried, split and shut down', async () => {
    const scorer = new HeldScorer();
    const p = new ScoringPipeline(
      testConfig({
        batchMaxRecords: 4,
        batchMaxAgeMs: 60_000,
        scoringConcurrency: 2,
        retryMaxAttempts: 1,
        breakerFailureThreshold: 100,
      }),
      { scorer, writeOut: () => {}, stdoutBacklog: () => 0, log: () => {}, random: () => 0.5 },
    );
    pipelines.push(p);

    // 10 lines, a 3-line trace (joined into one event) and 2 records rejected at intake: 15 received.
    p.ingest(bodyOf([...routine(10), ...stackTrace(1).slice(0, 3)], { malformed: 1, oversized: 1 }));
    assert.equal(p.metrics.received.get(), 15);
    assert.equal(scorer.calls.length, 2, 'two batches of 4 in flight, 3 events waiting');
    assertBalanced(p, 'two batches in flight');

    scorer.succeed();
    await settle();
    assertBalanced(p, 'one batch scored, another started');

    scorer.failWith('unavailable');
    await settle();
    assert.ok(p.metrics.endpointErrors.get('unavailable') >= 1);
    assertBalanced(p, 'a failed batch put back');

    scorer.failWith('rejected_input');
    await settle();
    assertBalanced(p, 'a refused batch split in halves, the halves in flight');

    while (scorer.calls.length > 0) {
      scorer.succeed();
      await settle();
      assertBalanced(p, 'the rest scored');
    }

    p.ingest(bodyOf(routine(3, 100)));
    assertBalanced(p, 'a partial batch waiting for its age');
    await p.stop(0);
    assertBalanced(p, 'after shutdown');
    assert.equal(balance(p).parts.inFlight, 0);
    assert.ok(p.metrics.scored.get() > 0);
  });
});
