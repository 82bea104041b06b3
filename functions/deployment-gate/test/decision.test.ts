import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_GATE_POLICY, decideGate, type RevisionSample, twoProportionZ } from '../decision.ts';

const internal = (scoredLines: number, anomalousLines: number): RevisionSample => ({
  scoredLines,
  anomalousLines,
  requests: null,
  errors5xx: null,
});
const web = (scored: number, anomalous: number, requests: number, errors5xx: number): RevisionSample => ({
  scoredLines: scored,
  anomalousLines: anomalous,
  requests,
  errors5xx,
});

describe('decideGate: the deployment gate decision core', () => {
  it('new revision worse on anomalies → FAILED, naming both rates', () => {
    const verdict = decideGate({
      current: internal(1000, 90),
      baseline: internal(1000, 10),
      elapsedSeconds: 60,
    });

    assert.equal(verdict.hookStatus, 'FAILED');
    assert.equal(verdict.outcome, 'worse');
    assert.equal(
      verdict.reason,
      'anomalies: 9.00% of 1000 lines vs 1.00% of 1000 lines on the old revision (margin 2.00%, z 8.2)',
    );
  });

  it('equal revisions → SUCCEEDED', () => {
    const verdict = decideGate({
      current: web(1000, 10, 500, 2),
      baseline: web(1000, 10, 500, 2),
      elapsedSeconds: 60,
    });

    assert.equal(verdict.hookStatus, 'SUCCEEDED');
    assert.equal(verdict.outcome, 'passed');
    assert.equal(verdict.callBackDelay, undefined);
    assert.deepEqual(
      verdict.signals.map((s) => [s.signal, s.kind]),
      [
        ['anomalies', 'ok'],
        ['errors', 'ok'],
      ],
    );
  });

  it('worse on 5xx alone → FAILED even when anomalies are equal', () => {
    const verdict = decideGate({
      current: web(1000, 10, 1000, 80),
      baseline: web(1000, 10, 1000, 5),
      elapsedSeconds: 60,
    });

    assert.equal(verdict.hookStatus, 'FAILED');
    assert.equal(
      verdict.reason,
      'errors: 8.00% of 1000 requests vs 0.50% of 1000 requests on the old revision (margin 2.00%, z 8.3)',
    );
  });

  it('a handful of lines cannot decide: 3 of 5 anomalous waits instead of failing', () => {
    const verdict = decideGate({ current: internal(5, 3), baseline: internal(5000, 10), elapsedSeconds: 30 });

    assert.equal(verdict.hookStatus, 'IN_PROGRESS');
    assert.equal(verdict.callBackDelay, 30);
    assert.equal(verdict.outcome, 'waiting');
    assert.equal(
      verdict.reason,
      'waiting for data (570s left): anomalies: 5 lines from the new revision, fewer than 200',
    );
  });

  it('a small difference within the margin passes; a large one on small volume needs significance', () => {
    // 2.5% vs 1.5%: over no margin (2 points), so equal for the gate.
    assert.equal(
      decideGate({ current: internal(2000, 50), baseline: internal(2000, 30), elapsedSeconds: 0 }).hookStatus,
      'SUCCEEDED',
    );
    // 5% vs 1% of 200 lines each: beyond the margin, and z = 2.33 < 3: not proof enough.
    const thin = decideGate({ current: internal(200, 10), baseline: internal(200, 2), elapsedSeconds: 0 });
    assert.equal(thin.hookStatus, 'SUCCEEDED');
    assert.match(thin.reason, /z 2\.3\)/);
  });

  it('a noisy service is allowed its noise: the margin grows with the old rate', () => {
    // 14% vs 10%: 4 points, but the margin is half of 10% = 5 points.
    const verdict = decideGate({
      current: internal(5000, 700),
      baseline: internal(5000, 500),
      elapsedSeconds: 0,
    });
    assert.equal(verdict.hookStatus, 'SUCCEEDED');
    assert.match(verdict.reason, /margin 5\.00%/);
  });

  it('no data at all → IN_PROGRESS until the deadline, then SUCCEEDED with a warning outcome (documented default)', () => {
    const before = decideGate({ current: internal(0, 0), baseline: internal(0, 0), elapsedSeconds: 599 });
    assert.equal(before.hookStatus, 'IN_PROGRESS');

    const after = decideGate({ current: internal(0, 0), baseline: internal(0, 0), elapsedSeconds: 600 });
    assert.equal(after.hookStatus, 'SUCCEEDED');
    assert.equal(after.outcome, 'no-data-passed');
    assert.equal(
      after.reason,
      'no signal reached its minimum volume within 600s (is the sidecar scoring?): anomalies: 0 lines from the new revision, fewer than 200',
    );
  });

  it('no data with onNoData FAILED fails closed at the deadline', () => {
    const verdict = decideGate({
      current: internal(0, 0),
      baseline: internal(1000, 10),
      elapsedSeconds: 900,
      policy: { ...DEFAULT_GATE_POLICY, onNoData: 'FAILED' },
    });
    assert.equal(verdict.hookStatus, 'FAILED');
    assert.equal(verdict.outcome, 'no-data-failed');
  });

  it('at the deadline the signals with data decide; the missing one is named', () => {
    const verdict = decideGate({
      current: web(1000, 10, 20, 0),
      baseline: web(1000, 10, 20, 0),
      elapsedSeconds: 600,
    });
    assert.equal(verdict.hookStatus, 'SUCCEEDED');
    assert.equal(verdict.outcome, 'passed-partial-data');
    assert.match(
      verdict.reason,
      /not enough data by the deadline: errors: 20 requests from the new revision, fewer than 100$/,
    );
  });

  it('a worse signal fails at once, even while another still lacks data', () => {
    const verdict = decideGate({
      current: web(1000, 200, 10, 0),
      baseline: web(1000, 10, 10, 0),
      elapsedSeconds: 5,
    });
    assert.equal(verdict.hookStatus, 'FAILED');
  });

  it('first deployment (no baseline): the ceilings decide', () => {
    const fine = decideGate({ current: internal(1000, 20), baseline: null, elapsedSeconds: 0 });
    assert.equal(fine.hookStatus, 'SUCCEEDED');
    assert.equal(fine.outcome, 'no-baseline-passed');
    assert.equal(
      fine.reason,
      'no old revision to compare with; under the ceilings: anomalies: 2.00% of 1000 lines, ceiling 25.00% (no baseline)',
    );
    assert.equal(
      decideGate({ current: internal(1000, 300), baseline: null, elapsedSeconds: 0 }).hookStatus,
      'FAILED',
    );
  });

  it('an old revision below the minimum volume is no baseline: the ceiling applies', () => {
    const verdict = decideGate({
      current: internal(1000, 100),
      baseline: internal(10, 0),
      elapsedSeconds: 0,
    });
    assert.equal(verdict.hookStatus, 'SUCCEEDED');
    assert.match(verdict.reason, /ceiling 25\.00% \(no baseline\)/);
  });

  it('property: identical samples never fail', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, p) => {
          const sample = internal(n, Math.floor(n * p));
          const verdict = decideGate({ current: sample, baseline: sample, elapsedSeconds: 10_000 });
          return verdict.hookStatus === 'SUCCEEDED';
        },
      ),
    );
  });

  it('twoProportionZ: symmetric, zero for equal rates', () => {
    assert.equal(twoProportionZ(10, 100, 10, 100), 0);
    assert.equal(twoProportionZ(0, 100, 0, 100), 0);
    assert.ok(Math.abs(twoProportionZ(30, 100, 10, 100) + twoProportionZ(10, 100, 30, 100)) < 1e-12);
  });
});
