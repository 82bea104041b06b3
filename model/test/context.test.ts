import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { normalCorpus } from '../cli/corpus.ts';
import { AnomalyModel, DEFAULT_MODEL_DIR, loadModel } from '../core/model.ts';
import { fitParamStats, numericValue } from '../core/param-stats.ts';
import { trainOnLines } from '../core/train.ts';
import { burstStrength, windowsOf } from '../core/window-stats.ts';

/**
 * The context features: numeric parameter shifts, per-window template counts, and sessions at
 * serving time. Each is asserted on the exact reason it adds and the decision it changes.
 */

let model: AnomalyModel;
before(async () => {
  model = await loadModel(DEFAULT_MODEL_DIR);
});

const at = (seconds: number) => new Date(Date.UTC(2024, 5, 1, 12, 0, 0) + seconds * 1000).toISOString();
const requestId = (i: number) => `0ba8b0e5-8ba8-4cf3-a4e6-${String(i).padStart(12, '0')}`;

describe('numeric parameter shifts', () => {
  it('flags a known request line whose latency is far outside its training range, with its position', () => {
    // Prepare: the default artifact saw `GET … 200 <1-80>ms` thousands of times.
    const line = (ms: string, i: number) => ({
      timestamp: 0,
      message: `${at(i)} INFO GET /api/services 200 ${ms} request_id=${requestId(i)}`,
    });
    // Act
    const [usual, slower, shifted] = model.scoreEvents([
      line('12ms', 1),
      line('300ms', 2),
      line('90000ms', 3),
    ]);
    // Assess: the template is the same; only the 90 s one is out of range (token 3 of the template).
    assert.equal(shifted!.template, 'GET <*> <*> <*> request_id=<*>');
    assert.deepEqual(shifted!.reasons, ['param-shift:3']);
    assert.equal(shifted!.anomaly, true);
    assert.deepEqual([usual!.anomaly, usual!.reasons], [false, []]);
    assert.deepEqual([slower!.anomaly, slower!.reasons], [false, []]);
    assert.ok(slower!.score > usual!.score, `${slower!.score} > ${usual!.score}`);
  });

  it('reads values with units and punctuation on a signed log scale, and rejects ids', () => {
    assert.equal(numericValue('13ms'), Math.log1p(13 * 1e-3));
    assert.equal(numericValue('(0'), 0);
    assert.equal(numericValue('2KB,'), Math.log1p(2000));
    assert.equal(numericValue('-4'), -Math.log1p(4));
    assert.equal(numericValue('10.0.0.1'), undefined);
    assert.equal(numericValue('0x1f'), undefined);
    assert.equal(numericValue('12parsecs'), undefined);
  });

  it('does not score counters, enumerations or positions seen too rarely', () => {
    const tokens = ['seq', '<*>', 'rank', '<*>', 'took', '<*>'];
    const samples = Array.from({ length: 40 }, (_, i) => ({
      templateId: 0,
      message: `seq ${1000 + i} rank ${i % 3} took ${10 + ((i * 7) % 13)}ms`,
    }));
    const stats = fitParamStats(samples, () => tokens);
    // Only `took` is a quantity: `seq` only grows, `rank` has 3 values.
    assert.deepEqual(
      stats.map((t) => t.positions.map((p) => p.position)),
      [[5]],
    );
    assert.deepEqual(
      fitParamStats(samples.slice(0, 19), () => tokens),
      [],
    );
  });
});

describe('per-window template counts', () => {
  const retry = (second: number) => ({
    timestamp: 0,
    message: `${at(second)} WARN retrying model endpoint call attempt=1 after 100ms`,
  });

  it('raises the lines of a template bursting far above its busiest training minute', () => {
    // Prepare: at most 4 retries in any training minute. The same 40 lines, one minute vs 80 minutes.
    const burst = Array.from({ length: 40 }, (_, i) => retry(i));
    const spread = Array.from({ length: 40 }, (_, i) => retry(i * 120));
    // Act
    const inBurst = model.scoreEvents(burst)[0]!;
    const alone = model.scoreEvents(spread)[0]!;
    // Assess
    assert.deepEqual(alone.reasons, ['severity:WARN', 'unusual-content']);
    assert.equal(alone.anomaly, false);
    assert.deepEqual(inBurst.reasons, [
      'severity:WARN',
      'unusual-content',
      'window:burst',
      'window:unusual-counts',
    ]);
    assert.equal(inBurst.anomaly, true);
    assert.ok(inBurst.score > alone.score + 0.5, `${inBurst.score} vs ${alone.score}`);
  });

  it('leaves the mixed traffic of usual minutes alone', () => {
    const usual = normalCorpus(600, 21).map((message) => ({ timestamp: 0, message }));
    assert.deepEqual(
      model.scoreEvents(usual).filter((s) => s.anomaly || s.reasons.some((r) => r.startsWith('window:'))),
      [],
    );
  });

  it('notes a minute of one routine template as an unusual mix without making its lines anomalous', () => {
    const line = (i: number) => ({
      timestamp: 0,
      message: `${at(i)} INFO GET /api/series 200 ${10 + i}ms request_id=${requestId(i)}`,
    });
    // 40 lines: a window is judged once it holds half a median training minute (about 30 lines).
    const [inWindow] = model.scoreEvents(Array.from({ length: 40 }, (_, i) => line(i)));
    const [alone] = model.scoreEvents([line(0)]);
    assert.deepEqual([inWindow!.anomaly, inWindow!.reasons], [false, ['window:unusual-counts']]);
    assert.deepEqual([alone!.anomaly, alone!.reasons], [false, []]);
    // The mix raise is proportional to the line's own score, and 40 lines are 1.4× the busiest
    // training minute of this template, a quarter of the way to a burst: the line stays routine.
    assert.ok(inWindow!.score < 0.1, `${inWindow!.score} vs ${alone!.score}`);
  });

  it('cuts windows by time (lines without a timestamp join the previous window) or by count', () => {
    assert.deepEqual(
      windowsOf([0, 59_999, undefined, 60_000, 1_000], { mode: 'time', size: 60 }),
      [0, 0, 0, 1, 0],
    );
    assert.deepEqual(windowsOf([undefined, undefined, undefined], { mode: 'count', size: 2 }), [0, 0, 1]);
    assert.equal(burstStrength(9, 1), 0);
    assert.equal(burstStrength(16, 4), 2);
  });
});

