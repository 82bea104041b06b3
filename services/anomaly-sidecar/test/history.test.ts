import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnomalyRecord } from '../../../contracts/anomaly.ts';
import { AnomalyHistory, RecordIds, SeriesStore } from '../src/history.ts';

describe('SeriesStore', () => {
  const minute = 60_000;
  const start = Date.UTC(2026, 11, 1, 22, 0, 30);

  it('answers no buckets from before the sidecar started: the chart begins at the start, not in flat zeros', () => {
    const store = new SeriesStore();
    store.addBatch(start + 10_000, 4, 1, 0.9, 2);
    const now = start + 5 * minute;
    const points = store.points(now, 60, 30, start);
    // The bucket holding the start (22:00) up to the current one (22:05).
    assert.deepEqual(
      points.map((p) => new Date(p.t).toISOString().slice(11, 16)),
      ['22:00', '22:01', '22:02', '22:03', '22:04', '22:05'],
    );
    assert.deepEqual(
      points.map((p) => p.scored),
      [4, 0, 0, 0, 0, 0],
    );
  });

  it('answers every bucket asked for once the start is older than the window', () => {
    const store = new SeriesStore();
    assert.equal(store.points(start + 90 * minute, 60, 30, start).length, 30);
  });
});

describe('RecordIds', () => {
  it('gives every record of a run its own id, and two runs never the same ids', () => {
    const run = new RecordIds();
    const ids = Array.from({ length: 1000 }, () => run.take());
    assert.equal(new Set(ids).size, 1000);
    const other = new RecordIds();
    assert.notEqual(other.take(), ids[0]);
  });
});

describe('AnomalyHistory', () => {
  const recordOf = (line: string, score: number, seq: number) =>
    ({ id: `run-${seq}`, line, score }) as unknown as AnomalyRecord;

  it('builds an unbuilt record once, when first read, newest first, and forgets what it overwrote', () => {
    const builds: number[] = [];
    const history = new AnomalyHistory<string, number>(3, (line, score, seq) => {
      builds.push(seq);
      return recordOf(line, score, seq);
    });
    history.addUnbuilt('a', 0.9, 0);
    history.add(recordOf('b', 0.8, 1));
    history.addUnbuilt('c', 0.7, 2);
    history.addUnbuilt('d', 0.95, 3);
    assert.deepEqual(builds, [], 'nothing is built before it is read');
    assert.deepEqual(history.newest(10), [
      recordOf('d', 0.95, 3),
      recordOf('c', 0.7, 2),
      recordOf('b', 0.8, 1),
    ]);
    assert.deepEqual(builds, [3, 2]);
    const [first] = history.newest(1);
    assert.equal(first, history.newest(1)[0], 'a record read twice is the same object');
    assert.deepEqual(builds, [3, 2], 'built once');
  });
});
