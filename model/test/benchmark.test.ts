import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type DatasetFigures, METHODS, type Method } from '../core/benchmark.ts';
import { benchmarkSuite, formatTable, SMALL_TRAINING_SESSIONS } from '../core/benchmark-suite.ts';

/**
 * The `npm run model:benchmark` table, reproduced on the shared data: the model next to the baselines
 * computed in the same run on the same split. Figures are deterministic (seeded training), so they
 * are pinned; the goals are asserted on their own so a changed figure says which goal it broke.
 */

/** [precision, recall, f1, fpr, ap, flagged] per method, as `model:benchmark` printed them. */
type Row = readonly [number, number, number, number, number, number];
const PINNED: Record<
  string,
  { n: number; anomalies: number; trainItems: number; oracleF1: number } & Record<Method, Row>
> = {
  BGL_2k: {
    n: 1000,
    anomalies: 47,
    trainItems: 904,
    oracleF1: 0.92,
    model: [0.8679, 0.9787, 0.92, 0.0073, 0.8523, 53],
    'new-event': [0.0663, 1, 0.1243, 0.6946, 0.0663, 709],
    'stide-2': [0.0569, 1, 0.1077, 0.8174, 0.0569, 826],
    'count-nn': [0.127, 1, 0.2254, 0.3389, 0.1155, 370],
  },
  Thunderbird_2k: {
    n: 1000,
    anomalies: 0,
    trainItems: 1000,
    oracleF1: 0,
    model: [0, 0, 0, 0, 0, 0],
    'new-event': [0, 0, 0, 0.274, 0, 274],
    'stide-2': [0, 0, 0, 0.297, 0, 297],
    'count-nn': [0, 0, 0, 0.284, 0, 284],
  },
  HDFS_2k: {
    n: 1000,
    anomalies: 0,
    trainItems: 1000,
    oracleF1: 0,
    model: [0, 0, 0, 0, 0, 0],
    'new-event': [0, 0, 0, 0.006, 0, 6],
    'stide-2': [0, 0, 0, 0.03, 0, 30],
    'count-nn': [0, 0, 0, 0.006, 0, 6],
  },
  hdfs100k: {
    n: 1588,
    anomalies: 57,
    trainItems: 6096,
    oracleF1: 0.6744,
    model: [1, 0.5088, 0.6744, 0, 0.5264, 29],
    'new-event': [1, 0.2632, 0.4167, 0, 0.2896, 15],
    'stide-2': [1, 0.3158, 0.48, 0, 0.3403, 18],
    'count-nn': [1, 0.4912, 0.6588, 0, 0.5095, 28],
  },
  'hdfs100k-50': {
    n: 1588,
    anomalies: 57,
    trainItems: 50,
    oracleF1: 0.6897,
    model: [1, 0.5263, 0.6897, 0, 0.5491, 30],
    'new-event': [1, 0.3158, 0.48, 0, 0.3403, 18],
    'stide-2': [0.2, 0.5614, 0.2949, 0.0836, 0.551, 160],
    'count-nn': [1, 0.5263, 0.6897, 0, 0.5433, 30],
  },
  'hdfs100k-50-rest': {
    n: 7890,
    anomalies: 313,
    trainItems: 50,
    oracleF1: 0.6539,
    model: [0.9686, 0.492, 0.6525, 0.0007, 0.5011, 159],
    'new-event': [0.9596, 0.3035, 0.4612, 0.0005, 0.3095, 99],
    'stide-2': [0.224, 0.5304, 0.315, 0.0759, 0.5068, 741],
    'count-nn': [0.9745, 0.4888, 0.6511, 0.0005, 0.5012, 157],
  },
};

const rowOf = (r: DatasetFigures, method: Method): Row => {
  const m = r.methods[method];
  return [m.precision, m.recall, m.f1, m.fpr, m.ap, m.flagged];
};

describe('model:benchmark on the labelled data (model and baselines from the same run)', () => {
  const results = new Map<string, DatasetFigures>();
  before(async () => {
    for (const dataset of benchmarkSuite()) results.set(dataset.name, await dataset.run());
  });

  it(`the small-training case (${SMALL_TRAINING_SESSIONS} normal hdfs100k sessions) keeps F1 at or above the new-event baseline`, () => {
    for (const name of [`hdfs100k-${SMALL_TRAINING_SESSIONS}`, `hdfs100k-${SMALL_TRAINING_SESSIONS}-rest`]) {
      const r = results.get(name)!;
      assert.equal(r.trainItems, SMALL_TRAINING_SESSIONS);
      assert.ok(r.methods.model.f1 >= r.methods['new-event'].f1, `${name}: ${JSON.stringify(r.methods)}`);
    }
  });

  it('never below the best baseline: F1 on labelled data, false-positive rate on unlabelled data', () => {
    for (const r of results.values()) {
      const baselines = METHODS.filter((m) => m !== 'model').map((m) => r.methods[m]);
      if (r.anomalies > 0) {
        const best = Math.max(...baselines.map((b) => b.f1));
        assert.ok(r.methods.model.f1 >= best, `${r.dataset}: model f1 ${r.methods.model.f1} < ${best}`);
      } else {
        const best = Math.min(...baselines.map((b) => b.fpr));
        assert.ok(r.methods.model.fpr <= best, `${r.dataset}: model fpr ${r.methods.model.fpr} > ${best}`);
      }
    }
  });

  it('the training-only threshold reaches F1 within 0.03 of the best threshold on the test scores', () => {
    for (const r of results.values()) {
      assert.ok(
        r.methods.model.f1 >= r.oracleF1 - 0.03,
        `${r.dataset}: ${r.methods.model.f1} vs ${r.oracleF1}`,
      );
    }
  });

  it('reproduces the pinned table', () => {
    const table = formatTable([...results.values()]);
    assert.match(table, /^dataset\s+train\s+test \(anom\.\)\s+method\s+precision/);
    for (const [name, pinned] of Object.entries(PINNED)) {
      const r = results.get(name);
      assert.ok(r, `dataset ${name} missing`);
      assert.deepEqual(
        { n: r.n, anomalies: r.anomalies, trainItems: r.trainItems, oracleF1: r.oracleF1 },
        {
          n: pinned.n,
          anomalies: pinned.anomalies,
          trainItems: pinned.trainItems,
          oracleF1: pinned.oracleF1,
        },
        name,
      );
      for (const method of METHODS) assert.deepEqual(rowOf(r, method), pinned[method], `${name} ${method}`);
    }
  });
});