describe('sessions at serving time', () => {
  let sessionModel: AnomalyModel;
  before(async () => {
    // Prepare: 30 blocks, each received, stored and later deleted, in that order.
    const lines: string[] = [];
    for (let b = 0; b < 30; b++) {
      const block = `blk_${1000 + b}`;
      lines.push(`${at(b * 10)} INFO dfs.DataNode: Receiving block ${block} src: /10.0.0.${b % 9}:50010`);
      lines.push(`${at(b * 10 + 1)} INFO dfs.DataNode: Received block ${block} of size 67108864`);
      lines.push(`${at(b * 10 + 2)} INFO dfs.FSDataset: Deleting block ${block} file /data/${block}`);
    }
    sessionModel = new AnomalyModel((await trainOnLines(lines, { seed: 3, epochs: 5 })).artifact);
  });

  it('learns a session model from lines that carry block ids', () => {
    assert.equal(sessionModel.artifact.sessions?.transitions.length, 4);
  });

  it('flags the line of a never-seen transition within a session, not the lines of usual ones', () => {
    // Act: blk_7 follows the trained order; blk_9 is deleted and then received again.
    const events = [
      { timestamp: 0, message: `${at(0)} INFO dfs.DataNode: Receiving block blk_7 src: /10.0.0.1:50010` },
      { timestamp: 0, message: `${at(1)} INFO dfs.FSDataset: Deleting block blk_9 file /data/blk_9` },
      { timestamp: 0, message: `${at(2)} INFO dfs.DataNode: Received block blk_7 of size 67108864` },
      { timestamp: 0, message: `${at(3)} INFO dfs.DataNode: Receiving block blk_9 src: /10.0.0.2:50010` },
    ];
    const scores = sessionModel.scoreEvents(events);
    // Assess: only the session made the last line anomalous; on its own it is a routine line.
    assert.equal(sessionModel.scoreEvent(events[3]!).anomaly, false);
    assert.deepEqual(
      scores.map((s) => [s.anomaly, s.reasons.filter((r) => r.startsWith('session:'))]),
      [
        [false, []],
        [false, []],
        [false, []],
        [true, ['session:new-transition']],
      ],
    );
  });

  it('keeps the response shape of the prediction contract', () => {
    const response = sessionModel.score({
      logs: [
        { timestamp: 0, message: 'INFO dfs.FSDataset: Deleting block blk_5 file /data/blk_5' },
        { timestamp: 0, message: 'INFO dfs.DataNode: Receiving block blk_5 src: /10.0.0.2:50010' },
      ],
    });
    assert.deepEqual(Object.keys(response.predictions[1]!).sort(), [
      'anomaly',
      'reasons',
      'score',
      'template',
    ]);
    assert.equal(response.predictions[1]!.reasons!.at(-1), 'session:new-transition');
    assert.equal(response.predictions[1]!.anomaly, true);
  });
});

describe('artifact versions', () => {
  it('refuses an artifact from before the alert budget, naming the command that retrains it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'model-v2-'));
    try {
      const v3 = JSON.parse(await readFile(join(DEFAULT_MODEL_DIR, 'model.json'), 'utf8'));
      await writeFile(join(dir, 'model.json'), JSON.stringify({ ...v3, schemaVersion: 2 }));
      await assert.rejects(loadModel(dir), {
        message: `${join(dir, 'model.json')} has schema version 2, from before the alert budget (version 3); retrain it: npm run model:train -- --format … --input … --out …`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
