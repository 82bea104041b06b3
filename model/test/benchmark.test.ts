import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { benchmarkLines, type DatasetFigures, METHODS, type Method } from '../core/benchmark.ts';
import {
  benchmarkSuite,
  formatTable,
  HELD_OUT_TRAINING_SESSIONS,
  SMALL_TRAINING_SESSIONS,
} from '../core/benchmark-suite.ts';
import { readLabelledLines } from '../data/datasets.ts';
import { LABELLED_DATA_DIR } from '../data/loghub.ts';

/**
 * The `npm run model:benchmark` table, reproduced on the labelled data (`model/data/labelled`): the model next to the baselines
 * computed in the same run on the same split, at the default alert budget (0.001). Figures are
 * deterministic (seeded training), so they are pinned; the goals are asserted on their own so a
 * changed figure says which goal it broke.
 */

/** [precision, recall, f1, ap, fpr, fpr 95 % upper bound, flagged] per method, as the table prints them. */
type Row = readonly [number, number, number, number, number, number, number];
const PINNED: Record<
  string,
  { n: number; anomalies: number; trainItems: number; oracleF1: number } & Record<Method, Row>
> = {
  BGL_2k: {
    n: 1000,
    anomalies: 47,
    trainItems: 904,
    oracleF1: 0.92,
    model: [0.8409, 0.7872, 0.8132, 0.8523, 0.0073, 0.0138, 44],
    'new-event': [0.0663, 1, 0.1243, 0.0663, 0.6946, 0.7193, 709],
    'stide-2': [0.0569, 1, 0.1077, 0.0569, 0.8174, 0.8378, 826],
    'count-nn': [0.127, 1, 0.2254, 0.1155, 0.3389, 0.3651, 370],
    'count-budget': [0.1418, 0.8511, 0.2432, 0.1155, 0.2539, 0.2782, 282],
  },
  Thunderbird_2k: {
    n: 1000,
    anomalies: 0,
    trainItems: 1000,
    oracleF1: 0,
    model: [0, 0, 0, 0, 0, 0.003, 0],
    'new-event': [0, 0, 0, 0, 0.274, 0.2982, 274],
    'stide-2': [0, 0, 0, 0, 0.297, 0.3217, 297],
    'count-nn': [0, 0, 0, 0, 0.284, 0.3085, 284],
    'count-budget': [0, 0, 0, 0, 0.243, 0.2664, 243],
  },
  HDFS_2k: {
    n: 1000,
    anomalies: 0,
    trainItems: 1000,
    oracleF1: 0,
    model: [0, 0, 0, 0, 0, 0.003, 0],
    'new-event': [0, 0, 0, 0, 0.006, 0.0119, 6],
    'stide-2': [0, 0, 0, 0, 0.03, 0.0405, 30],
    'count-nn': [0, 0, 0, 0, 0.006, 0.0119, 6],
    'count-budget': [0, 0, 0, 0, 0.003, 0.0078, 3],
  },
  hdfs100k: {
    n: 1588,
    anomalies: 57,
    trainItems: 6096,
    oracleF1: 0.6897,
    model: [1, 0.5263, 0.6897, 0.5707, 0, 0.002, 30],
    'new-event': [1, 0.2632, 0.4167, 0.2896, 0, 0.002, 15],
    'stide-2': [1, 0.3158, 0.48, 0.3403, 0, 0.002, 18],
    'count-nn': [1, 0.4912, 0.6588, 0.5095, 0, 0.002, 28],
    'count-budget': [1, 0.4912, 0.6588, 0.5095, 0, 0.002, 28],
  },
  'hdfs100k-rest': {
    n: 1844,
    anomalies: 313,
    trainItems: 6096,
    oracleF1: 0.6539,
    model: [1, 0.4824, 0.6509, 0.6477, 0, 0.002, 151],
    'new-event': [1, 0.2364, 0.3824, 0.366, 0, 0.002, 74],
    'stide-2': [1, 0.3067, 0.4694, 0.4244, 0, 0.002, 96],
    'count-nn': [1, 0.4313, 0.6027, 0.5278, 0, 0.002, 135],
    'count-budget': [1, 0.4313, 0.6027, 0.5278, 0, 0.002, 135],
  },
  'hdfs100k-4000': {
    n: 3940,
    anomalies: 313,
    trainItems: 4000,
    oracleF1: 0.6481,
    model: [0.9869, 0.4824, 0.6481, 0.5788, 0.0006, 0.0018, 153],
    'new-event': [1, 0.2364, 0.3824, 0.2971, 0, 0.0009, 74],
    'stide-2': [0.9868, 0.4792, 0.6452, 0.5201, 0.0006, 0.0018, 152],
    'count-nn': [0.9854, 0.4313, 0.6, 0.4762, 0.0006, 0.0018, 137],
    'count-budget': [0.9854, 0.4313, 0.6, 0.4762, 0.0006, 0.0018, 137],
  },
  'hdfs100k-50': {
    n: 1588,
    anomalies: 57,
    trainItems: 50,
    oracleF1: 0.6897,
    model: [1, 0.5263, 0.6897, 0.5733, 0, 0.002, 30],
    'new-event': [1, 0.3158, 0.48, 0.3403, 0, 0.002, 18],
    'stide-2': [0.2, 0.5614, 0.2949, 0.551, 0.0836, 0.0962, 160],
    'count-nn': [1, 0.5263, 0.6897, 0.5433, 0, 0.002, 30],
    'count-budget': [1, 0.5263, 0.6897, 0.5433, 0, 0.002, 30],
  },
  'hdfs100k-50-rest': {
    n: 7890,
    anomalies: 313,
    trainItems: 50,
    oracleF1: 0.6539,
    model: [0.9686, 0.492, 0.6525, 0.5385, 0.0007, 0.0014, 159],
    'new-event': [0.9596, 0.3035, 0.4612, 0.3095, 0.0005, 0.0013, 99],
    'stide-2': [0.224, 0.5304, 0.315, 0.5068, 0.0759, 0.0811, 741],
    'count-nn': [0.9745, 0.4888, 0.6511, 0.5012, 0.0005, 0.0013, 157],
    'count-budget': [0.9745, 0.4888, 0.6511, 0.5012, 0.0005, 0.0013, 157],
  },
};

