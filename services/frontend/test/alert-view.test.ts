import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertSummary, percent } from '../src/alert-view.ts';

describe("a service card's alert budget and observed alert rate", () => {
  it('shows the rate of the window against the budget, and whether it is over', () => {
    assert.deepEqual(alertSummary({ budget: 0.001, windowMinutes: 60, scored: 7770, anomalous: 90 }), {
      text: 'alerts 1.16 % of 7,770 lines (60 min) · budget 0.1 %',
      over: true,
    });
    assert.deepEqual(alertSummary({ budget: 0.01, windowMinutes: 60, scored: 20000, anomalous: 3 }), {
      text: 'alerts 0.015 % of 20,000 lines (60 min) · budget 1 %',
      over: false,
    });
  });

  it('says when nothing was scored or the series could not be read, never a rate of 0', () => {
    assert.deepEqual(alertSummary({ budget: 0.001, windowMinutes: 60, scored: 0, anomalous: 0 }), {
      text: 'no lines scored (60 min) · budget 0.1 %',
      over: false,
    });
    assert.deepEqual(
      alertSummary({ budget: 0.001, windowMinutes: 60, unavailable: 'the anomaly series could not be read' }),
      { text: 'alert rate unavailable · budget 0.1 %', over: false },
    );
  });

  it('writes shares as percentages with three significant digits at most', () => {
    assert.deepEqual([0.001, 0.0116, 0.00012, 0.05, 1].map(percent), [
      '0.1 %',
      '1.16 %',
      '0.012 %',
      '5 %',
      '100 %',
    ]);
  });
});
