import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { alertThreshold, summarizeBatch } from '../client/scoring-output.ts';
import { conformalTable, pValue } from '../core/conformal.ts';
import { AnomalyModel, loadModel } from '../core/model.ts';
import { trainOnSessions } from '../core/train.ts';

/**
 * The alert budget in the model: conformal p-values from training scores alone, and alerts that only
 * ever shrink as the threshold (or the budget's strictness) rises. The scale itself is tested in
 * contracts/test/alert-budget.test.ts.
 */

describe('conformal p-values from leave-one-out training scores', () => {
  const scores = fc.array(
    fc.oneof(fc.integer({ min: 0, max: 6 }), fc.double({ min: 0, max: 10, noNaN: true })),
    {
      minLength: 1,
      maxLength: 400,
    },
  );
  const exact = (values: readonly number[], x: number) =>
    (1 + values.filter((v) => Math.ceil(v * 1e6) / 1e6 >= x).length) / (values.length + 1);

  // Points near the training scores, where the steps and the interpolation are.
  const near = (values: readonly number[], index: number, offset: number) =>
    values[index % values.length]! + offset;
  const offset = fc.double({ min: -0.5, max: 0.5, noNaN: true });

  it('is never below the exact conformal p-value up to the top score, and at most 1/(n + 1) above it', () => {
    fc.assert(
      fc.property(scores, fc.nat(), offset, (values, index, d) => {
        const x = near(values, index, d);
        const table = conformalTable(values, 0.1);
        const p = pValue(table, x);
        if (x <= table.knots[0]![0]) {
          // Exact where a budget (≤ 5 %) can decide; below that the sampled knots only rank.
          const e = exact(values, x);
          if (e <= 0.05 + 1 / (values.length + 1)) assert.ok(p >= e - 1e-12, `p ${p} < exact ${e}`);
        } else assert.ok(p <= 1 / (values.length + 1), `${p}`);
      }),
      { numRuns: 500 },
    );
  });

  it('flags at most ⌊α(n + 1)⌋ − 1 of its own training scores at any budget α (the guarantee)', () => {
    fc.assert(
      fc.property(scores, fc.double({ min: 0.001, max: 0.05, noNaN: true }), (values, alpha) => {
        const table = conformalTable(values, 0.1);
        const flagged = values.filter((v) => pValue(table, v) <= alpha).length;
        assert.ok(flagged <= Math.max(0, Math.floor(alpha * (values.length + 1)) - 1), `${flagged}`);
      }),
    );
  });

  it('falls strictly as the score rises above the lowest training score', () => {
    fc.assert(
      fc.property(
        scores,
        fc.nat(),
        offset,
        fc.double({ min: 1e-3, max: 3, noNaN: true }),
        (values, index, o, d) => {
          const x = near(values, index, o);
          const table = conformalTable(values, 0.1);
          if (x < table.knots.at(-1)![0]) return;
          assert.ok(pValue(table, x + d) < pValue(table, x), `${x} ${d}`);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('monotone alerts as the threshold rises', () => {
  let model: AnomalyModel;
  let loose: AnomalyModel;
  let lines: AnomalyModel;
  // Prepare: 300 normal sessions of a small protocol — open, 1–3 reads in any order of two kinds, close.
  const normal = Array.from({ length: 300 }, (_, i) => [
    'open file',
    ...Array.from({ length: 1 + (i % 3) }, (_, k) => ((i >> k) & 1 ? 'read header' : 'read body')),
    'close file',
  ]);
  const vocabulary = ['open file', 'read header', 'read body', 'close file', 'disk failure', 'retry read'];
  before(async () => {
    model = new AnomalyModel((await trainOnSessions(normal, { seed: 1, epochs: 1 })).artifact);
    // The same sessions at the largest budget: only the threshold may differ.
    loose = new AnomalyModel((await trainOnSessions(normal, { seed: 1, epochs: 1, budget: 0.05 })).artifact);
    lines = await loadModel();
  });
  const session = fc.array(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 12 });
  const budget = fc.double({ min: 1e-6, max: 0.05, noNaN: true });

  it('sessions: a stricter budget flags a subset, the scores do not move, the decision is the score', () => {
    assert.ok(model.sessionThreshold > loose.sessionThreshold);
    fc.assert(
      fc.property(fc.array(session, { minLength: 1, maxLength: 30 }), (sessions) => {
        const strict = sessions.map((s) => model.scoreSession(s));
        const wide = sessions.map((s) => loose.scoreSession(s));
        strict.forEach((s, i) => {
          assert.equal(s.score, wide[i]!.score, sessions[i]!.join(' > '));
          assert.equal(s.anomaly, s.score >= model.sessionThreshold);
          assert.equal(wide[i]!.anomaly, wide[i]!.score >= loose.sessionThreshold);
          if (s.anomaly) assert.ok(wide[i]!.anomaly, sessions[i]!.join(' > '));
        });
      }),
    );
  });

  it('lines: through the scorers’ decision (alertThreshold, summarizeBatch), a stricter budget flags a subset', () => {
    const line = fc.oneof(
      fc.constantFrom(
        'INFO GET /api/services 200 3ms request_id=7',
        'WARN slow request GET /orders took 2300ms',
        'ERROR connect ECONNREFUSED 10.0.3.7:5432',
        'FATAL kernel panic: out of memory',
        'ERROR disk /dev/sda1 failed: input/output error',
        'cache miss key=svc:orders',
      ),
      fc.string({ maxLength: 60 }),
      fc.string({ maxLength: 40 }).map((m) => `ERROR ${m}`),
    );
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 40 }), budget, budget, (messages, a, b) => {
        const [strict, wide] = a <= b ? [a, b] : [b, a];
        const response = lines.score({ logs: messages.map((message) => ({ timestamp: 0, message })) });
        const flagged = (budget: number) =>
          summarizeBatch(response.predictions, alertThreshold({ budget }, response.model));
        const tight = flagged(strict);
        const loose = flagged(wide);
        assert.ok(tight.anomalous <= loose.anomalous, `${strict} ${wide}`);
        tight.flags.forEach((f, i) => {
          if (f) assert.ok(loose.flags[i], messages[i]);
        });
        // At the artifact's own budget the scorers decide exactly as the model does.
        const own = flagged(response.model.budget!);
        assert.deepEqual(
          own.flags,
          response.predictions.map((p) => p.anomaly),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('flags a new event and a never-seen order, not a known session in a known order', () => {
    assert.equal(model.scoreSession(['open file', 'read body', 'close file']).anomaly, false);
    const failed = model.scoreSession(['open file', 'disk failure', 'close file']);
    assert.equal(failed.anomaly, true);
    assert.deepEqual(failed.reasons.slice(0, 2), ['new-event', 'new-transition']);
    assert.ok(failed.reasons.includes('new-event:disk failure'), failed.reasons.join(' | '));
    assert.equal(model.scoreSession(['close file', 'open file']).anomaly, true);
  });
});