const rowOf = (r: DatasetFigures, method: Method): Row => {
  const m = r.methods[method];
  return [m.precision, m.recall, m.f1, m.ap, m.fpr, m.fprUpper95, m.flagged];
};

describe('model:benchmark on the labelled data (model and baselines from the same run)', () => {
  const results = new Map<string, DatasetFigures>();
  before(async () => {
    for (const group of benchmarkSuite())
      for (const figures of await group.run()) results.set(figures.dataset, figures);
  });
  const held = `hdfs100k-${HELD_OUT_TRAINING_SESSIONS}`;

  it('hdfs100k, normal sessions held out: false-positive rate within the budget, its 95 % bound reported', () => {
    // 1,531 held-out normal sessions (all 6,096 trained on) and 3,627 (4,000 trained on).
    for (const [name, fp, bound] of [
      ['hdfs100k-rest', 0, 0.002],
      [held, 0.0006, 0.0018],
    ] as const) {
      const r = results.get(name)!;
      assert.equal(r.budget.effective, 0.001, name);
      assert.ok(r.methods.model.fpr <= r.budget.effective, `${name}: fpr ${r.methods.model.fpr}`);
      assert.deepEqual([r.methods.model.fpr, r.methods.model.fprUpper95], [fp, bound], name);
    }
  });

  it('hdfs100k: recall >= 0.98 of the anomalies separable at all (events differing from every normal session)', () => {
    for (const name of ['hdfs100k-rest', held, `hdfs100k-${SMALL_TRAINING_SESSIONS}-rest`]) {
      const s = results.get(name)!.separable!;
      // 313 anomalies, none trained on; 159 have exactly a normal session's events (model/data/labelled/README.md).
      assert.deepEqual([s.anomalies, s.flagged], [154, 151], name);
      assert.ok(s.recall >= 0.98, `${name}: ${s.recall}`);
    }
  });

  // With as many distinct scores as distinct flagged sessions, raising the threshold from score to
  // score drops one session (and its copies) at a time: alerts fall smoothly. That alerts only ever
  // fall is the property test in alert-budget.test.ts.
  it('hdfs100k: flagged sessions do not tie unless they are the same sessions, and spread above the threshold', () => {
    for (const name of ['hdfs100k', 'hdfs100k-rest', held]) {
      const s = results.get(name)!.spread;
      assert.equal(s.distinctScores, s.distinctItems, `${name}: ${JSON.stringify(s)}`);
      assert.equal(s.distinctAtTop, 1, name);
      assert.ok(s.max - s.min >= 0.02, `${name}: ${JSON.stringify(s)}`);
    }
    assert.deepEqual(results.get('hdfs100k-rest')!.spread, {
      flagged: 151,
      distinctScores: 32,
      distinctItems: 32,
      min: 0.500580886,
      max: 0.573872747,
      atTop: 1,
      distinctAtTop: 1,
    });
  });

  it(`the small-training cases (${SMALL_TRAINING_SESSIONS} normal sessions) state the budget they fall back to`, () => {
    for (const name of [`hdfs100k-${SMALL_TRAINING_SESSIONS}`, `hdfs100k-${SMALL_TRAINING_SESSIONS}-rest`]) {
      const r = results.get(name)!;
      assert.equal(r.trainItems, SMALL_TRAINING_SESSIONS);
      assert.deepEqual(r.budget, {
        declared: 0.001,
        effective: 1 / 51,
        fallback: 'budget 0.001 needs at least 999 training items; with 50 the finest is 1/51 = 0.01961',
      });
      assert.ok(r.methods.model.fpr <= r.budget.effective, name);
    }
  });

  it('never below any baseline: F1 on labelled data, false-positive rate on unlabelled data', () => {
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

  it('the training-only threshold reaches F1 within 0.03 of the best threshold on the test scores where the budget allows', () => {
    for (const r of results.values()) {
      if (r.dataset === 'BGL_2k') continue;
      assert.ok(
        r.methods.model.f1 >= r.oracleF1 - 0.03,
        `${r.dataset}: ${r.methods.model.f1} vs ${r.oracleF1}`,
      );
    }
  });

  it('BGL_2k: the budget is the trade — 0.001 (1/905 on 904 lines) costs recall, 0.005 gives the oracle F1 back', async () => {
    // At 1/905 the threshold is above every training line: nine "Lustre mount FAILED" alerts at raw
    // 0.943 fall under a normal training line at 0.946. The seven false alarms are the same at both.
    const bgl = results.get('BGL_2k')!;
    assert.deepEqual([bgl.methods.model.f1, bgl.oracleF1, bgl.methods.model.fpr], [0.8132, 0.92, 0.0073]);
    const lines = readLabelledLines(`${LABELLED_DATA_DIR}/loghub/BGL/BGL_2k.log_structured.csv`, 'loghub');
    const looser = await benchmarkLines('BGL_2k', lines, 0.5, { budget: 0.005 });
    assert.deepEqual([looser.methods.model.f1, looser.methods.model.fpr], [0.92, 0.0073]);
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
