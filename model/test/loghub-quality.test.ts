import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { evaluateLines, evaluateSessions } from '../core/evaluate.ts';
import { readLabelledLines, readSessions } from '../data/datasets.ts';
import { LABELLED_DATA_DIR } from '../data/loghub.ts';

/** The quality goals on the labelled data kept in the repository (model/data/labelled). */
describe('quality goals on the labelled loghub data', () => {
  const loghub = (name: string) => join(LABELLED_DATA_DIR, 'loghub', name, `${name}_2k.log_structured.csv`);

  it('BGL_2k chronological 50/50: AP >= 0.6 and F1 >= 0.6 at the training threshold', async () => {
    const m = await evaluateLines(readLabelledLines(loghub('BGL'), 'loghub'), 0.5);
    assert.ok(m.ap >= 0.6 && m.f1 >= 0.6, JSON.stringify(m));
    assert.deepEqual([m.ap, m.f1, m.n, m.anomalies], [0.8523, 0.92, 1000, 47]);
  });

  it('Thunderbird_2k: false-positive rate <= 1% on the second half', async () => {
    const m = await evaluateLines(readLabelledLines(loghub('Thunderbird'), 'loghub'), 0.5);
    assert.ok(m.fpr <= 0.01, JSON.stringify(m));
    assert.equal(m.n, 1000);
  });

  it('hdfs100k test split: precision >= 0.95 at recall >= 0.49', async () => {
    const sessions = readSessions(join(LABELLED_DATA_DIR, 'sessions', 'hdfs100k.jsonl'));
    const m = await evaluateSessions(sessions, sessions);
    assert.ok(m.precision >= 0.95 && m.recall >= 0.49, JSON.stringify(m));
    assert.deepEqual([m.n, m.anomalies], [1588, 57]);
  });
});
