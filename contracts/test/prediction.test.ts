import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPredictionResponse, PredictionResponseSchema } from '../prediction.ts';

/** The in-place check the scoring client runs on every answer, held to the schema it stands in for. */

const model = { name: 'log-anomaly', version: '3', threshold: 0.5, budget: 0.001, minBudget: 0.0001 };
const prediction = { score: 0.2, anomaly: false, template: 'GET <*>', reasons: ['rare-template'] };

const cases: Record<string, unknown> = {
  valid: { predictions: [prediction, { score: 1, anomaly: true }], model },
  'no predictions': { predictions: [], model: { name: 'm', version: '1', threshold: 0 } },
  'unknown keys in a prediction and the model (loose)': {
    predictions: [{ ...prediction, extra: 1 }],
    model: { ...model, extra: 'x' },
  },
  'unknown top-level key (strict)': { predictions: [prediction], model, extra: 1 },
  'missing model': { predictions: [prediction] },
  'missing predictions': { model },
  'predictions not an array': { predictions: {}, model },
  'model an array': { predictions: [prediction], model: [] },
  'model null': { predictions: [prediction], model: null },
  'model name a number': { predictions: [prediction], model: { ...model, name: 1 } },
  'model version missing': { predictions: [prediction], model: { name: 'm', threshold: 1 } },
  'threshold infinite': {
    predictions: [prediction],
    model: { ...model, threshold: Number.POSITIVE_INFINITY },
  },
  'threshold a string': { predictions: [prediction], model: { ...model, threshold: '0.5' } },
  'budget null': { predictions: [prediction], model: { ...model, budget: null } },
  'minBudget NaN': { predictions: [prediction], model: { ...model, minBudget: Number.NaN } },
  'score above 1': { predictions: [{ ...prediction, score: 1.01 }], model },
  'score below 0': { predictions: [{ ...prediction, score: -0.01 }], model },
  'score NaN': { predictions: [{ ...prediction, score: Number.NaN }], model },
  'score a string': { predictions: [{ ...prediction, score: '0.2' }], model },
  'anomaly a number': { predictions: [{ ...prediction, anomaly: 0 }], model },
  'anomaly missing': { predictions: [{ score: 0.2 }], model },
  'template null': { predictions: [{ ...prediction, template: null }], model },
  'reasons a string': { predictions: [{ ...prediction, reasons: 'new-template' }], model },
  'a reason a number': { predictions: [{ ...prediction, reasons: ['a', 1] }], model },
  'a prediction an array': { predictions: [[0.2, false]], model },
  'a prediction null': { predictions: [null], model },
  'not an object': [],
  null: null,
  string: 'predictions',
};

describe('isPredictionResponse', () => {
  for (const [name, value] of Object.entries(cases)) {
    it(`agrees with PredictionResponseSchema: ${name}`, () => {
      assert.equal(isPredictionResponse(value), PredictionResponseSchema.safeParse(value).success);
    });
  }

  it('accepts the valid cases and refuses the others (the cases test both answers)', () => {
    const accepted = Object.entries(cases)
      .filter(([, v]) => isPredictionResponse(v))
      .map(([k]) => k);
    assert.deepEqual(accepted, [
      'valid',
      'no predictions',
      'unknown keys in a prediction and the model (loose)',
    ]);
  });

  it('accepts an answer parsed from JSON as the schema parses it, unchanged', () => {
    const value = JSON.parse(JSON.stringify(cases.valid));
    assert.ok(isPredictionResponse(value));
    assert.deepEqual(value, PredictionResponseSchema.parse(value));
  });
});
