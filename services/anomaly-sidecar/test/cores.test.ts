import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs } from '../src/backoff.ts';
import { msUntilBatchDue } from '../src/batcher.ts';
import { BoundedQueue } from '../src/bounded-queue.ts';
import { type BreakerState, CircuitBreaker } from '../src/circuit-breaker.ts';

describe('BoundedQueue', () => {
  const queue = (maxItems: number, maxBytes = 1000) =>
    new BoundedQueue<string>({ maxItems, maxBytes }, (s) => s.length);

  it('drops the oldest items past the item bound and reports how many', () => {
    const q = queue(3);
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e'].map((s) => q.push(s)),
      [0, 0, 0, 1, 1],
    );
    assert.deepEqual(q.take(10, 1000), ['c', 'd', 'e']);
  });

  it('drops the oldest items past the byte bound, and an item too large on its own is itself dropped', () => {
    const q = queue(100, 10);
    q.push('aaaa');
    q.push('bbbb');
    assert.equal(q.push('cccc'), 1);
    assert.equal(q.bytes, 8);
    assert.equal(q.push('x'.repeat(11)), 1);
    assert.deepEqual(q.clear(), ['bbbb', 'cccc']);
  });

  it('takes batches bounded by count and bytes (always at least one item)', () => {
    const q = queue(100);
    for (const s of ['aa', 'bb', 'cc', 'dddddd']) q.push(s);
    assert.deepEqual(q.take(2, 1000), ['aa', 'bb']);
    assert.deepEqual(q.take(10, 3), ['cc']);
    assert.deepEqual(q.take(10, 3), ['dddddd']);
    assert.equal(q.length, 0);
  });

  it('puts a batch back at the front in order, dropping the oldest of it when full', () => {
    const q = queue(4);
    q.push('c');
    q.push('d');
    assert.equal(q.unshiftAll(['x', 'a', 'b']), 1);
    assert.deepEqual(q.clear(), ['a', 'b', 'c', 'd']);
  });

  it('keeps FIFO order across growth and wrap-around', () => {
    const q = queue(5000, 1e9);
    const out: string[] = [];
    for (let i = 0; i < 3000; i++) {
      q.push(String(i));
      if (i % 3 === 0) out.push(...q.take(1, 1e9));
    }
    out.push(...q.clear());
    assert.deepEqual(
      out,
      Array.from({ length: 3000 }, (_, i) => String(i)),
    );
  });
});

describe('msUntilBatchDue', () => {
  const policy = { maxRecords: 3, maxBytes: 100, maxAgeMs: 1000 };
  it('is due at once when a full batch waits, by count or by bytes', () => {
    assert.equal(msUntilBatchDue({ length: 3, bytes: 3, oldestAt: 5000 }, 5000, policy), 0);
    assert.equal(msUntilBatchDue({ length: 1, bytes: 100, oldestAt: 5000 }, 5000, policy), 0);
  });
  it('waits for the oldest record to reach the age bound otherwise', () => {
    assert.equal(msUntilBatchDue({ length: 2, bytes: 2, oldestAt: 5000 }, 5400, policy), 600);
    assert.equal(msUntilBatchDue({ length: 2, bytes: 2, oldestAt: 5000 }, 7000, policy), 0);
  });
  it('never when nothing waits', () => {
    assert.equal(msUntilBatchDue({ length: 0, bytes: 0, oldestAt: undefined }, 0, policy), Infinity);
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures, probes once after openMs, closes on success', () => {
    const changes: string[] = [];
    const breaker = new CircuitBreaker({
      failureThreshold: 3,
      openMs: 1000,
      onStateChange: (to: BreakerState, from: BreakerState) => changes.push(`${from}->${to}`),
    });
    breaker.onFailure(0);
    breaker.onSuccess();
    breaker.onFailure(10);
    breaker.onFailure(20);
    assert.equal(breaker.state, 'closed');
    breaker.onFailure(30);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.tryAcquire(500), false);
    assert.equal(breaker.msUntilAllowed(500), 530);
    assert.equal(breaker.tryAcquire(1030), true);
    assert.equal(breaker.state, 'half_open');
    assert.equal(breaker.tryAcquire(1031), false, 'only one probe at a time');
    assert.equal(breaker.msUntilAllowed(1031), Infinity);
    breaker.onSuccess();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.openCount, 1);
    assert.deepEqual(changes, ['closed->open', 'open->half_open', 'half_open->closed']);
  });

  it('re-opens when the probe fails, for another full openMs', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 100 });
    breaker.onFailure(0);
    assert.equal(breaker.tryAcquire(100), true);
    breaker.onFailure(150);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.tryAcquire(249), false);
    assert.equal(breaker.tryAcquire(250), true);
    assert.equal(breaker.openCount, 2);
  });
});

describe('backoffDelayMs', () => {
  it('doubles the ceiling per attempt up to the cap, with full jitter', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(a, policy, () => 0.999999)),
      [99, 199, 399, 799, 999, 999],
    );
    assert.equal(
      backoffDelayMs(3, policy, () => 0),
      0,
    );
  });
});
