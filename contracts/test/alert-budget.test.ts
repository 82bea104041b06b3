import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { budgetFallbackNote, effectiveBudget, scoreOfP, thresholdForBudget } from '../alert-budget.ts';

describe('the budget scale', () => {
  it('puts p = 1 at 0, p = 0.001 at 0.5 and p = 0.01 at 0.4', () => {
    assert.equal(thresholdForBudget(0.001), 0.5);
    assert.equal(thresholdForBudget(0.01), 0.4);
    assert.equal(scoreOfP(1), 0);
  });

  it('never saturates: 1e-30 scores 0.909, and a smaller p always scores higher down to 1e-300', () => {
    assert.equal(scoreOfP(1e-30), 0.909090909);
    fc.assert(
      fc.property(
        fc.double({ min: -300, max: 0, noNaN: true }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (e, d) => {
          assert.ok(scoreOfP(10 ** (e - d)) > scoreOfP(10 ** e), `${e} ${d}`);
        },
      ),
    );
  });

  it('falls back to 1/(n + 1) when the training set is too small for the budget, and says so', () => {
    assert.equal(effectiveBudget(0.001, 6096), 0.001);
    assert.equal(budgetFallbackNote(0.001, 6096), undefined);
    assert.equal(effectiveBudget(0.001, 50), 1 / 51);
    assert.equal(
      budgetFallbackNote(0.001, 50),
      'budget 0.001 needs at least 999 training items; with 50 the finest is 1/51 = 0.01961',
    );
  });
});
