import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { groundTruthTemplates, LABELLED_DATA_DIR } from '../../data/loghub.ts';
import { maskVariables, parseLogLine, TemplateMiner } from '../index.ts';

describe('TemplateMiner', () => {
  it('groups messages that differ in variables and generalises the template', () => {
    const miner = new TemplateMiner();
    assert.deepEqual(miner.add('session opened for alice from web'), {
      templateId: 0,
      template: 'session opened for alice from web',
      isNew: true,
    });
    assert.deepEqual(miner.add('session opened for bob from web'), {
      templateId: 0,
      template: 'session opened for <*> from web',
      isNew: false,
    });
    assert.deepEqual(miner.add('disk /dev/sda1 is full'), {
      templateId: 1,
      template: 'disk <*> is full',
      isNew: true,
    });
    assert.equal(miner.size, 2);
  });

  it('match() finds the template without changing the miner', () => {
    const miner = new TemplateMiner();
    miner.add('Connection from 10.0.0.1 closed');
    const before = JSON.stringify(miner.toJSON());
    assert.deepEqual(miner.match('Connection from 10.0.0.2 closed'), {
      templateId: 0,
      template: 'Connection from <*> closed',
      count: 1,
    });
    assert.equal(miner.match('kernel panic on cpu 3'), undefined);
    assert.equal(JSON.stringify(miner.toJSON()), before);
  });

  it('round-trips through JSON with ids and counts kept', () => {
    const miner = new TemplateMiner({ similarityThreshold: 0.6 });
    for (const m of ['a b c 1', 'a b c 2', 'x y', 'x z', 'p q r s t']) miner.add(m);
    const copy = TemplateMiner.fromJSON(JSON.parse(JSON.stringify(miner.toJSON())));
    assert.deepEqual(copy.templates(), miner.templates());
    assert.equal(copy.options.similarityThreshold, 0.6);
    assert.equal(copy.match('a b c 9')?.templateId, 0);
    assert.equal(copy.add('p q r s t').templateId, 3);
    assert.equal(copy.add('x w').isNew, true);
  });

  it('never throws on arbitrary text, and match agrees with a following add', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 80 }), { maxLength: 20 }),
        fc.string(),
        (lines, probe) => {
          const miner = new TemplateMiner();
          for (const line of lines) {
            parseLogLine(line);
            maskVariables(line);
            miner.add(line);
          }
          const matched = miner.match(probe);
          const added = miner.add(probe);
          assert.equal(added.isNew, matched === undefined);
          if (matched) assert.equal(added.templateId, matched.templateId);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/**
 * Grouping accuracy (Zhu et al., "Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019): a
 * line counts as correct when its mined group holds exactly the lines of its ground-truth event.
 */
function groupingAccuracy(rows: readonly { content: string; eventId: string }[]): number {
  const miner = new TemplateMiner();
  const mined = rows.map((r) => miner.add(r.content).templateId);
  const linesByMined = new Map<number, number[]>();
  const truthSize = new Map<string, number>();
  mined.forEach((id, i) => {
    const list = linesByMined.get(id) ?? [];
    list.push(i);
    linesByMined.set(id, list);
    truthSize.set(rows[i]!.eventId, (truthSize.get(rows[i]!.eventId) ?? 0) + 1);
  });
  let correct = 0;
  for (const lines of linesByMined.values()) {
    const events = new Set(lines.map((i) => rows[i]!.eventId));
    const [event] = events;
    if (events.size === 1 && truthSize.get(event!) === lines.length) correct += lines.length;
  }
  return correct / rows.length;
}

describe('grouping accuracy against loghub ground truth', () => {
  // Measured: HDFS 0.9975, BGL 0.9710, Thunderbird 0.9595 (published Drain: 0.998 / 0.963 / 0.955).
  for (const [name, pinned] of [
    ['HDFS', 0.9975],
    ['BGL', 0.971],
    ['Thunderbird', 0.9595],
  ] as const) {
    it(`${name}_2k: at least 0.95, pinned at ${pinned}`, () => {
      const rows = groundTruthTemplates(
        readFileSync(join(LABELLED_DATA_DIR, 'loghub', name, `${name}_2k.log_structured.csv`), 'utf8'),
      );
      assert.equal(rows.length, 2000);
      const accuracy = groupingAccuracy(rows);
      assert.ok(accuracy >= 0.95, `${name} grouping accuracy ${accuracy}`);
      assert.equal(Number(accuracy.toFixed(4)), pinned);
    });
  }
});
